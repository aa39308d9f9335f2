// Many whole-entry merges in one script call: the per-key merge script (merge-script.ts), unchanged, run
// once per key inside a loop, so a consumer's window of N merges costs one command to parse, dispatch and
// answer instead of N. Each key's merge stays atomic and independent — exactly the N script calls a
// pipeline would run, in order, with nothing of another client's in between.
import { type LuaArg, LuaScript } from "@meridian/store";
import type { ChainableCommander } from "ioredis";
import {
  MERGE_BODY,
  MERGE_LIB,
  type MergeCall,
  type MergeSettings,
  mergeArgs,
  mergeKeys,
} from "./merge-script.js";

/**
 * KEYS: each merge's keys in turn (mergeKeys); ARGV: 1 keys per merge, 2 arguments per merge, then each
 * merge's arguments in turn (mergeArgs). Reply: each merge's reply (an outcome, 'mismatch:…' or
 * 'fallback'), or 'error:<message>' when Redis refused one of its commands.
 */
export const MERGE_BATCH = new LuaScript<string[]>(
  "eventualMergeBatch",
  `${MERGE_LIB}
local function mergeOne(KEYS, ARGV)
${MERGE_BODY}
end
local nk, na, out = tonumber(ARGV[1]), tonumber(ARGV[2]), {}
for i = 1, #KEYS / nk do
  local k, a = nk * (i - 1), 2 + na * (i - 1)
  local ok, res = pcall(mergeOne, { unpack(KEYS, k + 1, k + nk) }, { unpack(ARGV, a + 1, a + na) })
  if ok then out[i] = res
  elseif type(res) == 'table' then out[i] = 'error:' .. tostring(res.err)
  else out[i] = 'error:' .. tostring(res) end
end
return out
`,
  "variable",
);

/** Merges per script call: one call stays short inside Redis, which serves nobody else meanwhile. */
export const MERGES_PER_CALL = 128;

/** Queues `calls` (at most MERGES_PER_CALL) as one MERGE_BATCH call on a pipeline of a client it was defined on. */
export function queueMergeBatch(
  pipeline: ChainableCommander,
  prefix: string,
  calls: readonly MergeCall[],
  settings: MergeSettings,
): void {
  const keys: string[] = [];
  const args: LuaArg[] = [0, 0];
  for (const call of calls) {
    const k = mergeKeys(prefix, call.key);
    const a = mergeArgs(call, settings);
    args[0] = k.length;
    args[1] = a.length;
    keys.push(...k);
    args.push(...a);
  }
  MERGE_BATCH.queue(pipeline, keys, args);
}
