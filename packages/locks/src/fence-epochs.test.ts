import { InvalidInputError } from "@meridian/core";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { clockFenceEpochs, EPOCH_SCALE, MAX_EPOCH, pgFenceEpochs } from "./fence-epochs.js";

describe("fence epochs", () => {
  it("every token epoch * EPOCH_SCALE + counter is a safe integer, ordered by (epoch, counter)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: MAX_EPOCH }),
        fc.integer({ min: 1, max: EPOCH_SCALE - 1 }),
        fc.integer({ min: 1, max: EPOCH_SCALE - 1 }),
        (epoch, c1, c2) => {
          const t = epoch * EPOCH_SCALE + c1;
          expect(Number.isSafeInteger(t)).toBe(true);
          // Any counter of a later epoch is above every counter of this one.
          if (epoch < MAX_EPOCH) expect((epoch + 1) * EPOCH_SCALE + c2).toBeGreaterThan(t);
        },
      ),
    );
  });

  it("the clock source grows with the wall clock and refuses an epoch too large for a safe token", async () => {
    let now = Date.UTC(2026, 0, 1);
    const src = clockFenceEpochs(() => now);
    const a = await src.next("ns");
    now += 1_000;
    expect(await src.next("ns")).toBe(a + 1);
    expect(src.durable).toBe(false);
    await expect(clockFenceEpochs(() => Date.UTC(2500, 0, 1)).next("ns")).rejects.toBeInstanceOf(
      InvalidInputError,
    );
  });

  it("the PostgreSQL source refuses a table name that is not an identifier", () => {
    expect(() => pgFenceEpochs({ query: async () => ({ rows: [] }) }, "x; DROP TABLE y")).toThrow(
      InvalidInputError,
    );
  });
});
