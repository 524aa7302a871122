import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAuditLog } from "../../src/audit/audit-log.ts";
import {
  type ChainFields,
  canonicalJson,
  canonicalRecordJson,
  chainHash,
  chainHashPreSerialized,
  GENESIS_HASH,
} from "../../src/audit/canonical.ts";
import { AUDIT_COLUMNS, type AuditRow } from "../../src/audit/query.ts";
import { type TestDb, testBackends } from "../support/databases.ts";
import { decisionEvent } from "./fixtures.ts";

describe("canonicalJson", () => {
  it("sorts keys at every depth and leaves no whitespace", () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { z: 1, y: 2 }], c: "x y" } })).toBe(
      '{"a":{"c":"x y","d":[3,{"y":2,"z":1}]},"b":1}',
    );
  });

  it("sorts by UTF-16 code units, not locale", () => {
    expect(canonicalJson({ b: 1, B: 2, é: 3, "😀": 4, a: 5 })).toBe('{"B":2,"a":5,"b":1,"é":3,"😀":4}');
  });

  it("prints numbers as JavaScript does", () => {
    expect(canonicalJson([1e21, 0.1, -0, 1.5, 2 ** 60, 1e-7, 0.1 + 0.2, -12])).toBe(
      "[1e+21,0.1,0,1.5,1152921504606847000,1e-7,0.30000000000000004,-12]",
    );
  });

  it("follows JSON.stringify for undefined, toJSON and escapes", () => {
    expect(canonicalJson({ a: undefined, b: [undefined, () => 1], c: new Date(Date.UTC(2024, 0, 2)) })).toBe(
      '{"b":[null,null],"c":"2024-01-02T00:00:00.000Z"}',
    );
    expect(canonicalJson('quote " backslash \\ newline \n 😀')).toBe(
      JSON.stringify('quote " backslash \\ newline \n 😀'),
    );
  });

  it.each([
    ["NaN", { a: Number.NaN }, /non-finite number at \$\.a/],
    ["Infinity", [1, Number.POSITIVE_INFINITY], /non-finite number at \$\[1\]/],
    ["-Infinity", Number.NEGATIVE_INFINITY, /non-finite/],
    ["bigint", { n: 1n }, /bigint/],
    ["NUL", { s: "a\u0000b" }, /NUL or lone surrogate/],
    ["lone surrogate", ["\ud800"], /NUL or lone surrogate/],
    ["lone surrogate in a key", { "\udc00": 1 }, /NUL or lone surrogate/],
    ["undefined at the top", undefined, /not JSON/],
  ])("refuses %s", (_name, value, message) => {
    expect(() => canonicalJson(value)).toThrow(message);
  });

  it("refuses cycles but not shared references", () => {
    const shared = { x: 1 };
    expect(canonicalJson({ a: shared, b: shared })).toBe('{"a":{"x":1},"b":{"x":1}}');
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(() => canonicalJson(cyclic)).toThrow(/cycle/);
  });
});

describe("chainHash", () => {
  const record: ChainFields = {
    seq: 1,
    event_id: "e-1",
    type: "decision.access",
    occurred_at: new Date(Date.UTC(2024, 4, 6, 7, 8, 9, 123)),
    tenant_id: "t",
    learner_id: null,
    actor: "svc",
    request_id: "r",
    bundle_revision: "rev",
    policy_id: null,
    policy_version: null,
    payload: { z: 1, a: [true, null] },
  };

  it("is sha256 of prev_hash followed by the canonical record", () => {
    const canonical =
      '{"actor":"svc","bundle_revision":"rev","event_id":"e-1","learner_id":null,' +
      '"occurred_at":"2024-05-06T07:08:09.123Z","payload":{"a":[true,null],"z":1},"policy_id":null,' +
      '"policy_version":null,"request_id":"r","seq":1,"tenant_id":"t","type":"decision.access"}';
    const expected = createHash("sha256")
      .update(GENESIS_HASH + canonical)
      .digest("hex");
    expect(GENESIS_HASH).toBe("0".repeat(64));
    expect(chainHash(GENESIS_HASH, record)).toBe(expected);
  });

  it("writes the record in the same form as the generic canonical JSON", () => {
    const variants: ChainFields[] = [
      record,
      {
        ...record,
        tenant_id: null,
        actor: 'a "quoted", é 😀',
        policy_id: "p",
        policy_version: -2,
        seq: 2 ** 40,
      },
      { ...record, payload: "text", type: "policy.created", request_id: null, bundle_revision: null },
    ];
    for (const variant of variants) {
      const document = { ...variant, occurred_at: new Date(variant.occurred_at).toISOString() };
      expect(canonicalRecordJson(variant, canonicalJson(variant.payload))).toBe(canonicalJson(document));
    }
    expect(() => canonicalRecordJson({ ...record, actor: "nul\u0000" }, "{}")).toThrow(/NUL/);
  });

  it("does not depend on how the record is held", () => {
    const hash = chainHash(GENESIS_HASH, record);
    expect(chainHash(GENESIS_HASH, { ...record, occurred_at: "2024-05-06T07:08:09.123Z" })).toBe(hash);
    expect(chainHash(GENESIS_HASH, { ...record, occurred_at: "2024-05-06T09:08:09.123+02:00" })).toBe(hash);
    expect(chainHash(GENESIS_HASH, { ...record, payload: { a: [true, null], z: 1 } })).toBe(hash);
    expect(chainHash(GENESIS_HASH, { ...record, learner_id: undefined as unknown as null })).toBe(hash);
    expect(chainHashPreSerialized(GENESIS_HASH, record, canonicalJson(record.payload))).toBe(hash);
  });

  it("changes with any field and with the previous hash", () => {
    const hash = chainHash(GENESIS_HASH, record);
    expect(chainHash("1".repeat(64), record)).not.toBe(hash);
    expect(chainHash(GENESIS_HASH, { ...record, seq: 2 })).not.toBe(hash);
    expect(chainHash(GENESIS_HASH, { ...record, policy_version: 1 })).not.toBe(hash);
    expect(
      chainHash(GENESIS_HASH, { ...record, occurred_at: new Date(Date.UTC(2024, 4, 6, 7, 8, 9, 124)) }),
    ).not.toBe(hash);
    expect(chainHash(GENESIS_HASH, { ...record, payload: { z: 1, a: [true] } })).not.toBe(hash);
  });
});

describe.each(testBackends())("hashes survive the round trip through $name", (backend) => {
  let db: TestDb;
  beforeAll(async () => {
    db = await backend.create();
  });
  afterAll(() => db.close());

  it("recomputes the stored hash from the row read back (jsonb reorders, timestamptz is a Date)", async () => {
    const log = createAuditLog({ db });
    const awkward = {
      zeta: { "b-key": [3, 2, 1], a: { longer_key: "x", k: "y" } },
      numbers: [1e21, 1e-7, 0.1 + 0.2, -0, 2 ** 53 + 2, 123456789.12345679, 5e-324, 1.7976931348623157e308],
      text: ["é", "😀", "\u2028", "tab\t", 'q"uote', "\\"],
      empty: [{}, [], ""],
      flags: [true, false, null],
      when: new Date(Date.UTC(2030, 0, 1)),
    };
    const events = [
      decisionEvent({ payload: awkward, occurred_at: new Date(Date.UTC(2024, 1, 29, 23, 59, 59, 999)) }),
      decisionEvent({ payload: "just a string", tenant_id: null, learner_id: null, policy_version: null }),
      decisionEvent({ payload: [1, { b: 2, a: 1 }], policy_version: -7 }),
      decisionEvent({ payload: null, actor: "", policy_id: null }),
    ];
    const appended = await Promise.all(events.map((event) => log.append(event)));
    await log.close();

    const { rows } = await db.query<AuditRow>(`SELECT ${AUDIT_COLUMNS} FROM audit_log ORDER BY seq`);
    expect(rows).toHaveLength(4);
    let prev = GENESIS_HASH;
    for (const [i, row] of rows.entries()) {
      expect(row.occurred_at).toBeInstanceOf(Date);
      expect(row.prev_hash).toBe(prev);
      expect(chainHash(row.prev_hash, { ...row, seq: Number(row.seq) })).toBe(row.hash);
      expect(row.hash).toBe(appended[i]?.hash);
      prev = row.hash;
    }
  });
});
