// The main job end to end, shortened: five regions + replicator + consumers + market data + the monitor
// wired to them + the dashboard + client load, then the race test and the report — against real Kafka,
// Redis and PostgreSQL. Nothing is injected, so the monitor must find nothing.
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runDemo } from "../../services/cli/src/demo/run-demo.js";

const dir = mkdtempSync(join(tmpdir(), "meridian-demo-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("the demo (main job)", () => {
  it("runs the five regions under load, checks them, and writes a passing HTML + JSON report", async () => {
    const lines: string[] = [];
    const result = await runDemo({
      seconds: 8,
      port: 0,
      host: "127.0.0.1",
      reportsDir: dir,
      // A functional check at a small rate; the default thousands of ops/s are for people watching.
      opsPerSecond: 100,
      symbols: 200,
      ticksPerSecond: 50,
      print: (l) => {
        lines.push(l);
        if (process.env.MERIDIAN_DEMO_TEST_ECHO) console.log(l);
      },
    });
    const out = lines.join("\n");
    expect(out).toMatch(/dashboard: http:\/\/127\.0\.0\.1:\d+\//);
    for (const r of ["us-east", "us-west", "eu-west", "ap-south", "ap-northeast"]) expect(out).toContain(r);
    expect(out).toContain("propagation p50");
    // Convergence per region pair, measured while the load ran.
    expect(out).toMatch(/convergence UNDER LOAD, write → merged, all pairs: [1-9]\d* merges/);
    expect(out).toMatch(/\[load\] t=\s*\d+s\s+offered 100\/s/);
    expect(out).toContain("linearizable: yes");
    // The monitor really checked both tiers.
    expect(result.checks.strong_read).toBeGreaterThan(0);
    expect(result.checks.divergence).toBeGreaterThan(0);
    expect(Object.keys(result.report.latency)).toEqual(
      expect.arrayContaining(["critical.get", "critical.set", "important.get", "important.increment"]),
    );
    expect(result.report.violations.total).toBe(0);
    expect(result.report.alerts).toEqual([]);
    expect(result.report.suites[0]!.suites[0]!.linearizable).toBe(true);
    expect(existsSync(result.htmlPath)).toBe(true);
    expect(readFileSync(result.htmlPath, "utf8")).toContain("<svg");
    expect(JSON.parse(readFileSync(result.jsonPath, "utf8")).verdict).toBe(result.report.verdict);
    expect(existsSync(join(dir, "race-history.json"))).toBe(true);
    // The WAN layer is on by default: the report carries the per-(client, home) latency map.
    expect(result.report.latencyMap).toHaveLength(5 * 5 * 2);
    expect(readFileSync(result.htmlPath, "utf8")).toContain("Latency map");
  });
});
