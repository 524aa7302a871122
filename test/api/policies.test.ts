import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Api, api, LEARNER_POLICY, TENANT_POLICY } from "../support/http.ts";
import { ADMIN_KEY, startTestService, type TestService } from "../support/service.ts";

describe("policies API", () => {
  let t: TestService;
  let admin: Api;

  beforeAll(async () => {
    t = await startTestService();
    admin = api(t.handler, ADMIN_KEY);
  });
  afterAll(() => t.close());

  it("creates a tenant policy (201) with version 1 and every §2 field echoed", async () => {
    const res = await admin.post("/api/v1/policies", { ...TENANT_POLICY, tenant_id: "p-create" });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      tenant_id: "p-create",
      primary_region: "us-east",
      compliance_frameworks: ["ferpa"],
      version: 1,
      is_active: true,
      created_by: "bootstrap-admin",
    });
    expect(res.body.policy_id).toMatch(/^pol_/);
    expect(res.headers.etag).toBe('"1"');
    const rows = await t.db.query("SELECT version, is_active FROM policies WHERE tenant_id = $1", [
      "p-create",
    ]);
    expect(rows.rows).toEqual([{ version: 1, is_active: true }]);
  });

  it("a second POST for the same scope becomes version 2 and keeps version 1 in history", async () => {
    const first = await admin.post("/api/v1/policies", { ...TENANT_POLICY, tenant_id: "p-version" });
    const second = await admin.post("/api/v1/policies", {
      ...TENANT_POLICY,
      tenant_id: "p-version",
      prohibited_regions: ["apac-east"],
    });
    expect(second.status).toBe(201);
    expect(second.body.policy_id).toBe(first.body.policy_id);
    expect(second.body.version).toBe(2);
    const history = await admin.get(`/api/v1/policies/id/${first.body.policy_id}/versions`);
    expect(
      history.body.items.map((p: { version: number; is_active: boolean }) => [p.version, p.is_active]),
    ).toEqual([
      [2, true],
      [1, false],
    ]);
  });

  it("PUT with a stale If-Match answers 409 and changes nothing; the right one makes a new version", async () => {
    const created = await admin.post("/api/v1/policies", { ...TENANT_POLICY, tenant_id: "p-ifmatch" });
    const id = created.body.policy_id;
    const ok = await admin
      .put(`/api/v1/policies/id/${id}`, {
        ...TENANT_POLICY,
        tenant_id: "p-ifmatch",
        allowed_regions: ["us-west"],
      })
      .set("if-match", '"1"');
    expect(ok.status).toBe(200);
    expect(ok.body.version).toBe(2);
    const stale = await admin
      .put(`/api/v1/policies/id/${id}`, { ...TENANT_POLICY, tenant_id: "p-ifmatch" })
      .set("if-match", '"1"');
    expect(stale.status).toBe(409);
    expect(stale.body.error.code).toBe("CONFLICT");
    expect(stale.body.error.details).toEqual({ current_version: 2 });
    const got = await admin.get(`/api/v1/policies/id/${id}`);
    expect(got.body.version).toBe(2);
    expect(got.body.allowed_regions).toEqual(["us-west"]);
  });

  it("400 for an unknown region or framework, naming the field", async () => {
    const region = await admin.post("/api/v1/policies", { ...TENANT_POLICY, primary_region: "mars-north" });
    expect(region.status).toBe(400);
    expect(region.body.error.code).toBe("VALIDATION_FAILED");
    expect(region.body.error.details[0].path).toBe("primary_region");
    const framework = await admin.post("/api/v1/policies", {
      ...TENANT_POLICY,
      compliance_frameworks: ["hipaa"],
    });
    expect(framework.status).toBe(400);
    expect(framework.body.error.details[0].path).toBe("compliance_frameworks.0");
  });

  it("422 lists every violation: allowed+prohibited, illegal primary, COPPA without retention", async () => {
    const res = await admin.post("/api/v1/policies", {
      tenant_id: "p-422",
      primary_region: "us-east",
      allowed_regions: ["us-east", "eu-west"],
      prohibited_regions: ["eu-west"],
      compliance_frameworks: ["gdpr", "coppa"],
    });
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe("POLICY_VIOLATION");
    const codes = res.body.error.details.violations.map((v: { code: string }) => v.code).sort();
    expect(codes).toEqual([
      "PRIMARY_REGION_NOT_LEGAL",
      "REGION_ALLOWED_AND_PROHIBITED",
      "RETENTION_REQUIRED",
    ]);
    const legal = res.body.error.details.violations.find(
      (v: { code: string }) => v.code === "PRIMARY_REGION_NOT_LEGAL",
    );
    expect(legal).toMatchObject({ field: "primary_region", framework: "gdpr" });
    const rows = await t.db.query("SELECT 1 FROM policies WHERE tenant_id = 'p-422'");
    expect(rows.rows).toHaveLength(0);
  });

  it("SPEC §4.7 last row: gdpr, allowed [us-east], primary us-east is rejected with 422", async () => {
    const res = await admin.post("/api/v1/policies", {
      tenant_id: "p-gdpr-us",
      primary_region: "us-east",
      allowed_regions: ["us-east"],
      compliance_frameworks: ["gdpr"],
    });
    expect(res.status).toBe(422);
  });

  it("a learner policy needs a tenant policy first (422 TENANT_POLICY_REQUIRED)", async () => {
    const res = await admin.post("/api/v1/policies", { ...LEARNER_POLICY, tenant_id: "p-orphan" });
    expect(res.status).toBe(422);
    expect(res.body.error.details.violations[0].code).toBe("TENANT_POLICY_REQUIRED");
  });

  it("learner policies cannot carry tenant contracts (400)", async () => {
    await admin.post("/api/v1/policies", { ...TENANT_POLICY, tenant_id: "p-contract" });
    const res = await admin.post("/api/v1/policies", {
      ...LEARNER_POLICY,
      tenant_id: "p-contract",
      transfer_mechanisms: { dpf: ["us-east"] },
    });
    expect(res.status).toBe(400);
    expect(res.body.error.details[0].path).toBe("transfer_mechanisms");
  });

  it("effective policy merges learner over tenant with per-field provenance", async () => {
    await admin.post("/api/v1/policies", {
      tenant_id: "p-eff",
      primary_region: "us-east",
      allowed_regions: ["us-west", "ca-central", "eu-west"],
      prohibited_regions: ["apac-south"],
      compliance_frameworks: ["ferpa"],
      allow_cross_region_failover: true,
      data_retention_days: 3650,
      consents: { school_authorization: true },
    });
    await admin.post("/api/v1/policies", {
      ...LEARNER_POLICY,
      tenant_id: "p-eff",
      allowed_regions: ["us-west", "apac-east"],
      prohibited_regions: ["apac-east"],
      allow_cross_region_failover: false,
      data_retention_days: 365,
      learner_age: 10,
    });
    const res = await admin.get("/api/v1/policies/effective?tenant_id=p-eff&learner_id=student-123");
    expect(res.status).toBe(200);
    expect(res.body.policy).toMatchObject({
      primary_region: "us-east",
      allowed_regions: ["us-west"], // learner's list ∩ tenant's
      prohibited_regions: ["apac-south", "apac-east"], // union
      compliance_frameworks: ["ferpa", "coppa"], // union
      allow_cross_region_failover: false, // both must allow
      data_retention_days: 365, // minimum
      learner_age: 10,
      consents: { school_authorization: true, parental_consent: false, ai_training_consent: false },
    });
    expect(res.body.provenance).toMatchObject({
      allowed_regions: "merged",
      prohibited_regions: "merged",
      compliance_frameworks: "merged",
      learner_age: "learner",
      transfer_mechanisms: "default",
      primary_region: "learner",
    });
  });

  it("lists active policies, deactivates, and include_inactive shows them again", async () => {
    const created = await admin.post("/api/v1/policies", { ...TENANT_POLICY, tenant_id: "p-list" });
    const listed = await admin.get("/api/v1/policies?tenant_id=p-list");
    expect(listed.body.items).toHaveLength(1);
    const del = await admin.delete(`/api/v1/policies/id/${created.body.policy_id}`);
    expect(del.status).toBe(200);
    expect(del.body.is_active).toBe(false);
    expect((await admin.get("/api/v1/policies/p-list")).body.items).toHaveLength(0);
    const all = await admin.get("/api/v1/policies/p-list?include_inactive=true");
    expect(all.body.items).toHaveLength(1);
    const audit = await t.db.query("SELECT type FROM audit_log WHERE tenant_id = 'p-list' ORDER BY seq");
    expect(audit.rows.map((r) => r.type)).toEqual(["policy.created", "policy.deactivated"]);
  });

  it("a change and its audit record commit together: audit refused ⇒ 503 and no new version", async () => {
    const created = await admin.post("/api/v1/policies", { ...TENANT_POLICY, tenant_id: "p-atomic" });
    expect(created.status).toBe(201);
    await t.db.exec(`
      CREATE FUNCTION refuse_audit() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN RAISE EXCEPTION 'audit store refuses writes'; END $$;
      CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_log FOR EACH ROW EXECUTE FUNCTION refuse_audit();
    `);
    try {
      const refused = await admin.post("/api/v1/policies", {
        ...TENANT_POLICY,
        tenant_id: "p-atomic",
        allowed_regions: ["us-west"],
      });
      expect(refused.status).toBe(503);
      expect(refused.body.error.code).toBe("AUDIT_UNAVAILABLE");
    } finally {
      await t.db.exec("DROP TRIGGER refuse_audit ON audit_log; DROP FUNCTION refuse_audit();");
    }
    const versions = await t.db.query(
      "SELECT version FROM policies WHERE tenant_id = 'p-atomic' ORDER BY version",
    );
    expect(versions.rows.map((r) => r.version)).toEqual([1]);
    const next = await admin.post("/api/v1/policies", {
      ...TENANT_POLICY,
      tenant_id: "p-atomic",
      allowed_regions: ["us-west"],
    });
    expect(next.body.version).toBe(2);
    const audited = await t.db.query(
      "SELECT type, policy_version FROM audit_log WHERE tenant_id = 'p-atomic' ORDER BY seq",
    );
    expect(audited.rows).toEqual([
      { type: "policy.created", policy_version: 1 },
      { type: "policy.updated", policy_version: 2 },
    ]);
  });

  it("404 for an unknown policy id", async () => {
    const res = await admin.get("/api/v1/policies/id/pol_doesnotexist");
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe("NOT_FOUND");
    expect(res.body.error.request_id).toBeTruthy();
  });
});
