// infra/prometheus/meridian-alerts.yml must not drift from the code: the `meridian-consumers` group
// watches the supervised Kafka consumers (metrics registered by @meridian/bus); every other alert is one
// of the monitor's in-process rules and queries only metrics the monitor registers.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { type ConsumerHealth, registerConsumerMetrics } from "@meridian/bus";
import { defaultAlertRules, MonitorMetrics } from "@meridian/monitor";
import { Registry } from "prom-client";
import { describe, expect, it } from "vitest";

const file = readFileSync(join(import.meta.dirname, "../../infra/prometheus/meridian-alerts.yml"), "utf8");
const groups = new Map(
  file
    .split(/\n\s+- name: /)
    .slice(1)
    .map((text) => [text.slice(0, text.indexOf("\n")).trim(), text] as const),
);
const alertsIn = (text: string) => [...text.matchAll(/- alert: (\w+)/g)].map((m) => m[1]!);
const metricsIn = (text: string) =>
  new Set([...text.matchAll(/\b(meridian_[a-z_]+?)(?:_bucket)?\b/g)].map((m) => m[1]!));
const consumerGroup = groups.get("meridian-consumers") ?? "";
const monitorGroups = [...groups].filter(([name]) => name !== "meridian-consumers").map(([, t]) => t);

async function namesRegisteredBy(registry: Registry): Promise<Set<string>> {
  return new Set((await registry.getMetricsAsJSON()).map((m) => m.name));
}

describe("Prometheus alert rules file", () => {
  it("has an alert for every in-process rule and no other outside the consumer group, each with a duration and a severity", () => {
    const monitorAlerts = monitorGroups.flatMap(alertsIn);
    expect(monitorAlerts.sort()).toEqual(
      defaultAlertRules()
        .map((r) => r.name)
        .sort(),
    );
    const all = alertsIn(file);
    expect(alertsIn(consumerGroup).length).toBeGreaterThan(0);
    expect([...file.matchAll(/\n\s+for: \d+[smh]/g)]).toHaveLength(all.length);
    expect([...file.matchAll(/severity: (critical|warning)/g)]).toHaveLength(all.length);
  });

  it("queries only metrics the monitor registers (monitor groups) or the bus registers (consumer group)", async () => {
    const monitor = await namesRegisteredBy(new MonitorMetrics().registry);
    const busRegistry = new Registry();
    const idle = { name: "c", restarts: 0, lastProgressAtMs: 0, stalled: false } as ConsumerHealth;
    registerConsumerMetrics(busRegistry, () => idle);
    const bus = await namesRegisteredBy(busRegistry);
    const used = metricsIn(monitorGroups.join("\n"));
    expect(used.size).toBeGreaterThan(4);
    for (const name of used) expect(monitor, name).toContain(name);
    const consumerUsed = metricsIn(consumerGroup);
    expect(consumerUsed.size).toBeGreaterThan(1);
    for (const name of consumerUsed) expect(bus, name).toContain(name);
  });
});
