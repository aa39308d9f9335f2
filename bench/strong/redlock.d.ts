// redlock 5.0.0-beta.2's package "exports" hide its own .d.ts from NodeNext resolution; declare the part we use.
declare module "redlock" {
  import type { Redis } from "ioredis";
  export interface Lock {
    release(): Promise<unknown>;
  }
  export default class Redlock {
    constructor(
      clients: Iterable<Redis>,
      settings?: { retryCount?: number; retryDelay?: number; retryJitter?: number },
    );
    acquire(resources: string[], duration: number): Promise<Lock>;
  }
}
