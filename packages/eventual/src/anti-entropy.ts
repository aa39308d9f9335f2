import type { RegionStore } from "./types.js";

export interface AntiEntropyOptions {
  intervalMs?: number;
  buckets?: number;
}
export interface AntiEntropyResult {
  repairedKeys: number;
  comparedBuckets: number;
}

export class AntiEntropy {
  constructor(
    readonly regions: RegionStore[],
    readonly opts: AntiEntropyOptions = {},
  ) {}
  async runOnce(): Promise<AntiEntropyResult> {
    throw new Error("not implemented yet");
  }
  start(): void {}
  async stop(): Promise<void> {}
}
