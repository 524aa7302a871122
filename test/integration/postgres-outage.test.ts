import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type TestDb, testBackends } from "../support/databases.ts";
import { type Api, api } from "../support/http.ts";
import { ADMIN_KEY, startTestService, type TestService } from "../support/service.ts";
import { startTcpProxy, type TcpProxy } from "../support/tcp-proxy.ts";

// Postgres goes away while the service is serving (played by cutting a TCP proxy between them):
// decisions answer 503 AUDIT_UNAVAILABLE — never 200 without a record, never 500 — and the
// service recovers by itself when Postgres is reachable again.

const postgres = testBackends().find((b) => b.name === "postgres");

describe.skipIf(!postgres)("Postgres outage while serving", () => {
  let db: TestDb;
  let proxy: TcpProxy;
  let t: TestService;
  let svc: Api;

  const decide = (tenant = "outage") =>
    svc.post("/api/v1/access/resolve", {
      tenant_id: tenant,
      operation_type: "read",
      resource_type: "d",
      resource_id: "1",
    });

  beforeAll(async () => {
    db = await postgres!.create();
    const url = new URL(process.env.DATABASE_URL!);
    proxy = await startTcpProxy({ host: url.hostname, port: Number(url.port || 5432) });
    t = await startTestService({
      db: await db.peer({ connectionString: proxy.url(process.env.DATABASE_URL!) }),
    });
    const admin = api(t.handler, ADMIN_KEY);
    await admin.post("/api/v1/policies", {
      tenant_id: "outage",
      primary_region: "eu-west",
      compliance_frameworks: ["gdpr"],
    });
    svc = api(t.handler, await t.keyFor(["service"]));
  });
  afterAll(async () => {
    proxy?.resume();
    await t?.close();
    await proxy?.close();
    await db?.close();
  });

  it("answers 503 AUDIT_UNAVAILABLE during the outage and recovers by itself", {
    timeout: 60_000,
  }, async () => {
    const before = await decide();
    expect(before.status).toBe(200); // policy context and key are now cached

    proxy.pause();
    const during = await Promise.all(Array.from({ length: 20 }, () => decide()));
    for (const res of during) {
      expect(res.status).toBe(503);
      expect(res.body.error.code).toBe("AUDIT_UNAVAILABLE");
    }
    // A tenant whose policy is not cached cannot even be decided: 503, not a "no policy" deny.
    const uncached = await decide("outage-uncached");
    expect(uncached.status).toBe(503);
    expect(["POLICY_UNAVAILABLE", "AUDIT_UNAVAILABLE"]).toContain(uncached.body.error.code);
    const ready = await svc.get("/health/ready");
    expect(ready.status).toBe(503);

    proxy.resume();
    await expect.poll(async () => (await decide()).status, { timeout: 20_000, interval: 250 }).toBe(200);
    const after = await decide();
    expect(after.body.reason.code).toBe("ALLOW_PRIMARY");
    const rows = await db.query("SELECT count(*)::int AS n FROM audit_log WHERE event_id = $1", [
      after.body.decision_id,
    ]);
    expect(rows.rows[0]!.n).toBe(1);
    // Nothing from the outage was half-written: the chain still verifies.
    const auditor = api(t.handler, await t.keyFor(["auditor"]));
    expect((await auditor.get("/api/v1/audit/verify")).body).toMatchObject({ ok: true });
  });

  it("admin writes answer 503 STORE_UNAVAILABLE during the outage, never 500, and work again after", {
    timeout: 60_000,
  }, async () => {
    const admin = api(t.handler, ADMIN_KEY);
    const operator = api(t.handler, await t.keyFor(["operator"]));
    const requester = api(t.handler, await t.keyFor(["policy_admin"]));
    expect((await operator.get("/api/v1/regions")).status).toBe(200); // keys authenticated and cached
    const policy = { tenant_id: "outage-admin", primary_region: "eu-west", compliance_frameworks: ["gdpr"] };

    proxy.pause();
    const writes = [
      await admin.post("/api/v1/policies", policy),
      await admin.post("/api/v1/keys", { principal: "during-outage", roles: ["service"] }),
      await operator.put("/api/v1/regions/eu-west/health", { status: "degraded", reason: "outage test" }),
      await requester.post("/api/v1/emergency/override", {
        tenant_id: "outage-admin",
        target_region: "us-east",
        reason: "outage test",
        ticket: "INC-1",
      }),
    ];
    proxy.resume();
    for (const res of writes) {
      expect(res.status).toBe(503);
      expect(res.body.error).toMatchObject({
        code: "STORE_UNAVAILABLE",
        request_id: res.headers["x-request-id"],
      });
    }
    await expect
      .poll(async () => (await admin.post("/api/v1/policies", policy)).status, {
        timeout: 20_000,
        interval: 250,
      })
      .toBe(201);
    // Nothing of the refused writes was stored.
    const keys = await db.query("SELECT count(*)::int AS n FROM api_keys WHERE principal = 'during-outage'");
    expect(keys.rows[0]!.n).toBe(0);
  });
});
