/// <reference lib="dom" />
// The dashboard end to end in real headless Chromium (Debian's /usr/bin/chromium via playwright-core):
// the page loads, every chart receives live points over server-sent events, a screenshot is written.
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Dashboard, startDashboard } from "@meridian/dashboard";
import { ConsistencyMonitor } from "@meridian/monitor";
import { InMemoryRegions, InMemoryStrong } from "@meridian/monitor/testing";
import { type BrowserContext, chromium } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const REGIONS = ["us-east", "us-west", "eu-west", "ap-south", "ap-northeast"];
const SCREENSHOT = join(process.cwd(), "reports", "dashboard.png");
const CHROMIUM = process.env.MERIDIAN_CHROMIUM ?? "/usr/bin/chromium";

describe("dashboard in headless Chromium", () => {
  let browser: BrowserContext;
  let dashboard: Dashboard;
  let monitor: ConsistencyMonitor;
  let writer: NodeJS.Timeout;
  let userDataDir: string;

  beforeAll(async () => {
    const eventual = new InMemoryRegions(REGIONS, 30);
    const strong = new InMemoryStrong(REGIONS);
    eventual.stalled.add("ap-south"); // so the lag chart and the alert list show something
    monitor = new ConsistencyMonitor(
      { regions: REGIONS, eventual, strong },
      { intervalMs: 200, convergenceWindowMs: 1000, rules: { regionLagMs: 1000, regionLagForMs: 500 } },
    );
    let i = 0;
    writer = setInterval(() => {
      const region = REGIONS[i % REGIONS.length]!;
      if (region !== "ap-south") eventual.write(region, `md:S${i % 5}`, `p${i}`);
      monitor.recordOperation({ region, dataClass: "important", op: "set", latencyMs: 1 });
      i++;
    }, 10);
    monitor.monitorConsistencyMetrics();
    dashboard = await startDashboard({ feed: monitor, registry: monitor.metrics.registry });
    if (!existsSync(CHROMIUM)) {
      throw new Error(
        `Chromium not found at ${CHROMIUM}: apt-get install -y chromium (or set MERIDIAN_CHROMIUM)`,
      );
    }
    userDataDir = mkdtempSync(join(tmpdir(), "meridian-chromium-"));
    // A fresh profile per run (playwright passes it as --user-data-dir).
    browser = await chromium.launchPersistentContext(userDataDir, {
      headless: true,
      viewport: { width: 1280, height: 900 },
      executablePath: CHROMIUM,
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    });
  });

  afterAll(async () => {
    clearInterval(writer);
    monitor?.stop();
    await browser?.close();
    await dashboard?.close();
    if (userDataDir) rmSync(userDataDir, { recursive: true, force: true });
  });

  it("loads, charts get live data, the stalled region's alert shows, a screenshot is written", async () => {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(e.message));
    const response = await page.goto(dashboard.url);
    expect(response?.status()).toBe(200);
    await expect(page.title()).resolves.toContain("Meridian");

    // Live data: every chart's point count grows past what the first frame could hold.
    for (const id of ["lag-chart", "convergence-chart", "ops-chart", "violations-chart"]) {
      await page.waitForFunction((sel) => Number(document.getElementById(sel)?.dataset.points) >= 5, id, {
        timeout: 20_000,
      });
    }
    const before = Number(await page.getAttribute("#ops-chart", "data-points"));
    await page.waitForFunction(
      (n) => Number(document.getElementById("ops-chart")?.dataset.points) > n,
      before,
      { timeout: 10_000 },
    );
    await expect(page.textContent("#status")).resolves.toBe("live");
    await page.waitForFunction(
      () => document.getElementById("alerts")?.textContent?.includes("MeridianRegionStalled"),
      {
        timeout: 20_000,
      },
    );
    await expect(page.textContent("#alert-history")).resolves.toContain("firing");
    // Something was drawn: the canvas is not blank.
    const inked = await page.evaluate(() => {
      const c = document.getElementById("lag-chart") as HTMLCanvasElement;
      const d = c.getContext("2d")!.getImageData(0, 0, c.width, c.height).data;
      let n = 0;
      for (let i = 3; i < d.length; i += 4) if (d[i]! > 0) n++;
      return n;
    });
    expect(inked).toBeGreaterThan(500);
    expect(errors).toEqual([]);

    await mkdir(join(process.cwd(), "reports"), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    expect(statSync(SCREENSHOT).size).toBeGreaterThan(1000);
    const magic = readFileSync(SCREENSHOT).subarray(0, 8);
    expect([...magic]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  });

  it("serves the snapshot as JSON and the monitor's metrics", async () => {
    const snap = (await (await fetch(`${dashboard.url}api/snapshot`)).json()) as { regions: string[] };
    expect(snap.regions).toEqual(REGIONS);
    const metrics = await (await fetch(`${dashboard.url}metrics`)).text();
    expect(metrics).toContain("meridian_region_convergence_lag_seconds");
  });
});
