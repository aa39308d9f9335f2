// Critical data with home regions over a real WAN layer (TCP proxies with delay), real PostgreSQL (one
// schema per home) and real Redis: local speed at home, forwarding elsewhere, typed unavailability when
// the home is cut off, and re-homing without two writable homes — checked by the WGL checker.
import { BackendUnavailableError } from "@meridian/core";
import { checkLinearizability, describeViolation, HistoryRecorder, type Json } from "@meridian/monitor";
import { NotHomeError } from "@meridian/wan";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type GeoEnv, geoTestEnv, REGIONS3, timed } from "./support/wan-env.js";

const ONE_WAY_MS = 40;
let env: GeoEnv;
beforeAll(async () => {
  env = await geoTestEnv(ONE_WAY_MS);
});
afterAll(() => env.cleanup());

const router = (region: string) => env.geo.routers[region]!;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

describe("home regions over the WAN", () => {
  it("serves a key at local speed in its home and forwards it, saying so, from elsewhere", async () => {
    const home = router("us-east");
    const w = await home.set("acct:us1", { balance: 10 });
    expect(w).toMatchObject({ home: "us-east", region: "us-east", forwarded: false, forwardMs: 0 });
    const local: number[] = [];
    for (let i = 0; i < 5; i++) {
      const t = await timed(() => home.get("acct:us1"));
      expect(t.value).toMatchObject({ value: { balance: 10 }, forwarded: false, home: "us-east" });
      local.push(t.ms);
    }
    expect(median(local)).toBeLessThan(2 * ONE_WAY_MS); // never the round trip a forwarded op pays

    const far = await timed(() => router("ap-south").get("acct:us1"));
    expect(far.value).toMatchObject({
      value: { balance: 10 },
      forwarded: true,
      home: "us-east",
      region: "ap-south",
    });
    expect(far.ms).toBeGreaterThan(ONE_WAY_MS);
    expect(far.value.forwardMs).toBeGreaterThan(ONE_WAY_MS);
    const farWrite = await timed(() => router("eu-west").set("acct:us1", { balance: 11 }));
    expect(farWrite.value).toMatchObject({ forwarded: true, home: "us-east" });
    expect(farWrite.ms).toBeGreaterThan(ONE_WAY_MS);
    expect((await home.get("acct:us1")).value).toEqual({ balance: 11 });
  });

  it("a partitioned home makes its keys unavailable elsewhere (typed, bounded), other homes keep working", async () => {
    await router("eu-west").set("acct:eu2", 1);
    await router("ap-south").set("acct:ap2", 1);
    env.network.partition("eu-west");
    try {
      const t = await timed(() =>
        router("us-east")
          .get("acct:eu2")
          .catch((e: unknown) => e),
      );
      expect(t.value).toBeInstanceOf(BackendUnavailableError);
      expect((t.value as BackendUnavailableError).details).toMatchObject({ region: "eu-west" });
      expect(t.ms).toBeLessThan(3000);
      await expect(router("ap-south").set("acct:eu2", 2)).rejects.toBeInstanceOf(BackendUnavailableError);
      expect((await router("us-east").get("acct:ap2")).value).toBe(1);
      expect((await router("eu-west").get("acct:eu2")).value).toBe(1); // the home itself still serves
    } finally {
      env.network.heal("eu-west");
    }
    let value: unknown;
    for (let i = 0; i < 30 && value !== 1; i++) {
      value = await router("us-east")
        .get("acct:eu2")
        .then((r) => r.value)
        .catch(() => undefined);
      if (value !== 1) await new Promise((r) => setTimeout(r, 100));
    }
    expect(value).toBe(1);
  });

  it("re-homing moves ownership: the old home refuses, the new one serves locally, versions keep growing", async () => {
    const before = await router("us-east").set("acct:us3", "a");
    const moved = await router("eu-west").rehome("acct:us3", "ap-south");
    expect(moved).toMatchObject({ from: "us-east", to: "ap-south", epoch: 1 });
    const err = await env.geo.routers["us-east"]!.serve("get", { key: "acct:us3" }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NotHomeError);
    expect(err).toMatchObject({ home: "ap-south", epoch: 1 });
    const atNewHome = await router("ap-south").get("acct:us3");
    expect(atNewHome).toMatchObject({ value: "a", forwarded: false, home: "ap-south", epoch: 1 });
    expect(atNewHome.version).toBeGreaterThan(before.version);
    // A region that never heard of the move follows the redirect once, then goes straight there.
    const viaRedirect = await router("us-east").set("acct:us3", "b");
    expect(viaRedirect).toMatchObject({ home: "ap-south", forwarded: true });
    expect(router("us-east").homeOf("acct:us3")).toEqual({ home: "ap-south", epoch: 1 });
  });

  it("a move whose hand-over is cut leaves the key unavailable (never two homes) until resumed", async () => {
    await router("us-east").set("acct:us4", "x");
    env.network.partition("ap-south");
    try {
      await expect(router("us-east").rehome("acct:us4", "ap-south")).rejects.toBeInstanceOf(
        BackendUnavailableError,
      );
      // Fenced at the old home, not adopted by the new one: nobody serves it, nobody returns a stale value.
      await expect(router("us-east").get("acct:us4")).rejects.toBeInstanceOf(BackendUnavailableError);
      await expect(router("eu-west").set("acct:us4", "y")).rejects.toThrow();
    } finally {
      env.network.heal("ap-south");
    }
    await new Promise((r) => setTimeout(r, 200));
    const resumed = await router("us-east").rehome("acct:us4", "ap-south");
    expect(resumed).toMatchObject({ to: "ap-south", epoch: 1 });
    expect((await router("eu-west").get("acct:us4")).value).toBe("x");
  });

  it("histories mixing home and remote clients with re-homes in the middle are linearizable", async () => {
    const keys = ["acct:us5", "acct:eu5"];
    const initial: Record<string, Json> = {};
    for (const k of keys) {
      await router(env.geo.policy.defaultHome(k)).set(k, 0);
      initial[k] = 0;
    }
    const rec = new HistoryRecorder();
    let seed = 11;
    const rand = () => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed / 0x7fffffff;
    };
    const counts = { ok: 0, failed: 0 };
    const clients = Array.from({ length: 6 }, (_, c) => {
      const region = REGIONS3[c % REGIONS3.length]!;
      return (async () => {
        for (let i = 0; i < 25; i++) {
          const key = keys[Math.floor(rand() * keys.length)]!;
          if (rand() < 0.5) {
            const id = rec.invoke(`${region}#${c}`, { type: "read", key });
            try {
              const r = await router(region).get(key);
              rec.ok(id, { type: "read", value: r.value as Json | undefined });
              counts.ok++;
            } catch {
              rec.discard(id);
              counts.failed++;
            }
          } else {
            const value = c * 1000 + i;
            const id = rec.invoke(`${region}#${c}`, { type: "write", key, value });
            try {
              await router(region).set(key, value);
              rec.ok(id, { type: "write" });
              counts.ok++;
            } catch (err) {
              // A refusal (not home, not sent) wrote nothing; a lost answer may have been applied.
              const outcome = (err as { details?: { outcome?: string } }).details?.outcome;
              if (err instanceof NotHomeError || outcome === "not-sent") rec.discard(id);
              else rec.unknown(id);
              counts.failed++;
            }
          }
        }
      })();
    });
    // Re-homes run from regions that are not the key's home (forwarded to it), while clients keep going.
    const moves: [string, string, string][] = [
      ["eu-west", "acct:us5", "ap-south"],
      ["ap-south", "acct:eu5", "us-east"],
      ["us-east", "acct:us5", "eu-west"],
      ["us-east", "acct:us5", "us-east"],
      ["eu-west", "acct:eu5", "eu-west"],
      ["ap-south", "acct:us5", "ap-south"],
    ];
    const mover = (async () => {
      for (const [from, key, to] of moves) {
        await new Promise((r) => setTimeout(r, 150));
        await router(from).rehome(key, to);
      }
    })();
    // One tight reader per region on the moving key: reads that overlap a hand-over are what would expose
    // a new home serving its pre-move row.
    let moving = true;
    const hammers = REGIONS3.map(async (region) => {
      while (moving) {
        const id = rec.invoke(`${region}#reader`, { type: "read", key: "acct:us5" });
        try {
          const r = await router(region).get("acct:us5");
          rec.ok(id, { type: "read", value: r.value as Json | undefined });
        } catch {
          rec.discard(id);
        }
      }
    });
    await Promise.all([
      ...clients,
      mover.finally(() => {
        moving = false;
      }),
      ...hammers,
    ]);
    const result = checkLinearizability(rec.history(), { initial, timeBudgetMs: 60_000 });
    if (result.violation) console.log(describeViolation(result.violation));
    expect(result.status).toBe("linearizable");
    expect(counts.ok).toBeGreaterThan(100);
    expect((await router("us-east").get("acct:us5")).home).toBe("ap-south");
    expect((await router("us-east").get("acct:eu5")).home).toBe("eu-west");
  });
});
