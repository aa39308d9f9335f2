// What the demo started, stopped in reverse order once — at the end, on an error, or on Ctrl-C.
import type { Print } from "./options.js";

export class Cleanups {
  private readonly steps: Array<() => Promise<void> | void> = [];
  private readonly onSignal = () => {
    this.print("\ninterrupted: stopping everything");
    void this.run().then(() => process.exit(130));
  };

  constructor(private readonly print: Print) {
    process.once("SIGINT", this.onSignal);
    process.once("SIGTERM", this.onSignal);
  }

  push(step: () => Promise<void> | void): void {
    this.steps.push(step);
  }

  async run(): Promise<void> {
    for (const step of this.steps.reverse()) await Promise.resolve(step()).catch(() => undefined);
    this.steps.length = 0;
  }

  detachSignals(): void {
    process.off("SIGINT", this.onSignal);
    process.off("SIGTERM", this.onSignal);
  }
}
