import { describe, expect, it } from "vitest";
import { jsonReusingMembers, seal } from "../../src/domain/sealed.ts";

// The HTTP writer prints a decision with jsonReusingMembers: its text must be exactly what
// JSON.stringify prints, whatever the answer holds, or clients would read a different answer.

describe("jsonReusingMembers", () => {
  const reason = seal({ code: "ALLOW_PERMITTED_REGION", decided_by: "tenant_policy", framework: null });
  const regions = seal(["eu-central", "eu-west"]);

  const bodies: Array<[string, unknown]> = [
    [
      "a decision around sealed parts",
      { decision_id: "d-1", allowed: true, reason, legal_regions: regions, infrastructure: null },
    ],
    ["members JSON drops", { a: undefined, b: () => 1, c: Symbol("x"), d: 1 }],
    ["only dropped members", { a: undefined }],
    ["an empty object", {}],
    ["integer-like and quoted names", { "2": "two", "1": "one", 'say "hi"\n': reason }],
    ["a date and a nested toJSON", { at: new Date(0), nested: { toJSON: () => "custom" } }],
    ["an object with its own toJSON", { toJSON: () => ({ replaced: true }), hidden: 1 }],
    ["a null-prototype object", Object.assign(Object.create(null), { x: regions, y: [1, "2"] })],
    ["an array", [reason, regions, { z: undefined }]],
    ["a sealed object itself", reason],
    ["a string and a number", "text"],
    ["null", null],
    [
      "an error envelope",
      { error: { code: "VALIDATION_FAILED", message: "m", details: null, request_id: "r" } },
    ],
  ];

  it.each(bodies)("prints %s exactly as JSON.stringify does", (_name, body) => {
    expect(jsonReusingMembers(body)).toBe(JSON.stringify(body));
  });

  it("prints the same text the second time a sealed member is met (from memory)", () => {
    const first = jsonReusingMembers({ id: "1", reason });
    const second = jsonReusingMembers({ id: "2", reason });
    expect(first).toBe(JSON.stringify({ id: "1", reason }));
    expect(second).toBe(JSON.stringify({ id: "2", reason }));
  });

  it("leaves undefined undefined, as JSON.stringify does", () => {
    expect(jsonReusingMembers(undefined)).toBeUndefined();
  });
});
