import { toError } from "../errors.ts";

/** Why a candidate bundle was refused: one stable code per failure class, and a precise message. */
export type BundleRejection =
  | "BUNDLE_CORRUPT"
  | "BUNDLE_TOO_LARGE"
  | "BUNDLE_MANIFEST_INVALID"
  | "BUNDLE_UNSIGNED"
  | "BUNDLE_SIGNATURE_INVALID"
  | "BUNDLE_ENTRYPOINT_MISSING"
  | "BUNDLE_WASM_INVALID"
  | "BUNDLE_DATA_INVALID"
  | "BUNDLE_SELF_CHECK_FAILED"
  | "BUNDLE_BUDGET_EXCEEDED"
  | "CATALOG_INVALID";

export class BundleError extends Error {
  readonly code: BundleRejection;
  /** Structured detail for the refusal's answer (CATALOG_INVALID: one item per defect). */
  readonly details: unknown;
  constructor(code: BundleRejection, message: string, options?: { cause?: unknown; details?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = "BundleError";
    this.code = code;
    this.details = options?.details ?? null;
  }
}

/** Anything a candidate threw, as a BundleError (an unexpected failure counts as unusable wasm). */
export function asBundleError(err: unknown): BundleError {
  return err instanceof BundleError
    ? err
    : new BundleError("BUNDLE_WASM_INVALID", toError(err).message, { cause: err });
}
