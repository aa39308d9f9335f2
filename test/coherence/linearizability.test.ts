// Concurrent operations from three near-cache nodes (each with its own Redis connections) on a few
// keys, recorded as a history and checked for linearizability by the monitor's checker.
import { randomUUID } from "node:crypto";
import { CoherentNearCache } from "@meridian/coherence";
import { configFromEnv } from "@meridian/core";
import { checkLinearizability, describeViolation, type Operation } from "@meridian/monitor";
import { deleteKeysWithPrefix } from "@meridian/store";
import { Redis } from "ioredis";
import { afterAll, describe, expect, it } from "vitest";
import { seededInts } from "../../bench/lib/prng.js";

const redisUrl = configFromEnv().redisUrl;
const prefix = `mer-coh-lin-${randomUUID().slice(0, 8)}`;

afterAll(async () => {
  const admin = new Redis(redisUrl);
  await deleteKeysWithPrefix(admin, prefix);
  await admin.quit();
});

describe("CoherentNearCache under concurrent clients", () => {
  it.each([1, 2, 3])("produces a linearizable history (round %i)", async (round) => {
    const p = `${prefix}-${round}`;
    const nodes = await Promise.all(
      [0, 1, 2].map((i) =>
        CoherentNearCache.connect<string>({ redisUrl, prefix: p, nodeId: `n${i}`, l1Capacity: 8 }),
      ),
    );
    const history: Operation[] = [];
    let id = 0;
    const rnd = seededInts(round * 7919);
    const classes = ["critical", "important", "cacheable"] as const;
    await Promise.all(
      nodes.map(async (node, n) => {
        for (let i = 0; i < 60; i++) {
          const key = `k${rnd(2)}`;
          const call = performance.now();
          if (rnd(10) < 4) {
            const value = `n${n}-${i}`;
            await node.set(key, value, classes[rnd(3)]);
            history.push({
              id: id++,
              client: `n${n}`,
              input: { type: "write", key, value },
              output: { type: "write" },
              call,
              ret: performance.now(),
            });
          } else {
            const r = await node.get(key);
            history.push({
              id: id++,
              client: `n${n}`,
              input: { type: "read", key },
              output: { type: "read", value: r.value },
              call,
              ret: performance.now(),
            });
          }
        }
      }),
    );
    for (const node of nodes) await node.close();
    const result = checkLinearizability(history, { timeBudgetMs: 30_000 });
    if (result.violation) console.log(describeViolation(result.violation));
    expect(result.status).toBe("linearizable");
    expect(result.operations).toBe(180);
  });
});
