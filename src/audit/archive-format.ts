// The audit archive format and its verifier (docs/decisions/0007). No store, no network: this is
// what `residency audit verify` runs on an auditor's machine, and what the service runs on an
// archive it has just written and read back, before it drops anything.
//
//   <archive>/manifest.json              what the archive holds (a convenience, not the authority)
//   <archive>/checkpoints.jsonl          the checkpoints covering the range, one per line, in order
//   <archive>/segments/000001.jsonl.gz   the records of checkpoint 1's range, one JSON object a line
//   <archive>/segments/000002.jsonl.gz   …
//
// The signed checkpoints are the authority: each names a seq range and the hash of its last
// record. Every checkpoint must be covered by exactly the segment holding that range, so a segment
// removed from the manifest is still missed, and a segment holding another range is out of order.

import { createHash, type KeyObject } from "node:crypto";
import { promisify } from "node:util";
import { gunzip } from "node:zlib";
import { canonicalJson, chainHashPreSerialized } from "./canonical.ts";
import { type Checkpoint, checkpointProblem, linkProblem } from "./checkpoint.ts";
import { contextRefOf } from "./contexts.ts";
import type { AuditRecord } from "./types.ts";

const gunzipAsync = promisify(gunzip);

export const ARCHIVE_FORMAT = "residency.audit.archive/1";
export const MANIFEST_FILE = "manifest.json";
export const CHECKPOINTS_FILE = "checkpoints.jsonl";
export const CONTEXTS_FILE = "contexts.jsonl.gz";

export type SegmentEntry = {
  file: string;
  checkpoint_id: number;
  first_seq: number;
  last_seq: number;
  records: number;
  bytes: number;
  sha256: string;
};

export type ArchiveManifest = {
  format: typeof ARCHIVE_FORMAT;
  /** The seq range, and the hash before its first record (prev_hash of first_seq). */
  first_seq: number;
  last_seq: number;
  prev_hash: string;
  head_hash: string;
  first_occurred_at: string;
  last_occurred_at: string;
  records: number;
  /** Hash of the checkpoint before the first one here (the genesis value for the first archive). */
  previous_checkpoint_hash: string;
  /** The Postgres partition the range came from, if it was one. */
  partition: string | null;
  created_at: string;
  key_id: string | null;
  checkpoints: { file: string; count: number; sha256: string };
  /** The evaluation contexts the records reference (compact records), one `{sha256, body}` a line. */
  contexts: { file: string; count: number; sha256: string } | null;
  segments: SegmentEntry[];
};

export const segmentFile = (index: number) => `segments/${String(index).padStart(6, "0")}.jsonl.gz`;

export const sha256Hex = (bytes: Buffer | string) => createHash("sha256").update(bytes).digest("hex");

/** Where an archive's files are read from: a directory, a bucket, the service's own read-back. */
export type ArchiveFiles = {
  /** The file's bytes, or null when it does not exist. */
  read(name: string): Promise<Buffer | null>;
};

export type FindingCode =
  | "manifest_unreadable"
  | "checkpoints_unreadable"
  | "checkpoint_invalid"
  | "checkpoint_range"
  | "segment_missing"
  | "segment_modified"
  | "segment_corrupt"
  | "segment_out_of_order"
  | "record_invalid"
  | "record_gap"
  | "record_broken_link"
  | "record_hash_mismatch"
  | "context_missing"
  | "context_mismatch"
  | "segment_head_mismatch"
  | "archive_discontinuous";

export type Finding = {
  code: FindingCode;
  /** One line naming exactly what is wrong and where. */
  message: string;
  file?: string;
  seq?: number;
  checkpoint_id?: number;
};

export type ArchiveReport = {
  ok: boolean;
  name: string;
  first_seq: number | null;
  last_seq: number | null;
  prev_hash: string | null;
  head_hash: string | null;
  records_checked: number;
  segments_checked: number;
  checkpoints_checked: number;
  /** Every checkpoint was signed and verified with the public key given. */
  signed: boolean;
  findings: Finding[];
  /** The checkpoints, for the caller linking archives to each other. */
  last_checkpoint_hash: string | null;
  previous_checkpoint_hash: string | null;
};

/** A record as a segment line holds it: the stored record, its time as an ISO string. */
type ArchivedRecord = Omit<AuditRecord, "occurred_at"> & { occurred_at: string };

const range = (a: number, b: number) => `seq ${a}–${b}`;

/** Checks one archive with nothing but its files and (optionally) the public key. */
export async function verifyArchive(
  files: ArchiveFiles,
  options: { name: string; publicKey: KeyObject | null },
): Promise<ArchiveReport> {
  const findings: Finding[] = [];
  const report: ArchiveReport = {
    ok: false,
    name: options.name,
    first_seq: null,
    last_seq: null,
    prev_hash: null,
    head_hash: null,
    records_checked: 0,
    segments_checked: 0,
    checkpoints_checked: 0,
    signed: false,
    findings,
    last_checkpoint_hash: null,
    previous_checkpoint_hash: null,
  };

  const manifestBytes = await files.read(MANIFEST_FILE);
  let manifest: ArchiveManifest;
  try {
    if (manifestBytes === null) throw new Error("missing");
    manifest = JSON.parse(manifestBytes.toString("utf8")) as ArchiveManifest;
    if (manifest.format !== ARCHIVE_FORMAT || !Array.isArray(manifest.segments))
      throw new Error(`not a ${ARCHIVE_FORMAT} manifest`);
  } catch (err) {
    findings.push({
      code: "manifest_unreadable",
      file: MANIFEST_FILE,
      message: `${MANIFEST_FILE}: ${(err as Error).message}`,
    });
    return report;
  }
  report.first_seq = manifest.first_seq;
  report.last_seq = manifest.last_seq;
  report.prev_hash = manifest.prev_hash;
  report.head_hash = manifest.head_hash;
  report.previous_checkpoint_hash = manifest.previous_checkpoint_hash;

  // 1. The checkpoints: each sound on its own, linked to the one before, contiguous.
  const checkpointsName = manifest.checkpoints?.file ?? CHECKPOINTS_FILE;
  const checkpointBytes = await files.read(checkpointsName);
  if (checkpointBytes === null) {
    findings.push({
      code: "checkpoints_unreadable",
      file: checkpointsName,
      message: `${checkpointsName} is missing`,
    });
    return report;
  }
  const checkpoints: Checkpoint[] = [];
  const lines = checkpointBytes
    .toString("utf8")
    .split("\n")
    .filter((l) => l !== "");
  for (let i = 0; i < lines.length; i++) {
    try {
      checkpoints.push(JSON.parse(lines[i]!) as Checkpoint);
    } catch (err) {
      findings.push({
        code: "checkpoints_unreadable",
        file: checkpointsName,
        message: `${checkpointsName} line ${i + 1}: not JSON (${(err as Error).message})`,
      });
      return report;
    }
  }
  let signedAll = options.publicKey !== null && checkpoints.length > 0;
  let previous: Checkpoint | null = null;
  for (const c of checkpoints) {
    const problem =
      checkpointProblem(c, options.publicKey) ??
      (previous
        ? linkProblem(previous, c)
        : c.previous_checkpoint_hash !== manifest.previous_checkpoint_hash
          ? "broken_link"
          : null);
    if (problem) {
      if (problem !== "broken_link" && problem !== "not_contiguous") signedAll = false;
      findings.push({
        code: "checkpoint_invalid",
        file: checkpointsName,
        checkpoint_id: c.id,
        message: `checkpoint ${c.id} (${range(c.first_seq, c.last_seq)}) in ${checkpointsName}: ${problem.replace("_", " ")}`,
      });
    }
    if (c.signature === null) signedAll = false;
    report.checkpoints_checked += 1;
    previous = c;
  }
  report.signed = signedAll;
  report.last_checkpoint_hash = previous?.hash ?? null;
  const first = checkpoints[0];
  const last = checkpoints[checkpoints.length - 1];
  if (!first || !last || first.first_seq !== manifest.first_seq || last.last_seq !== manifest.last_seq) {
    findings.push({
      code: "checkpoint_range",
      file: checkpointsName,
      message: `the checkpoints cover ${first && last ? range(first.first_seq, last.last_seq) : "nothing"}, the manifest says ${range(manifest.first_seq, manifest.last_seq)}`,
    });
  }

  // 2. The contexts compact records reference: each must hash to its name.
  const contexts = new Set<string>();
  if (manifest.contexts) {
    const file = manifest.contexts.file;
    const bytes = await files.read(file);
    let lines: string[] = [];
    try {
      if (bytes === null) throw new Error("is missing");
      lines = (await gunzipAsync(bytes))
        .toString("utf8")
        .split("\n")
        .filter((l) => l !== "");
    } catch (err) {
      findings.push({ code: "context_missing", file, message: `${file}: ${(err as Error).message}` });
    }
    lines.forEach((line, i) => {
      try {
        const { sha256, body } = JSON.parse(line) as { sha256: string; body: unknown };
        if (sha256Hex(canonicalJson(body)) !== sha256) {
          findings.push({
            code: "context_mismatch",
            file,
            message: `${file} line ${i + 1}: context ${sha256} does not match its hash`,
          });
        } else contexts.add(sha256);
      } catch {
        findings.push({ code: "context_mismatch", file, message: `${file} line ${i + 1} is not JSON` });
      }
    });
  }

  // 3. The segments, in checkpoint order: each must hold exactly its checkpoint's range.
  const byRange = new Map(manifest.segments.map((s) => [`${s.first_seq}-${s.last_seq}`, s]));
  let prevHash = manifest.prev_hash;
  for (const c of checkpoints) {
    const where = `checkpoint ${c.id}, ${range(c.first_seq, c.last_seq)}`;
    const entry = byRange.get(`${c.first_seq}-${c.last_seq}`);
    if (!entry) {
      findings.push({
        code: "segment_missing",
        checkpoint_id: c.id,
        seq: c.first_seq,
        message: `no segment in ${MANIFEST_FILE} holds ${where}`,
      });
      prevHash = c.head_hash;
      continue;
    }
    const label = `${entry.file} (${where})`;
    const bytes = await files.read(entry.file);
    if (bytes === null) {
      findings.push({
        code: "segment_missing",
        file: entry.file,
        checkpoint_id: c.id,
        seq: c.first_seq,
        message: `${label} is missing`,
      });
      prevHash = c.head_hash; // carry on from the signed hash: later segments are still checked
      continue;
    }
    report.segments_checked += 1;
    const modified = sha256Hex(bytes) !== entry.sha256;
    let text: string;
    try {
      text = (await gunzipAsync(bytes)).toString("utf8");
    } catch (err) {
      findings.push({
        code: "segment_corrupt",
        file: entry.file,
        checkpoint_id: c.id,
        message: `${label}: ${modified ? "sha256 differs from the manifest and " : ""}the gzip stream is corrupt (${(err as Error).message})`,
      });
      prevHash = c.head_hash;
      continue;
    }
    const records: ArchivedRecord[] = [];
    let unreadable = false;
    text
      .split("\n")
      .filter((l) => l !== "")
      .forEach((line, i) => {
        if (unreadable) return;
        try {
          records.push(JSON.parse(line) as ArchivedRecord);
        } catch {
          unreadable = true;
          findings.push({
            code: "record_invalid",
            file: entry.file,
            checkpoint_id: c.id,
            message: `${label}: line ${i + 1} is not JSON`,
          });
        }
      });
    if (unreadable) {
      prevHash = c.head_hash;
      continue;
    }
    const heldFirst = records[0]?.seq;
    const heldLast = records[records.length - 1]?.seq;
    if (heldFirst !== c.first_seq && heldFirst !== undefined) {
      // It holds some other range: which checkpoint's, if any, says what was swapped.
      const owner = checkpoints.find((o) => o.first_seq === heldFirst);
      findings.push({
        code: "segment_out_of_order",
        file: entry.file,
        checkpoint_id: c.id,
        seq: c.first_seq,
        message: `${entry.file} holds ${range(heldFirst, heldLast ?? heldFirst)}${owner ? ` (checkpoint ${owner.id}'s range)` : ""}, expected ${range(c.first_seq, c.last_seq)} (checkpoint ${c.id})`,
      });
      prevHash = c.head_hash;
      continue;
    }
    const broken = checkRecords(records, c, prevHash, entry.file, label, contexts);
    report.records_checked += broken.checked;
    if (broken.finding) {
      findings.push(broken.finding);
    } else if (modified) {
      // Same records, other bytes (re-compressed, say): worth saying, not a break of the chain.
      findings.push({
        code: "segment_modified",
        file: entry.file,
        checkpoint_id: c.id,
        message: `${label}: sha256 differs from the manifest, though every record verifies`,
      });
    }
    prevHash = c.head_hash;
  }
  report.ok = findings.length === 0;
  return report;
}

function checkRecords(
  records: ArchivedRecord[],
  c: Checkpoint,
  startHash: string,
  file: string,
  label: string,
  contexts: ReadonlySet<string>,
): { checked: number; finding: Finding | null } {
  let prevHash = startHash;
  let expected = c.first_seq;
  let checked = 0;
  const at = (code: FindingCode, seq: number, message: string) => ({
    checked,
    finding: { code, file, checkpoint_id: c.id, seq, message: `${label}: ${message}` },
  });
  for (const r of records) {
    checked += 1;
    if (r.seq !== expected)
      return at("record_gap", expected, `seq ${expected} is missing (next is ${r.seq})`);
    if (r.prev_hash !== prevHash)
      return at("record_broken_link", r.seq, `seq ${r.seq} does not link to the record before`);
    let hash: string;
    try {
      hash = chainHashPreSerialized(r.prev_hash, r, canonicalJson(r.payload));
    } catch (err) {
      return at("record_invalid", r.seq, `seq ${r.seq}: ${(err as Error).message}`);
    }
    if (hash !== r.hash)
      return at(
        "record_hash_mismatch",
        r.seq,
        `seq ${r.seq} does not match its hash (the record was changed)`,
      );
    const ref = contextRefOf(r.payload);
    if (ref !== null && !contexts.has(ref))
      return at(
        "context_missing",
        r.seq,
        `seq ${r.seq} references context ${ref}, which the archive does not hold`,
      );
    prevHash = r.hash;
    expected += 1;
  }
  if (expected <= c.last_seq) return at("record_gap", expected, `ends before seq ${expected}`);
  if (prevHash !== c.head_hash)
    return at(
      "segment_head_mismatch",
      c.last_seq,
      `seq ${c.last_seq}'s hash is not the one checkpoint ${c.id} signed`,
    );
  return { checked, finding: null };
}

/**
 * Several archives side by side (a directory of them): each verified, then their continuity — each
 * one's first record and first checkpoint link to the previous archive's last.
 */
export function linkArchives(reports: ArchiveReport[]): Finding[] {
  const sorted = [...reports].sort((a, b) => (a.first_seq ?? 0) - (b.first_seq ?? 0));
  const findings: Finding[] = [];
  for (let i = 1; i < sorted.length; i++) {
    const before = sorted[i - 1]!;
    const after = sorted[i]!;
    if (
      after.first_seq !== (before.last_seq ?? 0) + 1 ||
      after.prev_hash !== before.head_hash ||
      after.previous_checkpoint_hash !== before.last_checkpoint_hash
    ) {
      findings.push({
        code: "archive_discontinuous",
        message: `${after.name} (${range(after.first_seq ?? 0, after.last_seq ?? 0)}) does not continue ${before.name} (${range(before.first_seq ?? 0, before.last_seq ?? 0)})`,
      });
    }
  }
  return findings;
}
