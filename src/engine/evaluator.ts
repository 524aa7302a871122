import { createHash } from "node:crypto";
import { loadPolicy } from "@open-policy-agent/opa-wasm";
import { ArchiveLimitError, readTarGz, type TarFiles } from "../bundles/tar.ts";
import { ENTRYPOINTS, type Entrypoint, type ReferenceData } from "../domain/policy-contract.ts";
import { REGION_CODES } from "../domain/vocabulary.ts";
import { toError } from "../errors.ts";
import { createDeadline, type Deadline } from "./deadline.ts";
import { createDecisionMemo, type DecisionMemo, type MemoStats } from "./decision-memo.ts";
import { type DeclaredFields, inputJson, inputKey, learnerOf } from "./input-json.ts";

export type Manifest = {
  revision: string;
  roots?: string[];
  wasm?: Array<{ entrypoint: string; module: string }>;
  metadata?: Record<string, unknown>;
};

/** A bundle that parsed and instantiated: ready to self-check, not yet serving. */
export type LoadedBundle = {
  revision: string;
  sha256: string;
  bytes: Buffer;
  manifest: Manifest;
  files: TarFiles;
  entrypoints: string[];
  reference: ReferenceData;
  loadedAt: Date;
  /** The fields of each input part the rules read (`data.contract.fields`); null: all are passed. */
  declared: DeclaredFields | null;
  /**
   * Evaluates an entrypoint; with the memo on, an input the rules cannot tell from one already
   * answered gets that (frozen, shared) answer. `fresh` evaluates in the wasm, neither reading nor filling
   * the memo (dry runs and self-checks, which must not skew what serving traffic keeps).
   */
  evaluate<T>(entrypoint: Entrypoint, input: unknown, how?: { fresh?: boolean }): T;
  /** Hits, misses and size of the decision memo, per memoised entrypoint (empty when off). */
  memoStats(): Partial<Record<Entrypoint, MemoStats>>;
};

export type LoadOptions = {
  verify?: VerifyFiles;
  /** Decisions kept per memoised entrypoint (least recently used go first); 0 turns reuse off. */
  memoEntries?: number;
  onMemo?: (entrypoint: Entrypoint, hit: boolean) => void;
  /**
   * Most linear memory the wasm may grow to, in MiB (default WASM_MEMORY_MB): a runaway allocation
   * then fails inside the evaluation (opa_malloc traps, the call throws) instead of taking the host.
   */
  wasmMemoryMb?: number;
  /** Hard limit on one wasm evaluation, in ms (0: none); see src/engine/deadline.ts. */
  evaluationTimeoutMs?: number;
  /** Every wasm evaluation (not memo hits): how long it ran, and whether it was stopped at the limit. */
  onEvaluation?: (entrypoint: Entrypoint, ms: number, timedOut: boolean) => void;
};

/** The default ceiling of a bundle's wasm memory: the shipped bundle uses under 5 MiB. */
export const WASM_MEMORY_MB = 256;

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
  constructor(code: BundleRejection, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "BundleError";
    this.code = code;
  }
}

export type VerifyFiles = (files: TarFiles) => Promise<void>;

export function sha256Hex(bytes: Buffer): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/** tar → manifest → (signature) → entrypoints → wasm instance with data set. Throws BundleError. */
export async function loadBundle(bytes: Buffer, options: LoadOptions = {}): Promise<LoadedBundle> {
  let files: TarFiles;
  try {
    files = readTarGz(bytes);
  } catch (err) {
    const code = err instanceof ArchiveLimitError ? "BUNDLE_TOO_LARGE" : "BUNDLE_CORRUPT";
    throw new BundleError(code, toError(err).message, { cause: err });
  }

  const manifestBytes = files.get(".manifest");
  if (!manifestBytes) throw new BundleError("BUNDLE_MANIFEST_INVALID", "bundle has no .manifest");
  let manifest: Manifest;
  try {
    manifest = JSON.parse(manifestBytes.toString("utf8")) as Manifest;
  } catch (err) {
    throw new BundleError("BUNDLE_MANIFEST_INVALID", ".manifest is not JSON", { cause: err });
  }
  if (typeof manifest.revision !== "string" || manifest.revision === "") {
    throw new BundleError("BUNDLE_MANIFEST_INVALID", ".manifest has no revision");
  }

  if (options.verify) await options.verify(files);

  const wasmEntries = manifest.wasm ?? [];
  const listed = new Set(wasmEntries.map((w) => w.entrypoint));
  const missing = ENTRYPOINTS.filter((e) => !listed.has(e));
  if (missing.length > 0) {
    throw new BundleError("BUNDLE_ENTRYPOINT_MISSING", `bundle lacks entrypoint(s): ${missing.join(", ")}`);
  }
  const modulePath = (wasmEntries[0]?.module ?? "/policy.wasm").replace(/^\/+/, "");
  const wasm = files.get(modulePath);
  if (!wasm) throw new BundleError("BUNDLE_WASM_INVALID", `bundle has no ${modulePath}`);

  let data: unknown;
  try {
    data = JSON.parse((files.get("data.json") ?? Buffer.from("{}")).toString("utf8"));
  } catch (err) {
    throw new BundleError("BUNDLE_DATA_INVALID", "data.json is not JSON", { cause: err });
  }
  const reference = checkReference(data);
  const declared = checkContract(data);

  let policy: Awaited<ReturnType<typeof loadPolicy>>;
  try {
    // 64 KiB pages; the initial size is the SDK's default (5 pages).
    const maximum = Math.ceil(((options.wasmMemoryMb ?? WASM_MEMORY_MB) * 1024 * 1024) / 65_536);
    policy = await loadPolicy(wasm, { initial: Math.min(5, maximum), maximum });
    policy.setData(data as object);
  } catch (err) {
    throw new BundleError("BUNDLE_WASM_INVALID", `wasm failed to load: ${toError(err).message}`, {
      cause: err,
    });
  }
  const compiled = new Set(Object.keys(policy.entrypoints as Record<string, number>));
  const notCompiled = ENTRYPOINTS.filter((e) => !compiled.has(e));
  if (notCompiled.length > 0) {
    throw new BundleError("BUNDLE_ENTRYPOINT_MISSING", `wasm lacks entrypoint(s): ${notCompiled.join(", ")}`);
  }

  const evaluateText =
    fastEvaluator(policy) ??
    ((json: string, id: number) => JSON.stringify(policy.evaluate(JSON.parse(json), id)));
  const ids = policy.entrypoints as Record<string, number>;
  const memos = new Map<Entrypoint, DecisionMemo>(
    (options.memoEntries ?? 0) > 0
      ? MEMOIZED.map((e) => [e, createDecisionMemo(options.memoEntries ?? 0)] as const)
      : [],
  );

  const deadline: Deadline | null =
    (options.evaluationTimeoutMs ?? 0) > 0 ? createDeadline(options.evaluationTimeoutMs!) : null;

  /** The wasm's answer as JSON text: the result set, `[{"result": ...}]`. */
  function run(entrypoint: Entrypoint, json: string): string {
    const started = performance.now();
    let timedOut = false;
    try {
      const id = ids[entrypoint]!;
      return deadline ? deadline(() => evaluateText(json, id)) : evaluateText(json, id);
    } catch (err) {
      timedOut = (err as { code?: unknown })?.code === "EVALUATION_TIMEOUT";
      throw toError(err); // opa-wasm throws strings
    } finally {
      options.onEvaluation?.(entrypoint, performance.now() - started, timedOut);
    }
  }

  function resultOf<T>(entrypoint: Entrypoint, text: string): T {
    const first = (JSON.parse(text) as Array<{ result: T }>)[0];
    if (!first || first.result === undefined) throw new Error(`${entrypoint} is undefined for this input`);
    return first.result;
  }

  return {
    revision: manifest.revision,
    sha256: sha256Hex(bytes),
    bytes,
    manifest,
    files,
    entrypoints: [...compiled].sort(),
    reference,
    loadedAt: new Date(),
    declared,
    evaluate<T>(entrypoint: Entrypoint, input: unknown, how: { fresh?: boolean } = {}): T {
      const memo = how.fresh ? undefined : memos.get(entrypoint);
      const nowMs = memo ? clockOf(input) : undefined;
      if (!memo || nowMs === undefined) {
        return resultOf<T>(entrypoint, run(entrypoint, inputJson(input, declared, "wasm")));
      }
      const key = inputKey(input, declared);
      const learner = learnerOf(input);
      const hit = memo.get(key, learner, nowMs);
      options.onMemo?.(entrypoint, hit !== undefined);
      if (hit !== undefined) return hit as T;
      const text = run(entrypoint, inputJson(input, declared, "wasm"));
      return memo.set(key, learner, text, (t) => resultOf<T>(entrypoint, t));
    },
    memoStats: () => Object.fromEntries([...memos].map(([e, m]) => [e, m.stats()])),
  };
}

/** The entrypoints whose answers are reused: the per-request decisions, not policy validation. */
const MEMOIZED: readonly Entrypoint[] = ["residency/decision", "inference/route"];

/**
 * `input.now_ms` when the input carries a finite clock of its own (an inherited one is not in the
 * JSON the wasm reads), else undefined: such inputs are evaluated, never reused.
 */
function clockOf(input: unknown): number | undefined {
  if (input === null || typeof input !== "object" || !Object.hasOwn(input, "now_ms")) return undefined;
  const now = (input as { now_ms?: unknown }).now_ms;
  return typeof now === "number" && Number.isFinite(now) ? now : undefined;
}

type WasmPolicy = Awaited<ReturnType<typeof loadPolicy>>;

/**
 * The SDK's ABI 1.2 fast path, minus its per-call allocations: the input JSON is encoded straight
 * into wasm memory (one TextEncoder, `encodeInto`), and the NUL that ends the result is found with
 * a native `indexOf` instead of a byte-by-byte JavaScript loop. Same `opa_eval` call, same result.
 * Null when the module predates ABI 1.2 (the SDK's own path is used then).
 */
function fastEvaluator(policy: WasmPolicy): ((json: string, entrypoint: number) => string) | null {
  const p = policy as unknown as {
    minorVersion: number;
    mem: { buffer: ArrayBuffer; grow(pages: number): number };
    dataAddr: number;
    dataHeapPtr: number;
    wasmInstance: { exports: Record<string, unknown> };
  };
  const opaEval = p.wasmInstance.exports.opa_eval as
    | ((
        reserved: number,
        entrypoint: number,
        data: number,
        input: number,
        len: number,
        heap: number,
        format: number,
      ) => number)
    | undefined;
  if (p.minorVersion < 2 || !opaEval) return null;
  const encoder = new TextEncoder();
  const decoder = new TextDecoder();
  return (json, entrypoint) => {
    const addr = p.dataHeapPtr;
    const maxBytes = json.length * 3; // UTF-16 code unit → at most 3 UTF-8 bytes
    const shortfall = addr + maxBytes - p.mem.buffer.byteLength;
    if (shortfall > 0) p.mem.grow(Math.ceil(shortfall / 65_536));
    const { written } = encoder.encodeInto(json, new Uint8Array(p.mem.buffer, addr, maxBytes));
    const resultAddr = opaEval(0, entrypoint, p.dataAddr, addr, written, addr + written, 0);
    const memory = new Uint8Array(p.mem.buffer); // evaluation may have grown (and replaced) the buffer
    const end = memory.indexOf(0, resultAddr);
    return decoder.decode(memory.subarray(resultAddr, end));
  };
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
