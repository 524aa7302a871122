import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { freePort, waitForHttp } from "../../scripts/lib/local-server.ts";
import { LOCK_FILE } from "../../src/store/data-dir-lock.ts";

// `make run` twice on one ./data: the second refuses at once, naming the first, and touches
// nothing; the first keeps serving and, after a restart, every decision it answered and every
// policy written is still there. A holder killed with -9 leaves a stale lock the next start takes
// over. A busy port is found before anything is migrated or created.

const ADMIN = "data-dir-test-admin-key-0123456789";

function start(dir: string, port: number, extra: Record<string, string> = {}) {
  const child = spawn(process.execPath, ["--import", "tsx", "src/main.ts"], {
    env: {
      PATH: process.env.PATH ?? "",
      HOME: process.env.HOME ?? "",
      PORT: String(port),
      RESIDENCY_DATA_DIR: dir,
      LOG_LEVEL: "warn",
      ...extra,
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
  waitForHttp(`http://127.0.0.1:${port}/health/ready`, { timeoutMs: 60_000, accept: (s) => s === 200 });

async function call(port: number, method: string, path: string, body?: unknown, key = ADMIN) {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

const decide = (port: number) =>
  call(port, "POST", "/api/v1/access/resolve", {
    tenant_id: "lock-test",
    operation_type: "read",
    resource_type: "d",
    resource_id: "1",
  });

describe("one process per embedded data directory", () => {
  const dirs: string[] = [];
  const fresh = () => {
    const d = mkdtempSync(join(tmpdir(), "residency-datadir-"));
    dirs.push(d);
    return d;
  };
  afterAll(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it("a second process on the same directory exits naming the holder; nothing is lost", {
    timeout: 240_000,
  }, async () => {
    const dir = fresh();
    const portA = await freePort();
    const a = start(dir, portA, { RESIDENCY_BOOTSTRAP_ADMIN_KEY: ADMIN });
    const decisions: string[] = [];
    try {
      await ready(portA);
      // The embedded store says once what it promises.
      expect(a.out().split("embedded store (PGlite)").length - 1).toBe(1);
      expect(
        (await call(portA, "POST", "/api/v1/policies", { tenant_id: "lock-test", primary_region: "eu-west" }))
          .status,
      ).toBe(201);
      decisions.push((await decide(portA)).body.decision_id as string);

      const portB = await freePort();
      const b = start(dir, portB); // no bootstrap key: it would print a new admin key if it got that far
      const code = await b.exited;
      console.log(`second process: exit ${code}: ${b.err().trim()}`);
      expect(code).toBe(1);
      expect(b.err()).toContain(
        `data directory ${dir} is in use by another residency process: pid ${a.child.pid}`,
      );
      expect(b.err()).toContain(`port ${portA}`);
      expect(b.out()).not.toContain("created an admin key");
      await expect(fetch(`http://127.0.0.1:${portB}/health/live`)).rejects.toThrow(); // never listened

      // The first is unharmed and keeps answering.
      decisions.push((await decide(portA)).body.decision_id as string);
      expect(decisions.every((id) => typeof id === "string")).toBe(true);
    } finally {
      a.child.kill("SIGTERM");
      expect(await a.exited).toBe(0);
    }
    expect(existsSync(join(dir, LOCK_FILE))).toBe(false); // released on shutdown

    // Restarted: the policy and every answered decision are there.
    const portC = await freePort();
    const c = start(dir, portC);
    try {
      await ready(portC);
      expect(c.out()).not.toContain("created an admin key");
      const policies = await call(portC, "GET", "/api/v1/policies?tenant_id=lock-test");
      expect(JSON.stringify(policies.body)).toContain("lock-test");
      const logs = await call(portC, "GET", "/api/v1/audit/access-logs?tenant_id=lock-test&limit=100");
      const ids = (logs.body.items as Array<{ event_id: string }>).map((r) => r.event_id);
      for (const id of decisions) expect(ids).toContain(id);
      expect((await call(portC, "GET", "/api/v1/audit/verify")).body).toMatchObject({ ok: true });
      decisions.push((await decide(portC)).body.decision_id as string); // answered, then killed
    } finally {
      c.child.kill("SIGKILL"); // leaves its lock behind, as a crash would
      await c.exited;
    }
    const stale = JSON.parse(readFileSync(join(dir, LOCK_FILE), "utf8")) as { pid: number };
    expect(stale.pid).toBe(c.child.pid);

    const portD = await freePort();
    const d = start(dir, portD);
    try {
      await ready(portD); // the holder is gone: its stale lock is taken over
      expect((await decide(portD)).status).toBe(200);
      // The process crash lost nothing it had answered (the OS kept its writes; see README).
      const logs = await call(portD, "GET", "/api/v1/audit/access-logs?tenant_id=lock-test&limit=100");
      const ids = (logs.body.items as Array<{ event_id: string }>).map((r) => r.event_id);
      for (const id of decisions) expect(ids).toContain(id);
      expect((await call(portD, "GET", "/api/v1/audit/verify")).body).toMatchObject({ ok: true });
    } finally {
      d.child.kill("SIGTERM");
      expect(await d.exited).toBe(0);
    }
  });

  it("a busy port is refused before anything is migrated or any key is created", {
    timeout: 60_000,
  }, async () => {
    const dir = fresh();
    const squatter = createServer();
    const port = await freePort();
    await new Promise<void>((resolve) => squatter.listen(port, "127.0.0.1", () => resolve()));
    try {
      const e = start(dir, port);
      expect(await e.exited).toBe(1);
      expect(e.err()).toContain(`cannot listen on 127.0.0.1:${port}`);
      expect(e.out()).not.toContain("created an admin key");
      expect(existsSync(join(dir, "PG_VERSION"))).toBe(false); // no store was created, let alone migrated
      expect(existsSync(join(dir, LOCK_FILE))).toBe(false);
    } finally {
      squatter.close();
    }
  });
});
