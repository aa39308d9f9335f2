export type { Redis } from "ioredis";
export { type LuaArg, LuaScript } from "./lua-script.js";
export { checkPg, createPgPool, type PgPool, type PgPoolOptions } from "./pg.js";
export { checkRedis, createRedis, type RedisOptions } from "./redis.js";
