export type { GroupCommitOptions, GroupStats } from "./group-commit.js";
export { type Lookup, RegionCache, type SetResult } from "./region-cache.js";
export { connectRegionRedis, DEFAULT_REGION_DBS, type RegionRedisOptions } from "./regions.js";
export { StrongSession } from "./session.js";
export {
  type CasResult,
  type ReadOptions,
  type StrongCacheOptions,
  StrongConsistencyCache,
  type StrongRead,
  type TxnResult,
  type TxnView,
  type WriteResult,
} from "./strong-cache.js";
export { type Row, StrongTable } from "./strong-table.js";
export { checkKey, type Limits, serialize } from "./validate.js";
