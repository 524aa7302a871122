import { cp, mkdtemp, readFile, rename, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync, gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { archiveRange, directoryTarget, listArchives } from "../../src/audit/archive.ts";
import { createAuditLog } from "../../src/audit/audit-log.ts";
import { ed25519PublicKey, ed25519Signer } from "../../src/audit/checkpoint.ts";
import { queryAuditLogs } from "../../src/audit/query.ts";
import { archiveOldestPartitions, listPartitions } from "../../src/audit/retention.ts";
import { verifyChain, verifyFromCheckpoint } from "../../src/audit/verify.ts";
import { createVerifyJobs } from "../../src/audit/verify-job.ts";
import { run } from "../../src/cli/main.ts";
import { type TestDb, testBackends } from "../support/databases.ts";
import { decisionEvent, testKeys } from "./fixtures.ts";

// Retention end to end: records over three days land in three partitions, each closed on a signed
// checkpoint; the oldest is archived, read back, verified and dropped; the online chain still
// verifies; an auditor's offline check passes, and names a flipped byte, a missing segment and
// two swapped segments precisely.

/** A decision record with its evaluation context (one of two), as the service writes them. */
function withContext(event: ReturnType<typeof decisionEvent>, variant: number) {
  const evaluation = {
    now_ms: event.occurred_at.getTime(),
    policy: { primary_region: variant ? "eu-west" : "us-east" },
    overrides: [],
  };
  return { ...event, payload: { ...(event.payload as object), evaluation } };
}

async function cli(args: string[]) {
  let stdout = "";
  let stderr = "";
  const code = await run(args, {
    stdout: { write: (t: string) => (stdout += t) },
    stderr: { write: (t: string) => (stderr += t) },
    env: {},
    cwd: process.cwd(),
  });
  return { code, stdout, stderr };
}

describe.each(testBackends())("audit archives on $name", (backend) => {
  let db: TestDb;
  let root: string;
  let keyFile: string;
  const keys = testKeys();
  const signer = ed25519Signer(keys.privatePem);
  const publicKey = ed25519PublicKey(keys.publicPem);
  let now = new Date("2026-03-01T10:00:00.000Z");
  const clock = () => now;

  beforeAll(async () => {
    db = await backend.create();
    root = await mkdtemp(join(tmpdir(), "audit-archive-"));
    keyFile = join(root, "public-key.pem");
    await writeFile(keyFile, keys.publicPem);
    const log = createAuditLog({ db, checkpoints: { everyRecords: 10, signer, clock } });
    // Waves of 5 so checkpoints fall on multiples of 10; a new day closes the day before.
    const write = async (n: number) => {
      for (let i = 0; i < n; i += 5)
        await Promise.all(
          Array.from({ length: 5 }, (_, k) =>
            log.append(withContext(decisionEvent({ occurred_at: now }), k % 2)),
          ),
        );
    };
    await write(35); // 2026-03-01: seq 1–35, checkpoints 10, 20, 30, then 35 at the rollover
    now = new Date("2026-03-02T09:00:00.000Z");
    await write(25); // 2026-03-02: seq 36–60
    now = new Date("2026-03-03T08:00:00.000Z");
    await write(5); // 2026-03-03: seq 61–65, the head
    await log.close();
  });
  afterAll(async () => {
    await db.close();
    await rm(root, { recursive: true, force: true });
  });

  it("partitions records by the day they were written, each closed on a checkpoint", async () => {
    const parts = await listPartitions(db);
    expect(parts.map((p) => [p.name, p.first_seq, p.last_seq])).toEqual([
      ["audit_log_legacy", null, null],
      ["audit_log_20260301", 1, 35],
      ["audit_log_20260302", 36, 60],
      ["audit_log_20260303", 61, 65],
    ]);
    const { rows } = await db.query<{ last_seq: string }>(
      "SELECT last_seq::text FROM audit_checkpoints ORDER BY id",
    );
    expect(rows.map((r) => Number(r.last_seq))).toEqual([10, 20, 30, 35, 45, 55, 60]);
  });

  it("refuses an archive that does not end on a checkpoint", async () => {
    await expect(
      archiveRange(db, { target: directoryTarget(join(root, "nope")), lastSeq: 33, publicKey }),
    ).rejects.toMatchObject({ code: "CONFLICT" });
  });

  it("archives, verifies and drops the partitions past retention; the online chain still verifies", async () => {
    const dir = join(root, "archives");
    const done = await archiveOldestPartitions(db, {
      target: directoryTarget(dir),
      publicKey,
      retentionDays: 1,
      clock,
    });
    // Today is 2026-03-03: with one day kept, 2026-03-01 goes; 2026-03-02 and the head's day stay.
    expect(done).toEqual([
      { partition: "audit_log_legacy", archive_id: null, first_seq: null, last_seq: null, location: null },
      {
        partition: "audit_log_20260301",
        archive_id: 1,
        first_seq: 1,
        last_seq: 35,
        location: `file://${join(dir, "000001-seq-1-35")}/`,
      },
    ]);
    expect((await listPartitions(db)).map((p) => p.name)).toEqual([
      "audit_log_20260302",
      "audit_log_20260303",
    ]);
    const [archive] = await listArchives(db);
    expect(archive).toMatchObject({ first_seq: 1, last_seq: 35, partition_name: "audit_log_20260301" });
    expect(archive!.dropped_at).not.toBeNull();

    expect(await verifyChain(db)).toMatchObject({
      ok: true,
      checked: 30,
      head_seq: 65,
      first_broken_seq: null,
    });
    expect(await verifyFromCheckpoint(db, { publicKey })).toMatchObject({ ok: true, checked: 5 });
    const jobs = createVerifyJobs({ db, publicKey, batchSize: 7 });
    const job = jobs.start();
    await jobs.idle();
    expect(jobs.get(job.job_id)).toMatchObject({
      ok: true,
      from_seq: 35,
      checked: 30,
      first_bad_checkpoint: null,
    });

    // Live rows are as append-only as before.
    await expect(db.query("UPDATE audit_log SET actor = 'x' WHERE seq = 40")).rejects.toThrow(/append-only/);
    await expect(db.query("DELETE FROM audit_log WHERE seq = 40")).rejects.toThrow(/append-only/);
    await expect(db.query("TRUNCATE audit_log_20260302")).rejects.toThrow(/append-only/);

    // The query API says where the archived range went.
    const page = await queryAuditLogs(db, { from: "2026-03-01", to: "2026-03-02" });
    expect(page.items).toEqual([]);
    expect(page.archived).toEqual([
      expect.objectContaining({ archive_id: 1, first_seq: 1, last_seq: 35, location: archive!.location }),
    ]);
    expect((await queryAuditLogs(db, { from: "2026-03-03" })).archived).toBeUndefined();

    // A new record continues the chain after the drop.
    const log = createAuditLog({ db, checkpoints: { everyRecords: 10, signer, clock } });
    expect(await log.append(decisionEvent())).toMatchObject({ seq: 66 });
    await log.close();
  });

  describe("offline verification", () => {
    const archive = () => join(root, "archives", "000001-seq-1-35");
    async function tampered(name: string, change: (dir: string) => Promise<void>) {
      const dir = join(root, name);
      await cp(archive(), dir, { recursive: true });
      await change(dir);
      return dir;
    }

    it("passes with nothing but the files and the public key", async () => {
      const r = await cli(["audit", "verify", archive(), "--public-key", keyFile]);
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
      expect(r.stdout).toContain(
        "seq 1–35, 35 records in 4 segments, 4 checkpoints (all signed, signatures verified)",
      );
      // A directory of archives is checked too, and so is their continuity.
      expect((await cli(["audit", "verify", join(root, "archives"), "--public-key", keyFile])).code).toBe(0);
    });

    it("names the segment holding a flipped byte", async () => {
      const dir = await tampered("flipped", async (d) => {
        const file = join(d, "segments/000002.jsonl.gz");
        const bytes = await readFile(file);
        bytes[Math.floor(bytes.length / 2)]! ^= 0x01;
        await writeFile(file, bytes);
      });
      const r = await cli(["audit", "verify", dir, "--public-key", keyFile]);
      expect(r.code).toBe(1);
      expect(r.stdout).toMatch(
        /segment_corrupt: segments\/000002\.jsonl\.gz \(checkpoint 2, seq 11–20\): sha256 differs from the manifest and the gzip stream is corrupt/,
      );
      expect(r.stdout).not.toMatch(/000001|000003|000004/);
    });

    it("names the record changed inside a re-compressed segment", async () => {
      const dir = await tampered("rewritten", async (d) => {
        const file = join(d, "segments/000003.jsonl.gz");
        const text = gunzipSync(await readFile(file)).toString("utf8");
        await writeFile(file, gzipSync(text.replace('"actor":"svc-gradebook"', '"actor":"mallory"')));
      });
      const r = await cli(["audit", "verify", dir, "--public-key", keyFile, "--json"]);
      expect(r.code).toBe(1);
      const report = JSON.parse(r.stdout);
      expect(report.archives[0].findings).toEqual([
        expect.objectContaining({
          code: "record_hash_mismatch",
          file: "segments/000003.jsonl.gz",
          checkpoint_id: 3,
          seq: 21,
        }),
      ]);
    });

    it("carries the contexts its records reference, and names a record whose context is missing", async () => {
      const manifest = JSON.parse(await readFile(join(archive(), "manifest.json"), "utf8"));
      expect(manifest.contexts).toMatchObject({ file: "contexts.jsonl.gz", count: 2 });
      const dir = await tampered("no-contexts", async (d) => {
        const file = join(d, "contexts.jsonl.gz");
        const lines = gunzipSync(await readFile(file))
          .toString("utf8")
          .trim()
          .split("\n");
        await writeFile(file, gzipSync(`${lines[0]}\n`));
      });
      const r = await cli(["audit", "verify", dir, "--public-key", keyFile, "--json"]);
      expect(r.code).toBe(1);
      const findings = JSON.parse(r.stdout).archives[0].findings;
      expect(findings.length).toBeGreaterThan(0);
      expect(findings.every((f: { code: string }) => f.code === "context_missing")).toBe(true);
      expect(findings[0]).toMatchObject({ file: "segments/000001.jsonl.gz", checkpoint_id: 1 });
    });

    it("names a missing segment", async () => {
      const dir = await tampered("missing", (d) => rm(join(d, "segments/000003.jsonl.gz")));
      const r = await cli(["audit", "verify", dir, "--public-key", keyFile]);
      expect(r.code).toBe(1);
      expect(r.stdout).toContain(
        "segment_missing: segments/000003.jsonl.gz (checkpoint 3, seq 21–30) is missing",
      );
      expect(r.stdout.match(/segment_|record_/g)).toHaveLength(1); // the segments after it still verify
    });

    it("names a segment left out of the manifest", async () => {
      const dir = await tampered("unlisted", async (d) => {
        const manifest = JSON.parse(await readFile(join(d, "manifest.json"), "utf8"));
        manifest.segments.splice(1, 1);
        await writeFile(join(d, "manifest.json"), JSON.stringify(manifest));
      });
      const r = await cli(["audit", "verify", dir, "--public-key", keyFile]);
      expect(r.code).toBe(1);
      expect(r.stdout).toContain(
        "segment_missing: no segment in manifest.json holds checkpoint 2, seq 11–20",
      );
    });

    it("names two swapped segments", async () => {
      const dir = await tampered("swapped", async (d) => {
        await rename(join(d, "segments/000001.jsonl.gz"), join(d, "swap"));
        await rename(join(d, "segments/000002.jsonl.gz"), join(d, "segments/000001.jsonl.gz"));
        await rename(join(d, "swap"), join(d, "segments/000002.jsonl.gz"));
      });
      const r = await cli(["audit", "verify", dir, "--public-key", keyFile]);
      expect(r.code).toBe(1);
      expect(r.stdout).toContain(
        "segment_out_of_order: segments/000001.jsonl.gz holds seq 11–20 (checkpoint 2's range), expected seq 1–10 (checkpoint 1)",
      );
      expect(r.stdout).toContain(
        "segment_out_of_order: segments/000002.jsonl.gz holds seq 1–10 (checkpoint 1's range), expected seq 11–20 (checkpoint 2)",
      );
    });

    it("refuses checkpoints under another key, and says when signatures were not checked", async () => {
      const otherKey = join(root, "other.pem");
      await writeFile(otherKey, testKeys().publicPem);
      const wrong = await cli(["audit", "verify", archive(), "--public-key", otherKey]);
      expect(wrong.code).toBe(1);
      expect(wrong.stdout).toContain(
        "checkpoint_invalid: checkpoint 1 (seq 1–10) in checkpoints.jsonl: unknown key",
      );
      const unkeyed = await cli(["audit", "verify", archive()]);
      expect(unkeyed.code).toBe(0);
      expect(unkeyed.stdout).toContain("signatures NOT checked");
    });
  });
});
