import { describe, expect, it } from "vitest";
import { bucketOf, INDEX_BUCKETS } from "./keys.js";
import { crdtPolicyByPrefix } from "./policy.js";

describe("bucketOf", () => {
  it("is FNV-1a mod INDEX_BUCKETS: fixed values, so every process files a key in the same bucket", () => {
    // FNV-1a 32 of "" is the offset basis 0x811c9dc5 = 2166136261; of "a" it is 0xe40c292c.
    expect(bucketOf("")).toBe(2166136261 % INDEX_BUCKETS);
    expect(bucketOf("a")).toBe(0xe40c292c % INDEX_BUCKETS);
    for (const k of ["price:AAPL", "position:x", "ü", "a".repeat(1000)]) {
      expect(bucketOf(k)).toBeGreaterThanOrEqual(0);
      expect(bucketOf(k)).toBeLessThan(INDEX_BUCKETS);
    }
  });

  it("spreads keys over the buckets", () => {
    const counts = new Array(INDEX_BUCKETS).fill(0);
    for (let i = 0; i < 25_600; i++) counts[bucketOf(`price:S${i}`)]++;
    expect(Math.min(...counts)).toBeGreaterThan(40);
    expect(Math.max(...counts)).toBeLessThan(180);
  });
});

describe("crdtPolicyByPrefix", () => {
  it("uses the longest matching prefix, else the fallback", () => {
    const p = crdtPolicyByPrefix({ "pos:": "pncounter", "pos:set:": "orset", "px:": "lww" }, "mvregister");
    expect(p("pos:AAPL")).toBe("pncounter");
    expect(p("pos:set:x")).toBe("orset");
    expect(p("px:1")).toBe("lww");
    expect(p("other")).toBe("mvregister");
    expect(crdtPolicyByPrefix({})("x")).toBe("lww");
  });
});
