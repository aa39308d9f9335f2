import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { encodeFrame, FrameReader, MAX_FRAME_BYTES } from "./frames.js";

describe("FrameReader", () => {
  it("yields every frame once, in order, however the stream is split", () => {
    fc.assert(
      fc.property(
        fc.array(fc.jsonValue(), { minLength: 1, maxLength: 20 }),
        fc.array(fc.integer({ min: 1, max: 64 }), { minLength: 1, maxLength: 20 }),
        (frames, cuts) => {
          const bytes = Buffer.from(frames.map(encodeFrame).join(""));
          const got: unknown[] = [];
          const reader = new FrameReader(
            (f) => got.push(f),
            (e) => {
              throw new Error(e);
            },
          );
          for (let at = 0, i = 0; at < bytes.length; i++) {
            const n = cuts[i % cuts.length]!;
            reader.push(bytes.subarray(at, at + n));
            at += n;
          }
          expect(got).toEqual(frames.map((f) => JSON.parse(JSON.stringify(f))));
        },
      ),
    );
  });

  it("reports garbage and oversized frames instead of buffering them", () => {
    const errors: string[] = [];
    const reader = new FrameReader(
      () => {},
      (e) => errors.push(e),
    );
    reader.push(Buffer.from("not json\n"));
    reader.push(Buffer.alloc(MAX_FRAME_BYTES + 10, 0x61));
    expect(errors).toEqual(["frame is not JSON", `frame larger than ${MAX_FRAME_BYTES} bytes`]);
  });
});
