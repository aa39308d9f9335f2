import { describe, expect, it } from "vitest";
import * as errors from "./errors.js";

const { MeridianError: _base, ...classes } = errors;

describe("error tree", () => {
  it("every error is a MeridianError with a stable code and says whether a retry can help", () => {
    const retriable = new Set([
      "LOCK_TIMEOUT",
      "DEADLOCK",
      "STALENESS_BOUND",
      "BACKEND_UNAVAILABLE",
      "OVERLOADED",
    ]);
    for (const Cls of Object.values(classes)) {
      const err = new Cls("m", { a: 1 });
      expect(err).toBeInstanceOf(errors.MeridianError);
      expect(err.name).toBe(Cls.name);
      expect(err.details).toEqual({ a: 1 });
      expect(err.retriable).toBe(retriable.has(err.code));
    }
    expect(new errors.NotImplementedError("no strong store").code).toBe("NOT_IMPLEMENTED");
  });
});
