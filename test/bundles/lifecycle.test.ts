import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import request from "supertest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseSigningKey, signBundle } from "../../src/bundles/signature.ts";
import { readTarGz } from "../../src/bundles/tar.ts";
import { type TestDb, testBackends } from "../support/databases.ts";
import { api } from "../support/http.ts";
import { ADMIN_KEY, startTestService, type TestService } from "../support/service.ts";
import {
  buildBundle,
  DECISION,
  FILE_BUNDLE,
  fileRevision,
  keyPair,
  putBundle,
  withFile,
  withoutCanadaAdequacy,
} from "./support.ts";

// SPEC §8 through the HTTP API: push, refusal (the previous revision keeps answering), rollback,
// history, dry run, signature enforcement — on PGlite and on Postgres. One database per suite (a
// fresh PGlite costs seconds): each test starts from the file's revision and looks only at the
// audit records and counters it caused.

/** Audit records of `type` appended after `since` (a seq from `lastSeq`). */
async function auditRows(db: TestDb, type: string, since = 0) {
  const r = await db.query<{
    bundle_revision: string | null;
    actor: string;
    payload: Record<string, unknown>;
  }>("SELECT bundle_revision, actor, payload FROM audit_log WHERE type = $1 AND seq > $2 ORDER BY seq", [
    type,
    since,
  ]);
  return r.rows;
}

async function lastSeq(db: TestDb): Promise<number> {
  return Number((await db.query("SELECT coalesce(max(seq), 0) AS n FROM audit_log")).rows[0]!.n);
}

async function storedBundles(db: TestDb): Promise<number> {
  return Number((await db.query("SELECT count(*)::int AS n FROM bundles")).rows[0]!.n);
}

async function counter(t: TestService, outcome: string): Promise<number> {
  const text = (await request(t.handler).get("/metrics")).text;
  const m = new RegExp(`^residency_bundle_loads_total\\{outcome="${outcome}"\\} (\\d+)`, "m").exec(text);
  return m ? Number(m[1]) : 0;
}

describe.each(testBackends())("bundle life cycle on $name", (backend) => {
  const fileRev = fileRevision();
  let revB: Buffer;
  let changedRule: Buffer;
  let missingEntrypoint: Buffer;
  let db: TestDb;
  let t: TestService;
  let serviceKey: string;
  let publisherKey: string;
  const admin = () => api(t.handler, ADMIN_KEY);
  const svc = () => api(t.handler, serviceKey);
  const decide = (body: Record<string, unknown> = {}) =>
    svc().post("/api/v1/access/resolve", { ...DECISION, ...body });
  /** Every test but the first starts with the file's revision active. */
  const reset = async () => {
    const res = await api(t.handler, publisherKey).post(`/api/v1/bundles/${fileRev}/activate`);
    expect(res.status).toBe(200);
  };

  beforeAll(async () => {
    revB = buildBundle("rev-test-b");
    changedRule = buildBundle("rev-test-no-ca-adequacy", { edit: withoutCanadaAdequacy });
    missingEntrypoint = buildBundle("rev-test-two-entrypoints", {
      entrypoints: ["residency/decision", "residency/validate"],
    });
    db = await backend.create();
    t = await startTestService({ db });
    serviceKey = await t.keyFor(["service"]);
    publisherKey = await t.keyFor(["bundle_publisher"], undefined, "compliance-engineer");
    await admin().post("/api/v1/policies", { tenant_id: DECISION.tenant_id, primary_region: "eu-west" });
  });
  afterAll(async () => {
    await t?.close();
    await db?.close();
  });

  it("activates the bundle file at start-up and records it in Postgres as the cluster's bundle", async () => {
    const active = await admin().get("/api/v1/bundles/active");
    expect(active.status).toBe(200);
    expect(active.body).toMatchObject({
      revision: fileRev,
      source: "startup",
      entrypoints: ["inference/route", "residency/decision", "residency/validate"],
      activated_by: "system",
      signed: false,
    });
    expect(active.body.sha256).toMatch(/^[0-9a-f]{64}$/);
    const row = await db.query("SELECT revision, sha256 FROM bundle_active");
    expect(row.rows[0]).toEqual({ revision: fileRev, sha256: active.body.sha256 });
    expect((await request(t.handler).get("/health/ready")).status).toBe(200);
    expect((await decide()).body.bundle_revision).toBe(fileRev);
    expect(await auditRows(db, "bundle.activated")).toMatchObject([
      { bundle_revision: fileRev, actor: "system", payload: { revision: fileRev, source: "startup" } },
    ]);
  });

  it("PUT activates a new bundle: decisions carry its revision, the swap is audited and counted", async () => {
    await reset();
    const since = await lastSeq(db);
    const activatedBefore = await counter(t, "activated");
    const res = await putBundle(t.handler, publisherKey, revB);
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      revision: "rev-test-b",
      changed: true,
      previous_revision: fileRev,
      source: "api",
      activated_by: "compliance-engineer",
    });
    expect(Object.keys(res.body)).toEqual(
      expect.arrayContaining(["revision", "sha256", "loaded_at", "entrypoints", "source", "activated_by"]),
    );
    expect((await decide()).body.bundle_revision).toBe("rev-test-b");

    expect(await auditRows(db, "bundle.activated", since)).toMatchObject([
      {
        bundle_revision: "rev-test-b",
        actor: "compliance-engineer",
        payload: {
          revision: "rev-test-b",
          source: "api",
          previous_revision: fileRev,
          sha256: res.body.sha256,
        },
      },
    ]);
    expect(await counter(t, "activated")).toBe(activatedBefore + 1);
    expect((await request(t.handler).get("/metrics")).text).toContain(
      'residency_bundle_active_info{revision="rev-test-b"} 1',
    );

    // The same bytes again: nothing to do.
    const again = await putBundle(t.handler, publisherKey, revB);
    expect(again.status).toBe(200);
    expect(again.body.changed).toBe(false);
    expect(await auditRows(db, "bundle.activated", since)).toHaveLength(1);
  });

  it("refuses corrupt, manifest-less and entrypoint-less bundles precisely; the previous revision keeps answering", async () => {
    await reset();
    const since = await lastSeq(db);
    const stored = await storedBundles(db);
    const rejectedBefore = await counter(t, "rejected");
    const cases: Array<[string, Buffer, string, RegExp]> = [
      ["not gzip", Buffer.from("definitely not a tarball"), "BUNDLE_CORRUPT", /not a valid gzip stream/],
      ["truncated", revB.subarray(0, revB.length >> 1), "BUNDLE_CORRUPT", /unexpected end of file/],
      ["no manifest", await withFile(revB, ".manifest", null), "BUNDLE_MANIFEST_INVALID", /no \.manifest/],
      [
        "missing entrypoint",
        missingEntrypoint,
        "BUNDLE_ENTRYPOINT_MISSING",
        /lacks entrypoint\(s\): inference\/route/,
      ],
    ];
    for (const [name, bytes, code, reason] of cases) {
      const res = await putBundle(t.handler, publisherKey, bytes);
      expect(res.status, name).toBe(422);
      expect(res.body.error.code, name).toBe("POLICY_VIOLATION");
      expect(res.body.error.details, name).toMatchObject({ code, serving_revision: fileRev });
      expect(res.body.error.details.reason, name).toMatch(reason);
      const still = await decide();
      expect(still.status, name).toBe(200);
      expect(still.body.bundle_revision, name).toBe(fileRev);
    }
    const rejected = await auditRows(db, "bundle.rejected", since);
    expect(rejected.map((r) => r.payload.code)).toEqual(cases.map((c) => c[2]));
    expect(rejected[3]!.payload).toMatchObject({ source: "api", revision: "rev-test-two-entrypoints" });
    expect((await admin().get("/api/v1/bundles/active")).body.revision).toBe(fileRev);
    expect(await storedBundles(db)).toBe(stored);
    expect(await counter(t, "rejected")).toBe(rejectedBefore + cases.length);
  });

  it("guards the upload: role, content type, size, empty body", async () => {
    expect((await putBundle(t.handler, serviceKey, revB)).status).toBe(403);
    expect((await request(t.handler).put("/api/v1/bundles").send(revB)).status).toBe(401);
    const json = await request(t.handler)
      .put("/api/v1/bundles")
      .set("authorization", `Bearer ${publisherKey}`)
      .send({ bundle: "x" });
    expect(json.status).toBe(415);
    const huge = await putBundle(t.handler, publisherKey, Buffer.alloc(33 * 1024 * 1024));
    expect(huge.status).toBe(413);
    expect(huge.body.error.code).toBe("PAYLOAD_TOO_LARGE");
    const empty = await putBundle(t.handler, publisherKey, Buffer.alloc(0));
    expect(empty.status).toBe(400);
    expect((await svc().post(`/api/v1/bundles/${fileRev}/activate`)).status).toBe(403);
    // Anyone with a key may read.
    expect((await svc().get("/api/v1/bundles/active")).status).toBe(200);
    expect((await svc().get("/api/v1/bundles")).status).toBe(200);
  });

  it("an activation whose audit record cannot commit is not activated (503 AUDIT_UNAVAILABLE)", async () => {
    await reset();
    await db.exec(`
      CREATE FUNCTION refuse_bundle_audit() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN IF NEW.type LIKE 'bundle.%' THEN RAISE EXCEPTION 'audit store refuses writes'; END IF; RETURN NEW; END $$;
      CREATE TRIGGER refuse_bundle_audit BEFORE INSERT ON audit_log FOR EACH ROW EXECUTE FUNCTION refuse_bundle_audit();
    `);
    try {
      const res = await putBundle(t.handler, publisherKey, revB);
      expect(res.status).toBe(503);
      expect(res.body.error.code).toBe("AUDIT_UNAVAILABLE");
    } finally {
      await db.exec("DROP TRIGGER refuse_bundle_audit ON audit_log; DROP FUNCTION refuse_bundle_audit();");
    }
    const active = await db.query("SELECT revision FROM bundle_active");
    expect(active.rows[0]).toEqual({ revision: fileRev });
    expect((await decide()).body.bundle_revision).toBe(fileRev);
  });

  it("rolls back to a stored revision (audited bundle.rolled_back), 404 for an unknown one, and a rollback survives a restart", async () => {
    await reset();
    expect((await putBundle(t.handler, publisherKey, revB)).status).toBe(201);
    expect((await putBundle(t.handler, publisherKey, changedRule)).status).toBe(201);
    const since = await lastSeq(db);
    const publisher = api(t.handler, publisherKey);
    const back = await publisher.post("/api/v1/bundles/rev-test-b/activate");
    expect(back.status).toBe(200);
    expect(back.body).toMatchObject({
      revision: "rev-test-b",
      changed: true,
      previous_revision: "rev-test-no-ca-adequacy",
      source: "rollback",
    });
    expect((await decide()).body.bundle_revision).toBe("rev-test-b");
    expect(await auditRows(db, "bundle.rolled_back", since)).toMatchObject([
      {
        actor: "compliance-engineer",
        payload: { revision: "rev-test-b", previous_revision: "rev-test-no-ca-adequacy", source: "rollback" },
      },
    ]);
    // By sha256 too; and the active one again is a no-op.
    const bySha = await publisher.post(`/api/v1/bundles/${back.body.sha256}/activate`);
    expect(bySha.body.changed).toBe(false);
    const unknown = await publisher.post("/api/v1/bundles/rev-never-built/activate");
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.code).toBe("NOT_FOUND");

    // A restart loads what Postgres says is active, not the (known) bundle file.
    await t.close();
    t = await startTestService({ db });
    expect((await admin().get("/api/v1/bundles/active")).body).toMatchObject({
      revision: "rev-test-b",
      source: "startup",
    });
  });

  it("lists stored bundles newest first with the active one flagged, and the activations newest first", async () => {
    await putBundle(t.handler, publisherKey, revB);
    await reset();
    const history = await svc().get("/api/v1/bundles");
    expect(history.status).toBe(200);
    const items = history.body.items as Array<{ revision: string; active: boolean; uploaded_at: string }>;
    expect(items.map((i) => i.revision)).toEqual(["rev-test-no-ca-adequacy", "rev-test-b", fileRev]);
    expect(items.filter((i) => i.active).map((i) => i.revision)).toEqual([fileRev]);
    const activations = history.body.activations as Array<{
      revision: string;
      source: string;
      generation: number;
    }>;
    expect(activations[0]).toMatchObject({ revision: fileRev, source: "rollback" });
    expect(activations.at(-1)).toMatchObject({ revision: fileRev, source: "startup", generation: 1 });
    const generations = activations.map((a) => a.generation);
    expect(generations).toEqual([...generations].sort((a, b) => b - a));
  });

  it("pages through every activation, newest first, each with what it replaced", async () => {
    const all = (await svc().get("/api/v1/bundles?limit=500")).body.activations as Array<{
      generation: number;
    }>;
    expect(all.length).toBeGreaterThan(3);
    const seen: Array<Record<string, unknown>> = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page = await svc().get(
        `/api/v1/bundles/activations?limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`,
      );
      expect(page.status).toBe(200);
      expect(page.body.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.body.items);
      cursor = page.body.next_cursor;
      pages++;
    } while (cursor && pages < 100);
    expect(pages).toBe(Math.ceil(all.length / 2));
    expect(seen.map((a) => a.generation)).toEqual(all.map((a) => a.generation));
    expect(seen.at(-1)).toMatchObject({ generation: 1, source: "startup", previous_revision: null });
    for (const [i, a] of seen.slice(0, -1).entries())
      expect(a).toMatchObject({ previous_revision: seen[i + 1]!.revision, sha256: expect.any(String) });
    // A cursor that is not one this listing handed out is a 400, never a store error.
    const forged = (key: string) => Buffer.from(key, "utf8").toString("base64url");
    for (const cursor of [
      "not-a-cursor",
      forged("[1.5]"),
      forged("[1e+300]"),
      forged("[100000000000000000000]"),
      forged("[0]"),
    ]) {
      const bad = await svc().get(`/api/v1/bundles/activations?cursor=${encodeURIComponent(cursor)}`);
      expect(bad.status).toBe(400);
      expect(bad.body.error).toMatchObject({ code: "VALIDATION_FAILED", details: { field: "cursor" } });
    }
  });

  it("dry run: reports exactly the decisions a changed rule would change, and activates nothing", async () => {
    await reset();
    await admin().post("/api/v1/policies", {
      tenant_id: "gdpr-school",
      primary_region: "eu-west",
      compliance_frameworks: ["gdpr"],
      allowed_regions: ["ca-central"],
    });
    const gdpr = (region: string) =>
      svc().post("/api/v1/access/resolve", {
        tenant_id: "gdpr-school",
        operation_type: "replicate",
        resource_type: "document",
        resource_id: `doc-${region}`,
        requested_region: region,
      });
    for (let i = 0; i < 7; i++)
      expect((await gdpr("ca-central")).body.reason.code).toBe("ALLOW_PERMITTED_REGION");
    for (let i = 0; i < 5; i++) expect((await gdpr("eu-west")).body.allowed).toBe(true);
    for (let i = 0; i < 3; i++) expect((await decide()).status).toBe(200);
    // Inference decisions are replayed through inference/route (eu-west providers: unchanged).
    const inference = await svc()
      .post("/api/v1/inference/route", { model_type: "claude-3-haiku", operation_type: "inference" })
      .set("x-tenant-id", "gdpr-school");
    expect(inference.body.allowed).toBe(true);
    const before = (await admin().get("/api/v1/bundles/active")).body;
    const since = await lastSeq(db);
    const stored = await storedBundles(db);

    // The 16 decisions above are the newest: ?limit=16 replays exactly them.
    const res = await putBundle(t.handler, publisherKey, changedRule, "?dry_run=true&limit=16");
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      candidate: { revision: "rev-test-no-ca-adequacy" },
      active_revision: fileRev,
      replayed: 16,
      changed: 7,
      unchanged: 9,
      errors: 0,
    });
    expect(res.body.transitions).toEqual([
      { before: "ALLOW_PERMITTED_REGION", after: "DENY_NO_TRANSFER_MECHANISM", count: 7 },
    ]);
    expect(res.body.examples).toHaveLength(7);
    expect(res.body.examples[0]).toMatchObject({
      type: "decision.access",
      tenant_id: "gdpr-school",
      recorded_revision: fileRev,
      before: { allowed: true, reason_code: "ALLOW_PERMITTED_REGION", target_region: "ca-central" },
      after: { allowed: false, reason_code: "DENY_NO_TRANSFER_MECHANISM", target_region: null },
    });

    // ?limit= bounds the replay (the newest first); a bundle with the same rules changes nothing.
    const limited = await putBundle(t.handler, publisherKey, changedRule, "?dry_run=true&limit=5&examples=1");
    expect(limited.body).toMatchObject({ replayed: 5, changed: 0, unchanged: 5 });
    const same = await putBundle(t.handler, publisherKey, revB, "?dry_run=true&limit=16");
    expect(same.body).toMatchObject({ replayed: 16, changed: 0, errors: 0 });
    // The default window (1000) takes in every earlier decision too; only these 7 change.
    const all = await putBundle(t.handler, publisherKey, changedRule, "?dry_run=true");
    expect(all.body).toMatchObject({ changed: 7, errors: 0 });

    // Nothing was activated or stored; the dry run is audited.
    expect((await admin().get("/api/v1/bundles/active")).body).toMatchObject({
      revision: fileRev,
      sha256: before.sha256,
    });
    expect((await gdpr("ca-central")).body.reason.code).toBe("ALLOW_PERMITTED_REGION");
    expect(await storedBundles(db)).toBe(stored);
    expect((await auditRows(db, "bundle.dry_run", since))[0]!.payload).toMatchObject({
      replayed: 16,
      changed: 7,
    });
    expect(await auditRows(db, "bundle.activated", since)).toHaveLength(0);

    // A candidate that would be refused is refused in a dry run too.
    const bad = await putBundle(t.handler, publisherKey, missingEntrypoint, "?dry_run=true");
    expect(bad.status).toBe(422);
    expect(bad.body.error.details.code).toBe("BUNDLE_ENTRYPOINT_MISSING");
  });
});

describe.each(testBackends())("signed bundles (BUNDLE_VERIFICATION_KEY set) on $name", (backend) => {
  const trusted = keyPair("rsa");
  const stranger = keyPair("rsa");
  let work: string;
  let signedFile: string;
  let db: TestDb;
  let t: TestService | null = null;

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), "residency-signed-"));
    signedFile = join(work, "residency.tar.gz");
    writeFileSync(
      signedFile,
      await signBundle(readFileSync(FILE_BUNDLE), parseSigningKey(trusted.privatePem)),
    );
    db = await backend.create();
  });
  afterAll(async () => {
    await t?.close();
    await db?.close();
    rmSync(work, { recursive: true, force: true });
  });

  it("is not ready, and decides nothing, until a valid signed bundle arrives", async () => {
    // The unsigned file is refused at start-up: the service starts, but fails closed.
    t = await startTestService({ db, bundlePath: FILE_BUNDLE, bundleVerificationKey: trusted.publicPem });
    const ready = await request(t.handler).get("/health/ready");
    expect(ready.status).toBe(503);
    expect(ready.body.checks.bundle).toMatchObject({ ok: false });
    const admin = api(t.handler, ADMIN_KEY);
    await admin.post("/api/v1/policies", { tenant_id: DECISION.tenant_id, primary_region: "eu-west" });
    const decision = await admin.post("/api/v1/access/resolve", DECISION);
    expect(decision.status).toBe(503);
    expect(decision.body.error.code).toBe("POLICY_UNAVAILABLE");
    expect((await admin.get("/api/v1/bundles/active")).status).toBe(503);
    expect(await auditRows(db, "bundle.rejected")).toMatchObject([
      { payload: { code: "BUNDLE_UNSIGNED", source: "startup" } },
    ]);

    const res = await putBundle(t.handler, ADMIN_KEY, readFileSync(signedFile));
    expect(res.status).toBe(201);
    expect((await request(t.handler).get("/health/ready")).status).toBe(200);
    expect((await admin.post("/api/v1/access/resolve", DECISION)).status).toBe(200);
  });

  it("serves a signed file; refuses unsigned, wrong-key and tampered pushes precisely while it keeps answering", async () => {
    await t?.close();
    t = await startTestService({ db, bundlePath: signedFile, bundleVerificationKey: trusted.publicPem });
    const service = t;
    const publisherKey = await service.keyFor(["bundle_publisher"]);
    const admin = api(service.handler, ADMIN_KEY);
    const active = (await admin.get("/api/v1/bundles/active")).body;
    expect(active).toMatchObject({ revision: fileRevision(), signed: true, source: "startup" });
    const since = await lastSeq(db);

    const revB = buildBundle("rev-test-b");
    const signedB = await signBundle(revB, parseSigningKey(trusted.privatePem));
    const data = JSON.parse((await readTarGz(signedB)).get("data.json")!.toString("utf8"));
    data.reference.regions["us-east"].name = "US East (tampered)";
    const cases: Array<[string, Buffer, string, RegExp]> = [
      ["unsigned", revB, "BUNDLE_UNSIGNED", /no \.signatures\.json.*unsigned bundles are refused/],
      [
        "wrong key",
        await signBundle(revB, parseSigningKey(stranger.privatePem)),
        "BUNDLE_SIGNATURE_INVALID",
        /RS256 signature does not verify with the configured RSA 2048-bit public key/,
      ],
      [
        "tampered",
        await withFile(signedB, "data.json", Buffer.from(JSON.stringify(data))),
        "BUNDLE_SIGNATURE_INVALID",
        /digest mismatch: data\.json/,
      ],
    ];
    for (const [name, bytes, code, reason] of cases) {
      const res = await putBundle(service.handler, publisherKey, bytes);
      expect(res.status, name).toBe(422);
      expect(res.body.error.details.code, name).toBe(code);
      expect(res.body.error.details.reason, name).toMatch(reason);
      const decision = await admin.post("/api/v1/access/resolve", DECISION);
      expect(decision.status, name).toBe(200);
      expect(decision.body.bundle_revision, name).toBe(active.revision);
    }
    expect((await auditRows(db, "bundle.rejected", since)).map((r) => r.payload.code)).toEqual(
      cases.map((c) => c[2]),
    );

    const ok = await putBundle(service.handler, publisherKey, signedB);
    expect(ok.status).toBe(201);
    expect(ok.body).toMatchObject({ revision: "rev-test-b", signed: true });
  });
});
