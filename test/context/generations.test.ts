import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createStoreGenerations, KEYS_SCOPE, REGIONS_SCOPE } from "../../src/context/generations.ts";
import type { Db } from "../../src/store/db.ts";
import { type TestDb, testBackends } from "../support/databases.ts";

// Cache generations live in Postgres: every change that a cached value depends on bumps its
// scope in the same transaction (triggers), bookkeeping that changes nothing a decision reads does
// not, and an instance that cannot confirm the generations stops vouching for its caches.

const generation = async (db: Db, scope: string) =>
  Number(
    (await db.query<{ g: number }>("SELECT generation AS g FROM cache_generations WHERE scope = $1", [scope]))
      .rows[0]?.g ?? 0,
  );

describe.each(testBackends())("cache generations on $name", (backend) => {
  let db: TestDb;
  beforeAll(async () => {
    db = await backend.create();
  });
  afterAll(() => db.close());

  it("policies, overrides, approvals, keys and region health bump their scope by trigger", async () => {
    const before = await generation(db, "tenant:gen-t");
    await db.query(
      `INSERT INTO policies (policy_id, version, tenant_id, learner_id, document, is_active, policy_created_at, created_at, created_by)
       VALUES ('pol_gen', 1, 'gen-t', NULL, '{}', true, now(), now(), 'test')`,
    );
    const afterPolicy = await generation(db, "tenant:gen-t");
    expect(afterPolicy).toBeGreaterThan(before);
    await db.query(
      `INSERT INTO overrides (override_id, tenant_id, target_region, reason, ticket, duration_hours, requested_by, created_at, expires_at)
       VALUES ('ovr_gen', 'gen-t', 'us-west', 'r', 't', 1, 'alice', now(), now() + interval '1 hour')`,
    );
    const afterOverride = await generation(db, "tenant:gen-t");
    expect(afterOverride).toBeGreaterThan(afterPolicy);
    await db.query(
      "INSERT INTO override_approvals (override_id, principal, approved_at) VALUES ('ovr_gen', 'bob', now())",
    );
    const afterApproval = await generation(db, "tenant:gen-t");
    expect(afterApproval).toBeGreaterThan(afterOverride);
    // Use counts and the expiry sweep's bookkeeping change nothing a decision reads.
    await db.query(
      "UPDATE overrides SET use_count = use_count + 1, last_used_at = now(), expiry_recorded = true WHERE override_id = 'ovr_gen'",
    );
    expect(await generation(db, "tenant:gen-t")).toBe(afterApproval);
    await db.query("UPDATE overrides SET revoked_at = now() WHERE override_id = 'ovr_gen'");
    expect(await generation(db, "tenant:gen-t")).toBeGreaterThan(afterApproval);

    const keys = await generation(db, "keys");
    await db.query(
      `INSERT INTO api_keys (key_id, principal, roles, secret_hash, created_at, created_by)
       VALUES ('key_gen', 'p', '{service}', 'deadbeef', now(), 'test')`,
    );
    await db.query("UPDATE api_keys SET revoked_at = now() WHERE key_id = 'key_gen'");
    expect(await generation(db, "keys")).toBe(keys + 2);

    const regions = await generation(db, "regions");
    await db.query(
      `INSERT INTO region_health (code, status, updated_at, updated_by) VALUES ('us-west', 'degraded', now(), 'op')
       ON CONFLICT (code) DO UPDATE SET status = EXCLUDED.status`,
    );
    expect(await generation(db, "regions")).toBe(regions + 1);
  });

  it("another instance sees a committed change at its next look; the writer at once", async () => {
    const writer = await createStoreGenerations({ db, pollMs: null });
    const reader = await createStoreGenerations({ db, pollMs: 20 });
    try {
      const seen = reader.current(KEYS_SCOPE);
      await db.query("SELECT bump_cache_generation('keys')");
      expect(await writer.afterWrite(KEYS_SCOPE)).toBe(Number(seen) + 1);
      expect(writer.current(KEYS_SCOPE)).toBe(String(Number(seen) + 1));
      await expect.poll(() => reader.current(KEYS_SCOPE), { timeout: 2_000 }).toBe(String(Number(seen) + 1));
      expect(reader.current(REGIONS_SCOPE)).not.toBeNull();
    } finally {
      writer.close();
      reader.close();
    }
  });
});

describe("cache generations without the store", () => {
  it("vouch for nothing once unconfirmed for longer than the bound, and again after a good look", async () => {
    let now = 0;
    let down = false;
    const store = await testBackends()[0]!.create();
    const flaky: Db = {
      ...store,
      async query(sql, params) {
        if (down) throw new Error("connection refused");
        return store.query(sql, params);
      },
    };
    const generations = await createStoreGenerations({
      db: flaky,
      pollMs: 10,
      maxStalenessMs: 1_000,
      now: () => now,
    });
    try {
      expect(generations.current("t")).toBe("0");
      down = true;
      now = 900;
      expect(generations.current("t")).toBe("0"); // within the bound
      now = 1_001;
      expect(generations.current("t")).toBeNull(); // past it: no cache may be used
      // A write whose generation cannot be read back distrusts its scope even within the bound.
      down = false;
      await expect.poll(() => generations.current("t"), { timeout: 2_000 }).toBe("0");
      down = true;
      expect(await generations.afterWrite("t")).toBeNull();
      expect(generations.current("t")).toBeNull();
      expect(generations.current("other")).toBe("0");
      now += 1;
      down = false;
      await expect.poll(() => generations.current("t"), { timeout: 2_000 }).toBe("0");
    } finally {
      generations.close();
      await store.close();
    }
  });
});
