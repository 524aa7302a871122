// Generates a long audit log directly in the database, correctly chained, with signed
// checkpoints; then measures verify-from-checkpoint and the full verify job on it, optionally
// archives the oldest partition, drops it and verifies both the archive (offline) and the online
// chain. Not part of `make test` (the suite runs the same code on a few hundred records).
//
//   DATABASE_URL=postgres://… node --import tsx scripts/generate-audit-log.ts [--records 10000000]
//     [--checkpoint-every 10000] [--chunk 2000] [--archive <dir>] [--keep]
//
// Runs in a schema of its own (printed), dropped at the end unless --keep. The records are
// compact decision records (~250-byte payloads, not the service's full evaluation context) so ten
// million of them fit in a few GB; the chain, checkpoints and partitions are exactly the service's.
// The hashing happens in PL/pgSQL (sha256 over prev_hash ‖ canonical JSON, the same text the
// service hashes), one chunk per transaction.

import { generateKeyPairSync, randomBytes } from "node:crypto";
import { mkdir, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import pg from "pg";
import { insertCheckpoint } from "../src/audit/audit-log.ts";
import { GENESIS_HASH } from "../src/audit/canonical.ts";
import {
  ed25519PublicKey,
  ed25519Signer,
  GENESIS_CHECKPOINT_HASH,
  makeCheckpoint,
} from "../src/audit/checkpoint.ts";
import { listPartitions } from "../src/audit/retention.ts";
import { verifyFromCheckpoint } from "../src/audit/verify.ts";
import { createVerifyJobs } from "../src/audit/verify-job.ts";
import { createPostgresDb } from "../src/store/db-postgres.ts";
import { migrate } from "../src/store/migrate.ts";

const { values: flags } = parseArgs({
  options: {
    records: { type: "string", default: "10000000" },
    "checkpoint-every": { type: "string", default: "10000" },
    chunk: { type: "string", default: "2000" },
    archive: { type: "string" },
    keep: { type: "boolean", default: false },
  },
});
const url = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";
const total = Number(flags.records);
const every = Number(flags["checkpoint-every"]);
const chunk = Number(flags.chunk);
// A tail after the last checkpoint, as a live log has: what verify-from-checkpoint walks.
const tail = Math.min(3_456, Math.floor(every / 2));
const schema = `audit_gen_${randomBytes(4).toString("hex")}`;
const log = (line: string) => process.stdout.write(`${line}\n`);
const fmt = (n: number) => n.toLocaleString("en-US");

// One record's canonical JSON, exactly as canonicalRecordJson prints it (keys sorted, ASCII
// values, so quoting is plain). The payload is its own function: the INSERT stores that text.
const FUNCTIONS = `
CREATE FUNCTION gen_payload(s bigint) RETURNS text LANGUAGE sql IMMUTABLE AS $f$
  SELECT '{"decision":{"allowed":' || CASE WHEN s % 7 = 0 THEN 'false' ELSE 'true' END
    || ',"legal_regions":["eu-central","eu-west"],"permitted_regions":["eu-west"],"reason_code":"'
    || CASE WHEN s % 7 = 0 THEN 'DENY_REGION_NOT_PERMITTED' ELSE 'ALLOW_PRIMARY' END
    || '","target_region":' || CASE WHEN s % 7 = 0 THEN 'null' ELSE '"eu-west"' END
    || '},"request":{"learner_id":"learner-' || (s % 5003) || '","operation_type":"'
    || CASE WHEN s % 3 = 0 THEN 'write' ELSE 'read' END
    || '","resource_id":"doc-' || s || '","resource_type":"document","tenant_id":"tenant-' || (s % 97) || '"}}'
$f$;

CREATE FUNCTION gen_at(s bigint, base timestamptz) RETURNS timestamptz LANGUAGE sql IMMUTABLE AS $f$
  SELECT base + s * interval '8 milliseconds'
$f$;

CREATE FUNCTION gen_chunk(from_seq bigint, n int, prev text, base timestamptz) RETURNS text LANGUAGE plpgsql AS $f$
DECLARE
  hashes text[] := ARRAY[prev];
  h text := prev;
  s bigint;
  canon text;
BEGIN
  FOR i IN 0 .. n - 1 LOOP
    s := from_seq + i;
    canon := '{"actor":"svc-gen","bundle_revision":"rev-gen","event_id":"gen-' || s
      || '","learner_id":"learner-' || (s % 5003)
      || '","occurred_at":"' || to_char(gen_at(s, base) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
      || '","payload":' || gen_payload(s)
      || ',"policy_id":"pol-' || (s % 97) || '","policy_version":1,"request_id":"req-' || s
      || '","seq":' || s || ',"tenant_id":"tenant-' || (s % 97) || '","type":"decision.access"}';
    h := encode(sha256(convert_to(h || canon, 'UTF8')), 'hex');
    hashes[i + 2] := h;
  END LOOP;
  INSERT INTO audit_log (seq, event_id, type, occurred_at, tenant_id, learner_id, actor, request_id,
    bundle_revision, policy_id, policy_version, payload, prev_hash, hash, logged_on)
  SELECT g.v, 'gen-' || g.v, 'decision.access', gen_at(g.v, base), 'tenant-' || (g.v % 97), 'learner-' || (g.v % 5003),
    'svc-gen', 'req-' || g.v, 'rev-gen', 'pol-' || (g.v % 97), 1, gen_payload(g.v)::json,
    hashes[g.v - from_seq + 1], hashes[g.v - from_seq + 2], (gen_at(g.v, base) AT TIME ZONE 'UTC')::date
  FROM generate_series(from_seq, from_seq + n - 1) AS g(v);
  RETURN h;
END
$f$;
`;

async function main() {
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  const db = await createPostgresDb({ connectionString: url, schema, max: 4 });
  log(`schema ${schema}: ${fmt(total)} records, a checkpoint every ${fmt(every)}`);
  try {
    await migrate(db);
    await db.exec(FUNCTIONS);
    // The log spans the day before now (8 ms apart: ~10.8 M records a day), so it has partitions.
    const base = new Date(Date.now() - total * 8 - 60_000);
    const days = new Set<string>();
    for (let t = base.getTime(); t <= Date.now() + 86_400_000; t += 86_400_000) {
      days.add(new Date(t).toISOString().slice(0, 10));
    }
    for (const day of days) await db.query("SELECT audit_log_partition($1::date)", [day]);

    let prev = GENESIS_HASH;
    const started = performance.now();
    for (let from = 1; from <= total; from += chunk) {
      const n = Math.min(chunk, total - from + 1);
      const { rows } = await db.query<{ h: string }>("SELECT gen_chunk($1, $2, $3, $4) AS h", [
        from,
        n,
        prev,
        base,
      ]);
      prev = rows[0]!.h;
      const done = from + n - 1;
      if (done % 500_000 < n || done === total) {
        const s = (performance.now() - started) / 1000;
        log(`  generated ${fmt(done)} (${Math.round(done / s).toLocaleString("en-US")} records/s)`);
      }
    }
    const genSeconds = (performance.now() - started) / 1000;

    // Checkpoints every `every` records and at each partition's end (retention drops whole
    // partitions, and an archive must end on a checkpoint), signed like the service signs them.
    const { privateKey } = generateKeyPairSync("ed25519");
    const privatePem = privateKey.export({ type: "pkcs8", format: "pem" }).toString();
    const signer = ed25519Signer(privatePem);
    // Each partition's last seq (an index lookup per partition, not a scan of ten million rows).
    const dayEnds = (await listPartitions(db)).map((p) => p.last_seq).filter((s): s is number => s !== null);
    const bounds = new Set<number>(dayEnds.filter((s) => s <= total - tail));
    for (let s = every; s <= total - tail; s += every) bounds.add(s);
    const ends = [...bounds].sort((a, b) => a - b);
    const cpStarted = performance.now();
    let previous = { hash: GENESIS_CHECKPOINT_HASH, last_seq: 0 };
    for (let i = 0; i < ends.length; i += 1000) {
      const slice = ends.slice(i, i + 1000);
      const { rows } = await db.query<{ at: string; hash: string }>(
        "SELECT seq::text AS at, hash FROM audit_log WHERE seq = ANY($1::bigint[]) ORDER BY seq",
        [slice],
      );
      await db.transaction(async (tx) => {
        for (const row of rows) {
          const c = makeCheckpoint(
            i + rows.indexOf(row) + 1,
            {
              first_seq: previous.last_seq + 1,
              last_seq: Number(row.at),
              head_hash: row.hash,
              previous_checkpoint_hash: previous.hash,
              created_at: new Date().toISOString(),
            },
            signer,
          );
          await insertCheckpoint(tx, c);
          previous = c;
        }
      });
    }
    const size = await db.query<{ bytes: string }>(
      "SELECT sum(pg_total_relation_size(c.oid))::text AS bytes FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'audit_log'::regclass",
    );
    log(
      `generated ${fmt(total)} records in ${genSeconds.toFixed(0)} s (${fmt(Math.round(total / genSeconds))}/s), ` +
        `${fmt(ends.length)} signed checkpoints in ${((performance.now() - cpStarted) / 1000).toFixed(1)} s; ` +
        `audit_log ${(Number(size.rows[0]!.bytes) / 1e9).toFixed(2)} GB on disk`,
    );

    const publicKey = ed25519PublicKey(signer.publicKey.export({ type: "spki", format: "pem" }).toString());
    for (let i = 0; i < 3; i++) {
      const t0 = performance.now();
      const r = await verifyFromCheckpoint(db, { publicKey });
      log(
        `verify from checkpoint: ok=${r.ok} checked=${r.checked} from checkpoint ${r.checkpoint?.id} ` +
          `(seq ${r.checkpoint?.last_seq}) head_seq=${r.head_seq} in ${(performance.now() - t0).toFixed(0)} ms`,
      );
    }

    const jobs = createVerifyJobs({ db, publicKey });
    const job = jobs.start();
    log(`full verify job ${job.job_id} started`);
    const ticker = setInterval(() => {
      const v = jobs.get(job.job_id)!;
      log(
        `  ${v.state} ${fmt(v.checked)}/${fmt(v.head_seq - v.from_seq)} (${v.percent}%) ${fmt(v.rate_per_s)} records/s, eta ${v.eta_s ?? "?"} s`,
      );
    }, 15_000);
    await jobs.idle();
    clearInterval(ticker);
    const v = jobs.get(job.job_id)!;
    log(
      `full verify job: ${v.state} ok=${v.ok} checked=${fmt(v.checked)} checkpoints=${fmt(v.checkpoints_checked)} ` +
        `rate=${fmt(v.rate_per_s)} records/s (${v.started_at} → ${v.finished_at})`,
    );

    if (flags.archive) {
      const { archiveOldestPartitions } = await import("../src/audit/retention.ts");
      const { directoryTarget } = await import("../src/audit/archive.ts");
      const dir = resolve(flags.archive);
      await mkdir(dir, { recursive: true });
      await writeFile(
        join(dir, "public-key.pem"),
        signer.publicKey.export({ type: "spki", format: "pem" }).toString(),
      );
      const t0 = performance.now();
      const archived = await archiveOldestPartitions(db, {
        target: directoryTarget(dir),
        publicKey,
        retentionDays: 0,
      });
      log(
        `archived and dropped ${JSON.stringify(archived)} in ${((performance.now() - t0) / 1000).toFixed(0)} s → ${dir}`,
      );
      const t1 = performance.now();
      const after = await verifyFromCheckpoint(db, { publicKey });
      log(
        `after the drop, verify from checkpoint: ok=${after.ok} in ${(performance.now() - t1).toFixed(0)} ms`,
      );
      const { run } = await import("../src/cli/main.ts");
      let out = "";
      const t2 = performance.now();
      const code = await run(["audit", "verify", dir, "--public-key", join(dir, "public-key.pem")], {
        stdout: { write: (t: string) => (out += t) },
        stderr: { write: (t: string) => (out += t) },
        env: {},
        cwd: process.cwd(),
      });
      log(
        `offline: residency audit verify ${dir} --public-key …/public-key.pem → exit ${code} in ${((performance.now() - t2) / 1000).toFixed(1)} s`,
      );
      for (const line of out.trim().split("\n")) log(`  ${line}`);
    }
  } finally {
    await db.close();
    if (!flags.keep) {
      await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      log(`schema ${schema} dropped`);
    } else log(`schema ${schema} kept`);
    await admin.end();
  }
}

await main();
