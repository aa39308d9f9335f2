// `--inject stall`: stops one region's invalidation consumer for half the run, then restarts it — the
// stalled-region alert needs lag > 5 s held for 10 s, so runs of 40 s and more show it fire and resolve.
import type { Logger } from "pino";
import type { DemoCluster, Print } from "./options.js";

export class StallInjector {
  private stalled = false;
  private readonly at: number;
  private readonly forSeconds: number;

  constructor(
    private readonly cluster: DemoCluster,
    readonly region: string,
    seconds: number,
    enabled: boolean,
    private readonly print: Print,
    private readonly logger: Logger,
  ) {
    this.at = enabled ? seconds * 0.2 : Number.POSITIVE_INFINITY;
    this.forSeconds = seconds * 0.5;
  }

  /** Called as the run goes: stalls once the time has come. */
  async maybeStall(elapsedSeconds: number): Promise<void> {
    if (this.stalled || elapsedSeconds < this.at) return;
    this.stalled = true;
    this.print(
      `[demo] INJECTING FAULT: stopping ${this.region}'s invalidation consumer for ${this.forSeconds.toFixed(0)} s`,
    );
    await this.cluster.stopConsumer(this.region);
    setTimeout(() => {
      this.print(`[demo] restarting ${this.region}'s invalidation consumer`);
      void this.cluster
        .startConsumer(this.region)
        .catch((err) => this.logger.error({ err }, "restart failed"));
    }, this.forSeconds * 1000).unref();
  }

  /** At the end: the consumer runs again, whatever the timer did. */
  async heal(): Promise<void> {
    if (this.stalled) await this.cluster.startConsumer(this.region).catch(() => undefined);
  }
}
