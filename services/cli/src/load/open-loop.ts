// Open-loop scheduling: operation i is due at t0 + i / rate, whatever happened to the ones before it.
// Latency is measured from that intended time, not from when the request actually left, so a stalled
// target shows up as the queueing delay every later operation suffered (no coordinated omission). A cap
// on operations in flight bounds memory; operations held back by it still count from their due time.
// Optionally an operation still unsent `shedAfterMs` past its due time is dropped and counted as shed —
// what a client with a deadline does — so past what the target serves, the surplus is shed instead of
// every later operation queueing behind it. Optionally the rate climbs linearly from 0 over `rampMs`, so a
// cold target (a JIT, a freshly started broker) warms up before it takes the full rate.
import { InvalidInputError } from "@meridian/core";
import { LatencyHistogram, type LatencySummary } from "./histogram.js";

export interface OpenLoopOptions {
  ratePerSecond: number;
  durationMs: number;
  /** Operations in flight at most (default 4096); due ones wait their turn, their wait counted. */
  maxInFlight?: number;
  /** The rate climbs linearly from 0 to ratePerSecond over this many ms at the start (default 0). */
  rampMs?: number;
  /** Drop (count as shed) an operation still unsent this long after its due time (default: never). */
  shedAfterMs?: number;
  /** After the duration, how long due-but-unsent operations may still be sent (default 10 s). */
  drainMs?: number;
  /** Runs operation i; a rejection counts as an error. */
  execute(index: number): Promise<unknown>;
  /** Called once a second with that second's figures. */
  onSecond?(s: SecondStats): void;
  /** Aborting stops sending at once; the run ends when what is in flight has answered. */
  signal?: AbortSignal;
  now?: () => number;
}

export interface SecondStats {
  /** 1, 2, … seconds since the start. */
  second: number;
  /** Operations due in this second (the offered rate). */
  offered: number;
  /** Operations that succeeded in this second. */
  achieved: number;
  errors: number;
  /** Operations dropped in this second for waiting past shedAfterMs. */
  shed: number;
  /** Latency (from the intended send time) of the operations completed in this second. */
  latency: LatencySummary;
  inFlight: number;
  /** Operations due but not yet sent (the target is behind). */
  backlog: number;
}

export interface OpenLoopResult {
  /** Operations due in the run: round(rate × (duration − ramp / 2)). */
  offered: number;
  /** Sent: offered minus shed minus those still unsent when the drain time ran out. */
  sent: number;
  achieved: number;
  errors: number;
  /** Dropped for waiting past shedAfterMs to be sent. */
  shed: number;
  unsent: number;
  latency: LatencySummary;
  /** From the start to the last completion. */
  elapsedMs: number;
  seconds: SecondStats[];
}

/** The longest delay Node's timers hold. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export function runOpenLoop(o: OpenLoopOptions): Promise<OpenLoopResult> {
  if (!(o.ratePerSecond > 0) || !(o.durationMs > 0))
    throw new InvalidInputError("rate and duration must be > 0", {
      field: o.ratePerSecond > 0 ? "durationMs" : "ratePerSecond",
    });
  // Node's timers hold at most 2^31 − 1 ms; a longer run would have its drain timer fire at once.
  if (o.durationMs + (o.drainMs ?? 10_000) > MAX_TIMER_MS)
    throw new InvalidInputError("duration and drain together exceed 2^31 − 1 ms (~24.8 days)", {
      field: "durationMs",
    });
  if (o.shedAfterMs !== undefined && !(o.shedAfterMs >= 0))
    throw new InvalidInputError("shedAfterMs must be ≥ 0", { field: "shedAfterMs" });
  const now = o.now ?? (() => performance.now());
  const maxInFlight = o.maxInFlight ?? 4096;
  const rampMs = o.rampMs ?? 0;
  if (!(rampMs >= 0 && rampMs <= o.durationMs))
    throw new InvalidInputError("rampMs must be between 0 and the duration", { field: "rampMs" });
  const { dueCount, timeOf } = schedule(o.ratePerSecond, rampMs);
  const total = Math.round(dueCount(o.durationMs));
  if (!Number.isSafeInteger(total))
    throw new InvalidInputError("rate × duration makes more operations than can be counted", {
      field: "ratePerSecond",
    });
  const overall = new LatencyHistogram();
  const window = new LatencyHistogram();
  const seconds: SecondStats[] = [];
  const t0 = now();
  let next = 0;
  let inFlight = 0;
  let achieved = 0;
  let errors = 0;
  let windowOk = 0;
  let windowErr = 0;
  let shed = 0;
  let windowShed = 0;
  let cutOff = false;

  return new Promise<OpenLoopResult>((resolve) => {
    let finished = false;
    const finish = () => {
      if (finished) return;
      finished = true;
      clearInterval(pumpTimer);
      clearInterval(secondTimer);
      clearTimeout(drainTimer);
      o.signal?.removeEventListener("abort", stop);
      const unsent = total - next;
      resolve({
        offered: total,
        sent: next - shed,
        achieved,
        errors,
        shed,
        unsent,
        latency: overall.summary(),
        elapsedMs: now() - t0,
        seconds,
      });
    };
    const complete = (intended: number, ok: boolean) => {
      const latency = now() - intended;
      overall.record(latency);
      window.record(latency);
      inFlight--;
      if (ok) {
        achieved++;
        windowOk++;
      } else {
        errors++;
        windowErr++;
      }
      if ((next >= total || cutOff) && inFlight === 0) finish();
      else pump();
    };
    // Sheds every operation already past its deadline in one step (one by one would hold the event loop
    // for as many iterations as an absurd rate makes operations); what is left is sent below.
    const shedStale = (elapsed: number, due: number) => {
      if (o.shedAfterMs === undefined || elapsed - o.shedAfterMs < 0) return;
      const stale = Math.min(due, Math.floor(dueCount(elapsed - o.shedAfterMs)));
      if (stale <= next) return;
      shed += stale - next;
      windowShed += stale - next;
      next = stale;
    };
    const pump = () => {
      if (cutOff) return;
      const elapsed = now() - t0;
      const due = Math.min(total, Math.floor(dueCount(elapsed)) + 1);
      shedStale(elapsed, due);
      while (next < due && inFlight < maxInFlight) {
        const i = next++;
        const intended = t0 + timeOf(i);
        inFlight++;
        let p: Promise<unknown>;
        try {
          p = o.execute(i);
        } catch (err) {
          p = Promise.reject(err);
        }
        p.then(
          () => complete(intended, true),
          () => complete(intended, false),
        );
      }
      if (next >= total && inFlight === 0) finish(); // the last operations were shed
    };
    const emitSecond = () => {
      const second = seconds.length + 1;
      const elapsed = now() - t0;
      const dueBy = Math.min(total, Math.floor(dueCount(elapsed)) + 1);
      const dueUntil = (ms: number) => Math.min(total, Math.ceil(dueCount(ms)));
      const s: SecondStats = {
        second,
        offered: dueUntil(second * 1000) - dueUntil((second - 1) * 1000),
        achieved: windowOk,
        errors: windowErr,
        shed: windowShed,
        latency: window.summary(),
        inFlight,
        backlog: Math.max(0, dueBy - next),
      };
      windowOk = 0;
      windowErr = 0;
      windowShed = 0;
      window.reset();
      seconds.push(s);
      o.onSecond?.(s);
    };
    // A 1 ms pump sends what is due in small batches; completions also pump, refilling freed slots at once.
    const pumpTimer = setInterval(pump, 1);
    const secondTimer = setInterval(emitSecond, 1000);
    const drainTimer = setTimeout(() => stop(), o.durationMs + (o.drainMs ?? 10_000));
    const stop = () => {
      cutOff = true;
      if (inFlight === 0) finish();
    };
    o.signal?.addEventListener("abort", stop, { once: true });
    if (total === 0 || o.signal?.aborted) finish();
    else pump();
  });
}

/**
 * The open loop's timetable: operation i is due at timeOf(i) ms after the start; dueCount(t) is how many
 * are due by t as a real number (operation i is due once i <= dueCount(t)). During a ramp the rate grows
 * linearly from 0, so dueCount is quadratic there and linear after it.
 */
function schedule(ratePerSecond: number, rampMs: number) {
  const perMs = ratePerSecond / 1000;
  const rampCount = (perMs * rampMs) / 2;
  return {
    dueCount: (t: number) => (t < rampMs ? (perMs * t * t) / (2 * rampMs) : perMs * (t - rampMs / 2)),
    timeOf: (i: number) => (i < rampCount ? Math.sqrt((2 * rampMs * i) / perMs) : i / perMs + rampMs / 2),
  };
}
