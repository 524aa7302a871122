import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { msOfEventId, UUID_V7 } from "../support/event-ids.ts";
import { type Api, api } from "../support/http.ts";
import { ADMIN_KEY, startTestService, type TestService } from "../support/service.ts";

// POST /api/v1/access/resolve-batch (SPEC §6): up to 100 access bodies in one call, answered in
// order, each its own decision and audit record, all committed together — or nothing at all.

describe("batch decisions", () => {
  let t: TestService;
  let admin: Api;
  let svc: Api;
  let auditor: Api;

  const body = (i: number, extra: Record<string, unknown> = {}) => ({
    tenant_id: i % 2 === 0 ? "batch-eu" : "batch-us",
    learner_id: `learner-${i}`,
    operation_type: i % 3 === 0 ? "read" : "write",
    resource_type: "document",
    resource_id: `doc-${i}`,
    ...(i % 4 === 0 ? { requested_region: "us-west" } : {}),
    ...extra,
  });

  const auditRows = async (requestId: string) =>
    (
      await t.db.query<{ event_id: string; type: string; tenant_id: string }>(
        "SELECT event_id, type, tenant_id FROM audit_log WHERE request_id = $1 ORDER BY seq",
        [requestId],
      )
    ).rows;

  beforeAll(async () => {
    t = await startTestService();
    admin = api(t.handler, ADMIN_KEY);
    svc = api(t.handler, await t.keyFor(["service"]));
    auditor = api(t.handler, await t.keyFor(["auditor"]));
    for (const policy of [
      { tenant_id: "batch-eu", primary_region: "eu-west", compliance_frameworks: ["gdpr"] },
      { tenant_id: "batch-us", primary_region: "us-east", compliance_frameworks: ["ferpa"] },
    ]) {
      expect((await admin.post("/api/v1/policies", policy)).status).toBe(201);
    }
  });
  afterAll(() => t.close());

  it("100 requests: 100 decisions in order, each its own id and audit record; the chain verifies", async () => {
    const requests = Array.from({ length: 100 }, (_, i) => body(i));
    const sent = Date.now();
    const res = await svc.post("/api/v1/access/resolve-batch", { requests }).set("x-request-id", "batch-100");
    const answered = Date.now();
    expect(res.status).toBe(200);
    const decisions = res.body.decisions as Array<Record<string, unknown>>;
    expect(decisions).toHaveLength(100);

    // In order: each answer is the one its own request gets alone.
    for (const i of [0, 1, 4, 5, 99]) {
      const single = await svc.post("/api/v1/access/resolve", requests[i]);
      expect(single.status).toBe(200);
      expect(decisions[i]).toMatchObject({
        allowed: single.body.allowed,
        target_region: single.body.target_region,
        reason: single.body.reason,
        permitted_regions: single.body.permitted_regions,
      });
    }
    // A GDPR tenant asking for us-west is refused; a FERPA one is served in the US.
    expect(decisions[0]).toMatchObject({ allowed: false });
    expect(decisions[1]).toMatchObject({ allowed: true, target_region: "us-east" });

    const ids = decisions.map((d) => d.decision_id as string);
    expect(new Set(ids).size).toBe(100);
    // Time-ordered ids (RFC 9562 version 7, src/audit/event-id.ts): each begins with the millisecond
    // it was made in, so audit_log's event_id index grows at its end.
    for (const id of ids) {
      expect(id).toMatch(UUID_V7);
      const ms = msOfEventId(id);
      expect(ms).toBeGreaterThanOrEqual(sent);
      expect(ms).toBeLessThanOrEqual(answered);
    }
    const rows = await auditRows("batch-100");
    expect(rows).toHaveLength(100);
    expect(rows.map((r) => r.event_id)).toEqual(ids);
    expect(rows.every((r) => r.type === "decision.access")).toBe(true);
    expect(rows.map((r) => r.tenant_id)).toEqual(requests.map((r) => r.tenant_id));

    const verify = await auditor.get("/api/v1/audit/verify");
    expect(verify.status).toBe(200);
    expect(verify.body).toMatchObject({ ok: true, first_broken_seq: null });
  });

  it("a scoped key with one foreign tenant in the batch: 403, nothing decided or audited", async () => {
    const scoped = api(t.handler, await t.keyFor(["service"], ["batch-us"]));
    const requests = Array.from({ length: 10 }, (_, i) => body(2 * i + 1));
    requests[7] = body(2); // batch-eu: outside the key's scope
    const before = (await t.db.query<{ n: number }>("SELECT count(*)::int AS n FROM audit_log")).rows[0]!.n;
    const res = await scoped
      .post("/api/v1/access/resolve-batch", { requests })
      .set("x-request-id", "batch-foreign");
    expect(res.status).toBe(403);
    expect(res.body.error).toMatchObject({ code: "FORBIDDEN", details: { index: 7 } });
    expect(res.body.error.message).toContain("requests[7]");
    expect(res.body.decisions).toBeUndefined();
    expect(await auditRows("batch-foreign")).toHaveLength(0);
    const after = (await t.db.query<{ n: number }>("SELECT count(*)::int AS n FROM audit_log")).rows[0]!.n;
    expect(after).toBe(before);

    // The same key decides its own tenant's batch.
    const own = await scoped.post("/api/v1/access/resolve-batch", { requests: [body(1), body(3)] });
    expect(own.status).toBe(200);
    expect(own.body.decisions).toHaveLength(2);
  });

  it("an invalid item: 400 naming its index, nothing decided or audited", async () => {
    const requests = Array.from({ length: 5 }, (_, i) => body(i));
    requests[3] = body(3, { operation_type: "teleport" });
    const res = await svc
      .post("/api/v1/access/resolve-batch", { requests })
      .set("x-request-id", "batch-invalid");
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe("VALIDATION_FAILED");
    expect(res.body.error.details).toEqual([expect.objectContaining({ path: "requests.3.operation_type" })]);
    expect(await auditRows("batch-invalid")).toHaveLength(0);
  });

  it("committed together: one record refused by the store ⇒ 503 and none of the batch is kept", async () => {
    // The store refuses only the last item's record; the 9 before it must not survive alone.
    await t.db.exec(`
      CREATE FUNCTION refuse_one() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN IF NEW.learner_id = 'learner-poison' THEN RAISE EXCEPTION 'refused'; END IF; RETURN NEW; END $$;
      CREATE TRIGGER refuse_one BEFORE INSERT ON audit_log FOR EACH ROW EXECUTE FUNCTION refuse_one();
    `);
    try {
      const requests = Array.from({ length: 10 }, (_, i) => body(i));
      requests[9] = body(9, { learner_id: "learner-poison" });
      const res = await svc
        .post("/api/v1/access/resolve-batch", { requests })
        .set("x-request-id", "batch-refused");
      expect(res.status).toBe(503);
      expect(res.body.error.code).toBe("AUDIT_UNAVAILABLE");
      expect(res.body.decisions).toBeUndefined();
    } finally {
      await t.db.exec("DROP TRIGGER refuse_one ON audit_log; DROP FUNCTION refuse_one();");
    }
    expect(await auditRows("batch-refused")).toHaveLength(0);
  });

  it("more than 100 items or none: 400", async () => {
    const tooMany = await svc.post("/api/v1/access/resolve-batch", {
      requests: Array.from({ length: 101 }, (_, i) => body(i)),
    });
    expect(tooMany.status).toBe(400);
    expect(tooMany.body.error.details[0].path).toBe("requests");
    const empty = await svc.post("/api/v1/access/resolve-batch", { requests: [] });
    expect(empty.status).toBe(400);
  });

  it("needs the service role", async () => {
    const res = await auditor.post("/api/v1/access/resolve-batch", { requests: [body(1)] });
    expect(res.status).toBe(403);
  });
});
