import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { CACHE_TABLE } from "./cache-table.js";
import { DIRECTORY_TABLE } from "./directory-table.js";
import { renderCacheTable, renderDirectoryTable } from "./render.js";

const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8");
const section = (name: string) =>
  readme.split(`<!-- ${name}:start -->`)[1]?.split(`<!-- ${name}:end -->`)[0]?.trim();

describe("README tables", () => {
  it("shows exactly the cache table the code interprets", () => {
    expect(section("cache-table")).toBe(renderCacheTable(CACHE_TABLE));
  });
  it("shows exactly the directory table the code interprets", () => {
    expect(section("directory-table")).toBe(renderDirectoryTable(DIRECTORY_TABLE));
  });
});
