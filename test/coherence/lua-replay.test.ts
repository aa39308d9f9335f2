// The near cache's Lua directory on the real Redis, driven through interleavings the model checker
// explored: every directory step of a sampled BFS trace is replayed as the LuaDirectory calls the near
// cache makes for it, and the Lua replies and the Redis state must agree with the table directory after
// every step. A mutant of a script (a modified Lua string, defined on the test's own connection) fails.
import { randomUUID } from "node:crypto";
import {
  DIRECTORY_COMMANDS,
  DIRECTORY_SCRIPTS,
  DIRECTORY_TABLE,
  type DirectoryStep,
  LuaDirectory,
  type ModelConfig,
  modelCheck,
  replayTrace,
  type TraceStep,
} from "@meridian/coherence";
import { configFromEnv } from "@meridian/core";
import { deleteKeysWithPrefix } from "@meridian/store";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const { GETM, GETS } = DIRECTORY_SCRIPTS;
const redisUrl = configFromEnv().redisUrl;
const runPrefix = `mer-coh-replay-${randomUUID().slice(0, 8)}`;
let redis: Redis;
let traceNo = 0;

const node = (c: number) => `n${c}`;
const nodeIndex = (id: string | null) => (id ? Number(id.slice(1)) : -1);

class Disagreement extends Error {}

function agree(what: string, lua: unknown, table: unknown, step: DirectoryStep): void {
  if (JSON.stringify(lua) !== JSON.stringify(table)) {
    throw new Disagreement(
      `step ${step.index} (${step.msg.type} from ${step.msg.from} at ${step.before.state}): ${what}: lua ${JSON.stringify(lua)} vs table ${JSON.stringify(table)}`,
    );
  }
}

/** Redis's view of a line, in the table's terms. */
async function luaLine(dir: LuaDirectory, key: string) {
  const [valKey, dirKey, shKey] = dir.keysOf(key);
  const [owner, sharers, val] = await Promise.all([
    redis.hget(dirKey, "owner"),
    redis.smembers(shKey),
    redis.get(valKey),
  ]);
  return {
    owner: nodeIndex(owner),
    sharers: sharers.map(nodeIndex).sort((a, b) => a - b),
    home: val === null || val === "" ? 0 : Number(JSON.parse(val)),
  };
}

/** Checks a GetS/GetM reply against the message the table directory sent for the same request. */
function checkGrant(reply: string[], step: DirectoryStep, requester: number): void {
  const grant = step.sent.find((m) => m.to === requester && m.type.startsWith("Data"));
  const recall = step.sent.find((m) => m.type === "RecallS" || m.type === "RecallM");
  const invs = step.sent.filter((m) => m.type === "Inv").map((m) => m.to);
  if (recall) {
    agree("reply", reply.slice(0, 2), ["recall", node(recall.to)], step);
    return;
  }
  const kind = grant ? grant.type.slice(4) : "M"; // with Invs in flight the data follows the last InvAck
  agree("grant", reply[0], kind, step);
  agree("granted value", Number(JSON.parse(reply[1]!)), grant ? grant.value : step.after.home, step);
  if (reply[0] === "M") {
    const luaInvs = reply.slice(3).map(nodeIndex);
    agree("sharers to invalidate", luaInvs.sort(), invs.sort(), step);
  }
}

/** One directory step of the tables, done the way the near cache does it on Redis. */
async function applyStep(dir: LuaDirectory, key: string, step: DirectoryStep): Promise<void> {
  const { msg } = step;
  const from = node(msg.from);
  switch (msg.type) {
    case "GetS":
      return checkGrant(await dir.getS(key, from), step, msg.from);
    case "GetM":
      return checkGrant(await dir.getM(key, from), step, msg.from);
    case "PutS":
    case "PutE":
      return dir.release(key, from, "I");
    case "PutM": {
      // Eviction of a dirty line: write back (refused unless still the owner), then release.
      const ver = await dir.writeBack(key, from, JSON.stringify(msg.value), "keep");
      agree("write-back accepted", ver > 0, step.before.owner === msg.from, step);
      return dir.release(key, from, "I");
    }
    case "OwnerData": {
      // The owner serves the recall (flush if dirty, release keeping S or not); the requester retries.
      if (msg.dirty) {
        const ver = await dir.writeBack(key, from, JSON.stringify(msg.value), "keep");
        agree("recall write-back accepted", ver > 0, true, step);
      }
      await dir.release(key, from, msg.kept ? "S" : "I");
      const req = step.before.requester;
      const reply =
        step.before.state === "B_RS" ? await dir.getS(key, node(req)) : await dir.getM(key, node(req));
      return checkGrant(reply, step, req);
    }
    default:
      return; // InvAck and Unblock are waits of the requester, not directory writes in Redis
  }
}

async function replayOnLua(
  cfg: ModelConfig,
  trace: readonly TraceStep[],
  dir: LuaDirectory,
  covered: Set<number>,
) {
  const prefix = `t${++traceNo}`;
  const keyOf = (line: number) => `${prefix}:L${line}`;
  for (let l = 0; l < cfg.lines; l++) await redis.set(dir.keysOf(keyOf(l))[0], "0");
  await replayTrace(cfg, trace, async (step) => {
    await applyStep(dir, keyOf(step.line), step);
    const lua = await luaLine(dir, keyOf(step.line));
    const { owner, sharers, home } = step.after;
    agree("line after step", lua, { owner, sharers, home }, step);
    covered.add(step.row);
  });
}

const CONFIGS: ModelConfig[] = [
  { caches: 3, lines: 1, maxWrites: 2, sampleTraces: 100 },
  { caches: 2, lines: 2, maxWrites: 2, capacity: 1, blockingProcessor: true, sampleTraces: 60 },
];
let traces: [ModelConfig, TraceStep[]][] = [];
const rowsTaken = new Set<number>();

beforeAll(() => {
  redis = new Redis(redisUrl);
  traces = CONFIGS.flatMap((cfg) => {
    const r = modelCheck(cfg);
    expect(r.violation).toBeUndefined();
    for (const row of r.dirRowsTaken!) rowsTaken.add(row);
    return r.traces!.map((t) => [cfg, t] as [ModelConfig, TraceStep[]]);
  });
});
afterAll(async () => {
  await deleteKeysWithPrefix(redis, runPrefix);
  await redis.quit();
});

describe("near-cache Lua directory replayed against the model checker's interleavings (real Redis)", () => {
  it("agrees with the table directory at every step of every sampled trace, covering every row the BFS took", async () => {
    const dir = new LuaDirectory(redis, runPrefix);
    const covered = new Set<number>();
    let steps = 0;
    for (const [cfg, t] of traces) {
      await replayOnLua(cfg, t, dir, covered);
      steps += t.length;
    }
    const unreached = DIRECTORY_TABLE.filter((r, i) => r.actions[0] !== "stall" && !rowsTaken.has(i));
    console.log(
      `replayed ${traces.length} traces, ${steps} steps, ${covered.size} directory rows; rows no explored ` +
        `transition takes in these bounds: ${unreached.map((r) => `${r.state}/${r.event}/${r.guard}`).join(", ")}`,
    );
    expect([...rowsTaken].filter((i) => !covered.has(i))).toEqual([]);
    expect(covered.size).toBeGreaterThanOrEqual(20);
  }, 120_000);

  const mutants: [string, string, string][] = [
    [
      "GETM that forgets to return the sharers to invalidate",
      DIRECTORY_COMMANDS.GETM.command,
      GETM.replace("if s ~= ARGV[1] then table.insert(others, s) end", ""),
    ],
    [
      "GETS that hands out a copy while another node owns the line",
      DIRECTORY_COMMANDS.GETS.command,
      GETS.replace("if owner and owner ~= '' and owner ~= ARGV[1] then return {'recall', owner} end", ""),
    ],
  ];
  for (const [name, command, lua] of mutants) {
    it(`fails for a mutant: ${name}`, async () => {
      expect(lua).not.toBe(command === DIRECTORY_COMMANDS.GETM.command ? GETM : GETS); // the mutation applied
      const mutantConn = new Redis(redisUrl);
      try {
        const dir = new LuaDirectory(mutantConn, runPrefix);
        mutantConn.defineCommand(command, { numberOfKeys: 3, lua }); // replaces the real script here only
        let failure: unknown;
        for (const [cfg, t] of traces) {
          failure = await replayOnLua(cfg, t, dir, new Set()).then(
            () => undefined,
            (e) => e,
          );
          if (failure) break;
        }
        expect(failure).toBeInstanceOf(Disagreement);
      } finally {
        await mutantConn.quit();
      }
    }, 120_000);
  }
});
