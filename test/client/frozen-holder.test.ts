// A holder frozen with SIGSTOP (a child process): writes to its key complete within one lease, and after
// SIGCONT the holder never serves the old value.
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { configFromEnv } from "@meridian/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { clientTestEnv, sleep } from "./support/client-env.js";

const LEASE_MS = 1500;
let env: Awaited<ReturnType<typeof clientTestEnv>>;
beforeAll(async () => {
  env = await clientTestEnv("frozen");
});
afterAll(() => env.cleanup());

describe("a frozen L1 holder", () => {
  it("delays a write by at most one lease and serves no old value after SIGCONT", async () => {
    const key = "acct:frozen";
    const writer = await env.client("us-east", {
      critical: { pg: env.pool, keyPrefix: env.keyPrefix, leaseMs: LEASE_MS },
    });
    await writer.set("critical", key, "old");
    // node itself (not the tsx wrapper, which forks): SIGSTOP must reach the process holding the copy.
    const child = spawn(process.execPath, ["--import", "tsx", "test/client/fixtures/holder.ts"], {
      env: {
        ...process.env,
        HOLDER_PG_URL: configFromEnv().pgUrl,
        HOLDER_SCHEMA: env.schema,
        HOLDER_PREFIX: env.keyPrefix,
        HOLDER_LEASE_MS: String(LEASE_MS),
        HOLDER_KEY: key,
      },
      stdio: ["ignore", "pipe", "inherit"],
    });
    const lines: { seq: number; value?: unknown; source?: string; error?: string }[] = [];
    createInterface({ input: child.stdout! }).on("line", (l) => lines.push(JSON.parse(l)));
    try {
      const deadline = Date.now() + 30_000;
      while (!lines.some((l) => l.source === "l1" && l.value === "old")) {
        if (Date.now() > deadline)
          throw new Error(`holder never served from L1: ${JSON.stringify(lines.slice(-3))}`);
        await sleep(20);
      }
      process.kill(child.pid!, "SIGSTOP");
      await sleep(200); // let the pipe drain: every line read after this was printed after SIGCONT
      const before = lines.length;
      const t0 = performance.now();
      await writer.set("critical", key, "new");
      const writeMs = performance.now() - t0;
      console.log(`write with a frozen holder took ${writeMs.toFixed(0)} ms (lease ${LEASE_MS} ms)`);
      expect(writeMs).toBeLessThan(LEASE_MS + 500);
      expect(writeMs).toBeGreaterThan(LEASE_MS / 4); // it did wait for the holder's lease
      process.kill(child.pid!, "SIGCONT");
      const until = Date.now() + 20_000;
      while (!lines.slice(before).some((l) => l.value === "new")) {
        if (Date.now() > until) throw new Error("holder never read the new value");
        await sleep(20);
      }
      const after = lines.slice(before);
      expect(after.filter((l) => l.value === "old")).toEqual([]);
      expect(after.length).toBeGreaterThan(0);
    } finally {
      child.kill("SIGKILL");
    }
  }, 90_000);
});
