import { defineConfig } from "vitest/config";

// Two projects: `unit` (pure logic beside the code, no servers) and `integration`
// (test/ — real Kafka, Redis, PostgreSQL started by infra/up.sh).
export default defineConfig({
  test: {
    // Integration suites share one broker and one Redis server; files run one at a time so
    // convergence measurements are not distorted by each other (a global option in vitest 3).
    fileParallelism: false,
    projects: [
      {
        test: {
          name: "unit",
          include: ["packages/*/src/**/*.test.ts", "services/*/src/**/*.test.ts"],
          testTimeout: 60_000,
        },
      },
      {
        test: {
          name: "integration",
          include: ["test/**/*.test.ts"],
          globalSetup: ["test/support/global-setup.ts"],
          testTimeout: 120_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
