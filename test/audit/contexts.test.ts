import { createHash } from "node:crypto";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createAuditLog } from "../../src/audit/audit-log.ts";
import { canonicalJson } from "../../src/audit/canonical.ts";
import { compactPayload, expandRows } from "../../src/audit/contexts.ts";
import { createAuditReader } from "../../src/audit/reader.ts";
import { verifyChain } from "../../src/audit/verify.ts";
import { replayableRows } from "../../src/bundles/dry-run.ts";
import { seal } from "../../src/domain/sealed.ts";
import { type TestDb, testBackends } from "../support/databases.ts";
import { decisionEvent, resetAuditLog } from "./fixtures.ts";

// Compact records: the evaluation context is stored once per distinct value and referenced by
// hash; the chain still verifies, and dry runs get the exact input back.

function evaluation(tenant: string, nowMs: number) {
  return {
    now_ms: nowMs,
    policy: {
      tenant_id: tenant,
      primary_region: "eu-west",
      allowed_regions: ["eu-west", "eu-central"],
      frameworks: ["gdpr"],
    },
    region_health: {
      "eu-west": { status: "healthy" },
      "eu-central": { status: "degraded", reason: "maintenance" },
    },
    overrides: [],
    settings: { required_approvals: 2 },
  };
}

const withEvaluation = (tenant: string, nowMs: number) => {
  const event = decisionEvent({ tenant_id: tenant });
  return { ...event, payload: { ...(event.payload as object), evaluation: evaluation(tenant, nowMs) } };
};

describe.each(testBackends())("compact audit records on $name", (backend) => {
  let db: TestDb;
  beforeAll(async () => {
    db = await backend.create();
  });
  afterAll(() => db.close());
  beforeEach(() => resetAuditLog(db));

  async function payloads(): Promise<Array<{ evaluation: Record<string, unknown> }>> {
    const { rows } = await db.query<{ payload: string }>(
      "SELECT payload::text AS payload FROM audit_log ORDER BY seq",
    );
    return rows.map((r) => JSON.parse(r.payload));
  }

  it("stores each distinct context once and references it by hash from every record", async () => {
    const log = createAuditLog({ db });
    const events = Array.from({ length: 40 }, (_, i) => withEvaluation(i % 2 ? "t-a" : "t-b", 1_000 + i));
    await Promise.all(events.map((e) => log.append(e)));
    await log.close();

    const contexts = await db.query<{ n: number }>("SELECT count(*)::int AS n FROM audit_contexts");
    expect(contexts.rows[0]!.n).toBe(2);
    const stored = await payloads();
    expect(new Set(stored.map((p) => p.evaluation.context_sha256)).size).toBe(2);
    expect(stored.every((p) => Object.keys(p.evaluation).sort().join() === "context_sha256,now_ms")).toBe(
      true,
    );
    expect(await verifyChain(db)).toMatchObject({ ok: true, checked: 40 });

    // The dry run's reader puts the context back: exactly what the bundle evaluated.
    const rows = await replayableRows(createAuditReader(db), 100);
    const byId = new Map(events.map((e) => [e.event_id, e]));
    expect(rows).toHaveLength(40);
    for (const row of rows) {
      expect((row.payload as { evaluation: unknown }).evaluation).toEqual(
        (byId.get(row.event_id)!.payload as { evaluation: unknown }).evaluation,
      );
    }
  });

  it("keeps records written inline (before compaction) verifying and replayable beside compact ones", async () => {
    const inline = createAuditLog({ db, compactContexts: false });
    const old = withEvaluation("t-a", 5);
    await inline.append(old);
    await inline.close();
    const compact = createAuditLog({ db });
    const fresh = withEvaluation("t-a", 6);
    await compact.append(fresh);
    await compact.close();

    const [first, second] = await payloads();
    expect(first!.evaluation).toEqual((old.payload as { evaluation: unknown }).evaluation);
    expect(second!.evaluation).toHaveProperty("context_sha256");
    expect(await verifyChain(db)).toMatchObject({ ok: true, checked: 2 });
    const rows = await expandRows(
      db,
      await db
        .query<{ event_id: string; payload: unknown }>("SELECT event_id, payload FROM audit_log ORDER BY seq")
        .then((r) => r.rows),
    );
    expect(rows.map((r) => (r.payload as { evaluation: unknown }).evaluation)).toEqual([
      (old.payload as { evaluation: unknown }).evaluation,
      (fresh.payload as { evaluation: unknown }).evaluation,
    ]);
  });

  it("refuses to change a stored context", async () => {
    const log = createAuditLog({ db });
    await log.append(withEvaluation("t-a", 1));
    await log.close();
    await expect(db.query("UPDATE audit_contexts SET body = '{}'")).rejects.toThrow(/append-only/);
    await expect(db.query("DELETE FROM audit_contexts")).rejects.toThrow(/append-only/);
  });
});

describe("a context assembled from sealed cached values", () => {
  it("has the text and hash of its content, whichever objects hold it", () => {
    const parts = () => {
      const { now_ms: _, ...rest } = evaluation("t-sealed", 0);
      return Object.fromEntries(Object.entries(rest).map(([k, v]) => [k, seal(structuredClone(v))]));
    };
    const first = parts();
    const again = compactPayload({ evaluation: { ...first, now_ms: 1 } });
    const reused = compactPayload({ evaluation: { ...first, now_ms: 2 } }); // same objects: found by identity
    const copy = compactPayload({ evaluation: { ...parts(), now_ms: 3 } }); // equal values, other objects
    const changed = compactPayload({ evaluation: { ...first, learner_policy: seal({ x: 1 }), now_ms: 4 } });
    const expected = canonicalJson(parts());
    const sha = createHash("sha256").update(expected).digest("hex");
    for (const c of [again, reused, copy]) {
      expect(c.context).toEqual({ sha256: sha, json: expected });
    }
    expect(reused.payload).toEqual({ evaluation: { context_sha256: sha, now_ms: 2 } });
    expect(changed.context!.sha256).not.toBe(sha);
    expect(changed.context!.json).toBe(canonicalJson({ ...parts(), learner_policy: { x: 1 } }));
  });
});
