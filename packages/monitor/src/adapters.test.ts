import { describe, expect, it } from "vitest";
import { coherenceMessageCounter, timedLock } from "./adapters.js";
import { ConsistencyMonitor } from "./consistency-monitor.js";

describe("adapters feeding the monitor's metrics", () => {
  it("timedLock records wait and hold; coherenceMessageCounter counts by type", async () => {
    const monitor = new ConsistencyMonitor({ regions: ["a"] });
    const lock = await timedLock(
      monitor,
      "acct",
      () => new Promise<string>((r) => setTimeout(() => r("h"), 20)),
      async () => undefined,
    );
    expect(lock.handle).toBe("h");
    await new Promise((r) => setTimeout(r, 10));
    await lock.release();
    const count = coherenceMessageCounter(monitor);
    count("GetS", 100);
    count("GetS", 100);
    count("Inv", 50);
    const text = await monitor.metrics.registry.metrics();
    expect(text).toMatch(/meridian_lock_wait_seconds_count\{namespace="acct"\} 1/);
    expect(text).toMatch(/meridian_lock_hold_seconds_count\{namespace="acct"\} 1/);
    expect(text).toContain('meridian_coherence_messages_total{type="GetS"} 2');
    expect(monitor.snapshot().lockWaitP99Ms).toBeGreaterThanOrEqual(15);
  });
});
