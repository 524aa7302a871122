import { readFileSync } from "node:fs";
import { beforeAll, describe, expect, it } from "vitest";
import { seededRandom } from "../../scripts/lib/seeded-random.ts";
import { BundleError } from "../../src/bundles/bundle-error.ts";
import { type LoadedBundle, loadBundle } from "../../src/bundles/candidate.ts";
import { readTarGz, writeTarGz } from "../../src/bundles/tar.ts";
import type { AccessResult, Entrypoint } from "../../src/domain/policy-contract.ts";
import { inputKey } from "../../src/engine/input-json.ts";

// Reusing a decision must never change an answer: every golden case answers the same from the
// memo as from a fresh evaluation, the reuse ends exactly where the bundle's time window does, and
// only what the rules read (not resource identifiers, not the clock inside the window) tells two
// inputs apart.

type GoldenCase = { name: string; entrypoint: Entrypoint; input: Record<string, unknown> };
const cases = (JSON.parse(readFileSync("golden/data.json", "utf8")) as { golden: { cases: GoldenCase[] } })
  .golden.cases;
const bytes = readFileSync("bundles/residency.tar.gz");
const realistic = cases.find((c) => c.name === "bench_realistic")!.input as {
  now_ms: number;
  policy: Record<string, unknown>;
  request: Record<string, unknown>;
  overrides: Array<{ expires_at_ms: number; target_region: string }>;
};

const breakGlass = {
  ...realistic,
  request: { ...realistic.request, requested_region: "apac-east", operation_type: "replicate" },
};
const expiry = realistic.overrides[0]!.expires_at_ms;

describe("decision memo", () => {
  let fresh: LoadedBundle;
  beforeAll(async () => {
    fresh = await loadBundle(bytes);
  });

  it("answers every golden case exactly as a fresh evaluation, on a miss and on the hit after it", async () => {
    const memoised = await loadBundle(bytes, { memoEntries: 1_000 });
    const reusable = cases.filter((c) => c.entrypoint !== "residency/validate");
    for (const c of reusable) {
      const want = fresh.evaluate(c.entrypoint, c.input);
      expect(memoised.evaluate(c.entrypoint, c.input), `${c.name} (miss)`).toEqual(want);
      expect(memoised.evaluate(c.entrypoint, c.input), `${c.name} (hit)`).toEqual(want);
    }
    const stats = memoised.memoStats();
    const hits = (stats["residency/decision"]?.hits ?? 0) + (stats["inference/route"]?.hits ?? 0);
    expect(hits).toBeGreaterThanOrEqual(reusable.length);
  });

  it("reuses a break-glass allow until the override expires, and not one millisecond longer", async () => {
    const seen: boolean[] = [];
    const memoised = await loadBundle(bytes, {
      memoEntries: 100,
      onMemo: (_entrypoint, hit) => seen.push(hit),
    });
    const at = (now: number) =>
      memoised.evaluate<AccessResult>("residency/decision", { ...breakGlass, now_ms: now }).reason.code;

    expect(at(realistic.now_ms)).toBe("ALLOW_BREAK_GLASS");
    expect(at(expiry - 1)).toBe("ALLOW_BREAK_GLASS");
    expect(at(expiry)).toBe("DENY_NOT_IN_TENANT_ALLOWED");
    expect(at(expiry + 60_000)).toBe("DENY_NOT_IN_TENANT_ALLOWED");
    expect(at(expiry - 1)).toBe("ALLOW_BREAK_GLASS"); // a clock set back leaves the window too
    expect(seen).toEqual([false, true, false, true, false]);
    for (const now of [realistic.now_ms, expiry - 1, expiry, expiry + 60_000]) {
      const want = fresh.evaluate<AccessResult>("residency/decision", { ...breakGlass, now_ms: now });
      expect(memoised.evaluate("residency/decision", { ...breakGlass, now_ms: now })).toEqual(want);
    }
  });

  it("tells inputs apart by what the rules read: not resource ids or learner ids, but purpose and region", async () => {
    const memoised = await loadBundle(bytes, { memoEntries: 100 });
    const decide = (request: Record<string, unknown>, policy: Record<string, unknown> = {}) =>
      memoised.evaluate("residency/decision", {
        ...realistic,
        policy: { ...realistic.policy, ...policy },
        request: { ...realistic.request, ...request },
      });

    decide({});
    decide({ resource_id: "another-essay", resource_type: "image" });
    // Another learner under the same effective policy: the rules cannot tell them apart.
    decide({ learner_id: "learner-7" }, { learner_id: "learner-7", emergency_contact: "x@y.example" });
    expect(memoised.memoStats()["residency/decision"]).toMatchObject({ hits: 2, misses: 1, size: 1 });
    decide({ purpose: "analytics" });
    decide({ requested_region: "eu-west" });
    decide({ learner_id: "learner-8" }, { learner_id: "learner-8", learner_age: 12 }); // a policy that reads differently
    expect(memoised.memoStats()["residency/decision"]).toMatchObject({ hits: 2, misses: 4, size: 4 });
    expect(fresh.declared?.get("request")).toEqual(
      new Set([
        "data_locations",
        "learner_id",
        "model_type",
        "operation_type",
        "override_id",
        "purpose",
        "requested_region",
        "tenant_id",
      ]),
    );
    expect(fresh.declared?.get("policy")?.has("learner_id")).toBe(false);
    expect(fresh.declared?.get("policy")?.has("primary_region")).toBe(true);
  });

  it("keeps an answer to its learner while an override scoped to learners is in play", async () => {
    const seen: boolean[] = [];
    const memoised = await loadBundle(bytes, { memoEntries: 100, onMemo: (_e, hit) => seen.push(hit) });
    const scoped = [{ ...realistic.overrides[0]!, learner_ids: ["learner-0042"] }];
    const decide = (learner: string) =>
      memoised.evaluate<AccessResult>("residency/decision", {
        ...breakGlass,
        overrides: scoped,
        policy: { ...realistic.policy, learner_id: learner },
        request: { ...breakGlass.request, learner_id: learner },
      }).reason.code;
    expect(decide("learner-0042")).toBe("ALLOW_BREAK_GLASS");
    expect(decide("learner-0043")).toBe("DENY_NOT_IN_TENANT_ALLOWED");
    expect(decide("learner-0042")).toBe("ALLOW_BREAK_GLASS");
    expect(decide("learner-0043")).toBe("DENY_NOT_IN_TENANT_ALLOWED");
    expect(seen).toEqual([false, false, true, true]);
  });

  it("keeps the most recently used entries within its capacity", async () => {
    const memoised = await loadBundle(bytes, { memoEntries: 2 });
    const decide = (purpose: string) =>
      memoised.evaluate("residency/decision", { ...realistic, request: { ...realistic.request, purpose } });
    decide("a");
    decide("b");
    decide("a"); // hit: a is now the most recent
    decide("c"); // evicts b
    decide("a"); // hit
    decide("b"); // miss
    expect(memoised.memoStats()["residency/decision"]).toMatchObject({
      hits: 2,
      misses: 4,
      size: 2,
      capacity: 2,
    });
  });

  it("holds one answer once however many inputs share it, and lets it go with the last of them", async () => {
    const memoised = await loadBundle(bytes, { memoEntries: 40 });
    const decide = (purpose: string, operation = "read") =>
      memoised.evaluate<AccessResult>("residency/decision", {
        ...realistic,
        request: { ...realistic.request, purpose, operation_type: operation },
      });
    const answers = Array.from({ length: 30 }, (_, k) => decide(`purpose-${k}`));
    expect(new Set(answers).size).toBe(1); // thirty inputs, one shared (frozen) answer
    expect(answers[0]).toEqual(fresh.evaluate("residency/decision", realistic));
    expect(memoised.memoStats()["residency/decision"]).toMatchObject({ size: 30, answers: 1 });
    // Twenty erasures answer differently and push ten readers out.
    for (let k = 30; k < 50; k++) decide(`purpose-${k}`, "delete");
    expect(memoised.memoStats()["residency/decision"]).toMatchObject({ size: 40, answers: 2 });
    for (let k = 50; k < 90; k++) decide(`purpose-${k}`, "delete"); // every reader gone: its answer too
    expect(memoised.memoStats()["residency/decision"]).toMatchObject({ size: 40, answers: 1 });
    expect(decide("purpose-0")).toEqual(answers[0]); // evaluated again, same answer
  });

  it("never answers differently from a fresh evaluation over a random stream of inputs", async () => {
    const memoised = await loadBundle(bytes, { memoEntries: 64 }); // small: evictions happen too
    const random = seededRandom(7);
    const one = <T>(options: readonly T[]): T => options[Math.floor(random() * options.length)]!;
    const override = realistic.overrides[0]!;
    for (let i = 0; i < 1_500; i++) {
      const learner = one(["learner-1", "learner-2", "learner-3"]);
      const input = {
        ...realistic,
        now_ms: expiry + one([-60_000, -1, 0, 1, 60_000]),
        policy: { ...realistic.policy, learner_id: learner, learner_age: one([9, 16, null]) },
        overrides: one([
          [],
          [override],
          [{ ...override, learner_ids: ["learner-2"] }],
          [
            { ...override, expires_at_ms: expiry + 1 },
            { ...override, override_id: "ovr_b" },
          ],
        ]),
        request: {
          ...realistic.request,
          learner_id: learner,
          resource_id: `doc-${i}`,
          operation_type: one(["read", "replicate", "delete"]),
          requested_region: one(["apac-east", "eu-central", undefined]),
          override_id: one([undefined, "ovr_7f3a", "ovr_b"]),
        },
      };
      expect(memoised.evaluate("residency/decision", input), `call ${i}`).toEqual(
        fresh.evaluate("residency/decision", input),
      );
    }
    expect(memoised.memoStats()["residency/decision"]?.hits).toBeGreaterThan(100);
  });

  it("tells an absent learner from a null one, as the rules do", async () => {
    const memoised = await loadBundle(bytes, { memoEntries: 100 });
    const scoped = [{ ...realistic.overrides[0]!, learner_ids: [null] }];
    const withLearner = {
      ...breakGlass,
      overrides: scoped,
      request: { ...breakGlass.request, learner_id: null },
    };
    const { learner_id: _absent, ...request } = withLearner.request;
    const withoutLearner = { ...withLearner, request };
    for (const input of [withLearner, withoutLearner, withLearner]) {
      expect(memoised.evaluate("residency/decision", input)).toEqual(
        fresh.evaluate("residency/decision", input),
      );
    }
    expect(
      (fresh.evaluate<AccessResult>("residency/decision", withoutLearner) as AccessResult).reason.code,
    ).not.toBe(fresh.evaluate<AccessResult>("residency/decision", withLearner).reason.code);
    // A learner inherited through the prototype is not in the JSON the wasm reads: no learner.
    const inherited = {
      ...withLearner,
      request: Object.assign(Object.create({ learner_id: null }), request),
    };
    for (const input of [inherited, withLearner, inherited]) {
      expect(memoised.evaluate("residency/decision", input)).toEqual(
        fresh.evaluate("residency/decision", input),
      );
    }
  });

  it("keeps an answer interned while its own slots are rewritten, and keys short whatever the input's size", async () => {
    const memoised = await loadBundle(bytes, { memoEntries: 3 });
    const scoped = [{ ...realistic.overrides[0]!, learner_ids: ["learner-0042"] }];
    const ask = (purpose: string, learner = "learner-0042") =>
      memoised.evaluate("residency/decision", {
        ...breakGlass,
        overrides: scoped,
        request: { ...breakGlass.request, purpose, learner_id: learner },
      });
    const first = ask("a"); // per learner: a marker for the key, and the learner's slot
    ask("a", "learner-7"); // the marker is used again; the oldest slot is now 0042's
    // Same answer as the first, new key: storing its marker evicts the first answer's only slot.
    expect(ask("b")).toBe(first);
    expect(memoised.memoStats()["residency/decision"]).toMatchObject({ size: 3, answers: 2 });
    expect(ask("c")).toBe(first); // still interned: one object however many keys

    const many = Array.from({ length: 200 }, (_, i) => ({
      ...realistic.overrides[0]!,
      override_id: `ovr-${i}`,
    }));
    const big = { ...realistic, overrides: many };
    expect(JSON.stringify(big).length).toBeGreaterThan(40_000);
    expect(inputKey(big, fresh.declared).length).toBeLessThan(100);
    const large = await loadBundle(bytes, { memoEntries: 10 });
    large.evaluate("residency/decision", big);
    expect(large.evaluate("residency/decision", big)).toEqual(fresh.evaluate("residency/decision", big));
    expect(large.memoStats()["residency/decision"]).toMatchObject({ hits: 1, misses: 1 });
  });

  it("leaves the memo alone for fresh evaluations (dry runs, self-checks)", async () => {
    const memoised = await loadBundle(bytes, { memoEntries: 10 });
    memoised.evaluate("residency/decision", realistic, { fresh: true });
    memoised.evaluate("residency/decision", realistic, { fresh: true });
    expect(memoised.memoStats()["residency/decision"]).toMatchObject({ hits: 0, misses: 0, size: 0 });
  });

  it("shares answers frozen, so no caller can change another's decision", async () => {
    const memoised = await loadBundle(bytes, { memoEntries: 10 });
    const first = memoised.evaluate<AccessResult>("residency/decision", realistic);
    expect(() => first.legal_regions.push("us-west")).toThrow(TypeError);
    expect(() => {
      (first.reason as { code: string }).code = "ALLOW_PRIMARY";
    }).toThrow(TypeError);
    expect(memoised.evaluate("residency/decision", realistic)).toEqual(
      fresh.evaluate("residency/decision", realistic),
    );
  });

  it("evaluates every time when off, and never reuses validation or clockless inputs", async () => {
    expect(fresh.memoStats()).toEqual({});
    const memoised = await loadBundle(bytes, { memoEntries: 10 });
    const { now_ms: _clock, ...clockless } = realistic;
    memoised.evaluate("residency/decision", clockless);
    memoised.evaluate("residency/decision", clockless);
    expect(memoised.memoStats()["residency/decision"]).toMatchObject({ hits: 0, misses: 0, size: 0 });
    expect(memoised.memoStats()["residency/validate"]).toBeUndefined();
    // A clock inherited through the prototype is not in the JSON the wasm reads: not reusable.
    const inherited = Object.assign(Object.create({ now_ms: realistic.now_ms }), clockless);
    memoised.evaluate("residency/decision", inherited);
    expect(memoised.memoStats()["residency/decision"]).toMatchObject({ hits: 0, misses: 0, size: 0 });
  });

  it("refuses a bundle whose field contract is not lists of names", async () => {
    const files = await readTarGz(bytes);
    const data = JSON.parse(files.get("data.json")!.toString("utf8")) as Record<string, unknown>;
    files.set(
      "data.json",
      Buffer.from(JSON.stringify({ ...data, contract: { fields: { request: "all" } } })),
    );
    const rejection = await loadBundle(await writeTarGz(files)).catch((err: unknown) => err);
    expect(rejection).toBeInstanceOf(BundleError);
    expect((rejection as BundleError).code).toBe("BUNDLE_DATA_INVALID");
  });
});
