// Bundles every runnable service into self-contained ESM files (esbuild): the workspace's TypeScript and
// the production npm dependencies they import, nothing else. The container image ships only this folder,
// so no dev dependency, no TypeScript loader and no node_modules reach it. Layout of <outDir>:
//   bin/<service>.js (+ shared chunks; the Avro schemas are a module of the bus), package.json ({"type":"module"})
//   node scripts/build-services.mjs [outDir]       (default dist/app)
import { rmSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const OUT = resolve(process.argv[2] ?? join(ROOT, "dist/app"));

/** Image entrypoint name → process entry (the same files `pnpm tsx` runs). */
export const SERVICES = {
  "region-node": "services/region-node/src/main.ts",
  "invalidation-consumer": "services/invalidation-consumer/src/main.ts",
  replicator: "services/replicator/src/main.ts",
  "market-data-producer": "services/market-data-producer/src/main.ts",
  "schema-registry": "services/schema-registry/src/main.ts",
  meridian: "services/cli/src/meridian.ts",
};

rmSync(OUT, { recursive: true, force: true });
await build({
  entryPoints: Object.fromEntries(Object.entries(SERVICES).map(([name, file]) => [name, join(ROOT, file)])),
  outdir: join(OUT, "bin"),
  bundle: true,
  platform: "node",
  target: "node20",
  format: "esm",
  splitting: true,
  sourcemap: true,
  legalComments: "linked",
  logLevel: "warning",
  // pg's optional native binding is never used (pure-JS client).
  external: ["pg-native"],
  // CommonJS dependencies (kafkajs, ioredis, pg, pino) call require() for Node built-ins.
  banner: {
    js: "import { createRequire as __mr } from 'node:module'; const require = __mr(import.meta.url);",
  },
});
writeFileSync(join(OUT, "package.json"), `${JSON.stringify({ type: "module", private: true }, null, 2)}\n`);
console.log(`built ${Object.keys(SERVICES).join(", ")} into ${OUT}`);
