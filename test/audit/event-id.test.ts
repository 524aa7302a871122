import { describe, expect, it } from "vitest";
import { newEventId } from "../../src/audit/event-id.ts";
import { msOfEventId, UUID_V7 } from "../support/event-ids.ts";

// Event ids (and so decision ids) are RFC 9562 version 7 UUIDs: time first, so the event_id index
// of audit_log grows at its end instead of dirtying a random page per record.

describe("audit event ids", () => {
  it("are version 7 UUIDs carrying the millisecond they were made in", () => {
    const before = Date.now();
    const id = newEventId();
    const after = Date.now();
    expect(id).toMatch(UUID_V7);
    expect(msOfEventId(id)).toBeGreaterThanOrEqual(before);
    expect(msOfEventId(id)).toBeLessThanOrEqual(after);
    expect(msOfEventId(newEventId(Date.UTC(2026, 11, 2, 10, 0, 0, 123)))).toBe(
      Date.UTC(2026, 11, 2, 10, 0, 0, 123),
    );
  });

  it("sort as text in the order of their milliseconds", () => {
    const times = [0, 1, 255, 256, 4095, 4096, 1_700_000_000_000, 1_800_000_000_001, 2 ** 48 - 1];
    const ids = times.map((ms) => newEventId(ms));
    expect([...ids].sort()).toEqual(ids);
    expect(ids.map(msOfEventId)).toEqual(times);
  });

  it("differ within one millisecond (74 random bits each)", () => {
    const ms = Date.now();
    const ids = Array.from({ length: 10_000 }, () => newEventId(ms));
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.every((id) => UUID_V7.test(id) && msOfEventId(id) === ms)).toBe(true);
  });

  it("refuse a time that does not fit in 48 bits of whole milliseconds", () => {
    for (const bad of [-1, 1.5, Number.NaN, 2 ** 48, Number.POSITIVE_INFINITY])
      expect(() => newEventId(bad)).toThrow(RangeError);
    expect(newEventId(2 ** 48 - 1).slice(0, 13)).toBe("ffffffff-ffff");
  });
});
