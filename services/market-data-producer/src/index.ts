// The market-data-producer service: N random-walking symbols, R ticks/s into meridian.market.ticks.
export {
  type MarketDataProducerHandle,
  type MarketDataProducerOptions,
  startMarketDataProducer,
} from "@meridian/meridian";
