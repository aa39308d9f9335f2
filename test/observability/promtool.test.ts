// The shipped alert rules through Prometheus' own tool: they parse (`promtool check rules`), every alert
// has a unit test, and the unit tests pass (`promtool test rules`).
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT } from "../support/pipeline.js";
import { PROMTOOL_BIN, requireBinary } from "./support/prometheus.js";

const RULES_DIR = join(ROOT, "infra/prometheus");
const ruleFiles = readdirSync(RULES_DIR)
  .filter((f) => f.endsWith("-alerts.yml"))
  .map((f) => join(RULES_DIR, f));
const testFiles = readdirSync(join(RULES_DIR, "tests"))
  .filter((f) => f.endsWith(".yml"))
  .map((f) => join(RULES_DIR, "tests", f));

function promtool(...args: string[]): { status: number | null; out: string } {
  const r = spawnSync(PROMTOOL_BIN, args, { encoding: "utf8", timeout: 60_000 });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

const matches = (files: string[], re: RegExp) =>
  new Set(files.flatMap((f) => [...readFileSync(f, "utf8").matchAll(re)].map((m) => m[1]!)));

describe("infra/prometheus alert rules", () => {
  it("pass promtool check rules", () => {
    requireBinary(PROMTOOL_BIN);
    expect(ruleFiles.length).toBeGreaterThan(0);
    const r = promtool("check", "rules", ...ruleFiles);
    expect(r.out).toContain("SUCCESS");
    expect(r.status, r.out).toBe(0);
  });

  it("have a promtool unit test for every alert, expecting it to fire", () => {
    const alerts = matches(ruleFiles, /^\s*- alert: (\S+)/gm);
    const firingTests = matches(testFiles, /alertname: (\S+)\n\s*exp_alerts:\n\s*- exp_labels/g);
    expect(alerts.size).toBeGreaterThan(0);
    expect([...alerts].filter((a) => !firingTests.has(a))).toEqual([]);
  });

  it("are loaded by the compose deployment's Prometheus config, which passes promtool check config", () => {
    requireBinary(PROMTOOL_BIN);
    const r = promtool("check", "config", join(RULES_DIR, "prometheus.yml"));
    expect(r.out).toContain(`SUCCESS: ${ruleFiles.length} rule files found`);
    expect(r.status, r.out).toBe(0);
  });

  it("pass promtool test rules", () => {
    requireBinary(PROMTOOL_BIN);
    const r = promtool("test", "rules", ...testFiles);
    expect(r.out).toContain("SUCCESS");
    expect(r.status, r.out).toBe(0);
  });
});
