import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Api, api } from "../support/http.ts";
import { ADMIN_KEY, startTestService, type TestService } from "../support/service.ts";

// SPEC §11 through the API: learner/tenant consistency (A7), the closed purpose vocabulary (A4),
// legal holds (A8) and erasure after offboarding and under a hold — each with its audit record.

type Row = {
  type: string;
  tenant_id: string;
  learner_id: string | null;
  actor: string;
  payload: Record<string, unknown>;
};

describe("legal rules, round two, through the API", () => {
  let t: TestService;
  let admin: Api;
  let policyAdmin: Api;
  let svc: Api;
  let legal: Api;
  let auditor: Api;
  let scopedLegal: Api;

  beforeAll(async () => {
    t = await startTestService();
    admin = api(t.handler, ADMIN_KEY);
    policyAdmin = api(t.handler, await t.keyFor(["policy_admin"], undefined, "pat"));
    svc = api(t.handler, await t.keyFor(["service"]));
    legal = api(t.handler, await t.keyFor(["legal_admin"], undefined, "lena"));
    auditor = api(t.handler, await t.keyFor(["auditor"]));
    scopedLegal = api(t.handler, await t.keyFor(["legal_admin"], ["someone-else"], "scoped"));
  });
  afterAll(() => t.close());

  const records = async (tenant: string, type: string) =>
    (
      await t.db.query<Row>(
        "SELECT type, tenant_id, learner_id, actor, payload FROM audit_log WHERE tenant_id = $1 AND type = $2 ORDER BY seq",
        [tenant, type],
      )
    ).rows;
  const resolve = (body: Record<string, unknown>) =>
    svc.post("/api/v1/access/resolve", { resource_type: "document", resource_id: "d-1", ...body });

  it("refuses a learner primary outside the tenant's regions (422 LEARNER_PRIMARY_OUTSIDE_TENANT), nothing written", async () => {
    const tenant = "legal-a7-primary";
    expect(
      (
        await policyAdmin.post("/api/v1/policies", {
          tenant_id: tenant,
          primary_region: "us-east",
          allowed_regions: ["us-west"],
          compliance_frameworks: ["ferpa"],
        })
      ).status,
    ).toBe(201);
    const res = await policyAdmin.post("/api/v1/policies", {
      tenant_id: tenant,
      learner_id: "l-1",
      primary_region: "ca-central",
    });
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe("POLICY_VIOLATION");
    expect(res.body.error.details.violations.map((v: { code: string }) => v.code)).toEqual([
      "LEARNER_PRIMARY_OUTSIDE_TENANT",
    ]);
    expect((await records(tenant, "policy.created")).map((r) => r.learner_id)).toEqual([null]);
    // Inside the tenant's set it is accepted, and audited.
    const ok = await policyAdmin.post("/api/v1/policies", {
      tenant_id: tenant,
      learner_id: "l-1",
      primary_region: "us-west",
    });
    expect(ok.status).toBe(201);
    expect((await records(tenant, "policy.created")).map((r) => r.learner_id)).toEqual([null, "l-1"]);
  });

  it("refuses tenant-only attestations on a learner policy (422 FIELD_TENANT_ONLY)", async () => {
    const tenant = "legal-a7-fields";
    await policyAdmin.post("/api/v1/policies", {
      tenant_id: tenant,
      primary_region: "apac-south",
      compliance_frameworks: ["dpdp"],
    });
    const res = await policyAdmin.post("/api/v1/policies", {
      tenant_id: tenant,
      learner_id: "l-1",
      dpdp_education_exemption: true,
      min_learner_age: 18,
    });
    expect(res.status).toBe(422);
    expect(
      res.body.error.details.violations.map((v: { code: string; field: string }) => [v.code, v.field]),
    ).toEqual([
      ["FIELD_TENANT_ONLY", "dpdp_education_exemption"],
      ["FIELD_TENANT_ONLY", "min_learner_age"],
    ]);
  });

  it("checks mechanism items and the tenant's minimum age (422 MECHANISM_REGION_MISMATCH, UNKNOWN_PROVIDER, LEARNER_AGE_BELOW_TENANT_MINIMUM)", async () => {
    const tenant = "legal-a1-mechanisms";
    const bad = await policyAdmin.post("/api/v1/policies", {
      tenant_id: tenant,
      primary_region: "eu-west",
      compliance_frameworks: ["gdpr"],
      transfer_mechanisms: {
        dpf: ["eu-central"],
        scc_tia: [{ provider: "no-such-ai", regions: ["us-east"] }],
      },
    });
    expect(bad.status).toBe(422);
    expect(
      bad.body.error.details.violations.map((v: { code: string; field: string }) => [v.code, v.field]),
    ).toEqual([
      ["MECHANISM_REGION_MISMATCH", "transfer_mechanisms.dpf"],
      ["UNKNOWN_PROVIDER", "transfer_mechanisms.scc_tia"],
    ]);
    const ok = await policyAdmin.post("/api/v1/policies", {
      tenant_id: tenant,
      primary_region: "eu-west",
      compliance_frameworks: ["gdpr"],
      min_learner_age: 18,
      transfer_mechanisms: {
        scc_tia: [{ provider: "openai", regions: ["us-east"], reference: "SCC-2026-4" }],
      },
    });
    expect(ok.status).toBe(201);
    const young = await policyAdmin.post("/api/v1/policies", {
      tenant_id: tenant,
      learner_id: "l-1",
      learner_age: 16,
    });
    expect(young.status).toBe(422);
    expect(young.body.error.details.violations.map((v: { code: string }) => v.code)).toEqual([
      "LEARNER_AGE_BELOW_TENANT_MINIMUM",
    ]);
  });

  it("refuses a tenant change that would invalidate active learner policies (422 LEARNER_POLICY_INVALIDATED), nothing written", async () => {
    const tenant = "legal-a7-invalidated";
    const created = await policyAdmin.post("/api/v1/policies", {
      tenant_id: tenant,
      primary_region: "us-east",
      compliance_frameworks: ["ferpa"],
      data_retention_days: 365,
    });
    expect(created.status).toBe(201);
    for (const learner of ["s-2", "s-1"]) {
      const res = await policyAdmin.post("/api/v1/policies", {
        tenant_id: tenant,
        learner_id: learner,
        compliance_frameworks: ["coppa"],
        learner_age: 15,
      });
      expect(res.status).toBe(201);
    }
    const put = await policyAdmin.put(`/api/v1/policies/id/${created.body.policy_id}`, {
      tenant_id: tenant,
      primary_region: "us-east",
      compliance_frameworks: ["ferpa"],
    });
    expect(put.status).toBe(422);
    const [violation] = put.body.error.details.violations;
    expect(violation.code).toBe("LEARNER_POLICY_INVALIDATED");
    expect(violation.field).toBe("learner_id");
    expect(violation.details).toEqual({
      learner_ids: ["s-1", "s-2"],
      affected_count: 2,
      by_code: { RETENTION_REQUIRED: 2 },
    });
    // Nothing written: still version 1, no policy.updated record; decisions still carry the retention.
    expect((await policyAdmin.get(`/api/v1/policies/id/${created.body.policy_id}`)).body.version).toBe(1);
    expect(await records(tenant, "policy.updated")).toEqual([]);
    const decision = await resolve({ tenant_id: tenant, learner_id: "s-1", operation_type: "read" });
    expect(decision.body.obligations.retention_days).toBe(365);
    // Deactivating (offboarding) is never blocked.
    expect((await policyAdmin.delete(`/api/v1/policies/id/${created.body.policy_id}`)).status).toBe(200);
  });

  it("answers 400 VALIDATION_FAILED naming purpose for a purpose outside the vocabulary, deciding and auditing nothing", async () => {
    const tenant = "legal-a4-purpose";
    await policyAdmin.post("/api/v1/policies", {
      tenant_id: tenant,
      primary_region: "eu-west",
      compliance_frameworks: ["gdpr"],
    });
    for (const purpose of ["Emotion_Recognition", "emotion-recognition", ""]) {
      const res = await resolve({ tenant_id: tenant, operation_type: "index", purpose });
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe("VALIDATION_FAILED");
      expect(res.body.error.details.map((d: { field: string }) => d.field)).toContain("purpose");
    }
    const inference = await svc.post("/api/v1/inference/route", {
      tenant_id: tenant,
      model_type: "claude-3-haiku",
      operation_type: "inference",
      purpose: "grading",
    });
    expect(inference.status).toBe(400);
    expect(inference.body.error.details[0].field).toBe("purpose");
    const presign = await svc.post("/api/v1/storage/presign", {
      tenant_id: tenant,
      operation: "write",
      key: `${tenant}/a.txt`,
      purpose: "Instruction",
    });
    expect(presign.status).toBe(400);
    const batch = await svc.post("/api/v1/access/resolve-batch", {
      requests: [
        {
          tenant_id: tenant,
          operation_type: "read",
          resource_type: "d",
          resource_id: "1",
          purpose: "instruction",
        },
        {
          tenant_id: tenant,
          operation_type: "read",
          resource_type: "d",
          resource_id: "2",
          purpose: "spying",
        },
      ],
    });
    expect(batch.status).toBe(400);
    expect(JSON.stringify(batch.body.error.details)).toContain("purpose");
    expect(await records(tenant, "decision.access")).toEqual([]);
    // The exact value is a decision, and audited: the AI Act ban covers storage too.
    const banned = await resolve({
      tenant_id: tenant,
      operation_type: "write",
      purpose: "emotion_recognition",
    });
    expect(banned.status).toBe(200);
    expect(banned.body.reason.code).toBe("DENY_AI_ACT_PROHIBITED_PRACTICE");
    expect(
      (await records(tenant, "decision.access")).map(
        (r) => (r.payload.decision as { reason_code: string }).reason_code,
      ),
    ).toEqual(["DENY_AI_ACT_PROHIBITED_PRACTICE"]);
  });

  it("sets and lifts a legal hold by a legal admin only; erasure is held, then routed — each step audited", async () => {
    const tenant = "legal-a8-hold";
    const created = await policyAdmin.post("/api/v1/policies", {
      tenant_id: tenant,
      primary_region: "eu-west",
      allowed_regions: ["eu-central"],
      compliance_frameworks: ["gdpr"],
    });
    expect(created.status).toBe(201);
    await policyAdmin.post("/api/v1/policies", {
      tenant_id: tenant,
      learner_id: "s-1",
      primary_region: "eu-central",
    });
    const hold = {
      tenant_id: tenant,
      learner_id: "s-1",
      active: true,
      reason: "litigation: records requested",
      reference: "CASE-2026-17",
    };

    // policy_admin and a key scoped to another tenant cannot set it; legal_hold is not a policy field.
    expect((await policyAdmin.put("/api/v1/legal-holds", hold)).status).toBe(403);
    expect((await scopedLegal.put("/api/v1/legal-holds", hold)).status).toBe(403);
    const smuggled = await policyAdmin.post("/api/v1/policies", {
      tenant_id: tenant,
      primary_region: "eu-west",
      legal_hold: { active: false },
    });
    expect(smuggled.status).toBe(400);
    expect(await records(tenant, "legal_hold.set")).toEqual([]);

    const set = await legal.put("/api/v1/legal-holds", hold);
    expect(set.status).toBe(200);
    expect(set.body).toMatchObject({
      tenant_id: tenant,
      learner_id: "s-1",
      active: true,
      reference: "CASE-2026-17",
      set_by: "lena",
    });
    const [setRecord] = await records(tenant, "legal_hold.set");
    expect(setRecord).toMatchObject({ learner_id: "s-1", actor: "lena" });
    expect(setRecord!.payload).toMatchObject({
      reason: hold.reason,
      reference: "CASE-2026-17",
      previous: null,
    });

    // Shown read-only on the policy and the effective policy; listed for auditors and policy admins.
    const listed = await auditor.get(`/api/v1/legal-holds?tenant_id=${tenant}&active=true`);
    expect(listed.body.items.map((h: { learner_id: string }) => h.learner_id)).toEqual(["s-1"]);
    expect((await policyAdmin.get(`/api/v1/legal-holds?tenant_id=${tenant}`)).status).toBe(200);
    const effective = await policyAdmin.get(`/api/v1/policies/effective?tenant_id=${tenant}&learner_id=s-1`);
    expect(effective.body.policy.legal_hold).toMatchObject({ active: true, reference: "CASE-2026-17" });
    const learnerPolicies = await policyAdmin.get(`/api/v1/policies?tenant_id=${tenant}&learner_id=s-1`);
    expect(learnerPolicies.body.items[0].legal_hold.active).toBe(true);

    // The delete is refused and says what is held; a read goes on, flagged. A tenant-level delete
    // is held too (a learner of the tenant is under hold).
    const held = await resolve({ tenant_id: tenant, learner_id: "s-1", operation_type: "delete" });
    expect(held.body).toMatchObject({ allowed: false, flags: ["LEGAL_HOLD"] });
    expect(held.body.reason.code).toBe("DENY_LEGAL_HOLD");
    expect(held.body.reason.message).toContain("CASE-2026-17");
    expect(held.body.reason.message).not.toContain("litigation");
    expect(held.body.erasure_targets).toEqual(["eu-west", "eu-central"]);
    const read = await resolve({ tenant_id: tenant, learner_id: "s-1", operation_type: "read" });
    expect(read.body).toMatchObject({ allowed: true, flags: ["LEGAL_HOLD"] });
    expect(read.body.obligations.legal_hold.reference).toBe("CASE-2026-17");
    const tenantDelete = await resolve({ tenant_id: tenant, operation_type: "delete" });
    expect(tenantDelete.body.reason.code).toBe("DENY_LEGAL_HOLD");

    // Release needs a reason; then the delete routes.
    expect((await legal.put("/api/v1/legal-holds", { ...hold, active: false, reason: "" })).status).toBe(400);
    const released = await admin.put("/api/v1/legal-holds", {
      ...hold,
      active: false,
      reason: "case settled",
    });
    expect(released.status).toBe(200);
    const [releasedRecord] = await records(tenant, "legal_hold.released");
    expect(releasedRecord!.payload).toMatchObject({
      reason: "case settled",
      previous: { active: true, reference: "CASE-2026-17" },
    });
    const routed = await resolve({ tenant_id: tenant, learner_id: "s-1", operation_type: "delete" });
    expect(routed.body).toMatchObject({ allowed: true, flags: [] });
    expect(routed.body.reason.code).toBe("ALLOW_ERASURE_ROUTED");
    const decisions = await records(tenant, "decision.access");
    expect(decisions.map((r) => (r.payload.decision as { reason_code: string }).reason_code)).toEqual([
      "DENY_LEGAL_HOLD",
      "ALLOW_PRIMARY",
      "DENY_LEGAL_HOLD",
      "ALLOW_ERASURE_ROUTED",
    ]);
  });

  it("routes erasure after offboarding to every region any version named, flagged POLICY_INACTIVE; other operations deny", async () => {
    const tenant = "legal-a8-offboarded";
    const v1 = await policyAdmin.post("/api/v1/policies", {
      tenant_id: tenant,
      primary_region: "eu-west",
      allowed_regions: ["apac-east"],
      compliance_frameworks: ["gdpr"],
    });
    expect(v1.status).toBe(201);
    const v2 = await policyAdmin.put(`/api/v1/policies/id/${v1.body.policy_id}`, {
      tenant_id: tenant,
      primary_region: "eu-west",
      compliance_frameworks: ["gdpr"],
    });
    expect(v2.status).toBe(200);
    expect((await policyAdmin.delete(`/api/v1/policies/id/${v1.body.policy_id}`)).status).toBe(200);

    const read = await resolve({ tenant_id: tenant, operation_type: "read" });
    expect(read.body.reason.code).toBe("DENY_NO_POLICY");
    const erase = await resolve({ tenant_id: tenant, operation_type: "delete", data_locations: ["us-east"] });
    expect(erase.status).toBe(200);
    expect(erase.body).toMatchObject({
      allowed: true,
      flags: ["NONCOMPLIANT_COPY_FOUND", "POLICY_INACTIVE"],
    });
    expect(erase.body.reason.code).toBe("ALLOW_ERASURE_ROUTED");
    expect(erase.body.erasure_targets).toEqual(["us-east", "eu-west", "apac-east"]);
    expect(erase.body.policy).toEqual({ policy_id: v1.body.policy_id, version: 2 });
    const [record] = (await records(tenant, "decision.access")).filter(
      (r) => (r.payload.decision as { reason_code: string }).reason_code === "ALLOW_ERASURE_ROUTED",
    );
    expect((record!.payload.decision as { flags: string[] }).flags).toEqual([
      "NONCOMPLIANT_COPY_FOUND",
      "POLICY_INACTIVE",
    ]);

    // A tenant that never had a policy: nothing can have been routed.
    const never = await resolve({
      tenant_id: "legal-never",
      operation_type: "delete",
      data_locations: ["eu-west"],
    });
    expect(never.body.reason.code).toBe("DENY_NO_POLICY");
  });

  it("lists legal holds a page at a time: the tenant's own hold first, then its learners'", async () => {
    const tenant = "hold-pages";
    await admin.post("/api/v1/policies", { tenant_id: tenant, primary_region: "eu-west" });
    const put = (learner: string | null) =>
      legal.put("/api/v1/legal-holds", {
        tenant_id: tenant,
        ...(learner ? { learner_id: learner } : {}),
        active: true,
        reason: "litigation",
        reference: "CASE-PAGES",
      });
    for (const learner of ["l-3", null, "l-1", "l-2"]) expect((await put(learner)).status).toBe(200);
    const seen: Array<string | null> = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page = await auditor.get(
        `/api/v1/legal-holds?tenant_id=${tenant}&limit=3${cursor ? `&cursor=${cursor}` : ""}`,
      );
      expect(page.status).toBe(200);
      expect(page.body.items.length).toBeLessThanOrEqual(3);
      seen.push(...page.body.items.map((h: { learner_id: string | null }) => h.learner_id));
      cursor = page.body.next_cursor;
      pages++;
    } while (cursor);
    expect(pages).toBe(2);
    expect(seen).toEqual([null, "l-1", "l-2", "l-3"]);
    expect((await auditor.get("/api/v1/legal-holds?cursor=not-a-cursor")).status).toBe(400);
  });
});
