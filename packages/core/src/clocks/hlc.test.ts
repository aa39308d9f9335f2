import { describe, expect, it } from "vitest";
import { ClockDriftError, InvalidInputError } from "../errors.js";
import { compareHlc, decodeHlc, encodeHlc, HybridLogicalClock } from "./hlc.js";

describe("HybridLogicalClock examples", () => {
  it("stays monotonic when the physical clock goes backwards", () => {
    let pt = 1_000;
    const clock = new HybridLogicalClock("us-east", { physicalNow: () => pt });
    const t1 = clock.now();
    pt = 500;
    const t2 = clock.now();
    expect(t1).toEqual({ wallMs: 1_000, logical: 0, node: "us-east" });
    expect(t2).toEqual({ wallMs: 1_000, logical: 1, node: "us-east" });
    pt = 2_000;
    expect(clock.now()).toEqual({ wallMs: 2_000, logical: 0, node: "us-east" });
  });

  it("update() moves past a remote timestamp", () => {
    const clock = new HybridLogicalClock("eu-west", { physicalNow: () => 1_000 });
    const t = clock.update({ wallMs: 1_500, logical: 4, node: "us-east" });
    expect(t).toEqual({ wallMs: 1_500, logical: 5, node: "eu-west" });
  });

  it("throws ClockDriftError when the remote is too far ahead, without changing state", () => {
    const clock = new HybridLogicalClock("eu-west", { physicalNow: () => 1_000, maxDriftMs: 100 });
    const before = clock.now();
    expect(() => clock.update({ wallMs: 1_101, logical: 0, node: "x" })).toThrow(ClockDriftError);
    expect(clock.peek()).toEqual(before);
    expect(clock.update({ wallMs: 1_100, logical: 0, node: "x" }).wallMs).toBe(1_100);
  });

  it("rejects malformed remote timestamps", () => {
    const clock = new HybridLogicalClock("a", { physicalNow: () => 1 });
    expect(() => clock.update({ wallMs: -1, logical: 0, node: "b" })).toThrow(InvalidInputError);
    expect(() => clock.update({ wallMs: 1, logical: 0.5, node: "b" })).toThrow(InvalidInputError);
    expect(() => clock.update({ wallMs: 1, logical: 0, node: "" })).toThrow(InvalidInputError);
    expect(() => new HybridLogicalClock("")).toThrow(InvalidInputError);
  });

  it("compares totally and encodes in sortable form", () => {
    const a = { wallMs: 5, logical: 1, node: "a" };
    const b = { wallMs: 5, logical: 1, node: "b" };
    expect(compareHlc(a, b)).toBe(-1);
    expect(compareHlc(b, a)).toBe(1);
    expect(compareHlc(a, { ...a })).toBe(0);
    expect(encodeHlc(a) < encodeHlc(b)).toBe(true);
    expect(decodeHlc(encodeHlc({ wallMs: 7, logical: 2, node: "n:1" }))).toEqual({
      wallMs: 7,
      logical: 2,
      node: "n:1",
    });
    expect(() => decodeHlc("garbage")).toThrow(InvalidInputError);
    expect(() => decodeHlc("1:2:")).toThrow(InvalidInputError);
  });
});
