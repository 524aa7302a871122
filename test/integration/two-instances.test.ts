import { randomBytes } from "node:crypto";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRedisCache } from "../../src/context/cache-redis.ts";
import { createStoreGenerations } from "../../src/context/generations.ts";
import { type TestDb, testBackends } from "../support/databases.ts";
import { api } from "../support/http.ts";
import { ADMIN_KEY, startTestService, type TestService } from "../support/service.ts";

// Two service instances sharing the real Postgres and Redis of this machine: a policy change,
// an override revocation or a health change made through one is what the other decides on next.

const REDIS_URL = process.env.REDIS_URL;
const postgres = testBackends().find((b) => b.name === "postgres");

describe.skipIf(!REDIS_URL || !postgres)("two instances sharing Postgres and Redis", () => {
  let db: TestDb;
  let a: TestService;
  let b: TestService;
  const clients: Redis[] = [];
  const closers: Array<() => void> = [];

  async function instance(prefix: string, shared: TestDb) {
    const redis = new Redis(REDIS_URL!);
    const subscriber = redis.duplicate();
    clients.push(redis, subscriber);
    const peer = await shared.peer();
    const generations = await createStoreGenerations({ db: peer, pollMs: 250 });
    closers.push(() => generations.close());
    const cache = await createRedisCache({ redis, subscriber, prefix, generations });
    return startTestService({ db: peer, cache, redis, redisPrefix: prefix });
  }

  beforeAll(async () => {
    db = await postgres!.create();
    const prefix = `residency-test-${randomBytes(4).toString("hex")}:`;
    a = await instance(prefix, db);
    b = await instance(prefix, db);
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    for (const close of closers) close();
    await Promise.all(clients.map((c) => c.quit()));
    await db?.close();
  });

  it("a policy update through A is what B decides on next (no stale cached context)", async () => {
    const adminA = api(a.handler, ADMIN_KEY);
    const svcB = api(b.handler, await b.keyFor(["service"]));
    const decideB = () =>
      svcB.post("/api/v1/access/resolve", {
        tenant_id: "shared",
        operation_type: "read",
        resource_type: "d",
        resource_id: "1",
        requested_region: "us-west",
      });
    await adminA.post("/api/v1/policies", {
      tenant_id: "shared",
      primary_region: "us-east",
      allowed_regions: ["us-west"],
    });
    const first = await decideB();
    expect(first.body.reason.code).toBe("ALLOW_PERMITTED_REGION"); // now cached in B and Redis
    expect((await decideB()).body.reason.code).toBe("ALLOW_PERMITTED_REGION");

    for (let round = 0; round < 5; round++) {
      const prohibit = round % 2 === 0;
      await adminA.post("/api/v1/policies", {
        tenant_id: "shared",
        primary_region: "us-east",
        ...(prohibit ? { prohibited_regions: ["us-west"] } : { allowed_regions: ["us-west"] }),
      });
      const next = await decideB();
      expect(next.body.reason.code).toBe(prohibit ? "DENY_TENANT_PROHIBITED" : "ALLOW_PERMITTED_REGION");
    }
  });

  it("a region health change through A fails over B's next decision", async () => {
    const adminA = api(a.handler, ADMIN_KEY);
    const operatorA = api(a.handler, await a.keyFor(["operator"]));
    const svcB = api(b.handler, await b.keyFor(["service"]));
    await adminA.post("/api/v1/policies", {
      tenant_id: "shared-health",
      primary_region: "eu-west",
      compliance_frameworks: ["gdpr"],
      allow_cross_region_failover: true,
      failover_regions: ["eu-central"],
    });
    const decide = () =>
      svcB.post("/api/v1/access/resolve", {
        tenant_id: "shared-health",
        operation_type: "write",
        resource_type: "d",
        resource_id: "1",
      });
    expect((await decide()).body.reason.code).toBe("ALLOW_PRIMARY");
    await operatorA.put("/api/v1/regions/eu-west/health", { status: "unavailable" });
    try {
      expect((await decide()).body).toMatchObject({
        reason: { code: "ALLOW_FAILOVER" },
        target_region: "eu-central",
      });
    } finally {
      await operatorA.put("/api/v1/regions/eu-west/health", { status: "healthy" });
    }
    expect((await decide()).body.reason.code).toBe("ALLOW_PRIMARY");
  });

  it("both instances append to one hash chain", async () => {
    const auditor = api(a.handler, await a.keyFor(["auditor"]));
    const svcA = api(a.handler, await a.keyFor(["service"]));
    const svcB = api(b.handler, await b.keyFor(["service"]));
    const body = { tenant_id: "shared", operation_type: "read", resource_type: "d", resource_id: "1" };
    const answers = await Promise.all(
      Array.from({ length: 60 }, (_, i) => (i % 2 ? svcA : svcB).post("/api/v1/access/resolve", body)),
    );
    expect(answers.every((r) => r.status === 200)).toBe(true);
    const verify = await auditor.get("/api/v1/audit/verify");
    expect(verify.body).toMatchObject({ ok: true, first_broken_seq: null });
    const ids = answers.map((r) => r.body.decision_id);
    const found = await db.query("SELECT count(*)::int AS n FROM audit_log WHERE event_id = ANY($1)", [ids]);
    expect(found.rows[0]!.n).toBe(60);
  });
});
