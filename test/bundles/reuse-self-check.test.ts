import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { BundleError } from "../../src/bundles/bundle-error.ts";
import { prepareBundle } from "../../src/bundles/candidate.ts";
import { buildBundle, FILE_BUNDLE } from "./support.ts";

// The decision memo trusts the `reuse` a bundle publishes. A bundle whose rules claim more than
// they keep — a window past an override's expiry, or one answer for every learner while an
// override is scoped to learners — is refused by the self-check before it can serve.

const overridesFile = (rego: string) => join(rego, "residency/overrides/overrides.rego");
const rewrite = (rego: string, from: string, to: string) => {
  const text = readFileSync(overridesFile(rego), "utf8");
  if (!text.includes(from)) throw new Error(`overrides.rego no longer contains ${from}`);
  writeFileSync(overridesFile(rego), text.replace(from, to));
};

describe("self-check of the reuse a bundle publishes", () => {
  const prepare = (bytes: Buffer) => prepareBundle(bytes, { memoEntries: 100 });

  it("accepts the committed bundle", async () => {
    await expect(prepare(readFileSync(FILE_BUNDLE))).resolves.toBeTruthy();
  });

  it.each([
    [
      "a window that never ends",
      "rev-reuse-endless",
      (rego: string) => rewrite(rego, '"until_ms": _window_until,', '"until_ms": null,'),
    ],
    [
      "a window that began before the override expired",
      "rev-reuse-no-start",
      (rego: string) => rewrite(rego, '"from_ms": _window_from,', '"from_ms": null,'),
    ],
    [
      "an inference answer that names the learner while claiming every learner's",
      "rev-reuse-inference-learner",
      (rego: string) => {
        const route = join(rego, "inference/route/route.rego");
        writeFileSync(route, `${readFileSync(route, "utf8")}\nlearner_echo := input.request.learner_id\n`);
      },
    ],
    [
      "one answer for every learner",
      "rev-reuse-any-learner",
      (rego: string) => rewrite(rego, '"per_learner": _per_learner}', '"per_learner": false}'),
    ],
  ])("refuses %s", async (_name, revision, edit) => {
    const rejection = await prepare(buildBundle(revision, { edit })).catch((e: unknown) => e);
    expect(rejection).toBeInstanceOf(BundleError);
    expect((rejection as BundleError).code).toBe("BUNDLE_SELF_CHECK_FAILED");
    expect((rejection as BundleError).message).toContain("reuse, when published, holds");
  });
});
