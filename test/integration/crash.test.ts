import { describe, expect, it } from "vitest";
import { runCrashTest } from "../../scripts/crash-test.ts";

// kill -9 mid-load: every decision answered 200 must be in the audit table, and the chain must
// verify after the restart (scripts/crash-test.ts; `make crash-test` runs a longer one).

const url = process.env.DATABASE_URL;

describe.skipIf(!url)("crash durability on real Postgres", () => {
  it("no answered decision is missing from the audit log after kill -9", { timeout: 120_000 }, async () => {
    const result = await runCrashTest({ databaseUrl: url!, concurrency: 32, loadMs: 2_000 });
    console.log(
      `crash test: answered ${result.answered}, found ${result.found}, in flight at kill ${result.inFlightAtKill}`,
    );
    expect(result.answered).toBeGreaterThan(100);
    expect(result.missing).toEqual([]);
    expect(result.found).toBe(result.answered);
    expect(result.verify).toMatchObject({ ok: true, first_broken_seq: null });
  });
});
