import { selfCheck } from "../bundles/self-check.ts";
import { toError } from "../errors.ts";
import {
  BundleError,
  type LoadedBundle,
  type LoadOptions,
  loadBundle,
  type VerifyFiles,
} from "./evaluator.ts";

export type BundleSource = "file" | "api" | "cluster" | "rollback" | "startup";

export type EngineEvents = {
  onActivated?: (bundle: LoadedBundle, source: BundleSource, previous: LoadedBundle | null) => void;
  onRejected?: (error: BundleError, source: BundleSource, sha256: string | null) => void;
};

export type PolicyEngine = {
  /** The serving bundle, or null before the first activation. Read it once per decision. */
  current(): LoadedBundle | null;
  /** Loads, verifies and self-checks a candidate; swaps only if all pass. */
  activate(bytes: Buffer, source: BundleSource): Promise<LoadedBundle>;
  /** Loads and self-checks without swapping (dry runs). */
  prepare(bytes: Buffer): Promise<LoadedBundle>;
};

export function createPolicyEngine(
  options: {
    verify?: VerifyFiles;
    events?: EngineEvents;
    /** How every candidate loads (decision memo). */
    load?: Omit<LoadOptions, "verify">;
  } = {},
): PolicyEngine {
  let active: LoadedBundle | null = null;
  // Activations run one at a time so two sources racing cannot interleave their swaps.
  let queue: Promise<unknown> = Promise.resolve();

  async function prepare(bytes: Buffer): Promise<LoadedBundle> {
    const candidate = await loadBundle(bytes, {
      ...options.load,
      ...(options.verify ? { verify: options.verify } : {}),
    });
    const failures = selfCheck(candidate);
    if (failures.length > 0) {
      throw new BundleError("BUNDLE_SELF_CHECK_FAILED", `self-check failed: ${failures.join("; ")}`);
    }
    return candidate;
  }

  function activate(bytes: Buffer, source: BundleSource): Promise<LoadedBundle> {
    const run = async () => {
      try {
        const candidate = await prepare(bytes);
        const previous = active;
        active = candidate; // the one atomic swap: decisions read `active` once each
        options.events?.onActivated?.(candidate, source, previous);
        return candidate;
      } catch (err) {
        const error =
          err instanceof BundleError
            ? err
            : new BundleError("BUNDLE_WASM_INVALID", toError(err).message, { cause: err });
        options.events?.onRejected?.(error, source, null);
        throw error;
      }
    };
    const next = queue.then(run, run);
    queue = next.catch(() => undefined);
    return next;
  }

  return { current: () => active, activate, prepare };
}
