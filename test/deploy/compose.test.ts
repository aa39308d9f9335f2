// docker-compose.yml as Debian's docker-compose resolves it (`config`, no engine needed): valid, five
// region stacks each on its own Redis, every long-running service health-checked and started only after
// what it needs is healthy, every Meridian service scraped by the compose Prometheus, Grafana provisioned
// with the data source and every dashboard.
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { ROOT } from "../support/pipeline.js";

const REGIONS = ["us-east", "us-west", "eu-west", "ap-south", "ap-northeast"];
const COMPOSE = process.env.MERIDIAN_DOCKER_COMPOSE ?? "docker-compose";

interface Service {
  image?: string;
  command?: string[];
  environment?: Record<string, string>;
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[] };
  volumes?: string[];
}
let services: Record<string, Service>;

function compose(...args: string[]): string {
  try {
    return execFileSync(COMPOSE, ["-f", join(ROOT, "docker-compose.yml"), ...args], {
      cwd: ROOT,
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
    });
  } catch (e) {
    const err = e as { code?: string; stderr?: string };
    if (err.code === "ENOENT") throw new Error(`${COMPOSE} not found: apt-get install -y docker-compose`);
    throw new Error(`${COMPOSE} ${args.join(" ")} failed: ${err.stderr ?? String(e)}`);
  }
}

beforeAll(() => {
  services = (parse(compose("config")) as { services: Record<string, Service> }).services;
});

const meridianServices = () => Object.entries(services).filter(([, s]) => s.image?.startsWith("meridian"));

describe("docker-compose.yml", () => {
  it("passes docker-compose config -q", () => {
    expect(compose("config", "-q")).toBe("");
  });

  it("runs five region stacks, each region node and consumer on the region's own Redis", () => {
    for (const r of REGIONS) {
      const node = services[`region-${r}`]!;
      const consumer = services[`consumer-${r}`]!;
      expect(node.command).toEqual(["region-node"]);
      expect(consumer.command).toEqual(["invalidation-consumer"]);
      for (const s of [node, consumer]) {
        expect(s.environment!.MERIDIAN_REGION).toBe(r);
        expect(s.environment!.MERIDIAN_REDIS_URL).toBe(`redis://redis-${r}:6379`);
      }
      expect(services[`redis-${r}`]!.image).toMatch(/^redis:/);
    }
    const redisUrls = services["region-us-east"]!.environment!.MERIDIAN_REDIS_URLS!;
    for (const r of REGIONS) expect(redisUrls).toContain(`${r}=redis://redis-${r}:6379`);
  });

  it("runs every image entrypoint from one image", () => {
    const commands = new Set(meridianServices().map(([, s]) => s.command![0]));
    for (const c of [
      "region-node",
      "invalidation-consumer",
      "replicator",
      "market-data-producer",
      "monitor",
      "schema-registry",
    ])
      expect(commands).toContain(c);
    expect(new Set(meridianServices().map(([, s]) => s.image)).size).toBe(1);
  });

  it("health-checks every service and waits on healthy dependencies", () => {
    for (const [name, s] of Object.entries(services)) {
      expect(s.healthcheck?.test?.length, `${name} has a health check`).toBeGreaterThan(0);
      for (const [dep, cond] of Object.entries(s.depends_on ?? {})) {
        expect(cond.condition, `${name} → ${dep}`).toBe("service_healthy");
        expect(services[dep], `${name} depends on a defined service`).toBeDefined();
      }
    }
    for (const r of REGIONS)
      expect(Object.keys(services[`region-${r}`]!.depends_on!)).toContain(`redis-${r}`);
  });

  it("has Prometheus scrape every Meridian service (but the registry) and load the alert rules", () => {
    const config = parse(readFileSync(join(ROOT, "infra/prometheus/prometheus.yml"), "utf8")) as {
      rule_files: string[];
      scrape_configs: { static_configs: { targets: string[] }[] }[];
    };
    const targets = new Set(
      config.scrape_configs.flatMap((j) =>
        j.static_configs.flatMap((c) => c.targets.map((t) => t.split(":")[0])),
      ),
    );
    const scraped = meridianServices()
      .filter(([, s]) => s.command![0] !== "schema-registry")
      .map(([name]) => name);
    expect(scraped.filter((n) => !targets.has(n))).toEqual([]);
    expect(config.rule_files).toContain("meridian-alerts.yml");
    expect(services.prometheus!.volumes!.some((v) => v.includes("infra/prometheus:"))).toBe(true);
  });

  it("provisions Grafana with the Prometheus data source and every dashboard file", () => {
    const volumes = services.grafana!.volumes!.join("\n");
    expect(volumes).toContain("infra/grafana/provisioning:/etc/grafana/provisioning");
    const mount = /infra\/grafana\/dashboards:(\S+?):ro/.exec(volumes)![1]!;
    const provider = readFileSync(join(ROOT, "infra/grafana/provisioning/dashboards/meridian.yml"), "utf8");
    expect(provider).toContain(`path: ${mount}`);
    const ds = readFileSync(join(ROOT, "infra/grafana/provisioning/datasources/prometheus.yml"), "utf8");
    expect(ds).toContain("url: http://prometheus:9090");
    const uid = /uid: (\S+)/.exec(ds)![1];
    for (const f of readdirSync(join(ROOT, "infra/grafana/dashboards"))) {
      const dash = JSON.parse(readFileSync(join(ROOT, "infra/grafana/dashboards", f), "utf8")) as {
        panels: { datasource: { uid: string } }[];
      };
      expect(dash.panels.length, f).toBeGreaterThan(0);
      for (const p of dash.panels) expect(p.datasource.uid, f).toBe(uid);
    }
  });
});
