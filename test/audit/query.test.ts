import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { chainHash } from "../../src/audit/canonical.ts";
import {
  type AuditFilters,
  type AuditItem,
  type DecisionAuditPayload,
  encodeCursor,
  queryAuditLogs,
} from "../../src/audit/query.ts";
import type { AuditEventInput } from "../../src/audit/types.ts";
import { type TestDb, testBackends } from "../support/databases.ts";
import { appendAll, decisionEvent } from "./fixtures.ts";

const BASE = Date.UTC(2024, 0, 1);
const HOUR = 3_600_000;
const OPERATIONS = ["read", "write", "replicate"];

// 60 records: decisions for three tenants and four learners, one hour apart, plus policy events
// (no learner) and bundle events (no tenant). seq = i + 1.
const seeds: AuditEventInput[] = Array.from({ length: 60 }, (_, i) => {
  const occurred_at = new Date(BASE + i * HOUR);
  if (i % 15 === 14) {
    return decisionEvent({
      type: "bundle.activated",
      occurred_at,
      tenant_id: null,
      learner_id: null,
      payload: {},
    });
  }
  if (i % 10 === 9) {
    return decisionEvent({
      type: "policy.created",
      occurred_at,
      tenant_id: `t${i % 3}`,
      learner_id: null,
      payload: { policy: { allowed_regions: ["eu-west"] } },
    });
  }
  const payload: DecisionAuditPayload = {
    request: { operation_type: OPERATIONS[i % 3]!, resource_type: "submission" },
    decision: {
      allowed: i % 4 !== 0,
      reason_code: i % 4 !== 0 ? "ALLOW_PRIMARY" : "DENY_X",
      target_region: null,
    },
  };
  return decisionEvent({ occurred_at, tenant_id: `t${i % 3}`, learner_id: `l${i % 4}`, payload });
});

const decision = (e: AuditEventInput) => e.payload as Partial<DecisionAuditPayload>;

describe.each(testBackends())("queryAuditLogs on $name", (backend) => {
  let db: TestDb;
  beforeAll(async () => {
    db = await backend.create();
    await appendAll(db, seeds);
  });
  afterAll(() => db.close());

  /** Every page of a query, following next_cursor. */
  async function allPages(filters: AuditFilters, limit: number): Promise<{ pages: AuditItem[][] }> {
    const pages: AuditItem[][] = [];
    let cursor: string | null = null;
    do {
      const page = await queryAuditLogs(db, { ...filters, limit, cursor });
      pages.push(page.items);
      cursor = page.next_cursor;
    } while (cursor !== null && pages.length < 100);
    return { pages };
  }

  /** seqs the oracle expects, newest first. */
  const expectedSeqs = (keep: (e: AuditEventInput) => boolean) =>
    seeds.flatMap((e, i) => (keep(e) ? [i + 1] : [])).reverse();

  it("returns records newest first, in the API's record shape, with verifiable hashes", async () => {
    const page = await queryAuditLogs(db, {});
    expect(page.next_cursor).toBeNull();
    expect(page.items.map((item) => item.seq)).toEqual(expectedSeqs(() => true));
    const item = page.items.find((i) => i.seq === 2)!;
    expect(Object.keys(item).sort()).toEqual(
      [
        "actor",
        "bundle_revision",
        "event_id",
        "hash",
        "learner_id",
        "occurred_at",
        "payload",
        "policy_id",
        "policy_version",
        "prev_hash",
        "request_id",
        "seq",
        "tenant_id",
        "type",
      ].sort(),
    );
    expect(item).toMatchObject({
      seq: 2,
      event_id: seeds[1]!.event_id,
      type: "decision.access",
      occurred_at: "2024-01-01T01:00:00.000Z",
      tenant_id: "t1",
      learner_id: "l1",
      policy_version: 3,
      payload: seeds[1]!.payload,
    });
    for (const each of page.items) expect(chainHash(each.prev_hash, each)).toBe(each.hash);
  });

  it("pages with an opaque cursor, without gaps or repeats", async () => {
    const { pages } = await allPages({}, 7);
    expect(pages.map((p) => p.length)).toEqual([7, 7, 7, 7, 7, 7, 7, 7, 4]);
    expect(pages.flat().map((i) => i.seq)).toEqual(expectedSeqs(() => true));
  });

  it("has no next page when the last page is exactly full", async () => {
    const { pages } = await allPages({}, 20);
    expect(pages.map((p) => p.length)).toEqual([20, 20, 20]);
  });

  const cases: Array<[string, AuditFilters, (e: AuditEventInput) => boolean]> = [
    ["tenant_id", { tenant_id: "t2" }, (e) => e.tenant_id === "t2"],
    ["learner_id", { learner_id: "l1" }, (e) => e.learner_id === "l1"],
    [
      "from (inclusive) and to (exclusive)",
      { from: "2024-01-01T10:00:00Z", to: "2024-01-02T00:00:00.000+00:00" },
      (e) => e.occurred_at.getTime() >= BASE + 10 * HOUR && e.occurred_at.getTime() < BASE + 24 * HOUR,
    ],
    [
      "from as a date with an offset",
      { from: "2024-01-02T05:30:00+05:30" },
      (e) => e.occurred_at.getTime() >= BASE + 24 * HOUR,
    ],
    ["to as a date", { to: "2024-01-02" }, (e) => e.occurred_at.getTime() < BASE + 24 * HOUR],
    ["operation_type", { operation_type: "write" }, (e) => decision(e).request?.operation_type === "write"],
    ["allowed: false", { allowed: false }, (e) => decision(e).decision?.allowed === false],
    ["allowed: true", { allowed: true }, (e) => decision(e).decision?.allowed === true],
    ["type", { type: "policy.created" }, (e) => e.type === "policy.created"],
    [
      "a key scope of two tenants (records without a tenant stay hidden)",
      { tenant_ids: ["t0", "t2"] },
      (e) => e.tenant_id === "t0" || e.tenant_id === "t2",
    ],
    ["an empty key scope", { tenant_ids: [] }, () => false],
    ["a tenant outside the key scope", { tenant_ids: ["t0"], tenant_id: "t1" }, () => false],
    ["no key scope (null)", { tenant_ids: null }, () => true],
    [
      "several filters at once",
      {
        tenant_ids: ["t1", "t2"],
        tenant_id: "t1",
        allowed: true,
        operation_type: "write",
        from: "2024-01-01T05:00:00Z",
      },
      (e) =>
        e.tenant_id === "t1" &&
        decision(e).decision?.allowed === true &&
        decision(e).request?.operation_type === "write" &&
        e.occurred_at.getTime() >= BASE + 5 * HOUR,
    ],
  ];

  it.each(cases)("filters by %s", async (_name, filters, keep) => {
    const expected = expectedSeqs(keep);
    const { pages } = await allPages(filters, 3);
    expect(pages.flat().map((i) => i.seq)).toEqual(expected);
  });

  it.each([0, -1, 1001, 1.5, Number.NaN])("refuses limit %s", async (limit) => {
    await expect(queryAuditLogs(db, { limit })).rejects.toMatchObject({ code: "VALIDATION_FAILED" });
  });

  it("accepts limit 1000", async () => {
    expect((await queryAuditLogs(db, { limit: 1000 })).items).toHaveLength(60);
  });

  it.each([
    ["junk", "not a cursor!"],
    ["zero", encodeCursor(0)],
    ["a negative seq", Buffer.from("-5").toString("base64url")],
    ["trailing letters", Buffer.from("12abc").toString("base64url")],
    ["a fraction", Buffer.from("1.5").toString("base64url")],
    ["padding", `${encodeCursor(10)}==`],
    ["an unsafe integer", Buffer.from("9007199254740993").toString("base64url")],
  ])("refuses a cursor with %s", async (_name, cursor) => {
    await expect(queryAuditLogs(db, { cursor })).rejects.toMatchObject({ code: "VALIDATION_FAILED" });
  });

  it.each(["yesterday", "2024-13-45", "2024-01-01T10:00", "2024-01-01 10:00:00Z", "1704067200000"])(
    "refuses from=%s",
    async (from) => {
      await expect(queryAuditLogs(db, { from })).rejects.toMatchObject({ code: "VALIDATION_FAILED" });
    },
  );
});
