import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ProtocolError } from "../protocol/engine.js";
import { READABLE_STATES, WRITABLE_STATES } from "../protocol/messages.js";
import { InMemoryStore } from "./backing-store.js";
import { CacheCoherenceManager } from "./cache-coherence-manager.js";

function setup(caches = 3, capacity = 8) {
  const l3 = new InMemoryStore<number>();
  const m = new CacheCoherenceManager<number>({ l1: { caches, capacity }, l3 });
  return { l3, m };
}

function assertSwmr(m: CacheCoherenceManager<number>, keys: string[]) {
  for (const k of keys) {
    const states = Array.from({ length: m.nodes }, (_, n) => m.stateOf(n, k));
    const writers = states.filter((s) => WRITABLE_STATES.has(s)).length;
    const readers = states.filter((s) => READABLE_STATES.has(s) && !WRITABLE_STATES.has(s)).length;
    expect(writers <= 1 && (writers === 0 || readers === 0), `${k}: ${states.join(",")}`).toBe(true);
  }
}

describe("CacheCoherenceManager", () => {
  it("a read on another node sees the latest write (recall of the dirty owner)", async () => {
    const { m } = setup();
    await m.writeRequest(0, "k", 1);
    expect(m.stateOf(0, "k")).toBe("M");
    expect(await m.readRequest(1, "k")).toBe(1);
    expect(m.stateOf(0, "k")).toBe("S");
    expect(m.stateOf(1, "k")).toBe("S");
    await m.writeRequest(2, "k", 2);
    expect(m.stateOf(0, "k")).toBe("I");
    expect(m.stateOf(1, "k")).toBe("I");
    expect(await m.readRequest(0, "k")).toBe(2);
    await m.shutdown();
  });

  it("grants E to a lone reader, which then writes without any message", async () => {
    const { m } = setup();
    await m.readRequest(0, "k");
    expect(m.stateOf(0, "k")).toBe("E");
    const before = m.stats.messagesHandled;
    await m.writeRequest(0, "k", 7);
    expect(m.stats.messagesHandled).toBe(before);
    expect(m.stateOf(0, "k")).toBe("M");
    await m.shutdown();
  });

  it("write-back keeps the write out of L3 until shutdown, then nothing is lost", async () => {
    const { m, l3 } = setup();
    for (let i = 0; i < 10; i++) await m.writeRequest(i % 3, `k${i}`, i, "important");
    expect(l3.data.size).toBe(0);
    expect(m.dirtyKeys().length).toBe(10);
    await m.shutdown();
    for (let i = 0; i < 10; i++) expect(l3.data.get(`k${i}`)).toBe(i);
  });

  it("write-through (critical) is in L3 when the write returns", async () => {
    const { m, l3 } = setup();
    await m.writeRequest(0, "bal", 100, "critical");
    expect(l3.data.get("bal")).toBe(100);
    expect(m.stateOf(0, "bal")).toBe("I");
    expect(await m.readRequest(1, "bal")).toBe(100);
    await m.shutdown();
  });

  it("a dirty line evicted for capacity reaches L2 and then L3", async () => {
    const { m, l3 } = setup(2, 1);
    await m.writeRequest(0, "a", 1);
    await m.readRequest(0, "b"); // capacity 1: evicts dirty "a" via PutM
    expect(m.stateOf(0, "a")).toBe("I");
    expect(m.stats.evictions).toBe(1);
    expect(m.directoryOf("a")?.home).toBe(1);
    expect(m.dirtyKeys()).toContain("a");
    await m.shutdown();
    expect(l3.data.get("a")).toBe(1);
  });

  it("coalesces repeated writes into one L3 write", async () => {
    const { m, l3 } = setup();
    for (let i = 0; i < 50; i++) await m.writeRequest(0, "hot", i);
    await m.shutdown();
    expect(l3.data.get("hot")).toBe(49);
    expect(l3.writes).toBe(1);
  });

  it("invalidateRequest drops every copy so the next read sees L3", async () => {
    const { m, l3 } = setup();
    l3.data.set("p", 1);
    expect(await m.readRequest(0, "p")).toBe(1);
    expect(await m.readRequest(1, "p")).toBe(1);
    l3.data.set("p", 2); // another region wrote the global store
    await m.invalidateRequest("p");
    expect(m.stateOf(0, "p")).toBe("I");
    expect(await m.readRequest(1, "p")).toBe(2);
    await m.shutdown();
  });

  it("updateState moves a line through the protocol and refuses M", async () => {
    const { m } = setup();
    expect(await m.updateState(0, "x", "S")).toBe("E");
    expect(await m.updateState(1, "x", "S")).toBe("S");
    expect(await m.updateState(0, "x", "I")).toBe("I");
    await expect(m.updateState(0, "x", "M")).rejects.toThrow(/writeRequest/);
    await m.shutdown();
  });

  it("behaves like one sequential map under random operations on every node (property)", async () => {
    const op = fc.record({
      node: fc.integer({ min: 0, max: 2 }),
      key: fc.constantFrom("a", "b", "c", "d"),
      kind: fc.constantFrom("read", "write", "evict"),
      cls: fc.constantFrom("critical", "important", "cacheable") as fc.Arbitrary<
        "critical" | "important" | "cacheable"
      >,
      value: fc.integer(),
    });
    await fc.assert(
      fc.asyncProperty(
        fc.array(op, { maxLength: 80 }),
        fc.integer({ min: 1, max: 3 }),
        async (ops, capacity) => {
          const { m, l3 } = setup(3, capacity);
          const model = new Map<string, number>();
          for (const o of ops) {
            if (o.kind === "write") {
              await m.writeRequest(o.node, o.key, o.value, o.cls);
              model.set(o.key, o.value);
            } else if (o.kind === "read") {
              expect(await m.readRequest(o.node, o.key)).toBe(model.get(o.key));
            } else {
              await m.updateState(o.node, o.key, "I");
            }
            assertSwmr(m, ["a", "b", "c", "d"]);
          }
          await m.shutdown();
          expect(new Map(l3.data)).toEqual(model);
        },
      ),
      { numRuns: 200 },
    );
  });

  it("sendCoherenceMessage queues per node; a message the protocol would not send is refused", async () => {
    const { m } = setup();
    await m.readRequest(0, "k");
    m.sendCoherenceMessage({ type: "DataS", line: "k", from: -1, to: 1, value: 5 }); // node 1 never asked
    expect(() => m.drain()).toThrow(ProtocolError);
    expect(m.stateOf(1, "k")).toBe("I");
    expect(() => m.sendCoherenceMessage({ type: "Inv", line: "k", from: -1, to: 7 })).toThrow(
      /no such destination/,
    );
  });
});
