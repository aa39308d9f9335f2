import http from "node:http";
import type { AddressInfo } from "node:net";
import { describe, expect, it } from "vitest";
import {
  type AlertEvent,
  AlertManager,
  type AlertRule,
  MemoryAlertSink,
  WebhookAlertSink,
} from "./alerts.js";
import type { MonitorSnapshot } from "./snapshot.js";

const rule: AlertRule = {
  name: "LagHigh",
  severity: "critical",
  description: "lag high",
  threshold: 100,
  forMs: 1000,
  measure: (s) => s.regions.map((r) => ({ labels: { region: r }, value: s.regionLagMs[r] ?? 0 })),
};

function snap(at: number, lag: Record<string, number>): MonitorSnapshot {
  return {
    at,
    startedAt: 0,
    regions: Object.keys(lag),
    regionLagMs: lag,
    regionConvergence: {},
    convergence: { count: 0, p50: 0, p95: 0, p99: 0, max: 0, mean: 0 },
    opsPerSec: {},
    divergentKeys: 0,
    violations: { total: 0, byKind: {}, recentByKind: {}, operations: 0, rate: 0, target: 1e-5, latest: [] },
    consumerLag: {},
    consumersStalled: [],
    lockWaitP99Ms: 0,
    alertsFiring: [],
    recentAlerts: [],
  };
}

describe("AlertManager", () => {
  it("fires only after the condition held for the duration, per label set, and resolves", async () => {
    const sink = new MemoryAlertSink();
    const m = new AlertManager([rule], [sink]);
    expect(await m.evaluate(snap(0, { x: 500, y: 0 }))).toEqual([]);
    expect(await m.evaluate(snap(999, { x: 500, y: 0 }))).toEqual([]);
    const fired = await m.evaluate(snap(1000, { x: 500, y: 0 }));
    expect(fired.map((e) => [e.status, e.labels.region])).toEqual([["firing", "x"]]);
    expect(m.firing()).toHaveLength(1);
    // A dip below the threshold resets the pending timer.
    await m.evaluate(snap(1100, { x: 500, y: 200 }));
    await m.evaluate(snap(1200, { x: 500, y: 0 }));
    expect(await m.evaluate(snap(2150, { x: 500, y: 200 }))).toEqual([]);
    const resolved = await m.evaluate(snap(3000, { x: 0, y: 0 }));
    expect(resolved.map((e) => [e.status, e.labels.region, e.endsAt])).toEqual([["resolved", "x", 3000]]);
    expect(sink.events.map((e) => e.status)).toEqual(["firing", "resolved"]);
    expect(m.firing()).toEqual([]);
  });

  it("the webhook sink POSTs an Alertmanager-style body and survives a dead endpoint", async () => {
    const bodies: unknown[] = [];
    const server = http.createServer((req, res) => {
      let text = "";
      req.on("data", (c) => {
        text += c;
      });
      req.on("end", () => {
        bodies.push(JSON.parse(text));
        res.end("ok");
      });
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
    const event: AlertEvent = {
      status: "firing",
      rule: "LagHigh",
      severity: "critical",
      description: "lag high",
      labels: { region: "x" },
      value: 500,
      threshold: 100,
      startsAt: 0,
    };
    await new WebhookAlertSink(url).send(event);
    server.close();
    expect(bodies).toHaveLength(1);
    expect(bodies[0]).toMatchObject({
      status: "firing",
      alerts: [{ labels: { alertname: "LagHigh", region: "x" } }],
    });
    const dead = new WebhookAlertSink("http://127.0.0.1:9/none", 500);
    await dead.send(event);
    expect(dead.failures).toBe(1);
  });
});
