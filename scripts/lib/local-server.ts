// Helpers for scripts, benchmarks and tests that start the service (or a stand-in) as a child
// process on this machine.

import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import autocannon from "autocannon";

/** A TCP port nobody listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** Polls `url` until it answers `accept(status)` (default: any status below 500). */
export async function waitForHttp(
  url: string,
  options: { timeoutMs?: number; accept?: (status: number) => boolean } = {},
): Promise<Response> {
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  const accept = options.accept ?? ((status) => status < 500);
  while (Date.now() < deadline) {
    try {
      const res = await fetch(url);
      if (accept(res.status)) return res;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} did not answer in time`);
}

/** The service (src/main.ts) as a child process with `env` over this process's environment. */
export function spawnService(
  env: Record<string, string>,
  stdio: "inherit" | "quiet" = "inherit",
): ChildProcess {
  const child = spawn(process.execPath, ["--import", "tsx", "src/main.ts"], {
    // Nothing off loopback: fake signing keys unless real ones are set, never an instance-metadata probe.
    env: {
      AWS_ACCESS_KEY_ID: "AKIATESTTESTTESTTEST",
      AWS_SECRET_ACCESS_KEY: "test-secret-key-for-signing-only",
      ...process.env,
      AWS_EC2_METADATA_DISABLED: "true",
      ...env,
    },
    stdio: stdio === "inherit" ? "inherit" : ["ignore", "ignore", "pipe"],
  });
  child.stderr?.on("data", () => {}); // keep the pipe drained
  return child;
}

/** One JSON call with an API key; the answer's status and parsed body. */
export async function callJson(
  base: string,
  key: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/** Ends a child process with SIGTERM and waits until it has exited. */
export function stopChild(child: ChildProcess): Promise<void> {
  child.kill("SIGTERM");
  return new Promise((resolve) => child.once("exit", () => resolve()));
}

/**
 * A benchmark's own service: a free port, a fresh embedded-store directory (unless DATABASE_URL is
 * set), `adminKey` as its bootstrap admin key, `env` over that; ready before it returns. `admin`
 * POSTs JSON as that admin; `stop` ends the process and removes the directory.
 */
export async function startLocalService(adminKey: string, env: Record<string, string> = {}) {
  const port = await freePort();
  const dataDir = mkdtempSync(join(tmpdir(), "residency-bench-"));
  const child = spawnService({
    PORT: String(port),
    RESIDENCY_DATA_DIR: dataDir,
    RESIDENCY_BOOTSTRAP_ADMIN_KEY: adminKey,
    LOG_LEVEL: "warn",
    ...env,
  });
  const base = `http://127.0.0.1:${port}`;
  await waitForHttp(`${base}/health/ready`, { accept: (status) => status === 200 });
  return {
    base,
    /** The service's process id (with WORKERS > 1, the supervisor's; workers are its children). */
    pid: child.pid!,
    admin: async (path: string, payload: unknown) =>
      (await callJson(base, adminKey, "POST", path, payload)).body,
    stop: async () => {
      await stopChild(child);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** autocannon POSTing one JSON `body` to `url` for `seconds`; `onResponse` sees every answer. */
export function loadPost(options: {
  url: string;
  headers?: Record<string, string>;
  body: string;
  connections: number;
  seconds: number;
  onResponse?: (status: number, body: string) => void;
}): Promise<autocannon.Result> {
  return autocannon({
    url: options.url,
    connections: options.connections,
    duration: options.seconds,
    requests: [
      {
        method: "POST",
        headers: { "content-type": "application/json", ...options.headers },
        body: options.body,
        ...(options.onResponse ? { onResponse: options.onResponse } : {}),
      },
    ],
  });
}
