// Read-mostly critical keys: every region reads its own copy (filled from the home under a lease), and the
// home's writes invalidate every copy across the WAN before they are acknowledged — slower writes, local
// reads, still linearizable. A region cut off blocks writes (typed) but never serves a stale value.
import { BackendUnavailableError } from "@meridian/core";
import { checkLinearizability, describeViolation, HistoryRecorder, type Json } from "@meridian/monitor";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type GeoEnv, geoTestEnv, REGIONS3, timed } from "./support/wan-env.js";

const ONE_WAY_MS = 40;
let env: GeoEnv;
beforeAll(async () => {
  env = await geoTestEnv(ONE_WAY_MS, { readMostly: ["ref:"] });
});
afterAll(() => env.cleanup());

const router = (region: string) => env.geo.routers[region]!;

async function eventually(fn: () => Promise<unknown>, expected: unknown): Promise<unknown> {
  let got: unknown;
  for (let i = 0; i < 40; i++) {
    got = await fn().catch(() => undefined);
    if (JSON.stringify(got) === JSON.stringify(expected)) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  return got;
}

describe("read-mostly keys", () => {
  it("reads are served from the local copy; a write pays the WAN and is visible everywhere once acknowledged", async () => {
    const key = "ref:fx:eurusd";
    const w = await timed(() => router("us-east").set(key, 1.08));
    expect(w.value).toMatchObject({ home: "us-east", forwarded: false });
    expect(w.ms).toBeGreaterThan(ONE_WAY_MS); // invalidating every region's copy crosses the WAN
    await router("ap-south").get(key); // fills the local copy
    const local: number[] = [];
    for (let i = 0; i < 5; i++) {
      const t = await timed(() => router("ap-south").get(key));
      expect(t.value).toMatchObject({ value: 1.08, home: "us-east", forwarded: false, localCopy: true });
      local.push(t.ms);
    }
    local.sort((a, b) => a - b);
    expect(local[2]).toBeLessThan(2 * ONE_WAY_MS); // the median read crosses no link
    await router("eu-west").set(key, 1.09); // forwarded to the home
    expect((await router("ap-south").get(key)).value).toBe(1.09);
  });

  it("a partitioned copy holder blocks writes with a typed error and keeps serving the latest value", async () => {
    const key = "ref:fx:usdjpy";
    await router("us-east").set(key, 150);
    await router("eu-west").get(key);
    env.network.partition("eu-west");
    try {
      await expect(router("us-east").set(key, 151)).rejects.toBeInstanceOf(BackendUnavailableError);
      expect((await router("eu-west").get(key)).value).toBe(150);
      expect((await router("us-east").get(key)).value).toBe(150);
    } finally {
      env.network.heal("eu-west");
    }
    expect(
      await eventually(
        () =>
          router("us-east")
            .set(key, 152)
            .then(() => "ok"),
        "ok",
      ),
    ).toBe("ok");
    expect((await router("eu-west").get(key)).value).toBe(152);
  });

  it("concurrent readers in every region and writers from anywhere: the history is linearizable", async () => {
    const key = "ref:limits:desk1";
    await router("us-east").set(key, 0);
    const rec = new HistoryRecorder();
    const clients = Array.from({ length: 6 }, (_, c) => {
      const region = REGIONS3[c % REGIONS3.length]!;
      return (async () => {
        for (let i = 0; i < 20; i++) {
          const write = (c + i) % 5 === 0;
          const value = c * 1000 + i;
          const id = rec.invoke(
            `${region}#${c}`,
            write ? { type: "write", key, value } : { type: "read", key },
          );
          try {
            if (write) {
              await router(region).set(key, value);
              rec.ok(id, { type: "write" });
            } else {
              const r = await router(region).get(key);
              rec.ok(id, { type: "read", value: r.value as Json | undefined });
            }
          } catch {
            if (write) rec.unknown(id);
            else rec.discard(id);
          }
        }
      })();
    });
    await Promise.all(clients);
    const result = checkLinearizability(rec.history(), { initial: { [key]: 0 }, timeBudgetMs: 60_000 });
    if (result.violation) console.log(describeViolation(result.violation));
    expect(result.status).toBe("linearizable");
  });
});
