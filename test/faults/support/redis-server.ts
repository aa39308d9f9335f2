// One private redis-server child process per region (test/support/redis-process.ts), so a region's Redis
// can fail alone: kill -9, SIGSTOP/SIGCONT, restart empty on the same port.
import { type RedisProcess, startRedisProcess } from "../../support/redis-process.js";

export { freePort } from "../../support/redis-process.js";

export class RegionRedisServers {
  private constructor(private readonly servers: Record<string, RedisProcess>) {}

  static async start(regions: readonly string[]): Promise<RegionRedisServers> {
    const entries = await Promise.all(regions.map(async (r) => [r, await startRedisProcess()] as const));
    return new RegionRedisServers(Object.fromEntries(entries));
  }

  of(region: string): RedisProcess {
    const s = this.servers[region];
    if (!s) throw new Error(`no private Redis for region ${region}`);
    return s;
  }

  async stopAll(): Promise<void> {
    await Promise.all(Object.values(this.servers).map((s) => s.stop()));
  }
}
