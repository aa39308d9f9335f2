// Builders for hand-written histories in unit tests.
import type { Json, KvInput, KvOutput, Operation } from "./history.js";

let nextId = 0;

export function op(client: string, call: number, ret: number, input: KvInput, output?: KvOutput): Operation {
  return { id: nextId++, client, input, ...(output ? { output } : {}), call, ret };
}

export const w = (c: string, call: number, ret: number, key: string, value: Json) =>
  op(c, call, ret, { type: "write", key, value }, { type: "write" });

export const r = (c: string, call: number, ret: number, key: string, value: Json | undefined) =>
  op(c, call, ret, { type: "read", key }, { type: "read", value });

export const cas = (
  c: string,
  call: number,
  ret: number,
  key: string,
  expected: Json | undefined,
  value: Json,
  ok: boolean,
) => op(c, call, ret, { type: "cas", key, expected, value }, { type: "cas", ok });

export const txn = (
  c: string,
  call: number,
  ret: number,
  reads: Record<string, Json | undefined>,
  writes: Record<string, Json>,
) =>
  op(
    c,
    call,
    ret,
    { type: "txn", keys: [...new Set([...Object.keys(reads), ...Object.keys(writes)])] },
    { type: "txn", reads, writes },
  );
