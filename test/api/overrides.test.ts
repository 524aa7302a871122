import { createHmac, timingSafeEqual } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createWebhookNotifier, SIGNATURE_HEADER } from "../../src/admin/webhook.ts";
import { UUID_V7 } from "../support/event-ids.ts";
import { type Api, api } from "../support/http.ts";
import { ADMIN_KEY, startTestService, type TestService } from "../support/service.ts";

// The break-glass life cycle through the HTTP API (SPEC §4.4): request → approvals by two other
// people → allowed with ALLOW_BREAK_GLASS → revoked ⇒ denied at once; never past the law, never
// for a tenant that did not agree to it, never past its window (injectable clock).

const WEBHOOK_SECRET = "webhook-secret-for-tests-0123456789";

type Received = {
  event: string;
  body: { event: string; override: { override_id: string; status: string } };
  valid: boolean;
};

function verifySignature(header: string | undefined, body: string): boolean {
  const m = header ? /^t=(\d+),v1=([0-9a-f]{64})$/.exec(header) : null;
  if (!m) return false;
  const expected = createHmac("sha256", WEBHOOK_SECRET).update(`${m[1]}.${body}`).digest();
  return timingSafeEqual(expected, Buffer.from(m[2]!, "hex"));
}

describe("break-glass overrides", () => {
  let t: TestService;
  let admin: Api;
  let requester: Api;
  let approver1: Api;
  let approver2: Api;
  let svc: Api;
  let now = Date.UTC(2026, 10, 27, 9, 0, 0);
  const received: Received[] = [];
  let receiver: Server;
  let failFirst = true;

  const resolve = (tenant: string, region: string, extra: Record<string, unknown> = {}) =>
    svc.post("/api/v1/access/resolve", {
      tenant_id: tenant,
      operation_type: "replicate",
      resource_type: "document",
      resource_id: "d-1",
      requested_region: region,
      ...extra,
    });

  const requestOverride = (body: Record<string, unknown>) =>
    requester.post("/api/v1/emergency/override", {
      reason: "incident INC-42: primary region outage",
      ticket: "INC-42",
      ...body,
    });

  beforeAll(async () => {
    receiver = createServer((req, res) => {
      let body = "";
      req.on("data", (c) => (body += c));
      req.on("end", () => {
        // The first delivery fails once: the notifier must retry it.
        if (failFirst) {
          failFirst = false;
          res.writeHead(503).end();
          return;
        }
        const parsed = JSON.parse(body);
        received.push({
          event: parsed.event,
          body: parsed,
          valid: verifySignature(req.headers[SIGNATURE_HEADER] as string, body),
        });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => receiver.listen(0, "127.0.0.1", r));
    const notify = createWebhookNotifier({
      url: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks`,
      secret: WEBHOOK_SECRET,
      baseDelayMs: 20,
    });
    t = await startTestService({ clock: () => new Date(now), notify, overrideMaxHours: 24 });
    admin = api(t.handler, ADMIN_KEY);
    requester = api(t.handler, await t.keyFor(["service", "approver"], undefined, "ops-alice"));
    approver1 = api(t.handler, await t.keyFor(["approver"], undefined, "dpo-bob"));
    approver2 = api(t.handler, await t.keyFor(["approver"], undefined, "cto-carol"));
    svc = api(t.handler, await t.keyFor(["service"], undefined, "app"));
    await admin.post("/api/v1/policies", {
      tenant_id: "bg",
      primary_region: "us-east",
      compliance_frameworks: ["ferpa"],
      prohibited_regions: ["apac-east"],
      override_permitted: true,
    });
    await admin.post("/api/v1/policies", {
      tenant_id: "bg-eu",
      primary_region: "eu-west",
      compliance_frameworks: ["gdpr"],
      override_permitted: true,
      allowed_regions: ["eu-central"],
    });
    await admin.post("/api/v1/policies", {
      tenant_id: "bg-no-consent",
      primary_region: "us-east",
      prohibited_regions: ["apac-east"],
    });
  });
  afterAll(async () => {
    await t?.close();
    receiver?.close();
  });

  it("full life cycle: request → self-approval 403 → one approval still denied → two ⇒ ALLOW_BREAK_GLASS → revoke ⇒ denied", async () => {
    expect((await resolve("bg", "apac-east")).body.reason.code).toBe("DENY_TENANT_PROHIBITED");

    const created = await requestOverride({
      tenant_id: "bg",
      target_region: "apac-east",
      operations: ["replicate"],
      duration_hours: 2,
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      status: "pending",
      requested_by: "ops-alice",
      approvals: [],
      use_count: 0,
    });
    const id = created.body.override_id as string;

    const self = await requester.post(`/api/v1/emergency/override/${id}/approve`);
    expect(self.status).toBe(403);
    expect(self.body.error.message).toContain("requester");

    const one = await approver1.post(`/api/v1/emergency/override/${id}/approve`);
    expect(one.status).toBe(200);
    expect(one.body.status).toBe("pending");
    expect((await resolve("bg", "apac-east")).body.reason.code).toBe("DENY_TENANT_PROHIBITED");
    expect((await resolve("bg", "apac-east", { override_id: id })).body.reason.code).toBe(
      "DENY_OVERRIDE_INVALID",
    );
    expect((await approver1.post(`/api/v1/emergency/override/${id}/approve`)).status).toBe(409);

    const two = await approver2.post(`/api/v1/emergency/override/${id}/approve`);
    expect(two.body.status).toBe("active");
    expect(two.body.approvals.map((a: { principal: string }) => a.principal)).toEqual([
      "dpo-bob",
      "cto-carol",
    ]);

    const allowed = await resolve("bg", "apac-east");
    expect(allowed.body).toMatchObject({
      allowed: true,
      target_region: "apac-east",
      override_id: id,
      reason: { code: "ALLOW_BREAK_GLASS" },
    });
    expect(allowed.body.obligations.notify).toContain("controller");
    // Out of scope: another operation is still denied.
    expect((await resolve("bg", "apac-east", { operation_type: "export" })).body.reason.code).toBe(
      "DENY_TENANT_PROHIBITED",
    );

    const used = await t.db.query<{ event_id: string; payload: { decision_id: string } }>(
      "SELECT event_id, payload FROM audit_log WHERE type = 'override.used'",
    );
    const use = used.rows.find((r) => r.payload.decision_id === allowed.body.decision_id);
    // Its own time-ordered id (UUID version 7), not the decision's.
    expect(use?.event_id).toMatch(UUID_V7);
    expect(use?.event_id).not.toBe(allowed.body.decision_id);
    await expect
      .poll(async () => (await approver1.get(`/api/v1/emergency/override/${id}`)).body.use_count)
      .toBe(1);

    const listed = await approver1.get("/api/v1/emergency/overrides?tenant_id=bg&status=active");
    expect(listed.body.items.map((o: { override_id: string }) => o.override_id)).toEqual([id]);

    const revoked = await approver1.post(`/api/v1/emergency/override/${id}/revoke`, {
      reason: "incident closed",
    });
    expect(revoked.body.status).toBe("revoked");
    expect((await resolve("bg", "apac-east")).body.reason.code).toBe("DENY_TENANT_PROHIBITED");
    expect((await resolve("bg", "apac-east", { override_id: id })).body.reason.code).toBe(
      "DENY_OVERRIDE_INVALID",
    );

    const events = await t.db.query(
      "SELECT type FROM audit_log WHERE type LIKE 'override.%' AND payload->'override'->>'override_id' = $1 ORDER BY seq",
      [id],
    );
    expect(events.rows.map((r) => r.type)).toEqual([
      "override.requested",
      "override.approved",
      "override.approved",
      "override.activated",
      "override.revoked",
    ]);
  });

  it("an override for a region the law forbids stays denied: DENY_OVERRIDE_CANNOT_BYPASS_LAW", async () => {
    const created = await requestOverride({ tenant_id: "bg-eu", target_region: "us-east" });
    const id = created.body.override_id;
    await approver1.post(`/api/v1/emergency/override/${id}/approve`);
    await approver2.post(`/api/v1/emergency/override/${id}/approve`);
    const res = await resolve("bg-eu", "us-east");
    expect(res.body).toMatchObject({ allowed: false, reason: { code: "DENY_OVERRIDE_CANNOT_BYPASS_LAW" } });
    expect((await resolve("bg-eu", "us-east", { override_id: id })).body.reason.code).toBe(
      "DENY_OVERRIDE_CANNOT_BYPASS_LAW",
    );
  });

  it("a tenant without override_permitted stays denied", async () => {
    const created = await requestOverride({ tenant_id: "bg-no-consent", target_region: "apac-east" });
    const id = created.body.override_id;
    await approver1.post(`/api/v1/emergency/override/${id}/approve`);
    expect((await approver2.post(`/api/v1/emergency/override/${id}/approve`)).body.status).toBe("active");
    expect((await resolve("bg-no-consent", "apac-east")).body.allowed).toBe(false);
    expect((await resolve("bg-no-consent", "apac-east", { override_id: id })).body.reason.code).toBe(
      "DENY_OVERRIDE_INVALID",
    );
  });

  it("a one-minute override expires on the clock, at decision time; the sweep records it once", async () => {
    const created = await requestOverride({
      tenant_id: "bg",
      target_region: "apac-east",
      duration_hours: 1 / 60,
    });
    const id = created.body.override_id;
    await approver1.post(`/api/v1/emergency/override/${id}/approve`);
    await approver2.post(`/api/v1/emergency/override/${id}/approve`);
    expect((await resolve("bg", "apac-east")).body.reason.code).toBe("ALLOW_BREAK_GLASS");
    now += 59_000;
    expect((await resolve("bg", "apac-east")).body.reason.code).toBe("ALLOW_BREAK_GLASS");
    now += 1_000; // exactly at expires_at: no longer valid
    expect((await resolve("bg", "apac-east")).body.reason.code).toBe("DENY_TENANT_PROHIBITED");
    expect((await resolve("bg", "apac-east", { override_id: id })).body.reason.code).toBe(
      "DENY_OVERRIDE_EXPIRED",
    );
    expect((await approver1.get(`/api/v1/emergency/override/${id}`)).body.status).toBe("expired");

    expect(await t.service.overrides.sweepExpired()).toBeGreaterThanOrEqual(1);
    expect(await t.service.overrides.sweepExpired()).toBe(0);
    const expired = await t.db.query(
      "SELECT count(*)::int AS n FROM audit_log WHERE type = 'override.expired' AND payload->'override'->>'override_id' = $1",
      [id],
    );
    expect(expired.rows[0]!.n).toBe(1);
  });

  it("duration above the configured maximum ⇒ 400 naming the limit; ≤ 0 ⇒ 400", async () => {
    const tooLong = await requestOverride({
      tenant_id: "bg",
      target_region: "apac-east",
      duration_hours: 25,
    });
    expect(tooLong.status).toBe(400);
    expect(tooLong.body.error.message).toContain("24");
    expect(
      (await requestOverride({ tenant_id: "bg", target_region: "apac-east", duration_hours: 0 })).status,
    ).toBe(400);
    expect(
      (await requestOverride({ tenant_id: "bg", target_region: "apac-east", duration_hours: "4" })).status,
    ).toBe(400);
  });

  it("the webhook receiver saw each notification with a valid signature (after a retry)", async () => {
    await expect
      .poll(() => received.filter((r) => r.event === "override.expired").length, { timeout: 5_000 })
      .toBeGreaterThanOrEqual(1);
    const events = new Set(received.map((r) => r.event));
    for (const e of ["override.requested", "override.activated", "override.revoked", "override.expired"]) {
      expect(events.has(e)).toBe(true);
    }
    expect(received.every((r) => r.valid)).toBe(true);
    expect(received.some((r) => r.event === "override.approved")).toBe(false);
  });

  it("the active-overrides gauge is exported", async () => {
    const metrics = await t.service.metrics.registry.getSingleMetricAsString("residency_active_overrides");
    expect(metrics).toMatch(/residency_active_overrides \d+/);
  });
});
