import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { formatDocument, OPENAPI_FILE, regionNodeOpenApi } from "./openapi-file.js";

describe("region node OpenAPI document", () => {
  it("the checked-in openapi.json is what the routes produce (regenerate: pnpm tsx services/region-node/src/openapi-file.ts)", async () => {
    const doc = (await regionNodeOpenApi()) as {
      paths: Record<string, Record<string, { security?: unknown }>>;
    };
    expect(JSON.parse(readFileSync(OPENAPI_FILE, "utf8"))).toEqual(JSON.parse(formatDocument(doc)));
    expect(Object.keys(doc.paths).sort()).toEqual([
      "/healthz",
      "/metrics",
      "/v1/critical/deposit",
      "/v1/critical/transfer",
      "/v1/info",
      "/v1/{class}/{key}",
    ]);
    expect(doc.paths["/v1/{class}/{key}"]?.put?.security).toEqual([{ bearer: [] }]);
    expect(doc.paths["/v1/critical/transfer"]?.post?.security).toEqual([{ bearer: [] }]);
    expect(doc.paths["/v1/critical/deposit"]?.post?.security).toEqual([{ bearer: [] }]);
    expect(doc.paths["/healthz"]?.get?.security).toBeUndefined();
  });
});
