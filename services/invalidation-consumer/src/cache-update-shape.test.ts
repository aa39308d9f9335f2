import { SerializationError } from "@meridian/core";
import { describe, expect, it } from "vitest";
import { asCacheUpdate } from "./cache-update-shape.js";

describe("asCacheUpdate", () => {
  it("accepts a decoded CacheUpdate and names the first bad field otherwise", () => {
    const good = {
      key: "k",
      kind: "UPDATE",
      crdtType: "lww",
      state: "{}",
      region: "us-east",
      vectorClock: {},
      hlcWallMs: 1,
      hlcLogical: 0,
      hlcNode: "us-east",
      producedAtMs: 1,
    };
    expect(asCacheUpdate(good)).toBe(good);
    expect(() => asCacheUpdate({ ...good, crdtType: "gcounter" })).toThrow(SerializationError);
    expect(() => asCacheUpdate({ ...good, hlcWallMs: "1" })).toThrow(/hlcWallMs/);
    expect(() => asCacheUpdate(null)).toThrow(SerializationError);
  });
});
