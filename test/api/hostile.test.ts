import request from "supertest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Api, type ApiResponse, api } from "../support/http.ts";
import { ADMIN_KEY, startTestService, type TestService } from "../support/service.ts";

// Whatever arrives, the answer is a 4xx envelope: never a 500, never a crash, never a decision
// made on input we did not understand.

describe("hostile input", () => {
  let t: TestService;
  let svc: Api;
  let admin: Api;
  let serviceKey: string;

  beforeAll(async () => {
    t = await startTestService();
    admin = api(t.handler, ADMIN_KEY);
    serviceKey = await t.keyFor(["service"]);
    svc = api(t.handler, serviceKey);
    await admin.post("/api/v1/policies", {
      tenant_id: "hostile",
      primary_region: "eu-west",
      compliance_frameworks: ["gdpr"],
    });
  });
  afterAll(() => t.close());

  const raw = (path: string, body: string, type = "application/json", key = serviceKey) =>
    request(t.handler).post(path).set("authorization", `Bearer ${key}`).set("content-type", type).send(body);

  const expectEnvelope = (
    res: Pick<ApiResponse, "status" | "body" | "headers">,
    status: number,
    code: string,
  ) => {
    expect(res.status).toBe(status);
    expect(res.body.error.code).toBe(code);
    expect(typeof res.body.error.message).toBe("string");
    expect(res.body.error.request_id).toBe(res.headers["x-request-id"]);
  };

  for (const path of [
    "/api/v1/access/resolve",
    "/api/v1/inference/route",
    "/api/v1/storage/presign",
    "/api/v1/policies",
  ]) {
    describe(path, () => {
      const key = () => (path === "/api/v1/policies" ? ADMIN_KEY : serviceKey);
      it("malformed JSON ⇒ 400", async () => {
        expectEnvelope(
          await raw(path, '{"tenant_id": "hostile",', "application/json", key()),
          400,
          "VALIDATION_FAILED",
        );
      });
      it("a JSON array / string / null body ⇒ 400", async () => {
        for (const body of ["[]", '"x"', "null", "42"]) {
          expectEnvelope(await raw(path, body, "application/json", key()), 400, "VALIDATION_FAILED");
        }
      });
      it("a body over 64 KiB ⇒ 413", async () => {
        const big = JSON.stringify({ tenant_id: "hostile", padding: "x".repeat(70 * 1024) });
        expectEnvelope(await raw(path, big, "application/json", key()), 413, "PAYLOAD_TOO_LARGE");
      });
      it("__proto__ and constructor keys ⇒ 400, nothing polluted", async () => {
        const body =
          '{"tenant_id":"hostile","__proto__":{"allowed":true,"polluted":1},"operation_type":"read"}';
        expectEnvelope(await raw(path, body, "application/json", key()), 400, "VALIDATION_FAILED");
        expect(({} as Record<string, unknown>).polluted).toBeUndefined();
        const ctor = '{"tenant_id":"hostile","constructor":{"prototype":{"polluted":1}}}';
        expectEnvelope(await raw(path, ctor, "application/json", key()), 400, "VALIDATION_FAILED");
      });
    });
  }

  it("wrong types and unknown fields ⇒ 400 naming them", async () => {
    const res = await svc.post("/api/v1/access/resolve", {
      tenant_id: 42,
      operation_type: "read",
      resource_type: "d",
      resource_id: "1",
      allowed: true,
    });
    expectEnvelope(res, 400, "VALIDATION_FAILED");
    const paths = res.body.error.details.map((d: { path: string }) => d.path);
    expect(paths).toContain("tenant_id");
    expect(JSON.stringify(res.body.error.details)).toContain("allowed");
  });

  it("a non-JSON content type on a decision route ⇒ 415", async () => {
    expectEnvelope(
      await raw("/api/v1/access/resolve", "tenant_id=x", "application/x-www-form-urlencoded"),
      415,
      "UNSUPPORTED_MEDIA_TYPE",
    );
  });

  it("SQL metacharacters in ids are rejected by the id pattern; in free text they are data", async () => {
    const res = await svc.post("/api/v1/access/resolve", {
      tenant_id: "hostile'; DROP TABLE policies; --",
      operation_type: "read",
      resource_type: "d",
      resource_id: "1",
    });
    expectEnvelope(res, 400, "VALIDATION_FAILED");
    const odd = await svc.post("/api/v1/access/resolve", {
      tenant_id: "hostile",
      operation_type: "read",
      resource_type: "doc'); DELETE FROM audit_log; --",
      resource_id: "1' OR '1'='1",
    });
    expect(odd.status).toBe(200);
    const policyById = await admin.get("/api/v1/policies/id/pol_x' OR '1'='1");
    expectEnvelope(policyById, 400, "VALIDATION_FAILED");
    const tables = await t.db.query("SELECT count(*)::int AS n FROM policies");
    expect(tables.rows[0]!.n).toBeGreaterThan(0);
  });

  it("huge arrays, deep nesting and odd unicode are handled as 4xx or data", async () => {
    const deep = `${"[".repeat(5000)}${"]".repeat(5000)}`;
    expectEnvelope(await raw("/api/v1/access/resolve", deep), 400, "VALIDATION_FAILED");
    const many = await svc.post("/api/v1/access/resolve", {
      tenant_id: "hostile",
      operation_type: "delete",
      resource_type: "d",
      resource_id: "1",
      data_locations: Array.from({ length: 5000 }, () => "eu-west"),
    });
    expectEnvelope(many, 400, "VALIDATION_FAILED");
    const unicode = await svc.post("/api/v1/access/resolve", {
      tenant_id: "hostile",
      operation_type: "read",
      resource_type: "📄\u202e",
      resource_id: "\ud800",
    });
    expectEnvelope(unicode, 400, "VALIDATION_FAILED"); // a lone surrogate cannot be stored or audited
  });

  it("bad query strings and unknown routes ⇒ 400 / 404 envelopes", async () => {
    const auditor = api(t.handler, await t.keyFor(["auditor"]));
    expectEnvelope(await auditor.get("/api/v1/audit/access-logs?limit=abc"), 400, "VALIDATION_FAILED");
    expectEnvelope(
      await auditor.get("/api/v1/audit/access-logs?tenant_id=a&tenant_id=b"),
      400,
      "VALIDATION_FAILED",
    );
    expectEnvelope(await auditor.get("/api/v1/audit/access-logs?cursor=%00%00"), 400, "VALIDATION_FAILED");
    expectEnvelope(await svc.get("/api/v1/nope"), 404, "NOT_FOUND");
    expectEnvelope(await svc.get("/api/v1/regions/mars"), 400, "VALIDATION_FAILED");
  });

  it("the service still answers after all of it", async () => {
    const res = await svc.post("/api/v1/access/resolve", {
      tenant_id: "hostile",
      operation_type: "read",
      resource_type: "d",
      resource_id: "1",
    });
    expect(res.status).toBe(200);
    expect(res.body.reason.code).toBe("ALLOW_PRIMARY");
  });
});
