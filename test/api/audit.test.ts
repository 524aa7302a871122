import type request from "supertest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Api, api } from "../support/http.ts";
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

  it("filters by tenant, learner, operation, outcome and type; pages with a cursor", async () => {
    const all: Array<{ event_id: string; seq: number }> = [];
    let cursor: string | null = null;
    do {
      const page: request.Response = await auditor.get(
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
    expect((await scoped.get("/api/v1/audit/verify")).status).toBe(403);
    const exported = await scoped.get("/api/v1/audit/export?format=jsonl");
    const lines = exported.text
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(lines.every((r: { tenant_id: string }) => r.tenant_id === "aud-b")).toBe(true);
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
