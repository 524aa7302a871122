// Residency against OPA's own server on the same Rego and the same inputs (`make bench-vs-opa`).
//
// 1. Starts `opa run --server` on rego/ and the service in each configuration (PGlite; Postgres +
//    Redis when DATABASE_URL/REDIS_URL are set; the memo off), makes one decision through the service
//    and replays its audited input to OPA: both must answer the same decision, or the run stops.
// 2. Interleaved closed-loop rounds (wrk, 64 connections, no pipelining): OPA, Residency, OPA, … —
//    req/s, p50, p99, and Residency/OPA ratios per round. Every Residency answer is an audited
//    decision (durable commit before the answer), OPA's is an evaluation.
// 3. Open loop at half of Residency's best closed-loop rate (open-loop.ts: a fixed schedule that does
//    not wait for answers, latency measured from the scheduled send time, so a stall is not hidden),
//    after 2 s at that rate that are not counted (the client's connections are opened then).
// 4. CPU per audited decision from /proc: the service process(es), and the Postgres backends serving
//    them (by application_name); on Postgres, the WAL written per decision and its full-page images;
//    and what bounds the rate: the service's event loop (main thread) as a share of one core, and
//    the whole machine's idle share during the round.
// 5. WORKERS=1..N on Postgres + Redis (the node:cluster mode): scaling of req/s, rounds alternating
//    the worker counts, each on a freshly started service.
// 0. (First) the floor under the same load: a server doing no work on node:http, and on a naive node:net
//    framer (floor-servers.ts) — req/s and CPU per request, what the HTTP exchange alone costs here.
//
// Env: BENCH_SECONDS (8), BENCH_ROUNDS (3), BENCH_CONNECTIONS (64), BENCH_WORKERS ("1,2"),
// BENCH_CHECKPOINT (1: a Postgres CHECKPOINT before each Residency round, so every round includes
// what follows one — as a long run does every few minutes — instead of only the rounds one falls in),
// BENCH_WORKERS_ONLY (1: only step 5).

import { execFile, spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import pg from "pg";
import {
  callJson,
  freePort,
  startLocalService,
  stopChild,
  waitForHttp,
} from "../scripts/lib/local-server.ts";
import { DECISION_BODY } from "./decision-request.ts";
import { BARE_NET_FRAMER, BARE_NODE_HTTP } from "./floor-servers.ts";
import { openLoop } from "./open-loop.ts";

const run = promisify(execFile);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 64);
const WORKER_COUNTS = (process.env.BENCH_WORKERS ?? "1,2").split(",").map(Number);
const CHECKPOINT_EACH_ROUND = process.env.BENCH_CHECKPOINT === "1";
const WORKERS_ONLY = process.env.BENCH_WORKERS_ONLY === "1";
const ADMIN = "bench-admin-key-0123456789abcdefghij";
const APP_NAME = "residency-bench";
const CLK_TCK = 100;
const WARM_SECONDS = 2;

type Load = {
  rps: number;
  p50: number;
  p99: number;
  requests: number;
  bad: number;
  /** What the errors were: non-2xx answers, or wrk's socket errors by kind (a 5xx is also in the service's log). */
  why: string;
};

async function opaPath(): Promise<string> {
  if (process.env.OPA) return process.env.OPA;
  try {
    return (await run("sh", ["-c", "command -v opa"])).stdout.trim();
  } catch {
    return join((await run("go", ["env", "GOPATH"])).stdout.trim(), "bin", "opa");
  }
}

/** wrk, one thread, `connections` keep-alive connections, one JSON POST repeated. */
async function wrk(
  url: string,
  body: string,
  headers: Record<string, string>,
  seconds = SECONDS,
): Promise<Load> {
  const dir = mkdtempSync(join(tmpdir(), "wrk-"));
  const script = join(dir, "post.lua");
  const lines = [
    'wrk.method = "POST"',
    `wrk.body = [==[${body}]==]`,
    'wrk.headers["Content-Type"] = "application/json"',
    ...Object.entries(headers).map(([k, v]) => `wrk.headers["${k}"] = "${v}"`),
  ];
  writeFileSync(script, lines.join("\n"));
  const { stdout } = await run(
    "wrk",
    ["-t1", `-c${CONNECTIONS}`, `-d${seconds}s`, "--latency", "-s", script, url],
    {
      maxBuffer: 1 << 20,
    },
  );
  rmSync(dir, { recursive: true, force: true });
  const ms = (label: string) => {
    const m = new RegExp(`^\\s+${label}\\s+([\\d.]+)(us|ms|s)`, "m").exec(stdout);
    if (!m) throw new Error(`wrk output without ${label}: ${stdout}`);
    return Number(m[1]) * (m[2] === "us" ? 0.001 : m[2] === "s" ? 1000 : 1);
  };
  const requests = Number(/(\d+) requests in/.exec(stdout)?.[1] ?? 0);
  const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(stdout)?.[1] ?? 0);
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(stdout);
  const errors = socket ? socket.slice(1).reduce((a, b) => a + Number(b), 0) : 0;
  const why = [
    ...(socket && errors > 0
      ? [`socket: connect ${socket[1]}, read ${socket[2]}, write ${socket[3]}, timeout ${socket[4]}`]
      : []),
    ...(non2xx > 0 ? [`non-2xx ${non2xx}`] : []),
  ].join("; ");
  return {
    rps: Number(/Requests\/sec:\s+([\d.]+)/.exec(stdout)?.[1] ?? 0),
    p50: ms("50%"),
    p99: ms("99%"),
    requests,
    bad: non2xx + errors,
    why,
  };
}

/** utime + stime of these pids, in seconds. */
function cpuSeconds(pids: Array<number | string>): number {
  let ticks = 0;
  for (const pid of pids) {
    try {
      const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      // gone
    }
  }
  return ticks / CLK_TCK;
}

/**
 * CPU seconds each of these pids has used so far; with `cpuSince`, the CPU used in between by
 * those still alive, and all of it by those started since (a pooled connection closed while idle
 * takes its whole history with it, which would make a plain difference of sums negative).
 */
function cpuByPid(pids: number[]): Map<number, number> {
  return new Map(pids.map((pid) => [pid, cpuSeconds([pid])]));
}
function cpuSince(before: Map<number, number>, now: number[]): number {
  let seconds = 0;
  for (const pid of now) if (!before.has(pid)) seconds += cpuSeconds([pid]); // new since: all of it
  for (const [pid, then] of before) {
    try {
      readFileSync(`/proc/${pid}/stat`);
      seconds += cpuSeconds([pid]) - then;
    } catch {
      // gone: its share of the interval is lost with it (an idle connection's, near zero)
    }
  }
  return seconds;
}

/** utime + stime of these pids' main threads (the event loops), in seconds. */
function mainThreadSeconds(pids: number[]): number {
  return cpuSeconds(pids.map((pid) => `${pid}/task/${pid}`));
}

/** The whole machine's idle and total CPU time (/proc/stat), in ticks. */
function machineTicks(): { idle: number; total: number } {
  const fields = readFileSync("/proc/stat", "utf8").split("\n")[0]!.trim().split(/\s+/).slice(1).map(Number);
  return { idle: fields[3]! + fields[4]!, total: fields.slice(0, 8).reduce((a, b) => a + b, 0) };
}

function descendants(pid: number): number[] {
  const out = [pid];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const ppid = Number(readFileSync(`/proc/${entry}/stat`, "utf8").split(") ")[1]!.split(" ")[1]);
      if (out.includes(ppid)) out.push(Number(entry));
    } catch {
      // gone
    }
  }
  return out;
}

async function postgresBackends(): Promise<number[]> {
  if (!process.env.DATABASE_URL) return [];
  const client = new pg.Client({ connectionString: process.env.DATABASE_URL });
  await client.connect();
  try {
    const { rows } = await client.query("SELECT pid FROM pg_stat_activity WHERE application_name = $1", [
      APP_NAME,
    ]);
    return rows.map((r) => Number(r.pid));
  } finally {
    await client.end();
  }
}

/**
 * WAL written so far in the whole cluster (exact, from the insert position; other databases and
 * autovacuum count too, so the machine should be otherwise quiet) and its full-page images
 * (pg_stat_wal, which backends report at most once a second: read it a second after a round).
 * `checkpointFirst` needs superuser or pg_checkpoint; refused, the rounds go on without it.
 */
async function walTotals(checkpointFirst = false): Promise<{ bytes: number; fullPages: number } | null> {
  if (!process.env.DATABASE_URL) return null;
  const client = new pg.Client({ connectionString: process.env.DATABASE_URL });
  await client.connect();
  try {
    if (checkpointFirst)
      await client.query("CHECKPOINT").catch((err: Error) => {
        console.warn(`  (no CHECKPOINT before this round: ${err.message})`);
      });
    const { rows } = await client.query(
      "SELECT pg_wal_lsn_diff(pg_current_wal_insert_lsn(), '0/0')::float8 AS bytes, wal_fpi::float8 AS fpi FROM pg_stat_wal",
    );
    return { bytes: Number(rows[0].bytes), fullPages: Number(rows[0].fpi) };
  } finally {
    await client.end();
  }
}

/** JSON with object keys sorted: the wasm and OPA's server may order an object's keys differently. */
const sorted = (v: unknown): unknown =>
  Array.isArray(v)
    ? v.map(sorted)
    : v && typeof v === "object"
      ? Object.fromEntries(
          Object.entries(v)
            .sort(([a], [b]) => (a < b ? -1 : 1))
            .map(([k, x]) => [k, sorted(x)]),
        )
      : v;
const pick = (d: Record<string, unknown>) =>
  JSON.stringify(
    sorted({
      allowed: d.allowed,
      target_region: d.target_region,
      code: (d.reason as { code: string }).code,
      legal_regions: d.legal_regions,
      permitted_regions: d.permitted_regions,
      eliminated: d.eliminated,
      flags: d.flags,
    }),
  );

type Config = { name: string; env: Record<string, string> };

function withAppName(url: string): string {
  const u = new URL(url);
  u.searchParams.set("application_name", APP_NAME);
  return u.toString();
}

const configs: Config[] = [{ name: "PGlite", env: {} }];
if (process.env.DATABASE_URL && process.env.REDIS_URL) {
  configs.push({
    name: "Postgres + Redis",
    env: {
      DATABASE_URL: withAppName(process.env.DATABASE_URL),
      REDIS_URL: process.env.REDIS_URL,
      REDIS_PREFIX: `bench-${process.pid}:`,
    },
  });
}
configs.push({
  name: `memo off (${configs.at(-1)!.name})`,
  env: { ...configs.at(-1)!.env, DECISION_MEMO_ENTRIES: "0" },
});

const tenantPolicy = {
  tenant_id: "bench",
  primary_region: "eu-west",
  allowed_regions: ["eu-central", "ca-central"],
  compliance_frameworks: ["gdpr", "ferpa"],
  data_retention_days: 365,
};
const learnerPolicy = {
  tenant_id: "bench",
  learner_id: "learner-1",
  learner_age: 16,
  primary_region: "eu-west",
};
const decisionBody = DECISION_BODY;

async function prepare(base: string) {
  for (const policy of [tenantPolicy, learnerPolicy]) {
    const res = await callJson(base, ADMIN, "POST", "/api/v1/policies", policy);
    if (res.status !== 201) throw new Error(`policy: ${res.status} ${JSON.stringify(res.body)}`);
  }
  const key = await callJson(base, ADMIN, "POST", "/api/v1/keys", {
    principal: "bench-svc",
    roles: ["service"],
  });
  const serviceKey = key.body.key as string;
  const decided = await callJson(
    base,
    serviceKey,
    "POST",
    "/api/v1/access/resolve",
    JSON.parse(decisionBody),
  );
  const logs = await callJson(base, ADMIN, "GET", `/api/v1/audit/access-logs?tenant_id=bench&limit=1`);
  const item = (
    logs.body.items as {
      event_id: string;
      payload: { request: unknown; evaluation: { context_sha256?: string; now_ms?: number } };
    }[]
  )[0]!;
  if (item.event_id !== decided.body.decision_id)
    throw new Error("the audited record is not the decision just made");
  // A compact record references its evaluation context by hash: fetch it, put now_ms back.
  const { context_sha256, ...evaluation } = item.payload.evaluation;
  const context = context_sha256
    ? ((await callJson(base, ADMIN, "GET", `/api/v1/audit/contexts/${context_sha256}`)).body
        .context as object)
    : {};
  return {
    serviceKey,
    decision: decided.body,
    input: { ...context, ...evaluation, request: item.payload.request },
  };
}

const fmt = (n: number, d = 0) =>
  n.toLocaleString("en-US", { maximumFractionDigits: d, minimumFractionDigits: d });

async function main() {
  const opa = await opaPath();
  const opaPort = await freePort();
  const opaProc = spawn(
    opa,
    ["run", "--server", "--addr", `127.0.0.1:${opaPort}`, "--log-level", "error", "rego"],
    {
      stdio: ["ignore", "ignore", "inherit"],
    },
  );
  await waitForHttp(`http://127.0.0.1:${opaPort}/health`, { accept: (s) => s === 200 });
  const opaUrl = `http://127.0.0.1:${opaPort}/v1/data/residency/decision`;
  const opaVersion = (await run(opa, ["version"])).stdout.split("\n")[0];
  console.log(
    `vs-opa: ${opaVersion}; ${CONNECTIONS} connections, ${SECONDS} s per run, ${ROUNDS} rounds, wrk closed loop${CHECKPOINT_EACH_ROUND ? ", a CHECKPOINT before each Residency round on Postgres" : ""}`,
  );

  const summary: string[] = [];
  try {
    if (!WORKERS_ONLY)
      console.log("\n[floor] the same POST answered by a server doing no work (bench/floor-servers.ts)");
    for (const [name, source] of WORKERS_ONLY
      ? []
      : ([
          ["node:http", BARE_NODE_HTTP],
          ["node:net framer", BARE_NET_FRAMER],
        ] as const)) {
      const port = await freePort();
      const child = spawn(process.execPath, ["-e", source], {
        env: { ...process.env, PORT: String(port) },
        stdio: ["ignore", "ignore", "inherit"],
      });
      const url = `http://127.0.0.1:${port}/`;
      try {
        await waitForHttp(url);
        await wrk(url, decisionBody, {}, 2);
        const cpu0 = cpuSeconds([child.pid!]);
        const r = await wrk(url, decisionBody, {});
        const cpuUs = ((cpuSeconds([child.pid!]) - cpu0) / r.requests) * 1e6;
        console.log(
          `  ${name}: ${fmt(r.rps)} req/s p50 ${fmt(r.p50, 2)} ms p99 ${fmt(r.p99, 2)} ms | CPU/request ${fmt(cpuUs, 1)} µs | errors ${r.bad}`,
        );
      } finally {
        await stopChild(child);
      }
    }

    for (const config of WORKERS_ONLY ? [] : configs) {
      const svc = await startLocalService(ADMIN, { ...config.env, LOG_LEVEL: "error" });
      try {
        const { serviceKey, decision, input } = await prepare(svc.base);
        const opaBody = JSON.stringify({ input });
        const opaAnswer = (await (await fetch(opaUrl, { method: "POST", body: opaBody })).json()) as {
          result: Record<string, unknown>;
        };
        if (pick(opaAnswer.result) !== pick(decision)) {
          throw new Error(
            `OPA and Residency disagree:\n  opa:       ${pick(opaAnswer.result)}\n  residency: ${pick(decision)}`,
          );
        }
        console.log(
          `\n[${config.name}] same decision from both: ${(decision.reason as { code: string }).code} → ${decision.target_region}`,
        );
        const auth = { Authorization: `Bearer ${serviceKey}` };
        const url = `${svc.base}/api/v1/access/resolve`;
        await wrk(url, decisionBody, auth, 2); // warm-up: JIT, pools, memo
        await wrk(opaUrl, opaBody, {}, 2);
        const servicePids = descendants(svc.pid);
        let best = 0;
        for (let round = 1; round <= ROUNDS; round++) {
          const o = await wrk(opaUrl, opaBody, {});
          const backends = await postgresBackends();
          const cpu0 = cpuSeconds(servicePids);
          const db0 = cpuByPid(backends);
          const wal0 = backends.length ? await walTotals(CHECKPOINT_EACH_ROUND) : null;
          const main0 = mainThreadSeconds(servicePids);
          const machine0 = machineTicks();
          const wall0 = performance.now();
          const r = await wrk(url, decisionBody, auth);
          // What bounds the rate: the event loop's share of one core, and how idle the machine was.
          const mainBusy = (mainThreadSeconds(servicePids) - main0) / ((performance.now() - wall0) / 1000);
          const machine1 = machineTicks();
          const idle = (machine1.idle - machine0.idle) / (machine1.total - machine0.total);
          const cpuUs = ((cpuSeconds(servicePids) - cpu0) / r.requests) * 1e6;
          const dbUs = (cpuSince(db0, backends.length ? await postgresBackends() : []) / r.requests) * 1e6;
          if (wal0) await new Promise((resolve) => setTimeout(resolve, 1_100)); // pg_stat_wal catches up
          const wal1 = wal0 ? await walTotals() : null;
          const wal =
            wal0 && wal1
              ? `, WAL ${fmt((wal1.bytes - wal0.bytes) / r.requests)} B (full-page images ${fmt(((wal1.fullPages - wal0.fullPages) / r.requests) * 1000, 1)} per 1,000)`
              : "";
          best = Math.max(best, r.rps);
          console.log(
            `  round ${round}: OPA ${fmt(o.rps)} req/s p50 ${fmt(o.p50, 2)} ms p99 ${fmt(o.p99, 2)} ms | ` +
              `Residency ${fmt(r.rps)} req/s p50 ${fmt(r.p50, 2)} ms p99 ${fmt(r.p99, 2)} ms | ` +
              `ratio ${fmt(r.rps / o.rps, 2)}× req/s, p99 ${fmt(r.p99 / o.p99, 2)}× | ` +
              `CPU/decision service ${fmt(cpuUs)} µs${backends.length ? `, postgres ${fmt(dbUs)} µs` : ""}${wal} | ` +
              `event loop ${fmt(mainBusy * 100)}% of a core, machine ${fmt(idle * 100)}% idle | ` +
              `errors OPA ${o.bad}, Residency ${r.bad}${r.why ? ` (${r.why})` : ""}`,
          );
          summary.push(
            `${config.name}\t${round}\t${fmt(o.rps)}\t${fmt(r.rps)}\t${fmt(r.rps / o.rps, 2)}\t${fmt(o.p99, 2)}\t${fmt(r.p99, 2)}\t${fmt(cpuUs)}\t${backends.length ? fmt(dbUs) : "-"}`,
          );
        }
        const open = await openLoop({
          url,
          body: decisionBody,
          headers: auth,
          rate: best / 2,
          seconds: SECONDS,
          warmSeconds: WARM_SECONDS,
        });
        console.log(
          `  open loop at ${fmt(open.rate)} req/s (half of ${fmt(best)}): p50 ${fmt(open.p50, 2)} ms p99 ${fmt(open.p99, 2)} ms, errors ${open.bad}`,
        );
      } finally {
        await svc.stop();
      }
    }

    const pgRedis = configs.find((c) => c.name === "Postgres + Redis");
    if (pgRedis) {
      console.log("\n[workers] Postgres + Redis, memo on, closed loop, rounds alternating worker counts");
      // One service at a time, started afresh each round (so no writer finds the chain moved by an
      // idle sibling's last round), warmed up for 3 s: each worker has its own JIT to warm.
      const rates = new Map<number, number[]>(WORKER_COUNTS.map((w) => [w, []]));
      for (let round = 1; round <= ROUNDS; round++) {
        for (const workers of WORKER_COUNTS) {
          const svc = await startLocalService(ADMIN, {
            ...pgRedis.env,
            WORKERS: String(workers),
            LOG_LEVEL: "error",
          });
          try {
            const { serviceKey } = await prepare(svc.base);
            const auth = { Authorization: `Bearer ${serviceKey}` };
            const url = `${svc.base}/api/v1/access/resolve`;
            await wrk(url, decisionBody, auth, 3);
            const r = await wrk(url, decisionBody, auth);
            rates.get(workers)!.push(r.rps);
            console.log(
              `  round ${round} WORKERS=${workers}: ${fmt(r.rps)} req/s p50 ${fmt(r.p50, 2)} ms p99 ${fmt(r.p99, 2)} ms, errors ${r.bad}${r.why ? ` (${r.why})` : ""}`,
            );
          } finally {
            await svc.stop();
          }
        }
      }
      const base = rates.get(WORKER_COUNTS[0]!)!;
      for (const workers of WORKER_COUNTS.slice(1)) {
        const ratios = rates.get(workers)!.map((rps, i) => rps / base[i]!);
        console.log(
          `  WORKERS=${workers} vs ${WORKER_COUNTS[0]}, round by round: ${ratios.map((x) => `${fmt(x, 2)}×`).join(", ")}`,
        );
      }
    }
  } finally {
    await stopChild(opaProc);
  }
  if (summary.length === 0) return;
  console.log(
    "\nconfig\tround\tOPA req/s\tResidency req/s\tratio\tOPA p99 ms\tResidency p99 ms\tservice µs/decision\tpostgres µs/decision",
  );
  for (const line of summary) console.log(line);
}

await main();
