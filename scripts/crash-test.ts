// Crash test (issue: "no answer without its record"). Drives concurrent decisions against a real
// service process on real Postgres, kill -9s it mid-load, restarts it, and checks that every
// decision answered 200 is in the audit table and that the hash chain verifies.
//
//   node --import tsx scripts/crash-test.ts          (DATABASE_URL defaults to the local Postgres)

import type { ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import pg from "pg";
import { callJson, freePort, spawnService, waitForHttp } from "./lib/local-server.ts";

export type CrashResult = {
  answered: number;
  found: number;
  missing: string[];
  inFlightAtKill: number;
  verify: { ok: boolean; checked: number; first_broken_seq: number | null };
};

const ADMIN = `crash-admin-${randomBytes(12).toString("hex")}`;

export async function runCrashTest(options: {
  databaseUrl: string;
  concurrency?: number;
  loadMs?: number;
  log?: (line: string) => void;
}): Promise<CrashResult> {
  const log = options.log ?? (() => {});
  const dbName = `residency_crash_${randomBytes(4).toString("hex")}`;
  const admin = new pg.Client({ connectionString: options.databaseUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${dbName}`);
  const url = new URL(options.databaseUrl);
  url.pathname = `/${dbName}`;
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const env = {
    PORT: String(port),
    HOST: "127.0.0.1",
    DATABASE_URL: url.toString(),
    REDIS_URL: "",
    RESIDENCY_BOOTSTRAP_ADMIN_KEY: ADMIN,
    LOG_LEVEL: "silent",
    BUNDLE_PATH: "bundles/residency.tar.gz",
  };
  let server: ChildProcess | null = spawnService(env, "quiet");
  try {
    await waitForHttp(`${base}/health/ready`, { accept: (status) => status === 200 });
    const policy = await callJson(base, ADMIN, "POST", "/api/v1/policies", {
      tenant_id: "crash",
      primary_region: "eu-west",
      compliance_frameworks: ["gdpr"],
    });
    if (policy.status !== 201) throw new Error(`policy: ${policy.status} ${JSON.stringify(policy.body)}`);
    const key = (
      await callJson(base, ADMIN, "POST", "/api/v1/keys", {
        principal: "crash-svc",
        roles: ["service", "auditor"],
      })
    ).body.key as string;

    const answered: string[] = [];
    let inFlight = 0;
    let stop = false;
    const worker = async (w: number) => {
      let i = 0;
      while (!stop) {
        inFlight++;
        try {
          const res = await callJson(base, key, "POST", "/api/v1/access/resolve", {
            tenant_id: "crash",
            operation_type: i % 3 === 0 ? "write" : "read",
            resource_type: "document",
            resource_id: `w${w}-${i++}`,
          });
          if (res.status === 200) answered.push(res.body.decision_id as string);
        } catch {
          // the connection died with the server: not answered, so not owed a record
        } finally {
          inFlight--;
        }
      }
    };
    const workers = Array.from({ length: options.concurrency ?? 64 }, (_, w) => worker(w));
    await new Promise((r) => setTimeout(r, options.loadMs ?? 3_000));
    const inFlightAtKill = inFlight;
    server.kill("SIGKILL");
    log(
      `killed the server (SIGKILL) with ${inFlightAtKill} requests in flight, ${answered.length} answered 200`,
    );
    await new Promise<void>((r) => server!.once("exit", () => r()));
    stop = true;
    await Promise.all(workers);

    server = spawnService(env, "quiet");
    await waitForHttp(`${base}/health/ready`, { accept: (status) => status === 200 });
    const found = new Set<string>();
    const db = new pg.Client({ connectionString: url.toString() });
    await db.connect();
    try {
      for (let i = 0; i < answered.length; i += 5_000) {
        const r = await db.query<{ event_id: string }>(
          "SELECT event_id FROM audit_log WHERE event_id = ANY($1)",
          [answered.slice(i, i + 5_000)],
        );
        for (const row of r.rows) found.add(row.event_id);
      }
    } finally {
      await db.end();
    }
    const verify = (await callJson(base, key, "GET", "/api/v1/audit/verify")).body as CrashResult["verify"];
    return {
      answered: answered.length,
      found: found.size,
      missing: answered.filter((id) => !found.has(id)),
      inFlightAtKill,
      verify,
    };
  } finally {
    server?.kill("SIGKILL");
    await new Promise((r) => setTimeout(r, 200));
    await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`).catch(() => undefined);
    await admin.end();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const result = await runCrashTest({
    databaseUrl: process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test",
    concurrency: Number(process.env.CRASH_CONCURRENCY ?? 64),
    loadMs: Number(process.env.CRASH_LOAD_MS ?? 3_000),
    log: (line) => console.log(line),
  });
  console.log(
    `answered 200: ${result.answered}   found in audit_log: ${result.found}   missing: ${result.missing.length}`,
  );
  console.log(
    `verify after restart: ok=${result.verify.ok} checked=${result.verify.checked} first_broken_seq=${result.verify.first_broken_seq}`,
  );
  process.exit(result.missing.length === 0 && result.verify.ok ? 0 : 1);
}
