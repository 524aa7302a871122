// Writing a range of the chain to an archive (docs/decisions/0007): a local directory on embedded
// defaults, or an S3-compatible bucket (endpoints/archive-s3.ts). The range ends on a checkpoint and each
// segment is one checkpoint's range, so the archive verifies offline against signed statements.
// Nothing is recorded as archived until the files were read back from where they were written and
// verified by the same code an auditor runs (archive-format.ts).

import type { KeyObject } from "node:crypto";
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { promisify } from "node:util";
import { gzip } from "node:zlib";
import { AppError } from "../errors.ts";
import type { Queryable } from "../store/db.ts";
import {
  ARCHIVE_FORMAT,
  type ArchiveFiles,
  type ArchiveManifest,
  CHECKPOINTS_FILE,
  CONTEXTS_FILE,
  MANIFEST_FILE,
  type SegmentEntry,
  segmentFile,
  sha256Hex,
  verifyArchive,
} from "./archive-format.ts";
import { GENESIS_HASH } from "./canonical.ts";
import { type Checkpoint, GENESIS_CHECKPOINT_HASH } from "./checkpoint.ts";
import { CHECKPOINT_COLUMNS, type CheckpointRow, type HashRow, toCheckpoint } from "./verify.ts";

const gzipAsync = promisify(gzip);

/** One archive's files where they are kept. */
export type ArchiveStore = ArchiveFiles & {
  /** Where it is, as the query API names it: `file:///…/name/` or `s3://bucket/prefix/name/`. */
  location: string;
  write(name: string, bytes: Buffer): Promise<void>;
};

/** Where archives go: a directory, a bucket. */
export type ArchiveTarget = { open(archiveName: string): ArchiveStore };

export function directoryTarget(root: string): ArchiveTarget {
  const base = resolve(root);
  return {
    open(archiveName) {
      const dir = join(base, archiveName);
      return {
        location: `file://${dir}/`,
        async write(name, bytes) {
          const path = join(dir, name);
          await mkdir(dirname(path), { recursive: true });
          const temp = `${path}.tmp-${process.pid}`;
          await writeFile(temp, bytes, { flag: "wx" });
          await rename(temp, path);
        },
        async read(name) {
          try {
            return await readFile(join(dir, name));
          } catch (err) {
            if ((err as NodeJS.ErrnoException).code === "ENOENT") return null;
            throw err;
          }
        },
      };
    },
  };
}

export type ArchiveEntry = {
  id: number;
  first_seq: number;
  last_seq: number;
  first_occurred_at: string;
  last_occurred_at: string;
  prev_hash: string;
  head_hash: string;
  partition_name: string | null;
  location: string;
  manifest_sha256: string;
  created_at: string;
  dropped_at: string | null;
};

type ArchiveRow = Omit<
  ArchiveEntry,
  "id" | "first_seq" | "last_seq" | "first_occurred_at" | "last_occurred_at" | "created_at" | "dropped_at"
> & {
  id: number | bigint;
  first_seq: number | bigint;
  last_seq: number | bigint;
  first_occurred_at: Date | string;
  last_occurred_at: Date | string;
  created_at: Date | string;
  dropped_at: Date | string | null;
};

const ARCHIVE_COLUMNS =
  "id, first_seq, last_seq, first_occurred_at, last_occurred_at, prev_hash, head_hash, partition_name, location, manifest_sha256, created_at, dropped_at";

const iso = (v: Date | string) => new Date(v).toISOString();

function toEntry(row: ArchiveRow): ArchiveEntry {
  return {
    ...row,
    id: Number(row.id),
    first_seq: Number(row.first_seq),
    last_seq: Number(row.last_seq),
    first_occurred_at: iso(row.first_occurred_at),
    last_occurred_at: iso(row.last_occurred_at),
    created_at: iso(row.created_at),
    dropped_at: row.dropped_at === null ? null : iso(row.dropped_at),
  };
}

export async function listArchives(db: Queryable): Promise<ArchiveEntry[]> {
  const { rows } = await db.query<ArchiveRow>(
    `SELECT ${ARCHIVE_COLUMNS} FROM audit_archives ORDER BY first_seq`,
  );
  return rows.map(toEntry);
}

/** A record as one JSON line, its payload spliced in as the exact stored (canonical) text. */
function recordLine(r: HashRow): string {
  const head = JSON.stringify({
    seq: Number(r.seq),
    event_id: r.event_id,
    type: r.type,
    occurred_at: iso(r.occurred_at),
    tenant_id: r.tenant_id,
    learner_id: r.learner_id,
    actor: r.actor,
    request_id: r.request_id,
    bundle_revision: r.bundle_revision,
    policy_id: r.policy_id,
    policy_version: r.policy_version,
    prev_hash: r.prev_hash,
    hash: r.hash,
  });
  return `${head.slice(0, -1)},"payload":${r.payload_text}}\n`;
}

const PAGE = 5000;
const CONTEXT_REF = /"context_sha256":"([0-9a-f]{64})"/;

/**
 * Archives (after the last archive, lastSeq] — lastSeq must end a checkpoint — to `target`, reads
 * it back, verifies it, and records it in audit_archives. Rows stay in the database (see
 * dropArchivedPartition).
 */
export async function archiveRange(
  db: Queryable,
  options: {
    target: ArchiveTarget;
    lastSeq: number;
    publicKey: KeyObject | null;
    partition?: string | null;
    clock?: () => Date;
  },
): Promise<ArchiveEntry> {
  const clock = options.clock ?? (() => new Date());
  const previous = (
    await db.query<ArchiveRow>(`SELECT ${ARCHIVE_COLUMNS} FROM audit_archives ORDER BY last_seq DESC LIMIT 1`)
  ).rows.map(toEntry)[0];
  const after = previous?.last_seq ?? 0;
  const { rows: cpRows } = await db.query<CheckpointRow>(
    `SELECT ${CHECKPOINT_COLUMNS} FROM audit_checkpoints WHERE last_seq >= $1 AND last_seq <= $2 ORDER BY last_seq`,
    [after, options.lastSeq],
  );
  const all = cpRows.map(toCheckpoint);
  const before: Checkpoint | null = after > 0 ? (all.find((c) => c.last_seq === after) ?? null) : null;
  const checkpoints = all.filter((c) => c.last_seq > after);
  if (after > 0 && !before) throw conflict(`no checkpoint ends at seq ${after}, where the last archive ends`);
  if (
    checkpoints.length === 0 ||
    checkpoints[0]!.first_seq !== after + 1 ||
    checkpoints[checkpoints.length - 1]!.last_seq !== options.lastSeq
  ) {
    throw conflict(`seq ${after + 1}–${options.lastSeq} does not end on a checkpoint`);
  }

  const id = (previous?.id ?? 0) + 1;
  const name = `${String(id).padStart(6, "0")}-seq-${after + 1}-${options.lastSeq}`;
  const store = options.target.open(name);
  const segments: SegmentEntry[] = [];
  let firstAt: string | null = null;
  let lastAt: string | null = null;
  let records = 0;
  const refs = new Set<string>();
  for (let i = 0; i < checkpoints.length; i++) {
    const c = checkpoints[i]!;
    let text = "";
    let count = 0;
    for (let from = c.first_seq - 1; from < c.last_seq; ) {
      const { rows } = await db.query<HashRow>(
        `SELECT seq, event_id, type, occurred_at, tenant_id, learner_id, actor, request_id, bundle_revision,
                policy_id, policy_version, payload::text AS payload_text, prev_hash, hash
           FROM audit_log WHERE seq > $1 AND seq <= $2 ORDER BY seq LIMIT $3`,
        [from, c.last_seq, PAGE],
      );
      if (rows.length === 0) break;
      for (const row of rows) {
        text += recordLine(row);
        // Compact records name their context; a regex on the canonical text is enough to find it.
        const ref = CONTEXT_REF.exec(row.payload_text);
        if (ref) refs.add(ref[1]!);
        // Earliest and latest, not first and last: occurred_at is the caller's clock.
        const at = iso(row.occurred_at);
        if (firstAt === null || at < firstAt) firstAt = at;
        if (lastAt === null || at > lastAt) lastAt = at;
      }
      count += rows.length;
      from = Number(rows[rows.length - 1]!.seq);
    }
    if (count !== c.last_seq - c.first_seq + 1) {
      throw conflict(`seq ${c.first_seq}–${c.last_seq} is incomplete in the database (${count} records)`);
    }
    const bytes = await gzipAsync(Buffer.from(text, "utf8"));
    const file = segmentFile(i + 1);
    await store.write(file, bytes);
    segments.push({
      file,
      checkpoint_id: c.id,
      first_seq: c.first_seq,
      last_seq: c.last_seq,
      records: count,
      bytes: bytes.length,
      sha256: sha256Hex(bytes),
    });
    records += count;
  }
  let contextsEntry: ArchiveManifest["contexts"] = null;
  if (refs.size > 0) {
    const { rows } = await db.query<{ sha256: string; body: string }>(
      "SELECT sha256, body::text AS body FROM audit_contexts WHERE sha256 = ANY($1::text[]) ORDER BY sha256",
      [[...refs]],
    );
    const text = rows.map((r) => `{"sha256":"${r.sha256}","body":${r.body}}\n`).join("");
    const bytes = await gzipAsync(Buffer.from(text, "utf8"));
    await store.write(CONTEXTS_FILE, bytes);
    contextsEntry = { file: CONTEXTS_FILE, count: rows.length, sha256: sha256Hex(bytes) };
  }
  const checkpointText = checkpoints.map((c) => `${JSON.stringify(c)}\n`).join("");
  await store.write(CHECKPOINTS_FILE, Buffer.from(checkpointText, "utf8"));
  const prevHash =
    after === 0
      ? GENESIS_HASH
      : ((await db.query<{ hash: string }>("SELECT hash FROM audit_log WHERE seq = $1", [after])).rows[0]
          ?.hash ?? previous!.head_hash);
  const manifest: ArchiveManifest = {
    format: ARCHIVE_FORMAT,
    first_seq: after + 1,
    last_seq: options.lastSeq,
    prev_hash: prevHash,
    head_hash: checkpoints[checkpoints.length - 1]!.head_hash,
    first_occurred_at: firstAt!,
    last_occurred_at: lastAt!,
    records,
    previous_checkpoint_hash: before?.hash ?? GENESIS_CHECKPOINT_HASH,
    partition: options.partition ?? null,
    created_at: clock().toISOString(),
    key_id: checkpoints[0]!.key_id,
    checkpoints: { file: CHECKPOINTS_FILE, count: checkpoints.length, sha256: sha256Hex(checkpointText) },
    contexts: contextsEntry,
    segments,
  };
  const manifestBytes = Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`, "utf8");
  await store.write(MANIFEST_FILE, manifestBytes);

  // Read it back from where it went, and check it as an auditor would.
  const report = await verifyArchive(store, { name, publicKey: options.publicKey });
  if (!report.ok || report.head_hash !== manifest.head_hash || report.records_checked !== records) {
    throw new AppError(
      "AUDIT_UNAVAILABLE",
      `archive ${name} did not verify on read-back: ${report.findings.map((f) => f.message).join("; ") || "incomplete"}`,
    );
  }

  const entry: ArchiveEntry = {
    id,
    first_seq: manifest.first_seq,
    last_seq: manifest.last_seq,
    first_occurred_at: manifest.first_occurred_at,
    last_occurred_at: manifest.last_occurred_at,
    prev_hash: manifest.prev_hash,
    head_hash: manifest.head_hash,
    partition_name: manifest.partition,
    location: store.location,
    manifest_sha256: sha256Hex(manifestBytes),
    created_at: manifest.created_at,
    dropped_at: null,
  };
  await db.query(
    `INSERT INTO audit_archives (${ARCHIVE_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, NULL)`,
    [
      entry.id,
      entry.first_seq,
      entry.last_seq,
      entry.first_occurred_at,
      entry.last_occurred_at,
      entry.prev_hash,
      entry.head_hash,
      entry.partition_name,
      entry.location,
      entry.manifest_sha256,
      entry.created_at,
    ],
  );
  return entry;
}

function conflict(message: string): AppError {
  return new AppError("CONFLICT", message);
}
