import { Writable } from "node:stream";
import request from "supertest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger } from "../../src/observability/logger.ts";
import { type Api, api } from "../support/http.ts";
import { ADMIN_KEY, startTestService, type TestService } from "../support/service.ts";

// The small promises an attacker or a careless operator finds first: impossible dates, formulas in
// exports, one person holding two approver names, an override that is born expired, and key
// guessing that leaves no trace.

describe("edge cases a user relies on", () => {
  let t: TestService;
  let admin: Api;
  let auditor: Api;
  const logLines: Array<Record<string, unknown>> = [];

  beforeAll(async () => {
    const sink = new Writable({
      write(chunk, _encoding, done) {
        for (const line of String(chunk).split("\n")) if (line) logLines.push(JSON.parse(line));
        done();
      },
    });
    t = await startTestService({ logger: createLogger("info", sink) });
    admin = api(t.handler, ADMIN_KEY);
    auditor = api(t.handler, await t.keyFor(["auditor"]));
    await admin.post("/api/v1/policies", {
      tenant_id: "edge",
      primary_region: "us-east",
      compliance_frameworks: ["ferpa"],
      prohibited_regions: ["apac-east"],
      override_permitted: true,
    });
  });
  afterAll(() => t?.close());

  it.each([
    "0000-01-01",
    "0000-01-01T00:00:00Z",
    "0001-01-01T00:00:00+01:00", // year 0 in UTC
    "2026-02-30T00:00:00Z",
    "2026-13-01T00:00:00Z",
    "99999-01-01T00:00:00Z",
    "2026-01-01T25:00:00Z",
  ])("audit queries and exports refuse the impossible date %s with 400", async (date) => {
    for (const path of [
      "/api/v1/audit/access-logs",
      "/api/v1/audit/access-logs/edge",
      "/api/v1/audit/export",
    ]) {
      for (const field of ["from", "to"]) {
        const res = await auditor.get(`${path}?${field}=${encodeURIComponent(date)}`);
        expect(res.status, `${path} ${field}=${date}`).toBe(400);
        expect(res.body.error.code).toBe("VALIDATION_FAILED");
      }
    }
    const fine = await auditor.get(
      `/api/v1/audit/access-logs?from=${encodeURIComponent("0001-01-01T00:00:00Z")}`,
    );
    expect(fine.status).toBe(200);
  });

  it("CSV export neutralises formulas in caller-chosen text; JSONL keeps it byte-exact", async () => {
    const formula = '=HYPERLINK("http://evil.example","open")';
    const created = await admin.post("/api/v1/keys", { principal: formula, roles: ["policy_admin"] });
    expect(created.status).toBe(201);
    // Whatever that key does is recorded with its name as the actor: a CSV cell.
    const acted = await api(t.handler, created.body.key).post("/api/v1/policies", {
      tenant_id: "edge-formula",
      primary_region: "us-east",
    });
    expect(acted.status).toBe(201);
    const actor = formula.toLowerCase(); // stored in canonical form
    const csv = await auditor.get("/api/v1/audit/export?format=csv&tenant_id=edge-formula");
    expect(csv.status).toBe(200);
    const rows = csv.text.trim().split("\r\n");
    expect(rows).toHaveLength(2);
    expect(rows[1]).toContain(`,"'${actor.replaceAll('"', '""')}",`);
    expect(csv.text).not.toMatch(/(^|,)"?=/m);
    const jsonl = await auditor.get("/api/v1/audit/export?format=jsonl&tenant_id=edge-formula");
    expect(JSON.parse(jsonl.text.trim()).actor).toBe(actor);
    expect((await auditor.get("/api/v1/audit/verify")).body).toMatchObject({ ok: true });
  });

  it("principal names are canonical: case and spacing variants are one approver, control characters a 400", async () => {
    for (const bad of ["bob\u0000", "bob\u200b", "line\nbreak", "rtl\u202eevil"]) {
      const res = await admin.post("/api/v1/keys", { principal: bad, roles: ["approver"] });
      expect(res.status, JSON.stringify(bad)).toBe(400);
    }
    const requester = api(t.handler, await t.keyFor(["service"], undefined, "Ops Dana"));
    const bob = api(t.handler, await t.keyFor(["approver"], undefined, "Bob"));
    const bobAgain = api(t.handler, await t.keyFor(["approver"], undefined, "  BOB "));
    const danaAsApprover = api(t.handler, await t.keyFor(["approver"], undefined, "ops   dana"));
    const rows = await t.db.query("SELECT principal FROM api_keys WHERE principal IN ('bob', 'ops dana')");
    expect(rows.rows.map((r) => r.principal).sort()).toEqual(["bob", "bob", "ops dana", "ops dana"]);

    const override = await requester.post("/api/v1/emergency/override", {
      tenant_id: "edge",
      target_region: "apac-east",
      reason: "incident",
      ticket: "INC-7",
    });
    expect(override.status).toBe(201);
    const id = override.body.override_id;
    // The requester under another spelling is still the requester.
    expect((await danaAsApprover.post(`/api/v1/emergency/override/${id}/approve`)).status).toBe(403);
    expect((await bob.post(`/api/v1/emergency/override/${id}/approve`)).status).toBe(200);
    const second = await bobAgain.post(`/api/v1/emergency/override/${id}/approve`);
    expect(second.status).toBe(409); // the same person approving twice
    expect((await bob.get(`/api/v1/emergency/override/${id}`)).body.status).toBe("pending");
  });

  it("names stored before they were canonical still count once, in the status and in decisions", async () => {
    const requester = api(t.handler, await t.keyFor(["service"], undefined, "ops-legacy"));
    const svc = api(t.handler, await t.keyFor(["service"]));
    const decide = () =>
      svc.post("/api/v1/access/resolve", {
        tenant_id: "edge",
        operation_type: "read",
        resource_type: "document",
        resource_id: "d-1",
        requested_region: "apac-east",
      });
    // A key created with a mixed-case name before names were canonical, and its lower-case twin.
    const legacy = api(t.handler, await t.keyFor(["approver"], undefined, "erin-legacy"));
    await t.db.query("UPDATE api_keys SET principal = 'Erin' WHERE principal = 'erin-legacy'");
    const twin = api(t.handler, await t.keyFor(["approver"], undefined, "erin"));
    const first = await requester.post("/api/v1/emergency/override", {
      tenant_id: "edge",
      target_region: "apac-east",
      reason: "incident",
      ticket: "INC-9",
    });
    expect((await legacy.post(`/api/v1/emergency/override/${first.body.override_id}/approve`)).status).toBe(
      200,
    );
    expect((await twin.post(`/api/v1/emergency/override/${first.body.override_id}/approve`)).status).toBe(
      409,
    );

    // Approvals written under two spellings before this change.
    const second = await requester.post("/api/v1/emergency/override", {
      tenant_id: "edge",
      target_region: "apac-east",
      reason: "incident",
      ticket: "INC-10",
    });
    const id = second.body.override_id as string;
    await t.db.query(
      "INSERT INTO override_approvals (override_id, principal, approved_at) VALUES ($1, 'Frank', now()), ($1, 'FRANK ', now())",
      [id],
    );
    const shown = await legacy.get(`/api/v1/emergency/override/${id}`);
    expect(shown.body.status).toBe("pending");
    expect(shown.body.approvals.map((a: { principal: string }) => a.principal)).toEqual(["frank", "frank"]);
    expect((await decide()).body.reason.code).not.toBe("ALLOW_BREAK_GLASS");
  });

  it("an override shorter than one minute is refused; one minute is accepted", async () => {
    const requester = api(t.handler, await t.keyFor(["service"]));
    const ask = (duration_hours: unknown) =>
      requester.post("/api/v1/emergency/override", {
        tenant_id: "edge",
        target_region: "apac-east",
        reason: "incident",
        ticket: "INC-8",
        duration_hours,
      });
    for (const tiny of [1e-300, Number.MIN_VALUE, 0.01, -1]) {
      const res = await ask(tiny);
      expect(res.status, String(tiny)).toBe(400);
      expect(res.body.error.details[0].path).toBe("duration_hours");
    }
    const minute = await ask(1 / 60);
    expect(minute.status).toBe(201);
    expect(minute.body.status).toBe("pending");
  });

  it("failed authentication is counted and logged with the request id, never the key", async () => {
    const guessed = "rsk_guessed-key-that-does-not-exist-0000";
    const before = logLines.length;
    const wrong = await request(t.handler)
      .get("/api/v1/regions")
      .set("authorization", `Bearer ${guessed}`)
      .set("x-request-id", "probe-401");
    expect(wrong.status).toBe(401);
    const fast = await request(t.handler)
      .post("/api/v1/access/resolve")
      .set("authorization", `Bearer ${guessed}`)
      .set("x-request-id", "probe-401-fast")
      .send({});
    expect(fast.status).toBe(401);
    const forbidden = await auditor
      .post("/api/v1/keys", { principal: "x", roles: ["admin"] })
      .set("x-request-id", "probe-403");
    expect(forbidden.status).toBe(403);

    const refused = logLines
      .slice(before)
      .filter((l) => l.msg === "request refused: authentication or authorisation failed");
    expect(refused.map((l) => [l.request_id, l.status])).toEqual([
      ["probe-401", 401],
      ["probe-401-fast", 401],
      ["probe-403", 403],
    ]);
    expect(JSON.stringify(logLines)).not.toContain(guessed);
    expect(JSON.stringify(logLines)).not.toContain(ADMIN_KEY);

    const metrics = await t.service.metrics.registry.metrics();
    expect(metrics).toMatch(/residency_auth_failures_total\{route="\/api\/v1\/regions",status="401"\} 1/);
    expect(metrics).toMatch(
      /residency_auth_failures_total\{route="\/api\/v1\/access\/resolve",status="401"\} 1/,
    );
    expect(metrics).toMatch(/residency_auth_failures_total\{route="\/api\/v1\/keys",status="403"\} 1/);
  });
});
