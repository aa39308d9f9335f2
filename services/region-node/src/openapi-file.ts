// The region node's OpenAPI document as a file in the repo (services/region-node/openapi.json), built from
// the same routes the node serves — without Redis or Kafka, so it can be written and checked anywhere.
//   regenerate: pnpm tsx services/region-node/src/openapi-file.ts
import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { addObservabilityRoutes } from "@meridian/service-kit";
import { Registry } from "prom-client";
import { openApiDocument, regionNodeRouter } from "./region-node-api.js";

export const OPENAPI_FILE = fileURLToPath(new URL("../openapi.json", import.meta.url));

const unused = async (): Promise<never> => {
  throw new Error("documentation only");
};

/** The document the running node serves at /openapi.json, from a router whose handlers are never called. */
export function regionNodeOpenApi(): Promise<unknown> {
  const router = regionNodeRouter({
    read: unused,
    write: unused,
    transfer: unused,
    deposit: unused,
    info: () => ({ status: 200 }),
  });
  addObservabilityRoutes(router, new Registry(), {});
  return openApiDocument(router);
}

export function formatDocument(doc: unknown): string {
  return `${JSON.stringify(doc, null, 2)}\n`;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  writeFileSync(OPENAPI_FILE, formatDocument(await regionNodeOpenApi()));
  console.log(`wrote ${OPENAPI_FILE}`);
}
