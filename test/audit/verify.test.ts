import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createAuditLog } from "../../src/audit/audit-log.ts";
import { chainHash } from "../../src/audit/canonical.ts";
import { AUDIT_COLUMNS, type AuditRow } from "../../src/audit/query.ts";
import { verifyChain } from "../../src/audit/verify.ts";
import { type TestDb, testBackends } from "../support/databases.ts";
import { appendAll, asSuperuser, decisionEvent, decisionEvents, resetAuditLog } from "./fixtures.ts";

describe.each(testBackends())("verifyChain on $name", (backend) => {
  let db: TestDb;
  beforeAll(async () => {
    db = await backend.create();
  });
  afterAll(() => db.close());
  beforeEach(() => resetAuditLog(db));

  const seed = (count: number) => appendAll(db, decisionEvents(count));

  it("reports an empty log as intact", async () => {
    expect(await verifyChain(db)).toEqual({
      ok: true,
      checked: 0,
      head_seq: 0,
      head_hash: null,
      first_broken_seq: null,
    });
  });

  it("walks the whole chain page by page", async () => {
    const hashes = await seed(50);
    expect(await verifyChain(db, { batchSize: 7 })).toEqual({
      ok: true,
      checked: 50,
      head_seq: 50,
      head_hash: hashes[49],
      first_broken_seq: null,
    });
  });

  it("names the record whose payload was changed behind the triggers' back", async () => {
    await seed(50);
    await asSuperuser(
      db,
      "UPDATE audit_log SET payload = jsonb_set(payload::jsonb, '{decision,allowed}', 'false')::json WHERE seq = 23",
    );
    expect(await verifyChain(db, { batchSize: 7 })).toMatchObject({
      ok: false,
      checked: 23,
      head_seq: 50,
      first_broken_seq: 23,
    });
  });

  it.each([
    ["occurred_at", "occurred_at = occurred_at + interval '1 millisecond'"],
    ["actor", "actor = 'someone-else'"],
    ["tenant_id", "tenant_id = NULL"],
    ["policy_version", "policy_version = 4"],
    ["type", "type = 'decision.inference'"],
  ])("notices a changed %s", async (_field, assignment) => {
    await seed(10);
    await asSuperuser(db, `UPDATE audit_log SET ${assignment} WHERE seq = 6`);
    expect(await verifyChain(db)).toMatchObject({ ok: false, first_broken_seq: 6 });
  });

  it("catches a rewrite whose own hash was recomputed, at the next link", async () => {
    await seed(50);
    const { rows } = await db.query<AuditRow>(`SELECT ${AUDIT_COLUMNS} FROM audit_log WHERE seq = 23`);
    const row = rows[0]!;
    const forged = { ...row, seq: 23, actor: "mallory" };
    await asSuperuser(db, "UPDATE audit_log SET actor = $1, hash = $2 WHERE seq = 23", [
      forged.actor,
      chainHash(row.prev_hash, forged),
    ]);
    expect(await verifyChain(db)).toMatchObject({ ok: false, first_broken_seq: 24 });
  });

  it("names a removed record", async () => {
    await seed(30);
    await asSuperuser(db, "DELETE FROM audit_log WHERE seq = 10");
    expect(await verifyChain(db, { batchSize: 4 })).toMatchObject({ ok: false, first_broken_seq: 10 });
  });

  it("checks the first record against the genesis hash", async () => {
    await seed(3);
    await asSuperuser(db, "UPDATE audit_log SET prev_hash = repeat('1', 64) WHERE seq = 1");
    expect(await verifyChain(db)).toMatchObject({ ok: false, checked: 1, first_broken_seq: 1 });
  });

  it("verifies up to the head it started from while appends continue", async () => {
    await seed(300);
    const log = createAuditLog({ db });
    const appending = Promise.all(Array.from({ length: 300 }, () => log.append(decisionEvent())));
    const result = await verifyChain(db, { batchSize: 10 });
    await appending;
    await log.close();

    expect(result.ok).toBe(true);
    expect(result.checked).toBe(result.head_seq);
    expect(result.head_seq).toBeGreaterThanOrEqual(300);
    expect(await verifyChain(db)).toMatchObject({ ok: true, checked: 600, head_seq: 600 });
  });
});
