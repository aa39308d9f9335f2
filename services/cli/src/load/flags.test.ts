import { InvalidInputError } from "@meridian/core";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { LoadFlagError } from "./errors.js";
import { parseLoadFlags } from "./flags.js";
import { parseMix, pickEntry } from "./mix.js";

function flagError(args: string[]): LoadFlagError {
  try {
    parseLoadFlags(args);
  } catch (err) {
    expect(err).toBeInstanceOf(LoadFlagError);
    expect(err).toBeInstanceOf(InvalidInputError);
    expect((err as LoadFlagError).retriable).toBe(false);
    return err as LoadFlagError;
  }
  throw new Error(`accepted ${args.join(" ")}`);
}

describe("meridian load flags", () => {
  it("defaults: 2000 ops/s for 10 s, the default mix, an in-process cluster over HTTP", () => {
    const f = parseLoadFlags([]);
    expect(f.rate).toBe(2000);
    expect(f.durationMs).toBe(10_000);
    expect(f.nodes).toBeUndefined();
    expect(f.transport).toBe("http");
    expect(f.mix.entries.map((e) => `${e.dataClass}:${e.kind}`)).toContain("important:incr");
  });

  it("reads every flag", () => {
    const f = parseLoadFlags([
      "--rate=500",
      "--duration",
      "2.5",
      "--mix",
      "important:set=3,incr=1",
      "--nodes",
      "us-east=http://127.0.0.1:1/,eu-west=http://127.0.0.1:2",
      "--counters",
      "8",
      "--hot",
      "2",
      "--max-in-flight",
      "16",
      "--shed-after-ms",
      "750",
      "--ramp",
      "1",
    ]);
    expect(f.rampMs).toBe(1000);
    expect(f).toMatchObject({
      rate: 500,
      durationMs: 2500,
      counters: 8,
      hot: 2,
      maxInFlight: 16,
      shedAfterMs: 750,
    });
    expect(parseLoadFlags([]).shedAfterMs).toBeUndefined(); // a pure open loop unless asked
    expect(f.nodes).toEqual({ "us-east": "http://127.0.0.1:1", "eu-west": "http://127.0.0.1:2" });
    expect(f.mix.total).toBe(4);
  });

  it.each([
    [["--rate", "0"], "--rate"],
    [["--rate", "-5"], "--rate"],
    [["--rate", "fast"], "--rate"],
    [["--duration", ""], "--duration"],
    [["--counters", "2.5"], "--counters"],
    [["--hot", "9", "--counters", "4"], "--hot"],
    [["--mix", "important:incr"], "--mix"],
    [["--mix", "critical:incr=1"], "--mix"],
    [["--mix", "important:delete=1"], "--mix"],
    [["--mix", "bulk:set=1"], "--mix"],
    [["--mix", "important:set=0"], "--mix"],
    [["--mix", "set=1,important:set=2"], "--mix"],
    [["--nodes", "us-east"], "--nodes"],
    [["--nodes", "us-east=ftp://x"], "--nodes"],
    [["--transport", "carrier-pigeon"], "--transport"],
    [["--transport", "direct", "--nodes", "a=http://h:1"], "--transport"],
    [["--speed", "9"], "--speed"],
    [["--rate"], "--rate"],
    [["--shed-after-ms", "0"], "--shed-after-ms"],
    [["--ramp", "-1"], "--ramp"],
    [["--rate", "1e300"], "--rate"],
    [["--duration", "1e9"], "--duration"],
    [["--ramp", "20", "--duration", "10"], "--ramp"],
    [["--shed-after-ms", "soon"], "--shed-after-ms"],
  ])("%j → a typed error naming %s", (args, flag) => {
    expect(flagError(args as string[]).flag).toBe(flag);
  });

  it("a mix picks each entry in proportion to its weight", () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 20 }), { minLength: 1, maxLength: 3 }), (weights) => {
        const kinds = ["set", "incr", "get"];
        const mix = parseMix(weights.map((w, i) => `important:${kinds[i]}=${w}`).join(","));
        const n = 2000;
        const counts = new Map<string, number>();
        for (let i = 0; i < n; i++) {
          const e = pickEntry(mix, (i + 0.5) / n);
          counts.set(e.kind, (counts.get(e.kind) ?? 0) + 1);
        }
        const total = weights.reduce((a, b) => a + b, 0);
        weights.forEach((w, i) => {
          expect(Math.abs((counts.get(kinds[i]!) ?? 0) - (n * w) / total)).toBeLessThanOrEqual(1);
        });
      }),
    );
  });
});
