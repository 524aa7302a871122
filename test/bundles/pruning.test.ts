import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { directoryTarget } from "../../src/audit/archive.ts";
import { verifyChain } from "../../src/audit/verify.ts";
import { type TestDb, testBackends } from "../support/databases.ts";
import { api } from "../support/http.ts";
import { ADMIN_KEY, startTestService, type TestService } from "../support/service.ts";
import { buildBundle, DECISION, fileRevision, putBundle } from "./support.ts";

// The bundles history is pruned (docs/decisions/0014): with retention on, a stored bundle loses its
// bytes once it is not active, not among the last BUNDLE_HISTORY_KEEP, and no retained audit record
// cites its revision — after they were archived and read back. Driven through the API over three
// days of a controlled clock: nothing goes while records cite it; the day its records are dropped,
// the bundles only they cited go, each named in a `bundle.pruned` record; rolling back to one
// answers 409 BUNDLE_PRUNED; uploading it again brings it back.

const sha256 = (b: Buffer) => createHash("sha256").update(b).digest("hex");

async function storedBytes(db: TestDb): Promise<Record<string, boolean>> {
  const { rows } = await db.query<{ revision: string; stored: boolean }>(
    "SELECT revision, bytes IS NOT NULL AS stored FROM bundles ORDER BY revision",
  );
  return Object.fromEntries(rows.map((r) => [r.revision, r.stored]));
}

describe.each(testBackends())("bundles history pruning on $name", (backend) => {
  const fileRev = fileRevision();
  let db: TestDb;
  let t: TestService;
  let archiveDir: string;
  let publisher: string;
  let service: string;
  let revA: Buffer;
  let revB: Buffer;
  let revC: Buffer;
  let now = new Date("2026-05-01T09:00:00.000Z");
  const clock = () => now;
  const decide = () => api(t.handler, service).post("/api/v1/access/resolve", DECISION);

  beforeAll(async () => {
    revA = buildBundle("rev-prune-a");
    revB = buildBundle("rev-prune-b");
    revC = buildBundle("rev-prune-c");
    archiveDir = mkdtempSync(join(tmpdir(), "bundle-prune-"));
    db = await backend.create();
    t = await startTestService({
      db,
      clock,
      auditRetention: { days: 1, target: directoryTarget(archiveDir), bundleHistoryKeep: 2 },
    });
    publisher = await t.keyFor(["bundle_publisher"], undefined, "compliance-engineer");
    service = await t.keyFor(["service"]);
    await api(t.handler, ADMIN_KEY).post("/api/v1/policies", {
      tenant_id: DECISION.tenant_id,
      primary_region: "eu-west",
    });
    // Day 1: the file's bundle (start-up), then A and B published, decisions under B.
    now = new Date("2026-05-01T09:01:00.000Z");
    expect((await putBundle(t.handler, publisher, revA)).status).toBe(201);
    now = new Date("2026-05-01T09:02:00.000Z");
    expect((await putBundle(t.handler, publisher, revB)).status).toBe(201);
    expect((await decide()).body.bundle_revision).toBe("rev-prune-b");
  });
  afterAll(async () => {
    await t?.close();
    await db?.close();
    rmSync(archiveDir, { recursive: true, force: true });
  });

  it("keeps every bundle a retained record cites, whatever BUNDLE_HISTORY_KEEP says", async () => {
    // Day 2: C is published and decided under. Four bundles, keep 2, but day 1 is still retained.
    now = new Date("2026-05-02T09:00:00.000Z");
    expect((await putBundle(t.handler, publisher, revC)).status).toBe(201);
    expect((await decide()).body.bundle_revision).toBe("rev-prune-c");
    // Only the empty legacy partition goes: day 1 is not past one day yet.
    expect((await t.service.runRetention()).map((p) => p.partition)).toEqual(["audit_log_legacy"]);
    expect(await storedBytes(db)).toEqual({
      [fileRev]: true,
      "rev-prune-a": true,
      "rev-prune-b": true,
      "rev-prune-c": true,
    });
    const cited = await db.query<{ bundle_revision: string; logged_on: string }>(
      "SELECT bundle_revision, logged_on::text AS logged_on FROM audit_bundle_citations ORDER BY 2, 1",
    );
    expect(cited.rows).toEqual([
      { bundle_revision: fileRev, logged_on: "2026-05-01" },
      { bundle_revision: "rev-prune-a", logged_on: "2026-05-01" },
      { bundle_revision: "rev-prune-b", logged_on: "2026-05-01" },
      { bundle_revision: "rev-prune-c", logged_on: "2026-05-02" },
    ]);
  });

  it("once day 1 is archived and dropped, prunes the bundles only it cited, beyond the last two", async () => {
    // Day 3: a decision opens day 3's partition; day 1 is now past retention.
    now = new Date("2026-05-03T09:00:00.000Z");
    expect((await decide()).status).toBe(200);
    const dropped = await t.service.runRetention();
    expect(dropped.map((p) => p.partition)).toContain("audit_log_20260501");
    // B and C are the last two (B stays though nothing retained cites it); A and the file's go.
    expect(await storedBytes(db)).toEqual({
      [fileRev]: false,
      "rev-prune-a": false,
      "rev-prune-b": true,
      "rev-prune-c": true,
    });
    // Archived before removal, byte for byte.
    const archived = join(archiveDir, "bundles", `${sha256(revA)}.tar.gz`);
    expect(sha256(readFileSync(archived))).toBe(sha256(revA));
    const { rows } = await db.query<{ payload: { keep: number; bundles: Array<Record<string, unknown>> } }>(
      "SELECT payload FROM audit_log WHERE type = 'bundle.pruned'",
    );
    expect(rows).toHaveLength(1);
    expect(rows[0]!.payload.keep).toBe(2);
    expect(rows[0]!.payload.bundles.map((b) => b.revision).sort()).toEqual([fileRev, "rev-prune-a"].sort());
    expect(rows[0]!.payload.bundles.find((b) => b.revision === "rev-prune-a")).toMatchObject({
      sha256: sha256(revA),
      size_bytes: revA.length,
      archived_location: `file://${join(archiveDir, "bundles")}/${sha256(revA)}.tar.gz`,
    });
    expect(await verifyChain(db)).toMatchObject({ ok: true, first_broken_seq: null });
    // A second pass finds nothing more to do.
    await t.service.runRetention();
    expect((await db.query("SELECT 1 FROM audit_log WHERE type = 'bundle.pruned'")).rows).toHaveLength(1);
  });

  it("lists a pruned bundle with where it went; a rollback to it answers 409 BUNDLE_PRUNED", async () => {
    const list = await api(t.handler, publisher).get("/api/v1/bundles");
    expect(list.status).toBe(200);
    const a = list.body.items.find((b: { revision: string }) => b.revision === "rev-prune-a");
    expect(a).toMatchObject({
      pruned_at: "2026-05-03T09:00:00.000Z",
      archived_location: expect.stringMatching(/\/bundles\/[0-9a-f]{64}\.tar\.gz$/),
      active: false,
    });
    expect(list.body.items.find((b: { revision: string }) => b.revision === "rev-prune-c")).toMatchObject({
      pruned_at: null,
      archived_location: null,
      active: true,
    });
    const rollback = await api(t.handler, publisher).post("/api/v1/bundles/rev-prune-a/activate");
    expect(rollback.status).toBe(409);
    expect(rollback.body.error.details).toMatchObject({ code: "BUNDLE_PRUNED", revision: "rev-prune-a" });
    expect((await decide()).body.bundle_revision).toBe("rev-prune-c");
    // A kept one still rolls back.
    expect((await api(t.handler, publisher).post("/api/v1/bundles/rev-prune-b/activate")).status).toBe(200);
  });

  it("an upload of the pruned bytes stores and activates them again", async () => {
    const res = await putBundle(t.handler, publisher, revA);
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ revision: "rev-prune-a", changed: true });
    expect((await storedBytes(db))["rev-prune-a"]).toBe(true);
    const row = await db.query("SELECT pruned_at FROM bundles WHERE revision = 'rev-prune-a'");
    expect(row.rows[0]).toEqual({ pruned_at: null });
    expect((await decide()).body.bundle_revision).toBe("rev-prune-a");
  });
});
