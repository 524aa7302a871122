// HTTP benchmark: audited decisions/s through the real service process, beside a bare node:http
// JSON server doing nothing (the floor the HTTP layer costs on this machine), and the policy
// evaluation time taken from the service's own histogram — so the report shows each layer's share.
//
//   node --import tsx bench/http.ts      (DATABASE_URL/REDIS_URL honoured; default embedded PGlite)

import { spawn } from "node:child_process";
import {
  freePort,
  loadPost,
  startLocalService,
  stopChild,
  waitForHttp,
} from "../scripts/lib/local-server.ts";
import { DECISION_BODY } from "./decision-request.ts";
import { BARE_NODE_HTTP } from "./floor-servers.ts";

const DURATION = Number(process.env.BENCH_SECONDS ?? 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 64);
const ADMIN = "bench-admin-key-0123456789abcdefghij";

async function load(url: string, headers: Record<string, string>, body: string) {
  const result = await loadPost({ url, headers, body, connections: CONNECTIONS, seconds: DURATION });
  return {
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors,
  };
}

const body = DECISION_BODY;

// 1. The floor: bare node:http parsing the same JSON body.
const barePort = await freePort();
const bare = spawn(process.execPath, ["-e", BARE_NODE_HTTP], {
  env: { ...process.env, PORT: String(barePort) },
  stdio: "inherit",
});
await waitForHttp(`http://127.0.0.1:${barePort}/`);
const floor = await load(`http://127.0.0.1:${barePort}/`, {}, body);
await stopChild(bare);

// 2. The service: auth, zod, context (cached), wasm evaluation, infrastructure, audit commit.
const service = await startLocalService(ADMIN);
const { base, admin: call } = service;
await call("/api/v1/policies", {
  tenant_id: "bench",
  primary_region: "eu-west",
  allowed_regions: ["eu-central", "ca-central"],
  compliance_frameworks: ["gdpr", "ferpa"],
  override_permitted: true,
  data_retention_days: 365,
});
await call("/api/v1/policies", {
  tenant_id: "bench",
  learner_id: "learner-1",
  learner_age: 15,
  prohibited_regions: ["apac-east"],
});
const key = (await call("/api/v1/keys", { principal: "bench", roles: ["service"] })).key as string;
const full = await load(`${base}/api/v1/access/resolve`, { authorization: `Bearer ${key}` }, body);
const metrics = await (await fetch(`${base}/metrics`)).text();
const metric = (name: string) =>
  Number(new RegExp(`^${name}\\{entrypoint="residency/decision"\\} (\\S+)`, "m").exec(metrics)?.[1] ?? NaN);
const evalMeanUs =
  (metric("residency_policy_eval_duration_seconds_sum") /
    metric("residency_policy_eval_duration_seconds_count")) *
  1e6;
const batch = /^residency_audit_batch_size_sum (\S+)$/m.exec(metrics)?.[1];
const batches = /^residency_audit_batch_size_count (\S+)$/m.exec(metrics)?.[1];
await service.stop();

const perRequestUs = (rps: number) => (1e6 / rps) * 1; // server CPU-time budget per request at that rate
const store = process.env.DATABASE_URL ? "Postgres" : "PGlite (embedded)";
console.log(`\nHTTP benchmark · ${CONNECTIONS} connections · ${DURATION}s each · store ${store}`);
console.log(
  `bare node:http JSON POST      ${Math.round(floor.rps).toLocaleString("en-US").padStart(8)} req/s   p50 ${floor.p50} ms   p99 ${floor.p99} ms`,
);
console.log(
  `POST /api/v1/access/resolve   ${Math.round(full.rps).toLocaleString("en-US").padStart(8)} req/s   p50 ${full.p50} ms   p99 ${full.p99} ms   non-2xx ${full.non2xx}   errors ${full.errors}`,
);
console.log(`policy (memo hit or wasm evaluation), mean ${evalMeanUs.toFixed(1)} µs per decision`);
if (batch && batches)
  console.log(
    `audit group commit: mean ${(Number(batch) / Number(batches)).toFixed(1)} records per transaction`,
  );
const total = perRequestUs(full.rps);
const http = perRequestUs(floor.rps);
console.log(
  `share of a decision's time: HTTP floor ${((http / total) * 100).toFixed(0)}% · policy evaluation ${((evalMeanUs / total) * 100).toFixed(0)}% · the rest (auth, zod, context, audit, JSON) ${(((total - http - evalMeanUs) / total) * 100).toFixed(0)}%`,
);
