// Redis with an ACL user: createRedis authenticates with the configured user and password (from the
// MERIDIAN_* settings), and refuses to work without them. A private redis-server child on a free port.
import { type ChildProcess, spawn } from "node:child_process";
import { createServer } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { configFromEnv } from "../../packages/core/src/index.js";
import { checkRedis, createRedis } from "../../packages/store/src/index.js";

let server: ChildProcess;
let port = 0;

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
}

beforeAll(async () => {
  port = await freePort();
  server = spawn(
    "redis-server",
    [
      "--port",
      String(port),
      "--bind",
      "127.0.0.1",
      "--save",
      "",
      "--appendonly",
      "no",
      "--user",
      "default",
      "off",
      "--user",
      "meridian",
      "on",
      ">acl-test-pw",
      "~*",
      "&*",
      "+@all",
    ],
    { stdio: "ignore" },
  );
  const probe = createRedis(`redis://127.0.0.1:${port}`, {
    auth: {
      username: "meridian",
      password: configFromEnv({ MERIDIAN_REDIS_PASSWORD: "acl-test-pw" }).redisAuth!.password!,
      tls: false,
    },
  });
  for (let i = 0; i < 100; i++) {
    try {
      await checkRedis(probe);
      break;
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  probe.disconnect();
});

afterAll(() => {
  server?.kill("SIGKILL");
});

describe("Redis ACL credentials", () => {
  it("authenticates as the configured user; without credentials the server refuses", async () => {
    const cfg = configFromEnv({
      MERIDIAN_REDIS_URL: `redis://127.0.0.1:${port}`,
      MERIDIAN_REDIS_USERNAME: "meridian",
      MERIDIAN_REDIS_PASSWORD: "acl-test-pw",
    });
    const authed = createRedis(cfg.redisUrl, { auth: cfg.redisAuth! });
    await authed.set("acl:k", "v");
    expect(await authed.get("acl:k")).toBe("v");
    expect(await authed.acl("WHOAMI")).toBe("meridian");
    authed.disconnect();

    const anonymous = createRedis(cfg.redisUrl);
    await expect(anonymous.get("acl:k")).rejects.toThrow(/NOAUTH|NOPERM|WRONGPASS|disabled/i);
    anonymous.disconnect();
  });
});
