// What the container image ships: scripts/build-services.mjs bundles each service into dist/app/bin (no
// node_modules, no TypeScript loader). Here the bundle is built into a temp folder and run with plain
// `node` against the real servers: a region node and its invalidation consumer, with a write that
// goes through Kafka (Avro, with the schemas compiled into the bundle: no schemas/ folder) and is served back.
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type ServiceProcess, spawnService } from "@meridian/cluster";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { get, put, ROOT, uniqueNamespace } from "../support/pipeline.js";

const out = mkdtempSync(join(tmpdir(), "meridian-bundle-"));
const ns = uniqueNamespace("bundle");
const env = { MERIDIAN_NAMESPACE: ns, MERIDIAN_REGION: "us-east", MERIDIAN_CRITICAL: "off" };
let node: ServiceProcess | undefined;

beforeAll(() => {
  execFileSync(process.execPath, [join(ROOT, "scripts/build-services.mjs"), out], { stdio: "pipe" });
});

afterAll(async () => {
  await node?.stop();
  rmSync(out, { recursive: true, force: true });
});

describe("the bundled services (the image's contents)", () => {
  it("contain every image entrypoint, the Avro schemas, and no node_modules", () => {
    for (const s of [
      "region-node",
      "invalidation-consumer",
      "replicator",
      "market-data-producer",
      "schema-registry",
      "meridian",
    ])
      expect(existsSync(join(out, "bin", `${s}.js`)), s).toBe(true);
    const js = readdirSync(join(out, "bin"))
      .filter((f) => f.endsWith(".js"))
      .map((f) => readFileSync(join(out, "bin", f), "utf8"))
      .join("\n");
    for (const schema of ["CacheUpdate", "Invalidation", "LockEvent", "MarketTick"])
      expect(js, schema).toMatch(new RegExp(`\\\\?"name\\\\?": \\\\?"${schema}\\\\?"`));
    expect(existsSync(join(out, "schemas"))).toBe(false);
    expect(existsSync(join(out, "node_modules"))).toBe(false);
    const help = execFileSync(process.execPath, [join(out, "bin", "meridian.js"), "--help"], {
      encoding: "utf8",
    });
    expect(help).toContain("Usage:");
  });

  it("run a region node with plain node: a write is published and read back", async () => {
    node = await spawnService(
      { name: "region-node (bundle)", service: "region-node", env, readyMsg: "listening" },
      { bundle: out },
    );
    const url = String(node.readyLine.url);
    const health = await fetch(`${url}/healthz`);
    expect(health.status).toBe(200);
    const w = await put(url, "important", "md:BNDL", { value: 42 });
    expect(w.status, JSON.stringify(w.body)).toBe(200);
    const r = await get(url, "important", "md:BNDL");
    expect(r.body.value).toBe(42);
    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metrics).toMatch(/^meridian_http_requests_total/m);
  });
});
