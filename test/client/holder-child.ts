// A separate process holding a critical key in its L1, for the SIGSTOP test. It reads the key in a
// loop and prints every read as a JSON line: {seq, value, source}.
import { createMeridianClient } from "@meridian/client";
import pg from "pg";

const env = process.env;
const pool = new pg.Pool({
  connectionString: env.HOLDER_PG_URL,
  max: 2,
  options: `-c search_path=${env.HOLDER_SCHEMA}`,
});
pool.on("error", () => {});
const client = await createMeridianClient({
  region: "ap-south",
  critical: { pg: pool, keyPrefix: env.HOLDER_PREFIX!, leaseMs: Number(env.HOLDER_LEASE_MS) },
});
const key = env.HOLDER_KEY!;
let seq = 0;
for (;;) {
  try {
    const r = await client.get("critical", key);
    process.stdout.write(`${JSON.stringify({ seq: seq++, value: r.value, source: r.source })}\n`);
  } catch (err) {
    process.stdout.write(`${JSON.stringify({ seq: seq++, error: String(err) })}\n`);
  }
  await new Promise((r) => setTimeout(r, 2));
}
