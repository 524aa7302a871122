import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Api, api } from "../support/http.ts";
import { ADMIN_KEY, startTestService, type TestService } from "../support/service.ts";

// Every deny code a caller can meet through the API with the shipped bundle, each from a policy
// created through the API. (DENY_EMPTY_INTERSECTION and the provider-attribute codes need a policy
// the validator refuses today or a catalog entry the shipped catalog lacks; the Rego tests and the
// golden cases cover them.) Break-glass codes are in overrides.test.ts, appendix A in decisions.test.ts.

type Row = {
  code: string;
  tenant: Record<string, unknown>;
  learner?: Record<string, unknown>;
  unavailable?: string;
  access?: Record<string, unknown>;
  inference?: Record<string, unknown>;
};

const rows: Row[] = [
  {
    code: "DENY_QC_PIA_MISSING",
    tenant: { primary_region: "ca-central", compliance_frameworks: ["quebec_law25"] },
    learner: { learner_age: 30 }, // an unknown age would be a minor (SPEC §11.A3)
    access: { requested_region: "eu-west" },
  },
  {
    code: "DENY_PROVINCIAL_LOCALISATION",
    tenant: { primary_region: "ca-central", compliance_frameworks: ["ns_piidpa"] },
    access: { requested_region: "us-east" },
  },
  {
    code: "DENY_LGPD_NO_MECHANISM",
    tenant: { primary_region: "eu-west", compliance_frameworks: ["lgpd"] },
    learner: { learner_age: 30 }, // an unknown age would be a child (SPEC §11.A3)
    access: { requested_region: "us-east" },
  },
  {
    code: "DENY_QC_MINOR_NO_CONSENT",
    tenant: { primary_region: "ca-central", compliance_frameworks: ["quebec_law25"] },
    learner: { learner_age: 12 },
    access: {},
  },
  {
    code: "DENY_LGPD_CHILD_NO_CONSENT",
    tenant: { primary_region: "eu-west", compliance_frameworks: ["lgpd"] },
    learner: { learner_age: 10 },
    access: {},
  },
  {
    code: "DENY_NOT_IN_TENANT_ALLOWED",
    tenant: { primary_region: "us-east", allowed_regions: ["us-west"] },
    access: { requested_region: "eu-west" },
  },
  {
    code: "DENY_PRIMARY_UNAVAILABLE_NO_FAILOVER",
    tenant: { primary_region: "apac-south" },
    unavailable: "apac-south",
    access: {},
  },
  {
    code: "DENY_NO_COMPLIANT_FAILOVER_REGION",
    tenant: {
      primary_region: "apac-east",
      compliance_frameworks: ["gdpr"],
      allow_cross_region_failover: true,
      failover_regions: ["us-west"],
    },
    unavailable: "apac-east",
    access: {},
  },
  {
    code: "DENY_COPPA_SEPARATE_CONSENT_REQUIRED",
    tenant: {
      primary_region: "us-east",
      compliance_frameworks: ["coppa"],
      data_retention_days: 365,
      consents: { school_authorization: true },
    },
    learner: { learner_age: 10 },
    inference: { operation_type: "fine_tuning" },
  },
  {
    code: "DENY_FERPA_SECONDARY_USE",
    tenant: { primary_region: "us-east", compliance_frameworks: ["ferpa"] },
    inference: { operation_type: "training" },
  },
  {
    code: "DENY_NO_TRANSFER_MECHANISM",
    tenant: { primary_region: "eu-west", compliance_frameworks: ["gdpr"] },
    inference: { requested_region: "us-east" },
  },
  {
    code: "DENY_TENANT_PROHIBITED",
    tenant: { primary_region: "us-east", prohibited_regions: ["us-west"] },
    inference: { requested_region: "us-west" },
  },
];

describe("every reachable deny code through the API", () => {
  let t: TestService;
  let admin: Api;
  let svc: Api;
  let operator: Api;

  beforeAll(async () => {
    t = await startTestService();
    admin = api(t.handler, ADMIN_KEY);
    svc = api(t.handler, await t.keyFor(["service"]));
    operator = api(t.handler, await t.keyFor(["operator"]));
  });
  afterAll(() => t.close());

  let n = 0;
  for (const row of rows) {
    it(row.code, async () => {
      const tenant = `deny-${++n}`;
      expect((await admin.post("/api/v1/policies", { tenant_id: tenant, ...row.tenant })).status).toBe(201);
      if (row.learner) {
        const learner = await admin.post("/api/v1/policies", {
          tenant_id: tenant,
          learner_id: "l-1",
          ...row.learner,
        });
        expect(learner.status).toBe(201);
      }
      if (row.unavailable) {
        expect(
          (await operator.put(`/api/v1/regions/${row.unavailable}/health`, { status: "unavailable" })).status,
        ).toBe(200);
      }
      try {
        const learner = row.learner ? { learner_id: "l-1" } : {};
        const res = row.access
          ? await svc.post("/api/v1/access/resolve", {
              tenant_id: tenant,
              ...learner,
              operation_type: "write",
              resource_type: "document",
              resource_id: "d-1",
              ...row.access,
            })
          : await svc.post("/api/v1/inference/route", {
              tenant_id: tenant,
              ...learner,
              model_type: "claude-3-haiku",
              operation_type: "inference",
              ...row.inference,
            });
        expect(res.status).toBe(200);
        expect(res.body.allowed).toBe(false);
        expect(res.body.reason.code).toBe(row.code);
        expect(res.body.infrastructure).toBeNull();
        const audited = await t.db.query("SELECT payload FROM audit_log WHERE event_id = $1", [
          res.body.decision_id,
        ]);
        expect((audited.rows[0]!.payload as { decision: { reason_code: string } }).decision.reason_code).toBe(
          row.code,
        );
      } finally {
        if (row.unavailable)
          await operator.put(`/api/v1/regions/${row.unavailable}/health`, { status: "healthy" });
      }
    });
  }
});
