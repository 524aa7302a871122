import { createHash } from "node:crypto";
import canonicalize from "canonicalize";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { canonicalJson, canonicalJsonReusing, GENESIS_HASH } from "../../src/audit/canonical.ts";
import { exportAuditLogs } from "../../src/audit/export.ts";
import { seal } from "../../src/domain/sealed.ts";
import { type TestDb, testBackends } from "../support/databases.ts";
import { appendAll, decisionEvent } from "./fixtures.ts";

// canonicalJson is RFC 8785, the JSON Canonicalization Scheme (JCS), for every value it accepts:
// the RFC's own examples come out byte for byte, it agrees with the `canonicalize` package (the
// RFC's reference implementation for JavaScript) on random JSON, and an auditor holding only that
// package and sha256 recomputes the chain from a JSONL export.

const fromHex = (hex: string) => Buffer.from(hex, "hex").readDoubleBE(0);

describe("RFC 8785 test vectors", () => {
  it("§3.2.2: the sample input canonicalises to the RFC's output", () => {
    const input = JSON.parse(
      '{"numbers":[333333333.33333329,1E30,4.50,2e-3,0.000000000000000000000000001],' +
        '"string":"\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/",' +
        '"literals":[null,true,false]}',
    );
    expect(canonicalJson(input)).toBe(
      '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],' +
        '"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}',
    );
  });

  it("§3.2.3: properties sorted by UTF-16 code units", () => {
    const input = {
      "\u20ac": "Euro Sign",
      "\r": "Carriage Return",
      "\ufb33": "Hebrew Letter Dalet With Dagesh",
      "1": "One",
      "\ud83d\ude00": "Emoji: Grinning Face",
      "\u0080": "Control",
      "\u00f6": "Latin Small Letter O With Diaeresis",
    };
    expect(canonicalJson(input)).toBe(
      '{"\\r":"Carriage Return","1":"One","\u0080":"Control","ö":"Latin Small Letter O With Diaeresis",' +
        '"€":"Euro Sign","😀":"Emoji: Grinning Face","\ufb33":"Hebrew Letter Dalet With Dagesh"}',
    );
  });

  // Appendix B: IEEE 754 doubles (hex) and their serialisation.
  it.each([
    ["0000000000000000", "0"],
    ["8000000000000000", "0"],
    ["0000000000000001", "5e-324"],
    ["8000000000000001", "-5e-324"],
    ["7fefffffffffffff", "1.7976931348623157e+308"],
    ["ffefffffffffffff", "-1.7976931348623157e+308"],
    ["4340000000000000", "9007199254740992"],
    ["c340000000000000", "-9007199254740992"],
    ["4430000000000000", "295147905179352830000"],
    ["44b52d02c7e14af5", "9.999999999999997e+22"],
    ["44b52d02c7e14af6", "1e+23"],
    ["44b52d02c7e14af7", "1.0000000000000001e+23"],
    ["444b1ae4d6e2ef4e", "999999999999999700000"],
    ["444b1ae4d6e2ef4f", "999999999999999900000"],
    ["444b1ae4d6e2ef50", "1e+21"],
    ["3eb0c6f7a0b5ed8c", "9.999999999999997e-7"],
    ["3eb0c6f7a0b5ed8d", "0.000001"],
    ["41b3de4355555553", "333333333.3333332"],
    ["41b3de4355555554", "333333333.33333325"],
    ["41b3de4355555555", "333333333.3333333"],
    ["41b3de4355555556", "333333333.3333334"],
    ["41b3de4355555557", "333333333.33333343"],
    ["becbf647612f3696", "-0.0000033333333333333333"],
    ["43143ff3c1cb0959", "1424953923781206.2"],
  ])("Appendix B: %s → %s", (hex, expected) => {
    expect(canonicalJson(fromHex(hex))).toBe(expected);
    expect(canonicalJson({ n: [fromHex(hex)] })).toBe(`{"n":[${expected}]}`);
  });

  it("Appendix B: NaN and Infinity have no JSON form and are refused", () => {
    expect(() => canonicalJson(fromHex("7fffffffffffffff"))).toThrow(/non-finite/);
    expect(() => canonicalJson(fromHex("7ff0000000000000"))).toThrow(/non-finite/);
  });
});

/** JSON values Postgres can store (no NUL, no lone surrogate): what the audit log may hold. */
const storable = (v: unknown): boolean =>
  typeof v === "string"
    ? v.isWellFormed() && !v.includes("\u0000")
    : v !== null && typeof v === "object"
      ? Object.entries(v).every(([k, x]) => storable(k) && storable(x))
      : true;
const jsonValues = fc.jsonValue({ maxDepth: 4, stringUnit: "binary" }).filter(storable);

describe("canonicalJson against the `canonicalize` package", () => {
  it("agrees on random JSON values (any keys, numbers, Unicode)", () => {
    fc.assert(
      fc.property(jsonValues, (value) => {
        expect(canonicalJson(value)).toBe(canonicalize(value));
      }),
      { numRuns: 2_000 },
    );
  });

  it("keeps a member named __proto__ (found by the property above: it was dropped)", () => {
    const value = JSON.parse('{"b":1,"__proto__":false,"a":{"__proto__":{"x":1}}}');
    expect(canonicalJson(value)).toBe('{"__proto__":false,"a":{"__proto__":{"x":1}},"b":1}');
    expect(canonicalJson(value)).toBe(canonicalize(value));
  });

  it("agrees on objects whose keys look like integers (JavaScript orders those first)", () => {
    fc.assert(
      fc.property(
        fc.dictionary(fc.oneof(fc.nat().map(String), fc.string()), fc.jsonValue({ maxDepth: 2 })),
        (o) => {
          expect(canonicalJson(o)).toBe(canonicalize(o));
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe("canonicalJsonReusing (sealed members' text remembered) equals canonicalJson", () => {
  it("on random values whose members are sealed or not, read twice (memo cold, then warm)", () => {
    const member = fc.oneof(
      jsonValues,
      jsonValues.map((v) => seal(structuredClone(v))),
    );
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.oneof(member, fc.dictionary(fc.string(), member))), (o) => {
        const expected = canonicalize(o);
        expect(canonicalJsonReusing(o)).toBe(expected);
        expect(canonicalJsonReusing(o)).toBe(expected);
      }),
      { numRuns: 500 },
    );
  });

  it("on the awkward cases: integer-like keys, undefined members, toJSON, __proto__", () => {
    const cases: unknown[] = [
      { 2: "a", 10: "b", x: seal({ b: 1, a: 2 }) },
      { a: undefined, b: () => 1, c: seal([1, { z: 0, y: null }]) },
      { at: new Date(0), n: { toJSON: () => "x" } },
      { toJSON: () => ({ replaced: true }), a: 1 },
      JSON.parse('{"__proto__":{"b":1,"a":2},"z":1}'),
      seal({ nested: { deeper: { deepest: [1, 2, 3] } } }),
    ];
    for (const value of cases) expect(canonicalJsonReusing(value)).toBe(canonicalJson(value));
  });
});

describe.each(testBackends())("an auditor verifies the chain with off-the-shelf tools ($name)", (backend) => {
  let db: TestDb;
  beforeAll(async () => {
    db = await backend.create();
    await appendAll(db, [
      decisionEvent({
        payload: { request: { operation_type: "read", note: "é 😀 \u2028" }, decision: { n: 1e21 } },
      }),
      decisionEvent({
        learner_id: null,
        policy_version: null,
        payload: { "10": "b", "9": "a", z: [0.1, -0] },
      }),
      ...Array.from({ length: 30 }, () => decisionEvent()),
    ]);
  });
  afterAll(async () => {
    await db?.close();
  });

  it("recomputes every hash of a JSONL export with `canonicalize` and sha256 alone", async () => {
    let jsonl = "";
    for await (const chunk of exportAuditLogs(db, { format: "jsonl" })) jsonl += chunk;
    // What the README tells an auditor to run, verbatim in spirit: no code of this service.
    let prev = GENESIS_HASH;
    let checked = 0;
    for (const line of jsonl.split("\n").filter(Boolean)) {
      const { prev_hash, hash, ...fields } = JSON.parse(line);
      expect(prev_hash).toBe(prev);
      expect(
        createHash("sha256")
          .update(prev_hash + canonicalize(fields))
          .digest("hex"),
      ).toBe(hash);
      prev = hash;
      checked++;
    }
    expect(checked).toBe(32);
  });
});
