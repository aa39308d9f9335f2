// Redis with an ACL user: createRedis authenticates with the configured user and password (from the
// MERIDIAN_* settings), and refuses to work without them. A private redis-server child on a free port.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { configFromEnv } from "../../packages/core/src/index.js";
import { createRedis } from "../../packages/store/src/index.js";
import { startAclRedis } from "../support/acl-redis.js";

let server: Awaited<ReturnType<typeof startAclRedis>>;

beforeAll(async () => {
  server = await startAclRedis("acl-test-pw");
});

afterAll(() => {
  server?.stop();
});

describe("Redis ACL credentials", () => {
  it("authenticates as the configured user; without credentials the server refuses", async () => {
    const cfg = configFromEnv({
      MERIDIAN_REDIS_URL: server.url,
      MERIDIAN_REDIS_USERNAME: "meridian",
      MERIDIAN_REDIS_PASSWORD: "acl-test-pw",
    });
    const authed = createRedis(cfg.redisUrl, { auth: cfg.redisAuth! });
    await authed.set("acl:k", "v");
    expect(await authed.get("acl:k")).toBe("v");
    expect(await authed.acl("WHOAMI")).toBe("meridian");
    authed.disconnect();

    const anonymous = createRedis(cfg.redisUrl);
    anonymous.on("error", () => {});
    await expect(anonymous.get("acl:k")).rejects.toThrow(/NOAUTH|NOPERM|WRONGPASS|disabled/i);
    anonymous.disconnect();
  });
});
