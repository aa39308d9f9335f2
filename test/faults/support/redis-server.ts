// One private redis-server child process per region (@meridian/cluster's startRedisServer), so a region's
// Redis can fail alone: kill -9, SIGSTOP/SIGCONT, restart empty on the same port.
import { type RedisServerProcess, startRedisServer } from "@meridian/cluster";

export class RegionRedisServers {
  private constructor(private readonly servers: Record<string, RedisServerProcess>) {}

  static async start(regions: readonly string[]): Promise<RegionRedisServers> {
    const entries = await Promise.all(regions.map(async (r) => [r, await startRedisServer()] as const));
    return new RegionRedisServers(Object.fromEntries(entries));
  }

  of(region: string): RedisServerProcess {
    const s = this.servers[region];
    if (!s) throw new Error(`no private Redis for region ${region}`);
    return s;
  }

  async stopAll(): Promise<void> {
    await Promise.all(Object.values(this.servers).map((s) => s.stop()));
  }
}
