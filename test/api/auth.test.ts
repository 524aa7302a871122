import request from "supertest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Api, api } from "../support/http.ts";
import { ADMIN_KEY, startTestService, type TestService } from "../support/service.ts";

describe("API keys, roles and tenant scope", () => {
  let t: TestService;
  let admin: Api;

  beforeAll(async () => {
    t = await startTestService();
    admin = api(t.handler, ADMIN_KEY);
    for (const tenant of ["tenant-a", "tenant-b"]) {
      expect(
        (await admin.post("/api/v1/policies", { tenant_id: tenant, primary_region: "us-east" })).status,
      ).toBe(201);
    }
  });
  afterAll(() => t.close());

  it("401 without a key, with a malformed header, and with a wrong key — same envelope", async () => {
    const none = await request(t.handler).post("/api/v1/access/resolve").send({});
    expect(none.status).toBe(401);
    expect(none.body.error.code).toBe("UNAUTHENTICATED");
    const basic = await request(t.handler).get("/api/v1/regions").set("authorization", "Basic abc");
    expect(basic.status).toBe(401);
    const wrong = await request(t.handler)
      .get("/api/v1/regions")
      .set("authorization", "Bearer rsk_definitely-not-a-real-key-000");
    expect(wrong.status).toBe(401);
    expect(wrong.body.error.request_id).toBe(wrong.headers["x-request-id"]);
  });

  it("the secret is shown once and stored only as a hash", async () => {
    const res = await admin.post("/api/v1/keys", { principal: "svc-x", roles: ["service"] });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ principal: "svc-x", roles: ["service"], tenant_ids: null });
    expect(res.body.key).toMatch(/^rsk_/);
    const rows = await t.db.query("SELECT secret_hash FROM api_keys WHERE key_id = $1", [res.body.key_id]);
    expect(rows.rows[0]!.secret_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.stringify(rows.rows)).not.toContain(res.body.key);
    const audit = await t.db.query("SELECT payload::text AS p FROM audit_log WHERE type = 'key.created'");
    expect(audit.rows.some((r) => String(r.p).includes(res.body.key))).toBe(false);
  });

  it("403 when the role is missing", async () => {
    const auditor = api(t.handler, await t.keyFor(["auditor"]));
    const res = await auditor.post("/api/v1/access/resolve", {
      tenant_id: "tenant-a",
      operation_type: "read",
      resource_type: "d",
      resource_id: "1",
    });
    expect(res.status).toBe(403);
    expect(res.body.error.code).toBe("FORBIDDEN");
    const keys = await auditor.post("/api/v1/keys", { principal: "x", roles: ["admin"] });
    expect(keys.status).toBe(403);
  });

  it("a key scoped to tenant A gets 403 on tenant B everywhere", async () => {
    const key = await t.keyFor(["service", "policy_admin", "auditor", "approver"], ["tenant-a"]);
    const a = api(t.handler, key);
    const decide = (tenant: string) =>
      a.post("/api/v1/access/resolve", {
        tenant_id: tenant,
        operation_type: "read",
        resource_type: "d",
        resource_id: "1",
      });
    expect((await decide("tenant-a")).status).toBe(200);
    expect((await decide("tenant-b")).status).toBe(403);
    expect(
      (
        await a
          .post("/api/v1/inference/route", { model_type: "claude-3-haiku", operation_type: "inference" })
          .set("x-tenant-id", "tenant-b")
      ).status,
    ).toBe(403);
    expect(
      (await a.post("/api/v1/storage/presign", { tenant_id: "tenant-b", operation: "read", key: "k" }))
        .status,
    ).toBe(403);
    expect(
      (await a.post("/api/v1/policies", { tenant_id: "tenant-b", primary_region: "us-east" })).status,
    ).toBe(403);
    expect((await a.get("/api/v1/policies/tenant-b")).status).toBe(403);
    expect((await a.get("/api/v1/policies/effective?tenant_id=tenant-b")).status).toBe(403);
    expect((await a.get("/api/v1/audit/access-logs/tenant-b")).status).toBe(403);
    expect((await a.get("/api/v1/audit/access-logs?tenant_id=tenant-b")).status).toBe(403);
    expect(
      (
        await a.post("/api/v1/emergency/override", {
          tenant_id: "tenant-b",
          target_region: "us-west",
          reason: "r",
          ticket: "T-1",
        })
      ).status,
    ).toBe(403);
    // Listing without a filter shows only tenant A.
    const listed = await a.get("/api/v1/policies");
    expect(listed.body.items.map((p: { tenant_id: string }) => p.tenant_id)).toEqual(["tenant-a"]);
    // Another tenant's policy by id reads as missing.
    const bPolicies = await admin.get("/api/v1/policies/tenant-b");
    expect((await a.get(`/api/v1/policies/id/${bPolicies.body.items[0].policy_id}`)).status).toBe(404);
    // Audit listing without a filter contains only tenant A's records.
    const logs = await a.get("/api/v1/audit/access-logs?limit=1000");
    expect(logs.status).toBe(200);
    expect(logs.body.items.every((r: { tenant_id: string }) => r.tenant_id === "tenant-a")).toBe(true);
  });

  it("a scoped admin key cannot mint or revoke keys, set health or publish bundles (global resources)", async () => {
    const scopedAdmin = api(t.handler, await t.keyFor(["admin"], ["tenant-a"]));
    expect((await scopedAdmin.post("/api/v1/keys", { principal: "escalate", roles: ["admin"] })).status).toBe(
      403,
    );
    expect((await scopedAdmin.delete("/api/v1/keys/key_bootstrap")).status).toBe(403);
    expect((await scopedAdmin.put("/api/v1/regions/us-east/health", { status: "unavailable" })).status).toBe(
      403,
    );
    const publish = await scopedAdmin.put("/api/v1/bundles", new Uint8Array(Buffer.from("x")));
    expect(publish.status).toBe(403);
    // Within its tenant it still works.
    expect((await scopedAdmin.get("/api/v1/policies/tenant-a")).status).toBe(200);
  });

  it("the configured bootstrap key is created once, rotated when changed, and stays revoked once revoked", async () => {
    expect(await t.service.keys.bootstrap(ADMIN_KEY)).toEqual({ printed: null, warning: null });
    const rotated = "rotated-bootstrap-key-0123456789abcdef";
    await t.service.keys.bootstrap(rotated);
    expect((await api(t.handler, ADMIN_KEY).get("/api/v1/regions")).status).toBe(401);
    expect((await api(t.handler, rotated).get("/api/v1/regions")).status).toBe(200);
    const other = await t.keyFor(["admin"]).catch(() => null); // keyFor uses ADMIN_KEY, now rotated away
    expect(other).toBeNull();
    expect((await api(t.handler, rotated).delete("/api/v1/keys/key_bootstrap")).status).toBe(200);
    const again = await t.service.keys.bootstrap(rotated);
    expect(again.warning).toContain("stays revoked");
    expect((await api(t.handler, rotated).get("/api/v1/regions")).status).toBe(401);
    await t.service.keys.bootstrap(ADMIN_KEY); // a new key is the way back in
    expect((await api(t.handler, ADMIN_KEY).get("/api/v1/regions")).status).toBe(200);
  });

  it("a revoked key stops working at once", async () => {
    const created = await admin.post("/api/v1/keys", { principal: "short-lived", roles: ["service"] });
    const k = api(t.handler, created.body.key);
    expect((await k.get("/api/v1/regions")).status).toBe(200);
    expect((await admin.delete(`/api/v1/keys/${created.body.key_id}`)).status).toBe(200);
    expect((await k.get("/api/v1/regions")).status).toBe(401);
    expect((await admin.delete(`/api/v1/keys/${created.body.key_id}`)).status).toBe(404);
  });
});
