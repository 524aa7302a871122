// WORKERS=2: several processes share the port, one audit chain and one cache. Killing a worker
// mid-load loses no answered decision, the survivors keep answering, the supervisor replaces the
// dead one, and the chain still verifies.

import { randomBytes } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { callJson, freePort, spawnService, stopChild, waitForHttp } from "../../scripts/lib/local-server.ts";

const databaseUrl = process.env.DATABASE_URL;
const redisUrl = process.env.REDIS_URL;
const ADMIN = `workers-admin-${randomBytes(12).toString("hex")}`;

/**
 * The live (not zombie) worker processes of supervisor `pid`. Only its service children count:
 * tsx also gives the supervisor an esbuild service process now and then.
 */
function childrenOf(pid: number): number[] {
  return readdirSync("/proc")
    .filter((e) => /^\d+$/.test(e))
    .filter((e) => {
      try {
        const fields = readFileSync(`/proc/${e}/stat`, "utf8").split(") ")[1]!.split(" ");
        if (Number(fields[1]) !== pid || fields[0] === "Z") return false;
        return readFileSync(`/proc/${e}/cmdline`, "utf8").includes("src/main.ts");
      } catch {
        return false;
      }
    })
    .map(Number);
}

/** What each child of `pid` is (state, age in clock ticks, command line), for a failure message. */
function describeChildren(pid: number): string {
  return readdirSync("/proc")
    .filter((e) => /^\d+$/.test(e))
    .flatMap((e) => {
      try {
        const fields = readFileSync(`/proc/${e}/stat`, "utf8").split(") ")[1]!.split(" ");
        if (Number(fields[1]) !== pid) return [];
        const cmd = readFileSync(`/proc/${e}/cmdline`, "utf8").replaceAll("\0", " ").trim();
        return [`${e} state ${fields[0]} started ${fields[19]} cmd "${cmd}"`];
      } catch {
        return [];
      }
    })
    .join("; ");
}

async function until<T>(probe: () => T | Promise<T>, ok: (v: T) => boolean, ms = 20_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (ok(v) || Date.now() > deadline) return v;
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe.skipIf(!databaseUrl || !redisUrl)("WORKERS=2 on Postgres + Redis", () => {
  const dbName = `residency_workers_${randomBytes(4).toString("hex")}`;
  let admin: pg.Client;
  let base: string;
  let server: ReturnType<typeof spawnService>;
  let key: string;

  beforeAll(async () => {
    admin = new pg.Client({ connectionString: databaseUrl });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${dbName}`);
    const url = new URL(databaseUrl!);
    url.pathname = `/${dbName}`;
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    server = spawnService(
      {
        PORT: String(port),
        HOST: "127.0.0.1",
        DATABASE_URL: url.toString(),
        REDIS_URL: redisUrl!,
        REDIS_PREFIX: `workers-${randomBytes(4).toString("hex")}:`,
        WORKERS: "2",
        RESIDENCY_BOOTSTRAP_ADMIN_KEY: ADMIN,
        LOG_LEVEL: "silent",
      },
      "quiet",
    );
    await waitForHttp(`${base}/health/ready`, { accept: (s) => s === 200 });
    // Both workers serving (the second starts once the first serves), and still two a moment later.
    await until(
      async () => {
        const before = childrenOf(server.pid!).join();
        await new Promise((r) => setTimeout(r, 500));
        return [before, childrenOf(server.pid!).join()];
      },
      ([before, after]) => before === after && after!.split(",").length === 2,
      30_000,
    );
    const policy = await callJson(base, ADMIN, "POST", "/api/v1/policies", {
      tenant_id: "workers",
      primary_region: "eu-west",
      compliance_frameworks: ["gdpr"],
    });
    expect(policy.status).toBe(201);
    key = (
      await callJson(base, ADMIN, "POST", "/api/v1/keys", { principal: "workers-svc", roles: ["service"] })
    ).body.key as string;
  }, 90_000);

  afterAll(async () => {
    if (server) await stopChild(server);
    await admin?.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
    await admin?.end();
  });

  it("a scrape of any worker counts every worker's decisions", { timeout: 60_000 }, async () => {
    const decisions = async () => {
      const text = await (await fetch(`${base}/metrics`, { headers: { connection: "close" } })).text();
      return [...text.matchAll(/^residency_decisions_total\{[^}]*\} (\d+)/gm)].reduce(
        (sum, m) => sum + Number(m[1]),
        0,
      );
    };
    const before = await decisions();
    // Counted once committed: a 503 on a starved machine (it happens under a loaded CI) counts none.
    let made = 0;
    for (let i = 0; i < 40; i++) {
      const res = await fetch(`${base}/api/v1/access/resolve`, {
        method: "POST",
        // A new connection each time, so the kernel spreads them over the workers.
        headers: { authorization: `Bearer ${key}`, "content-type": "application/json", connection: "close" },
        body: JSON.stringify({
          tenant_id: "workers",
          operation_type: "read",
          resource_type: "d",
          resource_id: `m-${i}`,
        }),
      });
      await res.arrayBuffer();
      if (res.status === 200) made++;
    }
    expect(made).toBeGreaterThan(10);
    // Whichever worker answers the scrape, it counts all of them (one worker's own count would
    // miss those the other answered).
    for (let scrape = 0; scrape < 6; scrape++) expect(await decisions()).toBe(before + made);
  });

  it("answers from both workers, survives one being killed, and keeps one verified chain", {
    timeout: 90_000,
  }, async () => {
    // Two workers (a worker being replaced shows as a third process for a moment: wait it out).
    const workers = await until(
      () => childrenOf(server.pid!),
      (c) => c.length === 2,
    );
    expect(workers, `children of the supervisor: ${describeChildren(server.pid!)}`).toHaveLength(2);

    const answered: string[] = [];
    let stop = false;
    const load = async (n: number) => {
      let i = 0;
      while (!stop) {
        try {
          const res = await fetch(`${base}/api/v1/access/resolve`, {
            method: "POST",
            // A new connection each time, so the kernel spreads them over the workers.
            headers: {
              authorization: `Bearer ${key}`,
              "content-type": "application/json",
              connection: "close",
            },
            body: JSON.stringify({
              tenant_id: "workers",
              operation_type: "read",
              resource_type: "d",
              resource_id: `${n}-${i++}`,
            }),
          });
          if (res.status === 200) answered.push(((await res.json()) as { decision_id: string }).decision_id);
        } catch {
          // the connection died with its worker: not answered, not owed a record
        }
      }
    };
    const loops = Array.from({ length: 8 }, (_, n) => load(n));
    await new Promise((r) => setTimeout(r, 1_000));
    const beforeKill = answered.length;
    process.kill(workers[0]!, "SIGKILL");
    // The survivor keeps answering (bounded wait: a loaded machine answers slowly, not never).
    const afterKill = await until(
      () => answered.length,
      (n) => n >= beforeKill + 20,
    );
    stop = true;
    await Promise.all(loops);
    console.log(`workers: ${beforeKill} answered before the kill, ${afterKill - beforeKill} after`);

    expect(beforeKill).toBeGreaterThan(20);
    expect(afterKill, "the survivor kept answering").toBeGreaterThan(beforeKill);

    const replaced = await until(
      () => childrenOf(server.pid!),
      (c) => c.length === workers.length && !c.includes(workers[0]!),
    );
    expect(replaced).toHaveLength(workers.length);
    expect(replaced).not.toContain(workers[0]);

    // Every answered decision is audited, and one chain covers both workers' records.
    const url = new URL(databaseUrl!);
    url.pathname = `/${dbName}`;
    const db = new pg.Client({ connectionString: url.toString() });
    await db.connect();
    try {
      const { rows } = await db.query("SELECT event_id FROM audit_log WHERE event_id = ANY($1::text[])", [
        answered,
      ]);
      expect(rows.length).toBe(answered.length);
    } finally {
      await db.end();
    }
    const verify = await callJson(base, ADMIN, "GET", "/api/v1/audit/verify");
    expect(verify.body).toMatchObject({ ok: true, first_broken_seq: null });
    console.log(`workers: ${answered.length} decisions answered and audited; a killed worker was replaced`);
  });
});
