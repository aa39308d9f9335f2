// The market-data-producer service: N random-walking symbols, R ticks/s into meridian.market.ticks.
export { type MarketTick, RandomWalk, symbolNames } from "./market-data.js";
export {
  type MarketDataProducerHandle,
  type MarketDataProducerOptions,
  startMarketDataProducer,
} from "./market-data-producer.js";
