import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { OffsetTracker } from "./offset-tracker.js";

describe("OffsetTracker", () => {
  it("never commits past a message still in flight", () => {
    const t = new OffsetTracker();
    for (const o of ["5", "6", "7"]) t.begin("u", 0, o);
    t.finish("u", 0, "6");
    t.finish("u", 0, "7");
    expect(t.committable()).toEqual([{ topic: "u", partition: 0, offset: "5" }]);
    t.finish("u", 0, "5");
    const c = t.committable();
    expect(c).toEqual([{ topic: "u", partition: 0, offset: "8" }]);
    t.markCommitted(c);
    expect(t.committable()).toEqual([]);
    expect(t.inFlight()).toBe(0);
  });

  it("commit point is the lowest unfinished offset (property)", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 40 }), fc.array(fc.nat(39)), (n, finished) => {
        const t = new OffsetTracker();
        for (let i = 0; i < n; i++) t.begin("u", 1, String(i));
        const done = new Set(finished.filter((f) => f < n));
        for (const f of done) t.finish("u", 1, String(f));
        let expected = n;
        for (let i = 0; i < n; i++)
          if (!done.has(i)) {
            expected = i;
            break;
          }
        expect(t.committable()).toEqual([{ topic: "u", partition: 1, offset: String(expected) }]);
      }),
    );
  });

  it("forgets revoked partitions", () => {
    const t = new OffsetTracker();
    t.begin("u", 2, "1");
    t.forget("u", 2);
    expect(t.committable()).toEqual([]);
    expect(t.inFlight()).toBe(0);
  });
});

describe("OffsetTracker.partitions", () => {
  it("lists every partition with state", () => {
    const t = new OffsetTracker();
    t.begin("u", 0, "1");
    t.begin("v", 2, "9");
    expect(t.partitions()).toEqual([
      { topic: "u", partition: 0 },
      { topic: "v", partition: 2 },
    ]);
  });
});
