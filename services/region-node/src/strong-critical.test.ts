import { describe, expect, it } from "vitest";
import { schemaForNamespace } from "./strong-critical.js";

describe("schemaForNamespace", () => {
  it("maps a namespace to a lower-case PostgreSQL schema name", () => {
    expect(schemaForNamespace("t-Conv-1")).toBe("meridian_t_conv_1");
  });
});
