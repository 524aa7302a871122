import { ENTRYPOINTS, type Entrypoint, type ReferenceData } from "../domain/policy-contract.ts";
import { REGION_CODES } from "../domain/vocabulary.ts";
import {
  type DeclaredFields,
  type Evaluator,
  type InstantiateOptions,
  instantiate,
} from "../engine/index.ts";
import { toError } from "../errors.ts";
import { BundleError } from "./bundle-error.ts";
import { type Manifest, readManifest, sha256Hex, wasmModule } from "./bundle-facts.ts";
import { catalogIssues } from "./catalog-shape.ts";
import { selfCheck } from "./self-check.ts";
import type { VerifyFiles } from "./signature.ts";
import { ArchiveLimitError, readTarGz, type TarFiles } from "./tar.ts";

export type { VerifyFiles };

// A candidate bundle, prepared once: tar → manifest → (signature) → entrypoints → data checks →
// one wasm instance (engine/) → self-check. What comes out is what the engine activates, as is;
// nothing is parsed, verified or instantiated a second time.

/** A bundle that parsed and instantiated: ready to self-check, or (prepared) to serve. */
export type LoadedBundle = Evaluator & {
  revision: string;
  sha256: string;
  bytes: Buffer;
  manifest: Manifest;
  files: TarFiles;
  reference: ReferenceData;
  loadedAt: Date;
  /** The fields of each input part the rules read (`data.contract.fields`); null: all are passed. */
  declared: DeclaredFields | null;
};

export type LoadOptions = Omit<InstantiateOptions, "declared" | "onEvaluation"> & {
  verify?: VerifyFiles;
  /** Every wasm evaluation (not memo hits) of this bundle: duration, stopped at the limit, which bundle. */
  onEvaluation?: (entrypoint: Entrypoint, ms: number, timedOut: boolean, sha256: string) => void;
  /** Called once per wasm instance created: the proof that a bundle is loaded once per activation. */
  onInstantiated?: (revision: string, sha256: string) => void;
  /**
   * Skip the catalog shape check (SPEC §11.A6). Only for tests of the Rego's own fail-closed
   * reading, which must load a catalog the host refuses: a malformed entry that got past the host
   * must still deny.
   */
  uncheckedCatalog?: boolean;
};

/** Parses, verifies and instantiates a bundle. Throws BundleError. */
export async function loadBundle(bytes: Buffer, options: LoadOptions = {}): Promise<LoadedBundle> {
  let files: TarFiles;
  try {
    files = await readTarGz(bytes);
  } catch (err) {
    const code = err instanceof ArchiveLimitError ? "BUNDLE_TOO_LARGE" : "BUNDLE_CORRUPT";
    throw new BundleError(code, toError(err).message, { cause: err });
  }
  const manifest = readManifest(files);
  if (options.verify) await options.verify(files);
  const wasm = wasmModule(files, manifest);

  let data: unknown;
  try {
    data = JSON.parse((files.get("data.json") ?? Buffer.from("{}")).toString("utf8"));
  } catch (err) {
    throw new BundleError("BUNDLE_DATA_INVALID", "data.json is not JSON", { cause: err });
  }
  const reference = checkReference(data);
  const issues = options.uncheckedCatalog ? [] : catalogIssues(reference);
  if (issues.length > 0) {
    throw new BundleError(
      "CATALOG_INVALID",
      `the provider catalog or bundle data breaks its shape: ${issues
        .slice(0, 5)
        .map((i) => `${i.index === null ? "" : `entry ${i.index} `}${i.field}: ${i.message}`)
        .join("; ")}${issues.length > 5 ? ` and ${issues.length - 5} more` : ""}`,
      { details: issues },
    );
  }
  const declared = checkContract(data);

  const sha256 = sha256Hex(bytes);
  let evaluator: Evaluator;
  try {
    const {
      verify: _verify,
      onInstantiated: _onInstantiated,
      uncheckedCatalog: _unchecked,
      onEvaluation,
      ...instance
    } = options;
    evaluator = await instantiate(wasm, data as object, {
      ...instance,
      declared,
      ...(onEvaluation
        ? { onEvaluation: (entrypoint, ms, timedOut) => onEvaluation(entrypoint, ms, timedOut, sha256) }
        : {}),
    });
  } catch (err) {
    throw new BundleError("BUNDLE_WASM_INVALID", `wasm failed to load: ${toError(err).message}`, {
      cause: err,
    });
  }
  options.onInstantiated?.(manifest.revision, sha256);
  const notCompiled = ENTRYPOINTS.filter((e) => !evaluator.entrypoints.includes(e));
  if (notCompiled.length > 0) {
    throw new BundleError("BUNDLE_ENTRYPOINT_MISSING", `wasm lacks entrypoint(s): ${notCompiled.join(", ")}`);
  }

  return {
    ...evaluator,
    revision: manifest.revision,
    sha256,
    bytes,
    manifest,
    files,
    reference,
    loadedAt: new Date(),
    declared,
  };
}

/** Loads a candidate and self-checks it: what passes may be activated as it is. Throws BundleError. */
export async function prepareBundle(bytes: Buffer, options: LoadOptions = {}): Promise<LoadedBundle> {
  const candidate = await loadBundle(bytes, options);
  const failures = selfCheck(candidate);
  if (failures.length > 0) {
    throw new BundleError("BUNDLE_SELF_CHECK_FAILED", `self-check failed: ${failures.join("; ")}`);
  }
  return candidate;
}

/** `data.contract.fields` (part → field names): null when the bundle declares none (all pass). */
function checkContract(data: unknown): DeclaredFields | null {
  const fields = (data as { contract?: { fields?: unknown } } | null)?.contract?.fields;
  if (fields === undefined) return null;
  const names = (v: unknown): v is string[] => Array.isArray(v) && v.every((f) => typeof f === "string");
  if (fields === null || typeof fields !== "object" || !Object.values(fields).every(names)) {
    throw new BundleError("BUNDLE_DATA_INVALID", "data.contract.fields is not a map of part to field names");
  }
  return new Map(
    Object.entries(fields as Record<string, string[]>).map(([part, list]) => [part, new Set(list)]),
  );
}

function checkReference(data: unknown): ReferenceData {
  const ref = (data as { reference?: Partial<ReferenceData> } | null)?.reference;
  const regions = ref?.regions;
  const catalog = ref?.providers?.catalog;
  if (!regions || typeof regions !== "object" || !Array.isArray(catalog)) {
    throw new BundleError(
      "BUNDLE_DATA_INVALID",
      "bundle data lacks reference.regions or reference.providers.catalog",
    );
  }
  const codes = Object.keys(regions).sort();
  if (codes.join() !== [...REGION_CODES].sort().join()) {
    throw new BundleError(
      "BUNDLE_DATA_INVALID",
      `bundle regions ${codes.join(",")} differ from the service's`,
    );
  }
  return ref as ReferenceData;
}
