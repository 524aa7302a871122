import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { UUID_V7 } from "../support/event-ids.ts";
import { type Api, type ApiResponse, api } from "../support/http.ts";
import { ADMIN_KEY, startTestService, type TestService } from "../support/service.ts";

// What an auditor does through the API: find decisions, page through them, export them, and
// prove nobody rewrote history.

describe("audit API", () => {
  let t: TestService;
  let auditor: Api;
  let svc: Api;
  const decisionIds: string[] = [];

  beforeAll(async () => {
    t = await startTestService();
    const admin = api(t.handler, ADMIN_KEY);
    auditor = api(t.handler, await t.keyFor(["auditor"]));
    svc = api(t.handler, await t.keyFor(["service"]));
    await admin.post("/api/v1/policies", {
      tenant_id: "aud-a",
      primary_region: "eu-west",
      compliance_frameworks: ["gdpr"],
    });
    await admin.post("/api/v1/policies", { tenant_id: "aud-b", primary_region: "us-east" });
    for (let i = 0; i < 25; i++) {
      const res = await svc.post("/api/v1/access/resolve", {
        tenant_id: i % 5 === 0 ? "aud-b" : "aud-a",
        learner_id: `learner-${i % 3}`,
        operation_type: i % 2 === 0 ? "read" : "write",
        resource_type: "document",
        resource_id: `doc-${i}`,
        ...(i % 4 === 0 ? { requested_region: "us-west" } : {}),
      });
      expect(res.status).toBe(200);
      decisionIds.push(res.body.decision_id);
    }
  });
  afterAll(() => t.close());

  it("gives a compact record's evaluation context back by its hash, to its tenant's auditors", async () => {
    const page = await auditor.get("/api/v1/audit/access-logs/aud-a?type=decision.access&limit=1");
    const record = page.body.items[0];
    const sha = record.payload.evaluation.context_sha256 as string;
    expect(sha).toMatch(/^[0-9a-f]{64}$/);
    const res = await auditor.get(`/api/v1/audit/contexts/${sha}`);
    expect(res.status).toBe(200);
    expect(res.body.sha256).toBe(sha);
    expect(res.body.context.policy).toMatchObject({ tenant_id: "aud-a", primary_region: "eu-west" });
    // The body is what was hashed: its canonical text hashes to the reference.
    const { canonicalJson } = await import("../../src/audit/canonical.ts");
    const { createHash } = await import("node:crypto");
    expect(createHash("sha256").update(canonicalJson(res.body.context)).digest("hex")).toBe(sha);
    // A key scoped to another tenant does not learn it exists; bad and unknown hashes are 400 / 404.
    const other = api(t.handler, await t.keyFor(["auditor"], ["aud-b"]));
    expect((await other.get(`/api/v1/audit/contexts/${sha}`)).status).toBe(404);
    const own = api(t.handler, await t.keyFor(["auditor"], ["aud-a"]));
    expect((await own.get(`/api/v1/audit/contexts/${sha}`)).status).toBe(200);
    expect((await auditor.get("/api/v1/audit/contexts/NOT-A-HASH")).status).toBe(400);
    expect((await auditor.get(`/api/v1/audit/contexts/${"0".repeat(64)}`)).status).toBe(404);
    expect((await svc.get(`/api/v1/audit/contexts/${sha}`)).status).toBe(403);
  });

  it("filters by tenant, learner, operation, outcome and type; pages with a cursor", async () => {
    const all: Array<{ event_id: string; seq: number }> = [];
    let cursor: string | null = null;
    do {
      const page: ApiResponse = await auditor.get(
        `/api/v1/audit/access-logs/aud-a?type=decision.access&limit=7${cursor ? `&cursor=${cursor}` : ""}`,
      );
      expect(page.status).toBe(200);
      expect(page.body.items.length).toBeLessThanOrEqual(7);
      all.push(...page.body.items);
      cursor = page.body.next_cursor;
    } while (cursor);
    expect(all).toHaveLength(20);
    expect(new Set(all.map((r) => r.event_id)).size).toBe(20);
    expect(all.map((r) => r.seq)).toEqual([...all.map((r) => r.seq)].sort((a, b) => b - a)); // newest first

    const denied = await auditor.get("/api/v1/audit/access-logs?tenant_id=aud-a&allowed=false&limit=1000");
    // aud-a is GDPR-bound: every request for us-west (i % 4 === 0, i % 5 !== 0) was denied.
    expect(denied.body.items).toHaveLength(5); // i = 4, 8, 12, 16, 24
    expect(
      denied.body.items.every(
        (r: { payload: { decision: { reason_code: string } } }) =>
          r.payload.decision.reason_code === "DENY_NO_TRANSFER_MECHANISM",
      ),
    ).toBe(true);

    const writes = await auditor.get(
      "/api/v1/audit/access-logs?tenant_id=aud-a&operation_type=write&learner_id=learner-1",
    );
    expect(writes.body.items.length).toBeGreaterThan(0);
    for (const r of writes.body.items) {
      expect(r.learner_id).toBe("learner-1");
      expect(r.payload.request.operation_type).toBe("write");
    }
    const future = await auditor.get(
      `/api/v1/audit/access-logs?from=${encodeURIComponent("2099-01-01T00:00:00Z")}`,
    );
    expect(future.body).toEqual({ items: [], next_cursor: null });
  });

  it("a key scoped to a tenant sees only its records and cannot walk the whole chain", async () => {
    const scoped = api(t.handler, await t.keyFor(["auditor"], ["aud-b"]));
    const page = await scoped.get("/api/v1/audit/access-logs?limit=1000");
    expect(page.body.items.map((r: { type: string }) => r.type).sort()).toEqual([
      ...Array(5).fill("decision.access"),
      "policy.created",
    ]);
    expect(page.body.items.every((r: { tenant_id: string }) => r.tenant_id === "aud-b")).toBe(true);
    // Every record's id, decisions and policy changes alike, is time-ordered (UUID version 7).
    for (const r of page.body.items as { event_id: string }[]) expect(r.event_id).toMatch(UUID_V7);
    expect((await scoped.get("/api/v1/audit/verify")).status).toBe(403);
    const exported = await scoped.get("/api/v1/audit/export?format=jsonl");
    const lines = exported.text
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(lines.every((r: { tenant_id: string }) => r.tenant_id === "aud-b")).toBe(true);
  });

  it("finds one decision by its id and decisions by reason code; the record says why each region went", async () => {
    const one = await auditor.get(`/api/v1/audit/access-logs?event_id=${decisionIds[4]}`);
    expect(one.body.items).toHaveLength(1);
    expect(one.body.items[0].event_id).toBe(decisionIds[4]);
    expect(one.body.items[0].payload.decision).toMatchObject({
      allowed: false,
      reason_code: "DENY_NO_TRANSFER_MECHANISM",
      reason: { code: "DENY_NO_TRANSFER_MECHANISM", framework: "gdpr" },
      eliminated: { "us-west": "gdpr:no_transfer_mechanism" },
    });
    const byCode = await auditor.get("/api/v1/audit/access-logs?code=DENY_NO_TRANSFER_MECHANISM&limit=1000");
    expect(byCode.body.items.map((r: { event_id: string }) => r.event_id).sort()).toEqual(
      [4, 8, 12, 16, 24].map((i) => decisionIds[i]).sort(),
    );
    expect((await auditor.get("/api/v1/audit/access-logs?code=not-a-code")).status).toBe(400);
    // Out of scope reads as absent.
    const scoped = api(t.handler, await t.keyFor(["auditor"], ["aud-b"]));
    expect((await scoped.get(`/api/v1/audit/access-logs?event_id=${decisionIds[4]}`)).body.items).toEqual([]);
  });

  it("summarises decisions per hour by outcome and the top deny codes, within the key's scope", async () => {
    const res = await auditor.get("/api/v1/audit/summary");
    expect(res.status).toBe(200);
    expect(res.body.hours).toHaveLength(24);
    const total = (body: { hours: Array<{ allowed: number; denied: number }> }) =>
      body.hours.reduce((n, h) => n + h.allowed + h.denied, 0);
    expect(total(res.body)).toBe(25);
    const denied = (await auditor.get("/api/v1/audit/access-logs?allowed=false&limit=1000")).body.items
      .length;
    expect(res.body.hours.reduce((n: number, h: { denied: number }) => n + h.denied, 0)).toBe(denied);
    expect(res.body.top_deny_codes).toContainEqual({ code: "DENY_NO_TRANSFER_MECHANISM", count: 5 });
    expect(Date.parse(res.body.to) - Date.parse(res.body.from)).toBe(24 * 3_600_000);

    const scoped = await api(t.handler, await t.keyFor(["auditor"], ["aud-b"])).get(
      "/api/v1/audit/summary?hours=2",
    );
    expect(scoped.body.hours).toHaveLength(2);
    expect(total(scoped.body)).toBe(5);
    expect(scoped.body.top_deny_codes.map((c: { code: string }) => c.code)).not.toContain(
      "DENY_NO_TRANSFER_MECHANISM",
    );
    expect((await auditor.get("/api/v1/audit/summary?hours=0")).status).toBe(400);
    expect((await svc.get("/api/v1/audit/summary")).status).toBe(403);
  });

  it("a key reads who it is (the console's sign-in), never its secret", async () => {
    const key = await t.keyFor(["auditor", "approver"], ["aud-a"], "console-user");
    const res = await api(t.handler, key).get("/api/v1/keys/self");
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      key_id: expect.stringMatching(/^key_/),
      principal: "console-user",
      roles: ["auditor", "approver"],
      tenant_ids: ["aud-a"],
    });
    expect(JSON.stringify(res.body)).not.toContain(key);
    expect((await api(t.handler, "wrong-key-0123456789abcdef").get("/api/v1/keys/self")).status).toBe(401);
  });

  it("exports JSON lines and CSV with every decision", async () => {
    const jsonl = await auditor.get("/api/v1/audit/export?format=jsonl&type=decision.access");
    expect(jsonl.status).toBe(200);
    expect(jsonl.headers["content-type"]).toContain("application/x-ndjson");
    const exported = jsonl.text
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l).event_id);
    expect(exported).toEqual(expect.arrayContaining(decisionIds));
    const csv = await auditor.get("/api/v1/audit/export?format=csv&tenant_id=aud-b");
    expect(csv.headers["content-type"]).toContain("text/csv");
    const csvLines = csv.text.trim().split("\r\n");
    expect(csvLines[0]).toContain("event_id");
    expect(csvLines.length).toBeGreaterThanOrEqual(6); // header + aud-b's policy record + 5 decisions
  });

  it("verify passes, then names exactly the seq that was altered behind the triggers' back", async () => {
    const ok = await auditor.get("/api/v1/audit/verify");
    expect(ok.body).toMatchObject({ ok: true, first_broken_seq: null });
    expect(ok.body.checked).toBe(ok.body.head_seq);
    const target = await t.db.query<{ seq: number }>("SELECT seq FROM audit_log WHERE event_id = $1", [
      decisionIds[10],
    ]);
    const seq = target.rows[0]!.seq;
    await expect(t.db.query("UPDATE audit_log SET actor = 'mallory' WHERE seq = $1", [seq])).rejects.toThrow(
      /append-only/,
    );
    await expect(t.db.query("DELETE FROM audit_log WHERE seq = $1", [seq])).rejects.toThrow(/append-only/);
    // A superuser can switch triggers off; the chain still tells.
    await t.db.transaction(async (tx) => {
      await tx.query("SET LOCAL session_replication_role = replica");
      await tx.query("UPDATE audit_log SET actor = 'mallory' WHERE seq = $1", [seq]);
    });
    const broken = await auditor.get("/api/v1/audit/verify");
    expect(broken.body).toMatchObject({ ok: false, first_broken_seq: seq });
  });
});
