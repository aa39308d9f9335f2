// Property: for any sequence of fenced writes to one key, PostgreSQL and the Redis set both apply exactly
// the writes whose token is strictly larger than the last applied one, or equal to it from the same holder.
import { FencingTokenError } from "@meridian/core";
import { LockHandle } from "@meridian/locks";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { strongTestEnv } from "../support/strong-env.js";

let env: Awaited<ReturnType<typeof strongTestEnv>>;
beforeAll(async () => {
  env = await strongTestEnv("fenceprop");
});
afterAll(() => env.cleanup());

const handle = (token: number, holder: string) =>
  new LockHandle(env.locks, "lock:prop", `${holder}|fixed`, token, holder, 30_000, 0);

describe("fencing rule", () => {
  it("PostgreSQL and the Redis set accept a write iff token > last, or token = last from the same holder", async () => {
    const c = env.cache("us-east");
    let run = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.integer({ min: 1, max: 4 }), fc.constantFrom("a", "b", "c")), {
          minLength: 1,
          maxLength: 8,
        }),
        async (writes) => {
          const key = `prop:${run++}`;
          let last: { token: number; holder: string } | undefined;
          let version = 0;
          for (const [token, holder] of writes) {
            const h = handle(token, holder);
            const expectOk = !last || token > last.token || (token === last.token && holder === last.holder);
            const got = await c.setWithStrongConsistency(key, { token, holder }, h).then(
              (w) => w.version,
              (e: unknown) => e,
            );
            if (expectOk) {
              expect(got).toBe(version + 1);
              version += 1;
              last = { token, holder };
            } else {
              expect(got).toBeInstanceOf(FencingTokenError);
            }
            h.abandon();
          }
          // The Redis half, on the same history: a set with a newer version is judged by the fence alone.
          const redisOk = (t: number, who: string) =>
            !last || t > last.token || (t === last.token && who === last.holder);
          for (const [token, holder] of writes.slice(-3)) {
            const r = await c.setLocalIfNewer(
              key,
              { token, holder },
              version + 100,
              token,
              `${holder}|fixed`,
            );
            expect(r === "set", `${token}/${holder}`).toBe(redisOk(token, holder));
            if (r === "set") last = { token, holder };
            version += 100;
          }
          expect((await c.table.read(key)).version).toBeGreaterThan(0);
        },
      ),
      { numRuns: 25 },
    );
  });
});
