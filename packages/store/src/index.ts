export type { Redis } from "ioredis";
export { isConnectionError, isRetryablePgError, typedBackendError } from "./backend-errors.js";
export { type Backend, withDeadline } from "./deadline.js";
export { type KeyCount, type LuaArg, LuaScript } from "./lua-script.js";
export { boundedPgOptions, checkPg, createPgPool, type PgPool, type PgPoolOptions } from "./pg.js";
export { pgCounter, type SqlQueryable } from "./pg-counter.js";
export { createIfAbsent } from "./pg-ddl.js";
export {
  boundedRedisOptions,
  checkRedis,
  createRedis,
  deleteKeysWithPrefix,
  type RedisOptions,
} from "./redis.js";
export { REDIS_RUN_ID_LUA } from "./run-id.js";
