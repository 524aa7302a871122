import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Suites share one Postgres and one Redis; each suite isolates itself in its own schema
    // and key prefix, so files may run in parallel.
    pool: "forks",
    fileParallelism: true,
    maxWorkers: 2,
    // Also when vitest is run by hand: the AWS SDK must never probe instance metadata (.ci/run sets
    // it too, for the child processes some suites start).
    env: { AWS_EC2_METADATA_DISABLED: "true" },
    // …and any connection off loopback fails the test that opened it.
    setupFiles: ["test/support/loopback-only.ts"],
  },
});
