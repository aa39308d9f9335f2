// Fenced transfers through the region nodes (POST /v1/critical/transfer) against real Redis, PostgreSQL
// and Kafka: concurrent transfers between a few accounts from several regions keep the total exactly
// constant, no balance goes negative, every account's final balance is exactly what the acknowledged
// transfers imply, and each account's fencing tokens grow with its versions. Overdrafts, stale fences and
// bad input are typed 4xx with nothing written; the lock wait/hold series reach the nodes' /metrics and
// cover the Grafana lock dashboard's queries.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { type Cluster, startCluster } from "@meridian/cluster";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { seededInts } from "../../bench/lib/prng.js";
import { AUTH_HEADERS, get, put, ROOT, stopAndPurge, uniqueNamespace } from "../support/pipeline.js";

let cluster: Cluster;
const ACCOUNTS = ["a1", "a2", "a3", "a4"];
const OPENING = 100;
const REGIONS = ["us-east", "eu-west", "ap-northeast"];

// biome-ignore lint/suspicious/noExplicitAny: JSON answers of the API under test, checked by the assertions
type Json = any;

async function post(
  region: string,
  path: string,
  body: unknown,
  auth = true,
): Promise<{ status: number; body: Json }> {
  const res = await fetch(`${cluster.regions[region]!.url}/v1/critical/${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(auth ? AUTH_HEADERS : {}) },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(30_000),
  });
  return { status: res.status, body: await res.json().catch(() => null) };
}

async function balanceAt(region: string, account: string): Promise<{ balance: number; version: number }> {
  const r = await get(cluster.regions[region]!.url, "critical", `ledger:${account}`);
  expect(r.status).toBe(200);
  return { balance: r.body.value.balance, version: r.body.version };
}

beforeAll(async () => {
  cluster = await startCluster({
    namespace: uniqueNamespace("ledger"),
    marketData: false,
    antiEntropy: false,
  });
  for (const a of ACCOUNTS)
    expect((await post("us-east", "deposit", { account: a, amount: OPENING })).status).toBe(200);
}, 180_000);

afterAll(() => stopAndPurge(cluster), 60_000);

describe("fenced ledger transfers", () => {
  it("concurrent transfers from three regions conserve the total exactly; no balance goes negative", async () => {
    const net = new Map(ACCOUNTS.map((a) => [a, 0]));
    const writes = new Map<string, { version: number; fence: number }[]>(ACCOUNTS.map((a) => [a, []]));
    const statuses: Record<number, number> = {};
    const rand = seededInts(7);
    const worker = async (region: string) => {
      for (let i = 0; i < 12; i++) {
        const from = ACCOUNTS[rand(4)]!;
        const to = ACCOUNTS.filter((a) => a !== from)[rand(3)]!;
        const amount = 1 + rand(45); // large enough that some transfers overdraw
        const r = await post(region, "transfer", { from, to, amount });
        statuses[r.status] = (statuses[r.status] ?? 0) + 1;
        if (r.status === 200) {
          net.set(from, net.get(from)! - amount);
          net.set(to, net.get(to)! + amount);
          for (const side of [r.body.from, r.body.to]) {
            expect(side.balance).toBeGreaterThanOrEqual(0);
            writes.get(side.account)!.push({ version: side.version, fence: r.body.fences[side.account] });
          }
        } else {
          // Typed refusals that write nothing: an overdraft, or a lock not free within its wait bound.
          expect([409, 423], JSON.stringify(r.body)).toContain(r.status);
          expect(["INSUFFICIENT_FUNDS", "LOCK_TIMEOUT"]).toContain(r.body.error.code);
        }
      }
    };
    // allSettled: a failing worker must not leave the others running into the cluster's shutdown.
    const done = await Promise.allSettled(REGIONS.flatMap((region) => [worker(region), worker(region)]));
    for (const d of done) if (d.status === "rejected") throw d.reason;
    expect(statuses[200], JSON.stringify(statuses)).toBeGreaterThan(20);

    for (const region of cluster.layout.regions) {
      const balances = await Promise.all(ACCOUNTS.map((a) => balanceAt(region, a)));
      expect(balances.reduce((s, b) => s + b.balance, 0)).toBe(OPENING * ACCOUNTS.length);
      ACCOUNTS.forEach((a, i) => {
        expect(balances[i]!.balance).toBeGreaterThanOrEqual(0);
        expect(balances[i]!.balance).toBe(OPENING + net.get(a)!); // no acknowledged transfer lost
      });
    }
    // Each account's acknowledged writes: distinct versions, and fencing tokens growing with them.
    for (const [, w] of writes) {
      w.sort((x, y) => x.version - y.version);
      expect(new Set(w.map((x) => x.version)).size).toBe(w.length);
      for (let i = 1; i < w.length; i++) expect(w[i]!.fence).toBeGreaterThan(w[i - 1]!.fence);
    }
  }, 120_000);

  it("refuses an overdraft with 409 INSUFFICIENT_FUNDS and writes nothing", async () => {
    const before = await Promise.all(["a1", "a2"].map((a) => balanceAt("eu-west", a)));
    const r = await post("eu-west", "transfer", { from: "a1", to: "a2", amount: OPENING * 10 });
    expect(r.status).toBe(409);
    expect(r.body.error).toMatchObject({ code: "INSUFFICIENT_FUNDS", details: { account: "a1" } });
    expect(await Promise.all(["a1", "a2"].map((a) => balanceAt("eu-west", a)))).toEqual(before);
  });

  it("refuses a write whose fencing token is older than the one stored with the balance", async () => {
    // A later holder's write, as the store sees it: a fence above any token this lock space will issue soon.
    const strong = cluster.nodes["us-east"]!.node.client.strong!;
    await strong.setWithStrongConsistency("ledger:f1", { balance: 50, fence: 2 ** 52, holder: "later" });
    const r = await post("us-east", "transfer", { from: "f1", to: "a1", amount: 5 });
    expect(r.status).toBe(409);
    expect(r.body.error.code).toBe("STALE_FENCING_TOKEN");
    expect((await balanceAt("eu-west", "f1")).balance).toBe(50);
  });

  it.each([
    [{ from: "a1", to: "a1", amount: 1 }, "to"],
    [{ from: "a1", to: "a2", amount: 0 }, "amount"],
    [{ from: "a1", to: "a2", amount: 1.5 }, "amount"],
    [{ from: "a1", amount: 1 }, "to"],
    [{ from: "a 1", to: "a2", amount: 1 }, "from"],
  ])("bad transfer %j → 400 naming %s", async (body, field) => {
    const r = await post("us-east", "transfer", body);
    expect(r.status).toBe(400);
    expect(r.body.error).toMatchObject({ code: "INVALID_INPUT", details: { field } });
  });

  it("needs the bearer token, and ledger accounts cannot be overwritten by a plain PUT", async () => {
    expect((await post("us-east", "transfer", { from: "a1", to: "a2", amount: 1 }, false)).status).toBe(401);
    expect((await post("us-east", "deposit", { account: "a1", amount: 1 }, false)).status).toBe(401);
    const r = await put(cluster.regions["us-east"]!.url, "critical", "ledger:a1", {
      value: { balance: 1e9 },
    });
    expect(r.status).toBe(400);
    expect(r.body.error.details.field).toBe("key");
  });

  it("feeds the lock wait/hold series on /metrics, covering the Grafana lock dashboard's queries", async () => {
    const texts = await Promise.all(
      REGIONS.map(async (r) => (await fetch(`${cluster.regions[r]!.url}/metrics`)).text()),
    );
    for (const text of texts) {
      expect(text).toMatch(/^meridian_lock_wait_seconds_count\{[^}]*namespace="ledger"[^}]*\} [1-9]/m);
      expect(text).toMatch(/^meridian_lock_hold_seconds_count\{[^}]*namespace="ledger"[^}]*\} [1-9]/m);
    }
    const panel = readFileSync(join(ROOT, "infra/grafana/dashboards/meridian-locks.json"), "utf8");
    const queried = new Set([...panel.matchAll(/\bmeridian_[a-z0-9_]+/g)].map(([n]) => n));
    expect(queried.size).toBeGreaterThan(0);
    for (const name of queried) expect(texts[0]).toMatch(new RegExp(`^${name}[{ ]`, "m"));
  });
});
