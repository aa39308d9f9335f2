import { ConsistencyMonitor } from "@meridian/monitor";
import { InMemoryRegions } from "@meridian/monitor/testing";
import { describe, expect, it } from "vitest";
import { type LoadFigures, startDashboard } from "./server.js";

describe("dashboard server", () => {
  it("streams history then live snapshots over SSE; serves the page, the snapshot and 404s", async () => {
    const regions = ["a", "b"];
    const source = new InMemoryRegions(regions, 0);
    const monitor = new ConsistencyMonitor({ regions, eventual: source });
    const dashboard = await startDashboard({ feed: monitor });
    await monitor.tick(); // before any client connects: replayed to it as history
    try {
      const page = await fetch(dashboard.url);
      expect(page.headers.get("content-type")).toContain("text/html");
      const html = await page.text();
      expect(html).toContain('id="lag-chart"');
      expect(html).not.toMatch(/<script[^>]+src=|<link[^>]+href=/); // nothing fetched from elsewhere

      const controller = new AbortController();
      const res = await fetch(`${dashboard.url}events`, { signal: controller.signal });
      expect(res.headers.get("content-type")).toBe("text/event-stream");
      const reader = res.body!.getReader();
      const decoder = new TextDecoder();
      let text = "";
      const readUntil = async (needle: string) => {
        while (!text.includes(needle)) {
          const chunk = await reader.read();
          if (chunk.done) throw new Error(`stream ended before ${needle}`);
          text += decoder.decode(chunk.value);
        }
      };
      await readUntil("event: history");
      source.write("a", "k", "1");
      await monitor.tick();
      await readUntil("event: snapshot");
      const frame = text.slice(text.indexOf("event: snapshot")).split("\n")[1]!;
      const snap = JSON.parse(frame.slice("data: ".length)) as { regions: string[]; divergentKeys: number };
      expect(snap.regions).toEqual(regions);
      expect(dashboard.clients()).toBe(1);
      controller.abort();

      const api = (await (await fetch(`${dashboard.url}api/snapshot`)).json()) as { regions: string[] };
      expect(api.regions).toEqual(regions);
      expect((await fetch(`${dashboard.url}nope`)).status).toBe(404);
      expect((await fetch(`${dashboard.url}metrics`)).status).toBe(404); // no registry given
    } finally {
      await dashboard.close();
    }
  });

  it("serves the convergence-under-load figures at /api/load when a load run provides them", async () => {
    const regions = ["a", "b"];
    const monitor = new ConsistencyMonitor({ regions, eventual: new InMemoryRegions(regions, 0) });
    let figures: LoadFigures | undefined;
    const dashboard = await startDashboard({ feed: monitor, load: () => figures });
    try {
      expect(await (await fetch(dashboard.url)).text()).toContain('id="pair-table"');
      expect((await fetch(`${dashboard.url}api/load`)).status).toBe(204); // no figures yet
      figures = {
        regions,
        pairs: [{ origin: "a", region: "b", count: 3, p50Ms: 40, p99Ms: 90, maxMs: 95 }],
        load: { offered: 100, achieved: 99, errors: 0, p99Ms: 12 },
      };
      const res = await fetch(`${dashboard.url}api/load`);
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual(figures);
    } finally {
      await dashboard.close();
    }
  });
});
