// The dashboard's HTTP server: the page, a server-sent-events feed of monitor snapshots, the latest
// snapshot as JSON, and (optionally) the monitor's Prometheus metrics.
import http from "node:http";
import type { AddressInfo } from "node:net";
import type { MonitorSnapshot } from "@meridian/monitor";
import type { Registry } from "prom-client";
import { dashboardHtml } from "./page.js";

/** What the dashboard shows: a ConsistencyMonitor satisfies it. */
export interface DashboardFeed {
  snapshot(): MonitorSnapshot;
  onSnapshot(listener: (s: MonitorSnapshot) => void): () => void;
}

export interface DashboardOptions {
  feed: DashboardFeed;
  port?: number;
  host?: string;
  registry?: Registry;
  title?: string;
  /** Snapshots replayed to a new client so its charts start filled. */
  historySize?: number;
  /**
   * Figures of a load run, served at GET /api/load and shown as the "convergence under load" table
   * (the demo's open-loop load: `{ regions, pairs: [{origin, region, count, p50Ms, p99Ms, maxMs}], load }`).
   */
  load?: () => LoadFigures | undefined;
}

/** Convergence per region pair measured while load runs, and the load's last second. */
export interface LoadFigures {
  regions: readonly string[];
  pairs: ReadonlyArray<{
    origin: string;
    region: string;
    count: number;
    p50Ms: number;
    p99Ms: number;
    maxMs: number;
  }>;
  load?: { offered: number; achieved: number; errors: number; p99Ms: number } | undefined;
}

export interface Dashboard {
  url: string;
  port: number;
  clients(): number;
  close(): Promise<void>;
}

export async function startDashboard(o: DashboardOptions): Promise<Dashboard> {
  const history: MonitorSnapshot[] = [];
  const historySize = o.historySize ?? 120;
  const clients = new Set<http.ServerResponse>();
  const unsubscribe = o.feed.onSnapshot((s) => {
    history.push(s);
    if (history.length > historySize) history.shift();
    const frame = `event: snapshot\ndata: ${JSON.stringify(s)}\n\n`;
    for (const c of clients) c.write(frame);
  });
  const html = dashboardHtml(o.title);

  const server = http.createServer((req, res) => {
    const path = new URL(req.url ?? "/", "http://localhost").pathname;
    if (req.method !== "GET") {
      res.writeHead(405).end();
      return;
    }
    if (path === "/" || path === "/index.html") {
      res
        .writeHead(200, { "content-type": "text/html; charset=utf-8", "cache-control": "no-store" })
        .end(html);
    } else if (path === "/events") {
      res.writeHead(200, {
        "content-type": "text/event-stream",
        "cache-control": "no-store",
        connection: "keep-alive",
      });
      res.write("retry: 1000\n\n");
      if (history.length) res.write(`event: history\ndata: ${JSON.stringify(history)}\n\n`);
      clients.add(res);
      req.on("close", () => clients.delete(res));
    } else if (path === "/api/snapshot") {
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(o.feed.snapshot()));
    } else if (path === "/api/load" && o.load) {
      const figures = o.load();
      if (figures) res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(figures));
      else res.writeHead(204).end();
    } else if (path === "/healthz") {
      res.writeHead(200, { "content-type": "application/json" }).end('{"status":"ok"}');
    } else if (path === "/metrics" && o.registry) {
      const registry = o.registry;
      void registry
        .metrics()
        .then((text) => res.writeHead(200, { "content-type": registry.contentType }).end(text));
    } else {
      res.writeHead(404).end();
    }
  });
  server.keepAliveTimeout = 1000;
  const host = o.host ?? "127.0.0.1";
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(o.port ?? 0, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://${host}:${port}/`,
    port,
    clients: () => clients.size,
    close: async () => {
      unsubscribe();
      for (const c of clients) c.end();
      clients.clear();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
