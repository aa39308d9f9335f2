// Alert rules with thresholds and durations, evaluated against monitor snapshots, in the spirit of
// Prometheus alerting rules: a rule's condition must hold for `forMs` before it fires (pending → firing),
// and a firing alert resolves when the condition stops holding. Transitions go to sinks (log, webhook).
import type { Logger } from "pino";
import type { MonitorSnapshot } from "./snapshot.js";

export type Severity = "critical" | "warning";

export interface AlertRule {
  name: string;
  severity: Severity;
  description: string;
  /** Values to compare with the threshold, one per label set (e.g. one per region). */
  measure(s: MonitorSnapshot): Array<{ labels: Record<string, string>; value: number }>;
  /** The condition is `value > threshold`. */
  threshold: number;
  /** How long the condition must hold before the alert fires (0: at once). */
  forMs: number;
}

export interface AlertEvent {
  status: "firing" | "resolved";
  rule: string;
  severity: Severity;
  description: string;
  labels: Record<string, string>;
  value: number;
  threshold: number;
  startsAt: number;
  endsAt?: number;
}

export interface AlertSink {
  send(event: AlertEvent): Promise<void> | void;
}

interface RuleState {
  pendingSince?: number;
  firingSince?: number;
  lastValue: number;
}

export class AlertManager {
  private readonly state = new Map<string, RuleState>();
  private readonly history: AlertEvent[] = [];

  constructor(
    readonly rules: AlertRule[],
    private readonly sinks: AlertSink[] = [],
  ) {}

  addSink(sink: AlertSink): void {
    this.sinks.push(sink);
  }

  /** Evaluates every rule; returns the transitions (and sends them to the sinks). */
  async evaluate(snapshot: MonitorSnapshot): Promise<AlertEvent[]> {
    const now = snapshot.at;
    const events: AlertEvent[] = [];
    for (const rule of this.rules) {
      const seen = new Set<string>();
      for (const { labels, value } of rule.measure(snapshot)) {
        const id = `${rule.name}${JSON.stringify(labels)}`;
        seen.add(id);
        const st = this.state.get(id) ?? { lastValue: value };
        st.lastValue = value;
        this.state.set(id, st);
        if (value > rule.threshold) {
          st.pendingSince ??= now;
          if (st.firingSince === undefined && now - st.pendingSince >= rule.forMs) {
            st.firingSince = now;
            events.push(this.event("firing", rule, labels, value, now));
          }
        } else {
          if (st.firingSince !== undefined) {
            events.push({ ...this.event("resolved", rule, labels, value, st.firingSince), endsAt: now });
          }
          st.pendingSince = undefined;
          st.firingSince = undefined;
        }
      }
      // Label sets that vanished (e.g. a region removed) resolve too.
      for (const [id, st] of this.state) {
        if (!id.startsWith(`${rule.name}{`) || seen.has(id)) continue;
        if (st.firingSince !== undefined) {
          const labels = JSON.parse(id.slice(rule.name.length)) as Record<string, string>;
          events.push({ ...this.event("resolved", rule, labels, st.lastValue, st.firingSince), endsAt: now });
        }
        this.state.delete(id);
      }
    }
    this.history.push(...events);
    for (const e of events) await Promise.all(this.sinks.map((s) => s.send(e)));
    return events;
  }

  /** Alerts firing now. */
  firing(): AlertEvent[] {
    const out: AlertEvent[] = [];
    for (const rule of this.rules) {
      for (const [id, st] of this.state) {
        if (!id.startsWith(`${rule.name}{`) || st.firingSince === undefined) continue;
        const labels = JSON.parse(id.slice(rule.name.length)) as Record<string, string>;
        out.push(this.event("firing", rule, labels, st.lastValue, st.firingSince));
      }
    }
    return out;
  }

  /** Every transition so far (firing and resolved), oldest first. */
  events(): readonly AlertEvent[] {
    return this.history;
  }

  private event(
    status: AlertEvent["status"],
    rule: AlertRule,
    labels: Record<string, string>,
    value: number,
    startsAt: number,
  ): AlertEvent {
    return {
      status,
      rule: rule.name,
      severity: rule.severity,
      description: rule.description,
      labels,
      value,
      threshold: rule.threshold,
      startsAt,
    };
  }
}

/** Writes each transition as one structured log line (warn for firing, info for resolved). */
export class LogAlertSink implements AlertSink {
  constructor(private readonly logger: Pick<Logger, "warn" | "info">) {}
  send(e: AlertEvent): void {
    const line = {
      alert: e.rule,
      severity: e.severity,
      labels: e.labels,
      value: e.value,
      threshold: e.threshold,
    };
    if (e.status === "firing") this.logger.warn(line, `ALERT FIRING ${e.rule}: ${e.description}`);
    else this.logger.info(line, `alert resolved ${e.rule}`);
  }
}

/**
 * POSTs each transition as JSON (an Alertmanager-webhook-like body: { status, alerts: [...] }).
 * Delivery failures are counted and logged, never thrown: alerting must not take the monitor down.
 */
export class WebhookAlertSink implements AlertSink {
  failures = 0;
  constructor(
    private readonly url: string,
    private readonly timeoutMs = 2000,
    private readonly onError?: (err: unknown) => void,
  ) {}

  async send(e: AlertEvent): Promise<void> {
    const body = {
      version: "4",
      status: e.status,
      receiver: "meridian",
      alerts: [
        {
          status: e.status,
          labels: { alertname: e.rule, severity: e.severity, ...e.labels },
          annotations: { description: e.description, value: String(e.value), threshold: String(e.threshold) },
          startsAt: new Date(e.startsAt).toISOString(),
          endsAt: e.endsAt ? new Date(e.endsAt).toISOString() : undefined,
        },
      ],
    };
    try {
      const res = await fetch(this.url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      if (!res.ok) throw new Error(`webhook answered ${res.status}`);
    } catch (err) {
      this.failures++;
      this.onError?.(err);
    }
  }
}

/** Keeps events in memory (tests, reports). */
export class MemoryAlertSink implements AlertSink {
  readonly events: AlertEvent[] = [];
  send(e: AlertEvent): void {
    this.events.push(e);
  }
}
