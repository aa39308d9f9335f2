// `meridian suites` against a real five-region cluster (Kafka, Redis, PostgreSQL): race and stress on
// critical data through the region nodes, both histories linearizable, saved for `meridian check`.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { checkHistoryFile } from "../../services/cli/src/check.js";
import { runSuitesCommand } from "../../services/cli/src/suites.js";

const dir = mkdtempSync(join(tmpdir(), "meridian-suites-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("meridian suites", () => {
  it("runs race and stress on the strong tier; histories are linearizable and re-checkable", async () => {
    const lines: string[] = [];
    const report = await runSuitesCommand({
      clients: 4,
      opsPerClient: 20,
      stressSeconds: 2,
      reportsDir: dir,
      print: (l) => lines.push(l),
    });
    expect(report.suites.map((s) => [s.name, s.linearizable, s.errors])).toEqual([
      ["race", true, 0],
      ["stress", true, 0],
    ]);
    expect(report.suites[0]!.operations).toBe(80);
    expect(report.passed).toBe(true);
    expect(lines.join("\n")).toContain("linearizable: yes");
    const again = await checkHistoryFile(join(dir, "race-history.json"));
    expect(again.exitCode).toBe(0);
    expect(again.text).toContain("80 operations");
  });
});
