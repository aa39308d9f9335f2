// Kafka headers arrive as Buffers (or arrays of them when a name repeats); Meridian reads them as text.
import type { IHeaders } from "kafkajs";

/** One string per header name (the first value when a name repeats), decoded as UTF-8. */
export function headersToStrings(headers: IHeaders | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers ?? {})) {
    if (value === undefined) continue;
    const first = Array.isArray(value) ? value[0] : value;
    if (first !== undefined) out[name] = Buffer.isBuffer(first) ? first.toString("utf8") : String(first);
  }
  return out;
}
