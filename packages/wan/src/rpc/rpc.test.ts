import { BackendUnavailableError, InvalidInputError } from "@meridian/core";
import { afterEach, describe, expect, it } from "vitest";
import { NotHomeError, PeerAuthError } from "../homes/errors.js";
import { LinkProxy } from "../link-proxy.js";
import { RpcClient } from "./client.js";
import { type RpcServer, startRpcServer } from "./server.js";

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function server(): Promise<RpcServer> {
  const s = await startRpcServer({
    token: "secret",
    handle: async (method, params) => {
      if (method === "echo") return params;
      if (method === "moved") throw new NotHomeError("acct:1", "eu-west", 3);
      if (method === "bad") throw new InvalidInputError("nope", { field: "x" });
      if (method === "slow") return new Promise((r) => setTimeout(() => r("late"), 300));
      throw new Error("boom");
    },
  });
  cleanups.push(() => s.stop());
  return s;
}

function client(at: () => { host: string; port: number }, token = "secret"): RpcClient {
  const c = new RpcClient({ address: at, token, peer: "eu-west", timeoutMs: 1000 });
  cleanups.push(() => c.close());
  return c;
}

describe("RPC between regions", () => {
  it("answers pipelined calls and rebuilds typed errors on the caller's side", async () => {
    const s = await server();
    const c = client(() => s.address);
    const answers = await Promise.all([1, 2, 3].map((n) => c.call("echo", { n })));
    expect(answers).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }]);
    const moved = await c.call("moved", {}).catch((e: unknown) => e);
    expect(moved).toBeInstanceOf(NotHomeError);
    expect(moved).toMatchObject({ home: "eu-west", epoch: 3, key: "acct:1" });
    await expect(c.call("bad", {})).rejects.toBeInstanceOf(InvalidInputError);
    await expect(c.call("other", {})).rejects.toMatchObject({ code: "INTERNAL" });
  });

  it("refuses a caller without the cluster token", async () => {
    const s = await server();
    await expect(client(() => s.address, "wrong").call("echo", 1)).rejects.toBeInstanceOf(PeerAuthError);
  });

  it("bounds every call: a slow answer is a typed failure with an unknown outcome", async () => {
    const s = await server();
    const err = await client(() => s.address)
      .call("slow", {}, 50)
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BackendUnavailableError);
    expect((err as BackendUnavailableError).details).toMatchObject({ region: "eu-west", outcome: "unknown" });
  });

  it("through a cut link: stalled calls time out, new connections fail fast, heal restores", async () => {
    const s = await server();
    const link = new LinkProxy({ upstream: s.address, delayMs: () => 5 });
    await link.start();
    cleanups.push(() => link.stop());
    const c = client(() => link.address);
    expect(await c.call("echo", "up")).toBe("up");
    link.cut();
    await expect(c.call("echo", "stalled", 100)).rejects.toBeInstanceOf(BackendUnavailableError);
    const fresh = client(() => link.address);
    await expect(fresh.call("echo", "refused", 500)).rejects.toBeInstanceOf(BackendUnavailableError);
    link.heal();
    expect(await c.call("echo", "again")).toBe("again");
    expect(await fresh.call("echo", "again")).toBe("again");
  });
});
