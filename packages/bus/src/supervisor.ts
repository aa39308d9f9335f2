// A kafkajs consumer that is never dead for good. kafkajs restarts a crashed consumer only when the
// cause is retriable; a non-retriable one (e.g. UNKNOWN_MEMBER_ID on an offset commit) stops it and
// nothing consumes that group's partitions on this process again. The supervisor replaces the crashed
// consumer with a new one after an exponential back-off with jitter, counts the restarts, and keeps
// the evidence a health check and a "stalled" gauge need.
import { BackendUnavailableError } from "@meridian/core";
import type { Consumer, ConsumerConfig, Kafka } from "kafkajs";
import type { Logger } from "pino";
import { type BackoffOptions, backoffDelay } from "./backoff.js";
import { kafkaConnectError } from "./kafka.js";

export type ConsumerState = "idle" | "starting" | "running" | "restarting" | "stopped";

export interface ConsumerHealth {
  /** The consumer group id. */
  name: string;
  state: ConsumerState;
  /** Restarts after a crash kafkajs would not recover from, since start. */
  restarts: number;
  lastCrash: string | undefined;
  /** Last commit, or last fetch while no record was failing (caught up counts as progress). */
  lastProgressAtMs: number;
  /** Since when the oldest record still failing at a partition's head has been failing. */
  blockedSinceMs: number | undefined;
  /** Not running, or a record blocked, for longer than stallAfterMs. */
  stalled: boolean;
}

export interface SupervisorOptions {
  config: ConsumerConfig;
  logger: Logger;
  /** Back-off between restarts (default 500 ms doubling to 30 s, half of it jitter). */
  restart?: Partial<BackoffOptions>;
  /** How long not running or blocked counts as healthy (default 30 s). */
  stallAfterMs?: number;
}

/** Subscribes and calls `consumer.run(...)` on a freshly connected consumer. */
export type ConsumerSetup = (consumer: Consumer) => Promise<void>;

export class SupervisedConsumer {
  private consumer: Consumer | undefined;
  private setup: ConsumerSetup | undefined;
  private state: ConsumerState = "idle";
  private stateSinceMs = Date.now();
  private restarts = 0;
  private consecutiveRestarts = 0;
  private lastCrash: string | undefined;
  private lastProgressAtMs = Date.now();
  private readonly blocked = new Map<string, number>();
  private restartTimer: NodeJS.Timeout | undefined;
  private readonly restartListeners: ((err: Error) => void)[] = [];
  private readonly backoff: BackoffOptions;

  constructor(
    private readonly kafka: Kafka,
    private readonly opts: SupervisorOptions,
  ) {
    this.backoff = { initialMs: 500, maxMs: 30_000, jitter: 0.5, ...opts.restart };
  }

  get name(): string {
    return this.opts.config.groupId;
  }

  /**
   * Starts the first consumer; a failure here is the caller's: AuthenticationError when the broker
   * refused the credentials (not retriable), else BackendUnavailableError.
   */
  async start(setup: ConsumerSetup): Promise<void> {
    this.setup = setup;
    try {
      await this.launch();
    } catch (err) {
      this.setState("stopped");
      throw kafkaConnectError(err as Error, "Kafka consumer cannot start", { groupId: this.name });
    }
  }

  /** The consumer currently running (a new object after each restart). */
  current(): Consumer {
    if (!this.consumer) throw new BackendUnavailableError("consumer not started", { groupId: this.name });
    return this.consumer;
  }

  onRestart(listener: (err: Error) => void): void {
    this.restartListeners.push(listener);
  }

  /** A commit succeeded (or there was nothing to do): the consumer makes progress. */
  progressed(): void {
    this.lastProgressAtMs = Date.now();
    this.consecutiveRestarts = 0;
  }

  /** Marks a partition head as failing since now (once) or, with `false`, as no longer failing. */
  setBlocked(slot: string, blocked: boolean): void {
    if (!blocked) this.blocked.delete(slot);
    else if (!this.blocked.has(slot)) this.blocked.set(slot, Date.now());
  }

  health(nowMs = Date.now()): ConsumerHealth {
    const stallAfterMs = this.opts.stallAfterMs ?? 30_000;
    const blockedSinceMs = this.blocked.size ? Math.min(...this.blocked.values()) : undefined;
    const down = this.state !== "running" && nowMs - this.stateSinceMs > stallAfterMs;
    const stuck = blockedSinceMs !== undefined && nowMs - blockedSinceMs > stallAfterMs;
    return {
      name: this.name,
      state: this.state,
      restarts: this.restarts,
      lastCrash: this.lastCrash,
      lastProgressAtMs: this.lastProgressAtMs,
      blockedSinceMs,
      stalled: this.state !== "stopped" && (down || stuck),
    };
  }

  async stop(): Promise<void> {
    this.setState("stopped");
    if (this.restartTimer) clearTimeout(this.restartTimer);
    await this.consumer?.disconnect();
  }

  private setState(state: ConsumerState): void {
    if (this.state === state) return;
    this.state = state;
    this.stateSinceMs = Date.now();
  }

  private async launch(): Promise<void> {
    this.setState("starting");
    const consumer = this.kafka.consumer(this.opts.config);
    this.consumer = consumer;
    this.blocked.clear();
    consumer.on(consumer.events.CRASH, (e) => {
      if (consumer !== this.consumer) return;
      const { error, restart } = e.payload;
      this.opts.logger.error({ err: error, restart, groupId: this.name }, "consumer crashed");
      // kafkajs restarts by itself when it says so; otherwise this consumer is dead and must be replaced.
      if (!restart) this.scheduleRestart(error);
    });
    consumer.on(consumer.events.FETCH, () => {
      if (consumer === this.consumer && this.blocked.size === 0) this.lastProgressAtMs = Date.now();
    });
    await consumer.connect();
    await this.setup!(consumer);
    if (this.state === "starting") this.setState("running");
  }

  private scheduleRestart(cause: Error): void {
    if (this.state === "stopped") return;
    this.setState("restarting");
    this.lastCrash = `${cause.name}: ${cause.message}`;
    this.restarts += 1;
    this.consecutiveRestarts += 1;
    for (const listener of this.restartListeners) listener(cause);
    const delayMs = backoffDelay(this.consecutiveRestarts, this.backoff);
    this.opts.logger.warn({ groupId: this.name, delayMs, restarts: this.restarts }, "restarting consumer");
    const old = this.consumer;
    this.restartTimer = setTimeout(async () => {
      await old?.disconnect().catch(() => undefined);
      if (this.state === "stopped") return;
      try {
        await this.launch();
      } catch (err) {
        this.scheduleRestart(err as Error);
      }
    }, delayMs);
  }
}

/** A health check for /healthz: throws BackendUnavailableError while the consumer is stalled. */
export function assertProgressing(health: ConsumerHealth): void {
  if (!health.stalled) return;
  throw new BackendUnavailableError(
    `consumer ${health.name} stalled (${health.state}; last crash: ${health.lastCrash ?? "none"})`,
    { consumer: health.name, state: health.state },
  );
}
