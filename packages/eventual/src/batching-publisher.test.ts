import type { CacheUpdate } from "@meridian/bus";
import { BackendUnavailableError, OverloadedError } from "@meridian/core";
import { describe, expect, it } from "vitest";
import { batchingUpdatePublisher } from "./batching-publisher.js";

const update = (key: string): CacheUpdate => ({
  key,
  kind: "UPDATE",
  crdtType: "lww",
  state: "{}",
  region: "us-east",
  vectorClock: { "us-east": 1 },
  hlcWallMs: 1,
  hlcLogical: 0,
  hlcNode: "us-east",
  producedAtMs: 1,
});
const serde = { encodeCacheUpdate: async (u: CacheUpdate) => Buffer.from(u.key) };

describe("batchingUpdatePublisher", () => {
  it("coalesces publishes that arrive while a send is in flight, in arrival order", async () => {
    const sends: string[][] = [];
    let release!: () => void;
    const producer = {
      send: async (_topic: string, messages: { key: string }[]) => {
        sends.push(messages.map((m) => m.key));
        if (sends.length === 1)
          await new Promise<void>((r) => {
            release = r;
          });
      },
    };
    const pub = batchingUpdatePublisher(producer, serde, "t");
    const first = pub.publish(update("a"));
    await new Promise((r) => setTimeout(r, 5));
    const rest = ["b", "c", "d"].map((k) => pub.publish(update(k)));
    await new Promise((r) => setTimeout(r, 5));
    release();
    await Promise.all([first, ...rest]);
    expect(sends).toEqual([["a"], ["b", "c", "d"]]);
  });

  it("rejects every publish of a failed batch and recovers for the next one", async () => {
    let fail = true;
    const producer = {
      send: async () => {
        if (fail) throw new Error("broker down");
      },
    };
    const pub = batchingUpdatePublisher(producer, serde, "t");
    await expect(pub.publish(update("a"))).rejects.toThrow("broker down");
    fail = false;
    await expect(pub.publish(update("b"))).resolves.toBeUndefined();
  });

  it("sends a publishMany as one request, and publishes of one turn together", async () => {
    const sends: string[][] = [];
    const producer = {
      send: async (_topic: string, messages: { key: string }[]) => {
        sends.push(messages.map((m) => m.key));
      },
    };
    const pub = batchingUpdatePublisher(producer, serde, "t");
    await Promise.all([pub.publishMany(["a", "b", "c"].map(update)), pub.publish(update("d"))]);
    expect(sends).toEqual([["a", "b", "c", "d"]]);
  });

  it("past maxQueued refuses with OverloadedError at once, queues nothing, and admits again once drained", async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const sent: string[] = [];
    const producer = {
      send: async (_t: string, messages: { key: string }[]) => {
        await gate;
        sent.push(...messages.map((m) => m.key));
      },
    };
    const pub = batchingUpdatePublisher(producer, serde, "t", { maxQueued: 3 });
    const admitted = ["a", "b", "c"].map((k) => pub.publish(update(k)));
    const refused = pub.publish(update("x"));
    await expect(refused).rejects.toBeInstanceOf(OverloadedError);
    await expect(refused).rejects.toMatchObject({ retriable: true, code: "OVERLOADED" });
    expect(pub.queued).toBe(3);
    release();
    await Promise.all(admitted);
    expect(sent).toEqual(["a", "b", "c"]);
    expect(pub.queued).toBe(0);
    await expect(pub.publish(update("y"))).resolves.toBeUndefined();
  });

  it("a broker that never answers fails the request with BackendUnavailableError within sendTimeoutMs", async () => {
    const producer = { send: () => new Promise<void>(() => {}) };
    const pub = batchingUpdatePublisher(producer, serde, "t", { sendTimeoutMs: 100, maxQueued: 10 });
    const t0 = Date.now();
    const results = await Promise.allSettled(["a", "b"].map((k) => pub.publish(update(k))));
    expect(Date.now() - t0).toBeLessThan(2_000);
    for (const r of results) {
      expect(r.status).toBe("rejected");
      expect((r as PromiseRejectedResult).reason).toBeInstanceOf(BackendUnavailableError);
    }
    expect(pub.queued).toBe(0);
  });
});
