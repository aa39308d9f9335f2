// infra/prometheus/meridian-alerts.yml and the in-process rules must not drift apart: same alert names,
// and every metric the file queries is registered by the monitor.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { MonitorMetrics } from "./metrics.js";
import { defaultAlertRules } from "./rules.js";

const whole = readFileSync(
  join(import.meta.dirname, "../../../infra/prometheus/meridian-alerts.yml"),
  "utf8",
);
// The consumers' group alerts on the services' own metrics (checked beside them in @meridian/bus).
const file = whole.split(/\n {2}- name: meridian-consumers\n/)[0]!;

describe("Prometheus alert rules file", () => {
  it("has an alert for every in-process rule, each with a duration and a severity", () => {
    const alerts = [...file.matchAll(/- alert: (\w+)/g)].map((m) => m[1]);
    expect(alerts.sort()).toEqual(
      defaultAlertRules()
        .map((r) => r.name)
        .sort(),
    );
    expect([...file.matchAll(/\n\s+for: \d+[smh]/g)]).toHaveLength(alerts.length);
    expect([...file.matchAll(/severity: (critical|warning)/g)]).toHaveLength(alerts.length);
  });

  it("queries only metrics the monitor registers", async () => {
    const registered = new Set((await new MonitorMetrics().registry.getMetricsAsJSON()).map((m) => m.name));
    const used = new Set([...file.matchAll(/\b(meridian_[a-z_]+?)(?:_bucket)?\b/g)].map((m) => m[1]!));
    expect(used.size).toBeGreaterThan(4);
    for (const name of used) expect(registered, name).toContain(name);
  });
});
