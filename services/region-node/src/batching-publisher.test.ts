import type { CacheUpdate } from "@meridian/bus";
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
});
