// A real S3-compatible server for the presign tests: Versity's S3 gateway (versitygw) on its posix
// backend, one directory per bucket, listening on loopback only. `make test` installs it with
// `go install` when it is missing, as it does opa; the compose stack runs the same server.

import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

export type S3Server = {
  endpoint: string;
  /** The directory holding one folder per bucket (objects are files below it). */
  root: string;
  accessKeyId: string;
  secretAccessKey: string;
  region: string;
  close(): Promise<void>;
};

export function versitygwPath(): string {
  const candidates = [process.env.VERSITYGW ?? ""];
  try {
    candidates.push(
      join(execFileSync("go", ["env", "GOPATH"], { encoding: "utf8" }).trim(), "bin", "versitygw"),
    );
  } catch {
    // no Go: only PATH can have it
  }
  for (const dir of (process.env.PATH ?? "").split(":")) candidates.push(join(dir, "versitygw"));
  const found = candidates.find((c) => c !== "" && existsSync(c));
  if (!found)
    throw new Error(
      "versitygw not found: run `make s3-server` (go install github.com/versity/versitygw/cmd/versitygw)",
    );
  return found;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

async function waitForPort(port: number, child: ChildProcess, deadlineMs: number): Promise<void> {
  const until = Date.now() + deadlineMs;
  while (Date.now() < until) {
    if (child.exitCode !== null) throw new Error(`versitygw exited with ${child.exitCode}`);
    try {
      await fetch(`http://127.0.0.1:${port}/`);
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  throw new Error("versitygw did not start listening");
}

export async function startS3Server(options: { buckets: string[]; region: string }): Promise<S3Server> {
  const root = mkdtempSync(join(tmpdir(), "residency-s3-"));
  for (const bucket of options.buckets) mkdirSync(join(root, bucket));
  const port = await freePort();
  const accessKeyId = "AKIATESTTESTTESTTEST";
  const secretAccessKey = "test-secret-key-for-signing-only";
  const child = spawn(
    versitygwPath(),
    [
      "--port",
      `127.0.0.1:${port}`,
      "--access",
      accessKeyId,
      "--secret",
      secretAccessKey,
      "--region",
      options.region,
      "--quiet",
      "posix",
      root,
    ],
    { stdio: ["ignore", "ignore", "pipe"] },
  );
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  try {
    await waitForPort(port, child, 10_000);
  } catch (err) {
    child.kill("SIGKILL");
    throw new Error(`${(err as Error).message}: ${stderr.slice(-500)}`);
  }
  return {
    endpoint: `http://127.0.0.1:${port}`,
    root,
    accessKeyId,
    secretAccessKey,
    region: options.region,
    async close() {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once("exit", r));
        child.kill("SIGTERM");
        await exited;
      }
      rmSync(root, { recursive: true, force: true });
    },
  };
}
