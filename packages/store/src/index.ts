export type { Redis } from "ioredis";
export { type Backend, withDeadline } from "./deadline.js";
export { boundedPgOptions, checkPg, createPgPool, type PgPool, type PgPoolOptions } from "./pg.js";
export { boundedRedisOptions, checkRedis, createRedis, type RedisOptions } from "./redis.js";
