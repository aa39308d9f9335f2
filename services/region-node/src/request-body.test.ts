import { InvalidInputError } from "@meridian/core";
import { describe, expect, it } from "vitest";
import { crdtTypeForKey, parseDataClass, validateKey } from "./keyspace.js";
import { importantWriteArg, parseMinVersion } from "./request-body.js";

describe("region node input checks", () => {
  it("maps key prefixes to CRDT types", () => {
    expect(crdtTypeForKey("md:SYM001")).toBe("lww");
    expect(crdtTypeForKey("pos:acct1:AAPL")).toBe("pncounter");
    expect(crdtTypeForKey("watch:alice")).toBe("orset");
    expect(crdtTypeForKey("mv:note")).toBe("mvregister");
  });

  it("builds the write argument per CRDT type", () => {
    expect(importantWriteArg("md:X", { value: { p: 1 } })).toEqual({ p: 1 });
    expect(importantWriteArg("pos:a", { op: "increment", by: 3 })).toEqual({ op: "increment", by: 3 });
    expect(importantWriteArg("pos:a", { op: "decrement" })).toEqual({ op: "decrement", by: 1 });
    expect(importantWriteArg("watch:a", { op: "add", element: "AAPL" })).toEqual({
      op: "add",
      element: "AAPL",
    });
  });

  it.each([
    ["md:X", null],
    ["md:X", [1]],
    ["md:X", {}],
    ["pos:a", { value: 3 }],
    ["pos:a", { op: "increment", by: -1 }],
    ["pos:a", { op: "increment", by: 1.5 }],
    ["watch:a", { op: "add" }],
    ["watch:a", { op: "toggle", element: 1 }],
  ])("rejects %s %j with InvalidInputError", (key, body) => {
    expect(() => importantWriteArg(key, body)).toThrow(InvalidInputError);
  });

  it("validates keys, classes and versions", () => {
    expect(validateKey("md:SYM001")).toBe("md:SYM001");
    for (const bad of ["", " x", "a b", "x".repeat(257), "-x", "a\nb"])
      expect(() => validateKey(bad)).toThrow(InvalidInputError);
    expect(parseDataClass("important")).toBe("important");
    expect(() => parseDataClass("urgent")).toThrow(InvalidInputError);
    expect(parseMinVersion({ "us-east": 2 })).toEqual({ "us-east": 2 });
    expect(() => parseMinVersion({ "us-east": -2 })).toThrow(InvalidInputError);
  });
});
