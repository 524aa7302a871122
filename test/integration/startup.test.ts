import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { freePort, waitForHttp } from "../../scripts/lib/local-server.ts";

// What `make run` does on a fresh machine: embedded PGlite, in-process cache, committed bundle,
// no configuration. And a bad variable stops start-up with one line that names it.

function start(env: Record<string, string>) {
  const child = spawn(process.execPath, ["--import", "tsx", "src/main.ts"], {
    // Nothing off loopback: fake signing keys and no instance-metadata probe (the SDK's default chain).
    env: {
      PATH: process.env.PATH ?? "",
      HOME: process.env.HOME ?? "",
      AWS_EC2_METADATA_DISABLED: "true",
      AWS_ACCESS_KEY_ID: "AKIATESTTESTTESTTEST",
      AWS_SECRET_ACCESS_KEY: "test-secret-key-for-signing-only",
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (c) => (stdout += c));
  child.stderr.on("data", (c) => (stderr += c));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return { child, exited, out: () => stdout, err: () => stderr };
}

const ready = (port: number) =>
  waitForHttp(`http://127.0.0.1:${port}/health/ready`, {
    timeoutMs: 45_000,
    accept: (status) => status === 200,
  });

describe("start-up", () => {
  const dir = mkdtempSync(join(tmpdir(), "residency-startup-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("starts with no configuration, prints a generated admin key once, answers ready", {
    timeout: 120_000,
  }, async () => {
    const port = await freePort();
    const first = start({ PORT: String(port), RESIDENCY_DATA_DIR: dir, LOG_LEVEL: "silent" });
    try {
      const res = await ready(port);
      const body = (await res.json()) as { checks: { store: { detail: string } } };
      expect(body.checks.store.detail).toBe("pglite");
      const key = /created an admin key \(shown once\):\s+(\S+)/.exec(first.out())?.[1];
      expect(key).toMatch(/^rsk_/);
      const regions = await fetch(`http://127.0.0.1:${port}/api/v1/regions`, {
        headers: { authorization: `Bearer ${key}` },
      });
      expect(regions.status).toBe(200);
    } finally {
      first.child.kill("SIGTERM");
      expect(await first.exited).toBe(0); // graceful: drains and exits cleanly
    }
    const second = start({ PORT: String(port), RESIDENCY_DATA_DIR: dir, LOG_LEVEL: "silent" });
    try {
      await ready(port);
      expect(second.out()).not.toContain("created an admin key");
    } finally {
      second.child.kill("SIGTERM");
      await second.exited;
    }
  });

  it.skipIf(!process.env.DATABASE_URL || !process.env.REDIS_URL)(
    "starts on real Postgres and Redis (DATABASE_URL, REDIS_URL) and answers ready",
    { timeout: 60_000 },
    async () => {
      const port = await freePort();
      const server = start({
        PORT: String(port),
        DATABASE_URL: process.env.DATABASE_URL!,
        REDIS_URL: process.env.REDIS_URL!,
        REDIS_PREFIX: "residency-startup-test:",
        RESIDENCY_BOOTSTRAP_ADMIN_KEY: "startup-test-admin-key-0123456789",
        LOG_LEVEL: "silent",
      });
      try {
        const res = await ready(port);
        const body = (await res.json()) as { checks: Record<string, { ok: boolean; detail: unknown }> };
        expect(body.checks.store).toEqual({ ok: true, detail: "postgres" });
        expect(body.checks.cache).toEqual({ ok: true, detail: "ready" });
      } finally {
        server.child.kill("SIGTERM");
        expect(await server.exited).toBe(0);
      }
    },
  );

  it("a bad variable stops start-up with one line naming it", { timeout: 30_000 }, async () => {
    const bad = start({ PORT: "eighty", RESIDENCY_DATA_DIR: dir });
    expect(await bad.exited).toBe(2);
    expect(bad.err().trim()).toBe("residency: configuration error: PORT: must be an integer from 0 to 65535");
  });
});
