import request from "supertest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Api, api, LEARNER_POLICY, TENANT_POLICY } from "../support/http.ts";
import { ADMIN_KEY, startTestService, type TestService } from "../support/service.ts";

describe("decision API (access, inference, presign)", () => {
  let t: TestService;
  let admin: Api;
  let svc: Api;

  const resolve = (body: Record<string, unknown>) =>
    svc.post("/api/v1/access/resolve", {
      resource_type: "document",
      resource_id: "doc-1",
      operation_type: "write",
      ...body,
    });

  beforeAll(async () => {
    t = await startTestService();
    admin = api(t.handler, ADMIN_KEY);
    svc = api(t.handler, await t.keyFor(["service"]));
  });
  afterAll(() => t.close());

  describe("SPEC appendix A", () => {
    beforeAll(async () => {
      expect((await admin.post("/api/v1/policies", TENANT_POLICY)).status).toBe(201);
      expect((await admin.post("/api/v1/policies", LEARNER_POLICY)).status).toBe(201);
    });

    it("without consent both answer DENY_COPPA_NO_CONSENT", async () => {
      const access = await svc.post("/api/v1/access/resolve", {
        tenant_id: "acme-edu",
        learner_id: "student-123",
        operation_type: "read",
        resource_type: "document",
        resource_id: "assignment-456",
        requested_region: "us-west",
      });
      expect(access.status).toBe(200);
      expect(access.body.allowed).toBe(false);
      expect(access.body.reason.code).toBe("DENY_COPPA_NO_CONSENT");
      const inference = await svc
        .post("/api/v1/inference/route", {
          model_type: "claude-3-haiku",
          learner_id: "student-123",
          operation_type: "inference",
          data_classification: "educational",
        })
        .set("x-tenant-id", "acme-edu");
      expect(inference.status).toBe(200);
      expect(inference.body.allowed).toBe(false);
      expect(inference.body.reason.code).toBe("DENY_COPPA_NO_CONSENT");
    });

    it("with school authorization: us-west allowed, inference routed to aws-bedrock us-east", async () => {
      const updated = await admin.post("/api/v1/policies", {
        ...LEARNER_POLICY,
        consents: { school_authorization: true },
      });
      expect(updated.status).toBe(201);
      const access = await svc.post("/api/v1/access/resolve", {
        tenant_id: "acme-edu",
        learner_id: "student-123",
        operation_type: "read",
        resource_type: "document",
        resource_id: "assignment-456",
        requested_region: "us-west",
      });
      expect(access.body).toMatchObject({
        allowed: true,
        target_region: "us-west",
        reason: { code: "ALLOW_PERMITTED_REGION" },
        infrastructure: { storage: { bucket: "residency-data-us-west" } },
        policy: { policy_id: updated.body.policy_id, version: updated.body.version },
      });
      expect(access.body.decision_id).toMatch(/^[0-9a-f-]{36}$/);
      expect(access.body.bundle_revision).toBeTruthy();
      const inference = await svc
        .post("/api/v1/inference/route", {
          model_type: "claude-3-haiku",
          learner_id: "student-123",
          operation_type: "inference",
          data_classification: "educational",
        })
        .set("x-tenant-id", "acme-edu");
      expect(inference.body).toMatchObject({
        allowed: true,
        provider: "aws-bedrock",
        provider_region: "us-east",
        reason: { code: "ALLOW_PRIMARY" },
        fallback_used: false,
      });
      expect(inference.body.endpoint).toContain("us-east-1");
    });
  });

  describe("SPEC §4.7 example table through the API", () => {
    const cases: Array<{
      name: string;
      policy: Record<string, unknown>;
      request: Record<string, unknown>;
      allowed: boolean;
      code: string;
      target?: string;
      health?: Record<string, string>;
    }> = [
      {
        name: "gdpr, primary eu-west, write → eu-west",
        policy: { primary_region: "eu-west", compliance_frameworks: ["gdpr"] },
        request: { requested_region: "eu-west" },
        allowed: true,
        code: "ALLOW_PRIMARY",
        target: "eu-west",
      },
      {
        name: "gdpr, primary eu-central, write → apac-south",
        policy: { primary_region: "eu-central", compliance_frameworks: ["gdpr"] },
        request: { requested_region: "apac-south" },
        allowed: false,
        code: "DENY_NO_TRANSFER_MECHANISM",
      },
      {
        name: "gdpr, scc_tia [apac-south], replicate → apac-south",
        policy: {
          primary_region: "eu-west",
          compliance_frameworks: ["gdpr"],
          transfer_mechanisms: { scc_tia: ["apac-south"] },
        },
        request: { operation_type: "replicate", requested_region: "apac-south" },
        allowed: true,
        code: "ALLOW_PERMITTED_REGION",
        target: "apac-south",
      },
      {
        name: "pipeda without contract, replicate → us-east",
        policy: {
          primary_region: "ca-central",
          compliance_frameworks: ["pipeda"],
          transfer_mechanisms: { pipeda_contract: false },
        },
        request: { operation_type: "replicate", requested_region: "us-east" },
        allowed: false,
        code: "DENY_NO_COMPARABLE_PROTECTION",
      },
      {
        name: "ferpa, prohibited [apac-east], replicate → apac-east",
        policy: {
          primary_region: "us-east",
          compliance_frameworks: ["ferpa"],
          prohibited_regions: ["apac-east"],
        },
        request: { operation_type: "replicate", requested_region: "apac-east" },
        allowed: false,
        code: "DENY_TENANT_PROHIBITED",
      },
    ];
    let n = 0;
    for (const c of cases) {
      it(c.name, async () => {
        const tenant = `table-${++n}`;
        const created = await admin.post("/api/v1/policies", { tenant_id: tenant, ...c.policy });
        expect(created.status).toBe(201);
        const res = await resolve({ tenant_id: tenant, ...c.request });
        expect(res.status).toBe(200);
        expect(res.body.allowed).toBe(c.allowed);
        expect(res.body.reason.code).toBe(c.code);
        if (c.target) expect(res.body.target_region).toBe(c.target);
        expect(Array.isArray(res.body.legal_regions)).toBe(true);
        expect(typeof res.body.eliminated).toBe("object");
      });
    }

    it("gdpr, primary eu-west unavailable, failover on ⇒ ALLOW_FAILOVER to eu-central", async () => {
      const operator = api(t.handler, await t.keyFor(["operator"]));
      await admin.post("/api/v1/policies", {
        tenant_id: "table-failover",
        primary_region: "eu-west",
        compliance_frameworks: ["gdpr"],
        allow_cross_region_failover: true,
        failover_regions: ["eu-central", "us-east"],
      });
      expect(
        (await operator.put("/api/v1/regions/eu-west/health", { status: "unavailable", reason: "drill" }))
          .status,
      ).toBe(200);
      try {
        const res = await resolve({ tenant_id: "table-failover" });
        expect(res.body).toMatchObject({
          allowed: true,
          target_region: "eu-central",
          failover: true,
          reason: { code: "ALLOW_FAILOVER" },
        });
      } finally {
        await operator.put("/api/v1/regions/eu-west/health", { status: "healthy" });
      }
      const after = await resolve({ tenant_id: "table-failover" });
      expect(after.body.reason.code).toBe("ALLOW_PRIMARY");
    });
  });

  it("no policy ⇒ 200 with DENY_NO_POLICY (fail closed), and the deny is audited", async () => {
    const res = await resolve({ tenant_id: "nobody-here" });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      allowed: false,
      reason: { code: "DENY_NO_POLICY" },
      infrastructure: null,
    });
    const rows = await t.db.query("SELECT type, payload FROM audit_log WHERE event_id = $1", [
      res.body.decision_id,
    ]);
    expect(rows.rows).toHaveLength(1);
    expect(rows.rows[0]!.type).toBe("decision.access");
    expect((rows.rows[0]!.payload as { decision: { reason_code: string } }).decision.reason_code).toBe(
      "DENY_NO_POLICY",
    );
  });

  it("every answered decision has exactly one audit row with its request id", async () => {
    await admin.post("/api/v1/policies", {
      tenant_id: "audited",
      primary_region: "eu-west",
      compliance_frameworks: ["gdpr"],
    });
    const res = await resolve({ tenant_id: "audited" }).set("x-request-id", "req-abc-123");
    expect(res.headers["x-request-id"]).toBe("req-abc-123");
    const rows = await t.db.query(
      "SELECT request_id, bundle_revision, policy_id FROM audit_log WHERE event_id = $1",
      [res.body.decision_id],
    );
    expect(rows.rows).toEqual([
      {
        request_id: "req-abc-123",
        bundle_revision: res.body.bundle_revision,
        policy_id: res.body.policy.policy_id,
      },
    ]);
  });

  it("delete routes erasure to every copy, deferring unavailable regions, flagging non-compliant copies", async () => {
    await admin.post("/api/v1/policies", {
      tenant_id: "erasure",
      primary_region: "eu-west",
      compliance_frameworks: ["gdpr"],
      data_retention_days: 30,
    });
    const operator = api(t.handler, await t.keyFor(["operator"]));
    await operator.put("/api/v1/regions/eu-central/health", { status: "unavailable" });
    try {
      const res = await resolve({
        tenant_id: "erasure",
        operation_type: "delete",
        data_locations: ["eu-west", "eu-central", "us-east"],
      });
      expect(res.body.allowed).toBe(true);
      expect(res.body.reason.code).toBe("ALLOW_ERASURE_ROUTED");
      expect([...res.body.erasure_targets].sort()).toEqual(["eu-central", "eu-west", "us-east"]);
      expect(res.body.deferred).toEqual(["eu-central"]);
      expect(res.body.flags).toContain("NONCOMPLIANT_COPY_FOUND");
    } finally {
      await operator.put("/api/v1/regions/eu-central/health", { status: "healthy" });
    }
  });

  it("inference: emotion recognition under GDPR is an AI-Act deny; unknown model ⇒ DENY_MODEL_UNAVAILABLE", async () => {
    await admin.post("/api/v1/policies", {
      tenant_id: "ai-eu",
      primary_region: "eu-west",
      compliance_frameworks: ["gdpr"],
    });
    const banned = await svc.post("/api/v1/inference/route", {
      tenant_id: "ai-eu",
      model_type: "claude-3-haiku",
      operation_type: "inference",
      purpose: "emotion_recognition",
    });
    expect(banned.body.reason.code).toBe("DENY_AI_ACT_PROHIBITED_PRACTICE");
    const missing = await svc.post("/api/v1/inference/route", {
      tenant_id: "ai-eu",
      model_type: "gpt-4o",
      operation_type: "inference",
    });
    expect(missing.body).toMatchObject({ allowed: false, reason: { code: "DENY_MODEL_UNAVAILABLE" } });
    const ok = await svc.post("/api/v1/inference/route", {
      tenant_id: "ai-eu",
      model_type: "claude-3-sonnet",
      operation_type: "inference",
    });
    expect(ok.body).toMatchObject({ allowed: true, provider: "anthropic-eu", provider_region: "eu-west" });
  });

  it("inference: X-Tenant-ID and body tenant_id must agree; one of them is required", async () => {
    const both = await svc
      .post("/api/v1/inference/route", { tenant_id: "a", model_type: "m", operation_type: "inference" })
      .set("x-tenant-id", "b");
    expect(both.status).toBe(400);
    const neither = await svc.post("/api/v1/inference/route", {
      model_type: "m",
      operation_type: "inference",
    });
    expect(neither.status).toBe(400);
    expect(neither.body.error.details[0].path).toBe("tenant_id");
  });

  it("inference: X-Tenant-ID is held to the body's tenant_id pattern ('.' and '..' refused)", async () => {
    const body = { model_type: "m", operation_type: "inference" };
    for (const header of ["..", ".", "a/b", "x".repeat(129)]) {
      const res = await svc.post("/api/v1/inference/route", body).set("x-tenant-id", header);
      expect(res.status).toBe(400);
      expect(res.body.error).toMatchObject({ code: "VALIDATION_FAILED", details: [{ path: "tenant_id" }] });
      const inBody = await svc.post("/api/v1/inference/route", { ...body, tenant_id: header });
      expect(inBody.status).toBe(400);
      expect(inBody.body.error.code).toBe("VALIDATION_FAILED");
    }
  });

  it("catalog lists endpoints filtered by region and model", async () => {
    const res = await svc.get("/api/v1/inference/endpoints?region=us-east&model_type=gpt-4o");
    expect(res.status).toBe(200);
    expect(res.body.items.map((e: { provider: string }) => e.provider)).toEqual(["openai"]);
  });

  describe("presign", () => {
    beforeAll(async () => {
      await admin.post("/api/v1/policies", {
        tenant_id: "files",
        primary_region: "eu-central",
        compliance_frameworks: ["gdpr"],
      });
    });

    it("allowed: a URL into the decided region's bucket, key under the tenant, TTL honoured", async () => {
      const res = await svc.post("/api/v1/storage/presign", {
        tenant_id: "files",
        operation: "write",
        key: "reports/q1.pdf",
        expires_in: 120,
      });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({
        allowed: true,
        target_region: "eu-central",
        method: "PUT",
        bucket: "residency-data-eu-central",
        key: "files/reports/q1.pdf",
      });
      const url = new URL(res.body.url);
      expect(url.hostname).toContain("residency-data-eu-central");
      expect(url.hostname).toContain("eu-central-1");
      expect(url.searchParams.get("X-Amz-Expires")).toBe("120");
      expect(Date.parse(res.body.expires_at) - Date.parse(res.body.evaluated_at)).toBe(120_000);
      const audit = await t.db.query("SELECT type, payload FROM audit_log WHERE event_id = $1", [
        res.body.decision_id,
      ]);
      const payload = audit.rows[0]!.payload as { decision: Record<string, unknown> };
      expect(audit.rows[0]!.type).toBe("decision.presign");
      expect(payload.decision.key).toBe("files/reports/q1.pdf");
      expect(JSON.stringify(payload)).not.toContain("X-Amz-Signature"); // the URL is a credential
    });

    it("denied: no URL at all", async () => {
      const res = await svc.post("/api/v1/storage/presign", {
        tenant_id: "files",
        operation: "read",
        key: "x.bin",
        requested_region: "us-east",
      });
      expect(res.body.allowed).toBe(false);
      expect(res.body.url).toBeUndefined();
    });

    it("TTL above 900 s and keys escaping the prefix are 400", async () => {
      const ttl = await svc.post("/api/v1/storage/presign", {
        tenant_id: "files",
        operation: "read",
        key: "a",
        expires_in: 901,
      });
      expect(ttl.status).toBe(400);
      const escaping = await svc.post("/api/v1/storage/presign", {
        tenant_id: "files",
        operation: "read",
        key: "../other/a",
      });
      expect(escaping.status).toBe(400);
      const absolute = await svc.post("/api/v1/storage/presign", {
        tenant_id: "files",
        operation: "read",
        key: "/etc/passwd",
      });
      expect(absolute.status).toBe(400);
    });
  });

  describe("reused decisions (the decision memo, on as in production)", () => {
    const memoCount = async (result: "hit" | "miss") => {
      const text = (await request(t.handler).get("/metrics")).text;
      const line = text
        .split("\n")
        .find((l) =>
          l.startsWith(`residency_decision_memo_total{entrypoint="residency/decision",result="${result}"}`),
        );
      return line ? Number(line.split(" ").pop()) : 0;
    };

    it("answers learners the rules cannot tell apart from one evaluation, audits every decision, and sees a policy change at once", async () => {
      expect(
        (
          await admin.post("/api/v1/policies", {
            tenant_id: "memo-school",
            primary_region: "eu-west",
            compliance_frameworks: ["gdpr"],
          })
        ).status,
      ).toBe(201);
      const ask = (learner: string, resource: string) =>
        resolve({
          tenant_id: "memo-school",
          learner_id: learner,
          resource_id: resource,
          requested_region: "eu-west",
        });
      const [hits, misses] = [await memoCount("hit"), await memoCount("miss")];

      const answers = [];
      for (const [i, learner] of ["l-1", "l-2", "l-3", "l-1", "l-2", "l-3"].entries()) {
        answers.push(await ask(learner, `doc-${i}`));
      }
      for (const a of answers) {
        expect(a.status).toBe(200);
        expect(a.body).toMatchObject({
          allowed: true,
          target_region: "eu-west",
          reason: { code: "ALLOW_PRIMARY" },
        });
        expect(a.body).not.toHaveProperty("reuse"); // host-facing, never on the wire
      }
      expect((await memoCount("miss")) - misses).toBe(1);
      expect((await memoCount("hit")) - hits).toBe(5);
      const ids = answers.map((a) => a.body.decision_id as string);
      expect(new Set(ids).size).toBe(6);
      const audited = await t.db.query<{ n: string }>(
        "SELECT count(*) AS n FROM audit_log WHERE event_id = ANY($1::text[])",
        [ids],
      );
      expect(Number(audited.rows[0]!.n)).toBe(6);
      // Every record, the reused ones too, says what its answer said.
      const records = await t.db.query<{ event_id: string; payload: unknown }>(
        "SELECT event_id, payload FROM audit_log WHERE event_id = ANY($1::text[])",
        [ids],
      );
      for (const row of records.rows) {
        const a = answers[ids.indexOf(row.event_id)]!.body;
        const payload = (typeof row.payload === "string" ? JSON.parse(row.payload) : row.payload) as {
          decision: unknown;
        };
        expect(payload.decision).toEqual({
          allowed: a.allowed,
          reason_code: a.reason.code,
          reason: a.reason,
          target_region: a.target_region,
          override_id: a.override_id,
          failover: a.failover,
          flags: a.flags,
          legal_regions: a.legal_regions,
          permitted_regions: a.permitted_regions,
          eliminated: a.eliminated,
        });
      }

      const moved = await admin.post("/api/v1/policies", {
        tenant_id: "memo-school",
        primary_region: "eu-central",
        compliance_frameworks: ["gdpr"],
      });
      expect(moved.status).toBe(201);
      const after = await ask("l-1", "doc-after");
      expect(after.body).toMatchObject({
        allowed: true,
        target_region: "eu-west",
        reason: { code: "ALLOW_PERMITTED_REGION" },
        policy: { version: moved.body.version },
      });
    });
  });
});
