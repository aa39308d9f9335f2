import { describe, expect, it } from "vitest";
import { InvalidInputError } from "../errors.js";
import { VectorClock } from "./vector-clock.js";

describe("VectorClock examples", () => {
  it("increments, merges and compares", () => {
    const a = VectorClock.empty().increment("us-east");
    const b = a.increment("eu-west");
    expect(a.compare(b)).toBe("before");
    expect(b.compare(a)).toBe("after");
    expect(b.compare(b)).toBe("equal");
    const c = a.increment("us-east");
    expect(b.compare(c)).toBe("concurrent");
    expect(b.merge(c).toJSON()).toEqual({ "eu-west": 1, "us-east": 2 });
    expect(b.merge(c).dominates(b)).toBe(true);
    expect(b.dominates(c)).toBe(false);
  });

  it("encodes compactly and decodes", () => {
    const vc = VectorClock.from({ "us-east": 5, "eu-west": 3, "ap-south": 0 });
    expect(vc.encode()).toBe("eu-west:3,us-east:5");
    expect(VectorClock.decode(vc.encode()).equals(vc)).toBe(true);
    expect(VectorClock.decode("").equals(VectorClock.empty())).toBe(true);
    const odd = VectorClock.from({ "host:1,2": 7 });
    expect(VectorClock.decode(odd.encode()).toJSON()).toEqual({ "host:1,2": 7 });
  });

  it("rejects negative, non-integer and non-finite counters and empty node ids", () => {
    expect(() => VectorClock.from({ a: -1 })).toThrow(InvalidInputError);
    expect(() => VectorClock.from({ a: 1.5 })).toThrow(InvalidInputError);
    expect(() => VectorClock.from({ a: Number.NaN })).toThrow(InvalidInputError);
    expect(() => VectorClock.from({ a: Number.POSITIVE_INFINITY })).toThrow(InvalidInputError);
    expect(() => VectorClock.from({ "": 1 })).toThrow(InvalidInputError);
    expect(() => VectorClock.empty().increment("")).toThrow(InvalidInputError);
  });

  it("rejects malformed encoded strings", () => {
    for (const bad of [
      "a",
      "a:",
      ":1",
      "a:-1",
      "a:1.5",
      "a:01",
      "a:1,",
      "a:1,,b:2",
      "a:1,a:2",
      "a:x",
      "%E0%A4%A:1",
    ]) {
      expect(() => VectorClock.decode(bad), bad).toThrow(InvalidInputError);
    }
  });
});
