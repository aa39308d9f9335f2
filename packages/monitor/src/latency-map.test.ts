import { describe, expect, it } from "vitest";
import { latencyMapRow, renderLatencyMap } from "./latency-map.js";

describe("latency map", () => {
  it("summarizes samples and renders one client x home table per operation, floors beside", () => {
    const rows = [
      latencyMapRow({ client: "a", home: "a", op: "get", samplesMs: [1, 2, 3], errors: 0, floorMs: 0 }),
      latencyMapRow({ client: "a", home: "<b>", op: "get", samplesMs: [70, 80], errors: 1, floorMs: 64 }),
      latencyMapRow({ client: "a", home: "a", op: "set", samplesMs: [4], errors: 0, floorMs: 0 }),
    ];
    expect(rows[0]).toMatchObject({ samples: 3, p50: 2 });
    const html = renderLatencyMap(rows);
    expect(html.match(/<table>/g)).toHaveLength(2);
    expect(html).toContain("floor 64 · 1 failed");
    expect(html).toContain("home &lt;b&gt;");
    expect(renderLatencyMap([])).toBe("");
  });
});
