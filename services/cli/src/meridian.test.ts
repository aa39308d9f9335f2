import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConsistencyMonitor, writeReport } from "@meridian/monitor";
import { InMemoryRegions } from "@meridian/monitor/testing";
import { afterAll, describe, expect, it } from "vitest";
import { parseHistory } from "./check.js";
import { main } from "./meridian.js";

const dir = mkdtempSync(join(tmpdir(), "meridian-cli-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const op = (
  id: number,
  client: string,
  input: object,
  output: object | null,
  call: number,
  ret: number | null,
) => ({
  id,
  client,
  input,
  output,
  call,
  ret,
});

describe("meridian CLI", () => {
  it("--help lists the commands (run as a real process through tsx)", () => {
    const out = execFileSync("pnpm", ["exec", "tsx", "services/cli/src/meridian.ts", "--help"], {
      cwd: join(import.meta.dirname, "../../.."),
      encoding: "utf8",
    });
    for (const cmd of ["meridian demo", "meridian check", "meridian report"]) expect(out).toContain(cmd);
  });

  it("check: exit 0 for a linearizable history, 1 with a counterexample for a stale read, 2 for bad input", async () => {
    const good = join(dir, "good.json");
    writeFileSync(
      good,
      JSON.stringify([
        op(0, "a", { type: "write", key: "x", value: 1 }, { type: "write" }, 0, 10),
        op(1, "b", { type: "read", key: "x" }, { type: "read", value: 1 }, 20, 30),
        op(2, "c", { type: "write", key: "x", value: 2 }, null, 25, null), // outcome unknown
      ]),
    );
    expect(await main(["check", good])).toBe(0);
    const stale = join(dir, "stale.json");
    writeFileSync(
      stale,
      JSON.stringify({
        history: [
          op(0, "a", { type: "write", key: "x", value: 1 }, { type: "write" }, 0, 10),
          op(1, "a", { type: "write", key: "x", value: 2 }, { type: "write" }, 11, 20),
          op(2, "b", { type: "read", key: "x" }, { type: "read", value: 1 }, 30, 40),
        ],
      }),
    );
    expect(await main(["check", stale])).toBe(1);
    const bad = join(dir, "bad.json");
    writeFileSync(bad, JSON.stringify([{ input: { type: "frobnicate" }, call: 0, ret: 1 }]));
    expect(await main(["check", bad])).toBe(2);
    expect(await main(["check", join(dir, "missing.json")])).toBe(2);
    expect(await main(["check"])).toBe(2);
  });

  it("parseHistory maps a null ret to an unknown outcome", () => {
    const [o] = parseHistory(
      JSON.stringify([op(0, "a", { type: "write", key: "k", value: 1 }, null, 5, null)]),
    );
    expect(o!.ret).toBe(Number.POSITIVE_INFINITY);
    expect(o!.output).toBeUndefined();
  });

  it("report: re-renders HTML from a JSON report; refuses a file that is not one", async () => {
    const monitor = new ConsistencyMonitor({
      regions: ["a", "b"],
      eventual: new InMemoryRegions(["a", "b"]),
    });
    await monitor.tick();
    const { jsonPath, htmlPath } = await writeReport(monitor.generateConsistencyReport("cli test"), dir, "r");
    rmSync(htmlPath);
    expect(await main(["report", "--in", jsonPath, "--out", join(dir, "again")])).toBe(0);
    const html = readFileSync(join(dir, "again", "consistency-report.html"), "utf8");
    expect(html).toContain("cli test");
    expect(html).toContain("<svg");
    const notReport = join(dir, "x.json");
    writeFileSync(notReport, "{}");
    expect(await main(["report", "--in", notReport])).toBe(2);
    expect(existsSync(join(dir, "x.html"))).toBe(false);
  });

  it("unknown commands and bad options fail with usage", async () => {
    expect(await main(["frob"])).toBe(2);
    expect(await main(["demo", "--seconds=-3"])).toBe(2);
    expect(await main(["demo", "--frob"])).toBe(2);
    expect(await main(["demo", "--rate", "1e300"])).toBe(2); // more operations than can be counted
    expect(await main(["demo", "--rate", "0"])).toBe(2);
    expect(await main(["demo", "--seconds", "1e9"])).toBe(2); // past what Node's timers hold
    expect(await main(["check", "--seconds", "x.json"])).toBe(2);
  });
});
