// Hot-reload benchmark: decisions/s and latency through the real service process, first with a
// steady bundle, then while the bundle is swapped back and forth every BENCH_SWAP_MS (each swap a
// real PUT /api/v1/bundles: verify, self-check, store in Postgres, swap). Prints p99 during swaps
// beside p99 without, the non-2xx count, and how many answers each revision gave.
//
//   node --import tsx bench/hot-reload.ts   (DATABASE_URL/REDIS_URL honoured; default embedded PGlite)
//   BENCH_SECONDS=10 BENCH_CONNECTIONS=64 BENCH_SWAP_MS=250

import { readFileSync } from "node:fs";
import type autocannon from "autocannon";
import { loadPost, startLocalService } from "../scripts/lib/local-server.ts";
import { revisionOf as manifestRevision } from "../src/bundles/bundle-facts.ts";
import { readTarGz, writeTarGz } from "../src/bundles/tar.ts";

const DURATION = Number(process.env.BENCH_SECONDS ?? 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 64);
const SWAP_MS = Number(process.env.BENCH_SWAP_MS ?? 250);
const ADMIN = "bench-admin-key-0123456789abcdefghij";
const BUNDLE = process.env.BUNDLE_PATH ?? "bundles/residency.tar.gz";

/** The same bundle under another revision: a different sha256, so every PUT is a real swap. */
async function withRevision(bytes: Buffer, revision: string): Promise<Buffer> {
  const files = await readTarGz(bytes);
  const manifest = JSON.parse(files.get(".manifest")!.toString("utf8")) as { revision: string };
  files.set(".manifest", Buffer.from(JSON.stringify({ ...manifest, revision }), "utf8"));
  return writeTarGz(files);
}

const original = readFileSync(BUNDLE);
const revisionA = (await manifestRevision(original))!;
const revisionB = `${revisionA}-bench-b`;
const bundles = [await withRevision(original, revisionB), original];

const service = await startLocalService(ADMIN, { REDIS_PREFIX: `residency-bench-${process.pid}:` });
const { base, admin: call } = service;
const swap = async (bytes: Buffer) => {
  const res = await fetch(`${base}/api/v1/bundles`, {
    method: "PUT",
    headers: { authorization: `Bearer ${ADMIN}`, "content-type": "application/gzip" },
    body: new Uint8Array(bytes),
  });
  if (res.status >= 300) throw new Error(`swap answered ${res.status}: ${await res.text()}`);
};
await call("/api/v1/policies", {
  tenant_id: "bench",
  primary_region: "eu-west",
  allowed_regions: ["eu-central", "ca-central"],
  compliance_frameworks: ["gdpr"],
  data_retention_days: 365,
});
const key = (await call("/api/v1/keys", { principal: "bench", roles: ["service"] })).key as string;
const body = JSON.stringify({
  tenant_id: "bench",
  operation_type: "read",
  resource_type: "document",
  resource_id: "doc-1",
  requested_region: "eu-central",
});

const perRevision = new Map<string, number>();
const revisionOf = /"bundle_revision":"([^"]*)"/;
const load = (seconds: number, count: boolean) =>
  loadPost({
    url: `${base}/api/v1/access/resolve`,
    headers: { authorization: `Bearer ${key}` },
    body,
    connections: CONNECTIONS,
    seconds,
    ...(count
      ? {
          onResponse: (_status: number, text: string) => {
            const revision = revisionOf.exec(text)?.[1] ?? "(none)";
            perRevision.set(revision, (perRevision.get(revision) ?? 0) + 1);
          },
        }
      : {}),
  });

// Both bundles stored once before measuring, so the first swaps are not the first uploads.
await swap(bundles[0]!);
await swap(bundles[1]!);
await load(2, false); // warm-up
const steady = await load(DURATION, false);

let swapping = true;
let swaps = 0;
const swapTimes: number[] = [];
const swapper = (async () => {
  while (swapping) {
    const started = performance.now();
    await swap(bundles[swaps % 2]!);
    swapTimes.push(performance.now() - started);
    swaps++;
    await new Promise((r) => setTimeout(r, SWAP_MS));
  }
})();
const during = await load(DURATION, true);
swapping = false;
await swapper;

await service.stop();

const store = process.env.DATABASE_URL ? "Postgres" : "PGlite (embedded)";
const row = (label: string, r: autocannon.Result) =>
  `${label.padEnd(32)} ${Math.round(r.requests.average).toLocaleString("en-US").padStart(7)} req/s   p50 ${String(r.latency.p50).padStart(3)} ms   p99 ${String(r.latency.p99).padStart(3)} ms   max ${String(r.latency.max).padStart(4)} ms   non-2xx ${r.non2xx}   errors ${r.errors}`;
swapTimes.sort((a, b) => a - b);
console.log(
  `\nhot-reload benchmark · ${CONNECTIONS} connections · ${DURATION}s each · store ${store} · bundle ${Math.round(original.length / 1024)} KB`,
);
console.log(row("without swaps", steady));
console.log(row(`during ${swaps} swaps (every ${SWAP_MS} ms)`, during));
console.log(
  `p99 during swaps ${during.latency.p99} ms vs ${steady.latency.p99} ms without · swap (PUT → 201) median ${swapTimes[swapTimes.length >> 1]?.toFixed(0)} ms, max ${swapTimes.at(-1)?.toFixed(0)} ms`,
);
console.log(
  `answers per revision during swaps: ${[...perRevision].map(([r, n]) => `${r} ${n.toLocaleString("en-US")}`).join(" · ")}`,
);
if (during.non2xx > 0 || during.errors > 0) process.exitCode = 1;
