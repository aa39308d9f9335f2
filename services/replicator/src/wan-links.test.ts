import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { WanLinks } from "./wan-links.js";

const latency = (from: string, to: string) => (from === "a" && to === "b" ? 100 : 30);

describe("WanLinks", () => {
  it("releases a message only after its link's delay", () => {
    const links = new WanLinks<string>(latency);
    links.enqueue("a", "b", "m1", 1000);
    links.enqueue("a", "c", "m1", 1000);
    expect(links.takeDue(1029, new Set())).toEqual([]);
    const at1030 = links.takeDue(1030, new Set());
    expect(at1030.map((b) => [b.to, b.items])).toEqual([["c", ["m1"]]]);
    expect(links.nextDueAt(new Set())).toBe(1100);
    expect(links.takeDue(1100, new Set()).map((b) => [b.to, b.items])).toEqual([["b", ["m1"]]]);
  });

  it("holds a partitioned region's links in both directions and delivers everything on heal", () => {
    const links = new WanLinks<number>(() => 10);
    links.partition("b");
    for (let i = 0; i < 5; i++) {
      links.enqueue("a", "b", i, 0);
      links.enqueue("b", "c", i, 0);
      links.enqueue("a", "c", i, 0);
    }
    const during = links.takeDue(10_000, new Set());
    expect(during.map((b) => `${b.from}->${b.to}`)).toEqual(["a->c"]);
    expect(links.size()).toBe(10);
    links.heal("b");
    const after = links.takeDue(10_000, new Set());
    expect(after.map((b) => [`${b.from}->${b.to}`, b.items])).toEqual([
      ["a->b", [0, 1, 2, 3, 4]],
      ["b->c", [0, 1, 2, 3, 4]],
    ]);
    expect(links.size()).toBe(0);
  });

  it("skips busy links and puts failed batches back at the head", () => {
    const links = new WanLinks<number>(() => 0);
    links.enqueue("a", "b", 1, 0);
    links.enqueue("a", "b", 2, 0);
    const [batch] = links.takeDue(0, new Set());
    expect(batch!.items).toEqual([1, 2]);
    links.enqueue("a", "b", 3, 0);
    expect(links.takeDue(0, new Set([batch!.link]))).toEqual([]);
    links.requeueFront("a", "b", batch!.items);
    expect(links.takeDue(0, new Set())[0]!.items).toEqual([1, 2, 3]);
  });

  it("keeps FIFO order per link whatever the latency changes and arrival times (property)", () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ at: fc.nat(1000), delay: fc.nat(300) }), { minLength: 1, maxLength: 50 }),
        (arrivals) => {
          let delay = 0;
          const links = new WanLinks<number>(() => delay);
          let now = 0;
          arrivals.forEach((a, i) => {
            now += a.at;
            delay = a.delay;
            links.enqueue("x", "y", i, now);
          });
          const out: number[] = [];
          for (let t = 0; t <= now + 400; t += 7)
            for (const b of links.takeDue(t, new Set())) out.push(...b.items);
          for (const b of links.takeDue(Number.MAX_SAFE_INTEGER, new Set())) out.push(...b.items);
          expect(out).toEqual(arrivals.map((_, i) => i));
        },
      ),
    );
  });
});
