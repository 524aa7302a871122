import { randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";
import { hostname } from "node:os";
import type { Redis } from "ioredis";
import { auditEvent } from "../audit/index.ts";
import type { AuditAppender, AuditReader } from "../audit/types.ts";
import { decodeCursor, type Page, pageOf } from "../domain/page.ts";
import type { PolicyEngine } from "../engine/index.ts";
import { AppError, isAppError, toError } from "../errors.ts";
import type { Logger } from "../observability/logger.ts";
import type { Metrics } from "../observability/metrics.ts";
import type { Db, Queryable } from "../store/db.ts";
import { asBundleError, BundleError } from "./bundle-error.ts";
import { revisionOf, sha256Hex } from "./bundle-facts.ts";
import {
  type ActivationRecord,
  type ActiveRecord,
  BundlePruned,
  type BundleStore,
  createBundleStore,
  RevisionConflict,
  type StoredBundle,
} from "./bundle-store.ts";
import { type BundleWatcher, watchBundleFile } from "./bundle-watcher.ts";
import { type LoadedBundle, type LoadOptions, loadBundle } from "./candidate.ts";
import { type DryRunReport, replayableRows } from "./dry-run.ts";
import { checkInSandbox, replayInSandbox, type SandboxBudget } from "./sandbox.ts";
import { createBundleVerifier, parseVerificationKey, SIGNATURES_FILE } from "./signature.ts";
import { ArchiveLimitError, readTarGz } from "./tar.ts";
import { createWatchdog, type Retirement, WATCHDOG_DEFAULTS, type WatchdogOptions } from "./watchdog.ts";

// The bundle life cycle (SPEC §8) of one instance within a cluster.
//
// Source of truth: Postgres (migration 004) records the active bundle — bytes, revision, sha256 —
// for the whole cluster. Publishing (PUT /api/v1/bundles, a change of the BUNDLE_PATH file) first
// verifies and self-checks the candidate here, then stores it and marks it active in one
// transaction, swaps it in locally, and announces `{sha256}` on the Redis channel
// `<REDIS_PREFIX>bundles`. Every instance, on that message and on a check every
// BUNDLE_POLL_INTERVAL_MS (the fallback for a missed message, and the only path without Redis),
// compares Postgres's active sha256 with its own and loads the recorded bytes when they differ.
// A refused candidate never reaches Postgres; the serving bundle stays, and the refusal is logged,
// audited (`bundle.rejected`) and counted.
//
// Start-up: a BUNDLE_PATH file whose sha256 Postgres has never seen is new (a deploy shipped it), so
// it is published like a push. Otherwise the bundle Postgres records as active is loaded — so a
// rollback survives restarts and a restarted instance rejoins what the cluster serves — and only
// when Postgres records none is the file published. While running, a changed file is published
// (see bundle-watcher.ts for how a half-written file is kept out).
//
// Every life-cycle step runs through one queue per instance, so a Redis message arriving during a
// push cannot interleave with it. Each candidate is prepared once (candidate.ts: parsed, verified,
// instantiated, self-checked) and that very candidate is what the engine activates.

/** How this instance came to serve a bundle. */
export type BundleSource = "file" | "api" | "cluster" | "rollback" | "startup" | "watchdog";

export type BundleSummary = {
  revision: string;
  sha256: string;
  /** When this instance loaded it. */
  loaded_at: string;
  entrypoints: string[];
  /** How this instance came to serve it: api, file, rollback, cluster (another instance), startup. */
  source: BundleSource;
  /** Who made it the cluster's active bundle, and when (null if not the cluster's active one). */
  activated_by: string | null;
  activated_at: string | null;
  generation: number | null;
  signed: boolean;
  size_bytes: number;
};

export type PublishResult = BundleSummary & {
  /** False when the bundle already was the active one (nothing was activated). */
  changed: boolean;
  previous_revision: string | null;
};

export type BundleHistory = {
  items: Array<{
    revision: string;
    sha256: string;
    size_bytes: number;
    signed: boolean;
    entrypoints: string[];
    source: string;
    uploaded_by: string | null;
    uploaded_at: string;
    active: boolean;
    /** Its bytes were pruned (bundle-pruning.ts): the row stays, the bytes are in the archive. */
    pruned_at: string | null;
    archived_location: string | null;
  }>;
  /** Pass back as `cursor` for older bundles; null when `items` holds the rest. */
  next_cursor: string | null;
  /** The latest activations, as many as `limit` (all of them: `activationHistory`). */
  activations: BundleActivation[];
};

export type BundleActivation = {
  generation: number;
  revision: string;
  sha256: string;
  previous_revision: string | null;
  source: string;
  activated_by: string | null;
  activated_at: string;
};

export type Actor = { principal: string; requestId: string | null };

export type BundleService = {
  engine: PolicyEngine<LoadedBundle>;
  active(): BundleSummary | null;
  history(limit?: number, cursor?: string): Promise<BundleHistory>;
  /** Every activation, newest first, a page at a time. */
  activationHistory(limit?: number, cursor?: string): Promise<Page<BundleActivation>>;
  /** Verify, store, activate cluster-wide. Throws AppError POLICY_VIOLATION for a refused bundle. */
  publish(
    bytes: Buffer,
    options: { source: "api" | "file" | "startup"; actor: Actor },
  ): Promise<PublishResult>;
  /** Roll back (or forward) to a stored bundle, by revision or sha256. */
  activate(ref: string, actor: Actor): Promise<PublishResult>;
  /** Impact analysis: replay recent audited decisions through the candidate. Activates nothing. */
  dryRun(bytes: Buffer, options: { limit: number; examples: number; actor: Actor }): Promise<DryRunReport>;
  /** Converge on Postgres's active bundle now (what the Redis message and the periodic check do). */
  sync(): Promise<void>;
  close(): Promise<void>;
};

export type BundleServiceDeps = {
  /** Where activated candidates serve from (created by the caller, read by decisions). */
  engine: PolicyEngine<LoadedBundle>;
  /** The bundle store's tables (migration 004). */
  db: Db;
  audit: AuditAppender;
  /** Past decisions, for dry runs. */
  records: Pick<AuditReader, "latest">;
  logger: Logger;
  metrics: Metrics;
  /** The watched bundle file; null for none. */
  bundlePath: string | null;
  verificationKey: string | null;
  /** BUNDLE_VERIFICATION_ALG: required for an HMAC secret, optional (narrowing) for a PEM key. */
  verificationAlg?: string | null;
  redis: Redis | null;
  redisPrefix: string;
  pollIntervalMs: number;
  /** Decisions each bundle reuses per entrypoint within their time window (0: off). */
  memoEntries: number;
  /** Watch BUNDLE_PATH for changes while running (default true). */
  watch?: boolean;
  /** Debounce of file events (default 300 ms). */
  watchDebounceMs?: number;
  /** Hard limit on one wasm evaluation of the serving bundle, ms (0: none); BUNDLE_EVALUATION_TIMEOUT_MS. */
  evaluationTimeoutMs?: number;
  /** Budgets of the sandboxed checks and dry runs (sandbox.ts SANDBOX_BUDGET by default). */
  sandbox?: Partial<SandboxBudget>;
  /** When the serving bundle is retired for slow evaluations (watchdog.ts WATCHDOG_DEFAULTS). */
  watchdog?: Partial<WatchdogOptions>;
  clock?: () => Date;
};

const SYSTEM: Actor = { principal: "system", requestId: null };
const WATCHDOG: Actor = { principal: "watchdog", requestId: null };

/** The serving path's default limit on one evaluation (the shipped bundle needs well under 1 ms). */
// Wall clock: a normal evaluation on a starved CPU must not look hostile (decision 0012).
export const EVALUATION_TIMEOUT_MS = 1_000;

/** Recent audited decisions a candidate is probed with (real tenants' inputs), besides the matrix. */
const PROBED_DECISIONS = 200;

/** Bundles that passed the sandboxed checks lately, remembered so the same bytes are not re-run. */
const PASSED_KEPT = 16;

async function archiveOf(bytes: Buffer) {
  try {
    return await readTarGz(bytes);
  } catch (err) {
    const code = err instanceof ArchiveLimitError ? "BUNDLE_TOO_LARGE" : "BUNDLE_CORRUPT";
    throw new BundleError(code, toError(err).message, { cause: err });
  }
}

/**
 * A stored bundle whose bytes were pruned (docs/decisions/0014): the record stays, the bytes are in
 * the archive; uploading them again (PUT /api/v1/bundles) stores and activates them.
 */
function prunedError(target: StoredBundle): AppError {
  const where = target.archived_location ? ` (archived at ${target.archived_location})` : "";
  return new AppError(
    "CONFLICT",
    `bundle ${target.revision} was pruned from the store${where}; upload it again to activate it`,
    {
      details: {
        code: "BUNDLE_PRUNED",
        revision: target.revision,
        sha256: target.sha256,
        pruned_at: target.pruned_at?.toISOString() ?? null,
        archived_location: target.archived_location,
      },
    },
  );
}

function storeUnavailable(err: unknown): AppError {
  // An audit refusal inside the activation transaction keeps its own code (503 AUDIT_UNAVAILABLE).
  if (isAppError(err)) return err;
  return new AppError(
    "STORE_UNAVAILABLE",
    "the bundle store (Postgres) is unavailable; nothing was activated",
    {
      cause: err,
    },
  );
}

export async function createBundleService(deps: BundleServiceDeps): Promise<BundleService> {
  const { logger, metrics } = deps;
  const clock = deps.clock ?? (() => new Date());
  const store: BundleStore = createBundleStore(deps.db);
  const instance = `${hostname()}:${process.pid}:${randomBytes(3).toString("hex")}`;
  const channel = `${deps.redisPrefix}bundles`;
  const { engine } = deps;
  const verify = deps.verificationKey
    ? createBundleVerifier(parseVerificationKey(deps.verificationKey, deps.verificationAlg ?? undefined))
    : null;
  // Slow evaluations of the serving bundle retire it (onRetire); evaluations report to it.
  const watchdog = createWatchdog({ ...WATCHDOG_DEFAULTS, ...deps.watchdog }, (r) => onRetire(r));
  const loadOptions: LoadOptions = {
    ...(verify ? { verify } : {}),
    memoEntries: deps.memoEntries,
    onMemo: (entrypoint, hit) => metrics.decisionMemo.inc({ entrypoint, result: hit ? "hit" : "miss" }),
    onInstantiated: (revision, sha256) => {
      metrics.bundlePrepared.inc();
      logger.debug({ revision, sha256 }, "bundle instantiated");
    },
    ...(deps.sandbox?.wasmMemoryMb ? { wasmMemoryMb: deps.sandbox.wasmMemoryMb } : {}),
    evaluationTimeoutMs: deps.evaluationTimeoutMs ?? EVALUATION_TIMEOUT_MS,
    onEvaluation: (entrypoint, ms, stopped, sha256) => {
      if (stopped) {
        metrics.evaluationsStopped.inc({ entrypoint });
        logger.warn(
          { entrypoint, sha256, ms: Math.round(ms) },
          "an evaluation exceeded its limit and was stopped",
        );
      }
      if (engine.current()?.sha256 === sha256) watchdog.observe(sha256, ms, stopped);
    },
  };
  const passed: string[] = [];
  /**
   * A candidate's checks, before this thread runs a line of its code: its signature here (cheap;
   * an unsigned or forged bundle's code never runs anywhere), then the self-check and probes —
   * the generated matrix and the last audited decisions — in a worker, within budgets
   * (sandbox.ts). A bundle that never ends or allocates without bound is stopped there.
   */
  async function check(bytes: Buffer): Promise<void> {
    const sha256 = sha256Hex(bytes);
    if (passed.includes(sha256)) return;
    if (verify) await verify(await archiveOf(bytes));
    const recorded = await replayableRows(deps.records, PROBED_DECISIONS).catch(() => []);
    await checkInSandbox(bytes, { recorded, ...(deps.sandbox ? { budget: deps.sandbox } : {}) });
    passed.push(sha256);
    if (passed.length > PASSED_KEPT) passed.shift();
  }
  /**
   * Checked (off the event loop), then parsed, verified and instantiated here: once per candidate.
   * `checked`: a bundle the cluster already activated — the instance that published it ran the
   * checks before storing it; this one verifies the signature and loads.
   */
  const prepare = async (bytes: Buffer, how: { checked?: boolean } = {}) => {
    if (!how.checked) await check(bytes);
    return loadBundle(bytes, loadOptions);
  };

  /** The cluster's active record as last read or written by this instance. */
  let cluster: ActiveRecord | null = null;
  let localSource: BundleSource = "startup";
  /** Cluster bundles this instance refused: not retried on every poll, only when a new one comes. */
  const refused = new Set<string>();
  /** The bundle this instance served before the current one, kept loaded for the watchdog. */
  let previousBundle: LoadedBundle | null = null;
  let closed = false;

  let chain: Promise<unknown> = Promise.resolve();
  function serial<T>(fn: () => Promise<T>): Promise<T> {
    const next = chain.then(fn, fn);
    chain = next.catch(() => undefined);
    return next;
  }

  async function record(
    type: string,
    payload: Record<string, unknown>,
    revision: string | null,
    actor: Actor,
  ) {
    try {
      await deps.audit.append(
        auditEvent({
          type,
          occurred_at: clock(),
          actor: actor.principal,
          request_id: actor.requestId,
          bundle_revision: revision,
          payload: { ...payload, instance },
        }),
      );
    } catch (err) {
      // The bundle step itself happened (and Postgres records it); a missing audit line is logged loudly.
      logger.error({ err, type }, "could not audit a bundle event");
    }
  }

  /** The cluster-wide activation's audit record, written in the activation's own transaction. */
  const recordActivation =
    (type: "bundle.activated" | "bundle.rolled_back", actor: Actor, extra: Record<string, unknown> = {}) =>
    (tx: Queryable, a: ActivationRecord) =>
      deps.audit.appendInTx(tx, [
        auditEvent({
          type,
          occurred_at: clock(),
          actor: actor.principal,
          request_id: actor.requestId,
          bundle_revision: a.revision,
          payload: {
            revision: a.revision,
            sha256: a.sha256,
            source: a.source,
            previous_revision: a.previous_revision,
            previous_sha256: a.previous_sha256,
            generation: a.generation,
            instance,
            ...extra,
          },
        }),
      ]);

  function summaryOf(b: LoadedBundle): BundleSummary {
    const rec = cluster?.sha256 === b.sha256 ? cluster : null;
    return {
      revision: b.revision,
      sha256: b.sha256,
      loaded_at: b.loadedAt.toISOString(),
      entrypoints: b.entrypoints,
      source: localSource,
      activated_by: rec?.activated_by ?? null,
      activated_at: rec ? rec.activated_at.toISOString() : null,
      generation: rec?.generation ?? null,
      signed: b.files.has(SIGNATURES_FILE),
      size_bytes: b.bytes.length,
    };
  }

  async function refuse(
    err: unknown,
    bytes: Buffer,
    context: { source: string; actor: Actor; dryRun?: boolean },
  ): Promise<AppError> {
    const error = asBundleError(err);
    const sha256 = sha256Hex(bytes);
    const revision = await revisionOf(bytes);
    const serving = engine.current()?.revision ?? null;
    metrics.bundleLoads.inc({ outcome: context.dryRun ? "dry_run_rejected" : "rejected" });
    logger.error(
      { code: error.code, reason: error.message, source: context.source, sha256, revision, serving },
      "bundle rejected; the serving bundle stays",
    );
    // SPEC §11.A6: a catalog refusal lists its defects, one {code, index, field, message} each.
    const issues = error.code === "CATALOG_INVALID" && Array.isArray(error.details) ? error.details : null;
    await record(
      "bundle.rejected",
      {
        code: error.code,
        reason: error.message,
        source: context.source,
        sha256,
        revision,
        serving_revision: serving,
        ...(issues ? { issues } : {}),
      },
      serving,
      context.actor,
    );
    return new AppError("POLICY_VIOLATION", `bundle rejected (${error.code}): ${error.message}`, {
      details: issues ?? {
        code: error.code,
        reason: error.message,
        sha256,
        revision,
        serving_revision: serving,
      },
      cause: error,
    });
  }

  /**
   * A revision names one content (docs/decisions/0012-hostile-bundles.md): another bundle stored
   * under this revision refuses the upload with 409, audited like a rejection.
   */
  async function revisionConflict(
    revision: string,
    sha256: string,
    existing: string,
    context: { source: string; actor: Actor },
  ): Promise<AppError> {
    const serving = engine.current()?.revision ?? null;
    const reason = `revision ${revision} is already stored with other content (sha256 ${existing}); give the new bundle a revision of its own`;
    metrics.bundleLoads.inc({ outcome: "rejected" });
    logger.error(
      { code: "BUNDLE_REVISION_CONFLICT", revision, sha256, existing, source: context.source },
      reason,
    );
    await record(
      "bundle.rejected",
      {
        code: "BUNDLE_REVISION_CONFLICT",
        reason,
        source: context.source,
        sha256,
        revision,
        existing_sha256: existing,
        serving_revision: serving,
      },
      serving,
      context.actor,
    );
    return new AppError("CONFLICT", reason, {
      details: { code: "BUNDLE_REVISION_CONFLICT", revision, sha256, existing_sha256: existing },
    });
  }

  /** Makes a prepared candidate serve on this instance and audits it. */
  async function swapIn(
    bundle: LoadedBundle,
    source: BundleSource,
    actor: Actor,
    // "none" when the cluster activation was already recorded with the activation itself.
    audit: "loaded" | "none" = "loaded",
  ): Promise<LoadedBundle> {
    // Its evaluation thread up first (~50 ms): else its first misses (its memo starts empty) run
    // on the event loop under vm's costlier limit until the thread is ready.
    await bundle.warm();
    const previous = engine.activate(bundle);
    localSource = source;
    // Kept loaded (its wasm, a few MiB, and its memo) so the watchdog can return to it at once.
    if (previous && previous.sha256 !== bundle.sha256 && !refused.has(previous.sha256)) {
      previousBundle = previous;
    }
    refused.delete(bundle.sha256);
    // Activated on purpose (not by convergence): its past strikes no longer count.
    if (source !== "cluster" && source !== "watchdog") watchdog.reset(bundle.sha256);
    metrics.bundleLoads.inc({ outcome: "activated" });
    metrics.bundleInfo.reset();
    metrics.bundleInfo.set({ revision: bundle.revision }, 1);
    logger.info(
      { revision: bundle.revision, sha256: bundle.sha256, source, previous: previous?.revision ?? null },
      "bundle now serving on this instance",
    );
    // Each instance records when it starts serving a bundle the cluster activated elsewhere (or
    // that it caught up with); the activation itself is recorded once, with the activation.
    if (audit === "loaded") {
      await record(
        "bundle.loaded",
        {
          revision: bundle.revision,
          sha256: bundle.sha256,
          source,
          previous_revision: previous?.revision ?? null,
          previous_sha256: previous?.sha256 ?? null,
          generation: cluster?.sha256 === bundle.sha256 ? cluster.generation : null,
        },
        bundle.revision,
        actor,
      );
    }
    return bundle;
  }

  async function announce(rec: ActiveRecord): Promise<void> {
    if (!deps.redis) return;
    try {
      await deps.redis.publish(
        channel,
        JSON.stringify({ sha256: rec.sha256, revision: rec.revision, generation: rec.generation, instance }),
      );
    } catch (err) {
      // Not fatal: the other instances find the change at their next periodic check.
      logger.warn({ err }, "could not announce the bundle on Redis; peers converge on their next check");
    }
  }

  function unchanged(b: LoadedBundle): PublishResult {
    return { ...summaryOf(b), changed: false, previous_revision: null };
  }

  function publish(
    bytes: Buffer,
    options: { source: "api" | "file" | "startup"; actor: Actor },
  ): Promise<PublishResult> {
    return serial(async () => {
      const sha256 = sha256Hex(bytes);
      const active = await store.active().catch((err) => {
        throw storeUnavailable(err);
      });
      if (active?.sha256 === sha256) {
        cluster = active;
        const current = engine.current();
        if (current?.sha256 === sha256) return unchanged(current);
        let candidate: LoadedBundle;
        try {
          candidate = await prepare(bytes, { checked: true });
        } catch (err) {
          throw await refuse(err, bytes, options);
        }
        return unchanged(await swapIn(candidate, options.source, options.actor));
      }

      const revision = await revisionOf(bytes);
      if (revision) {
        const existing = (await store.revisionShas(revision).catch(() => [])).find((s) => s !== sha256);
        if (existing) throw await revisionConflict(revision, sha256, existing, options);
      }

      let candidate: LoadedBundle;
      try {
        candidate = await prepare(bytes);
      } catch (err) {
        throw await refuse(err, bytes, options);
      }
      // A bundle stored before (a swap back) is not sent to Postgres again — unless it was pruned.
      const stored = await store.hasBytes(sha256).catch(() => false);
      const record = {
        sha256,
        revision: candidate.revision,
        bytes,
        manifest: candidate.manifest,
        entrypoints: candidate.entrypoints,
        signed: candidate.files.has(SIGNATURES_FILE),
        source: options.source,
        uploaded_by: options.actor.principal,
        uploaded_at: clock(),
      };
      const activateWith = (bundle: typeof record | undefined) =>
        store.activate({
          sha256,
          revision: candidate.revision,
          source: options.source,
          actor: options.actor.principal,
          at: clock(),
          onWritten: recordActivation("bundle.activated", options.actor),
          bundle,
        });
      const activation = await activateWith(stored ? undefined : record)
        // Pruned since it was found stored: this upload brings the bytes back.
        .catch((err) => (err instanceof BundlePruned ? activateWith(record) : Promise.reject(err)))
        .catch(async (err) => {
          // Checked above; a second instance storing the same revision meanwhile is caught here.
          if (err instanceof RevisionConflict) {
            throw await revisionConflict(candidate.revision, sha256, err.existing, options);
          }
          throw storeUnavailable(err);
        });
      if (activation) cluster = activation;
      else cluster = await store.active().catch(() => cluster); // another instance was first
      const bundle = await swapIn(candidate, options.source, options.actor, activation ? "none" : "loaded");
      if (!activation) return unchanged(bundle);
      await announce(activation);
      return { ...summaryOf(bundle), changed: true, previous_revision: activation.previous_revision };
    });
  }

  function activateStored(ref: string, actor: Actor): Promise<PublishResult> {
    return serial(async () => {
      const [target, active] = await Promise.all([store.find(ref), store.active()]).catch((err) => {
        throw storeUnavailable(err);
      });
      if (!target) throw new AppError("NOT_FOUND", `no stored bundle has revision or sha256 "${ref}"`);
      if (target.sha256 !== ref) {
        // Stored before revisions were unique, a revision may name several bundles: never guess.
        const shas = await store.revisionShas(ref).catch((err) => {
          throw storeUnavailable(err);
        });
        if (shas.length > 1) {
          throw new AppError(
            "CONFLICT",
            `revision ${ref} names ${shas.length} different stored bundles; activate one by its sha256`,
            { details: { code: "BUNDLE_REVISION_AMBIGUOUS", revision: ref, sha256s: shas } },
          );
        }
      }
      const current = engine.current();
      if (active?.sha256 === target.sha256 && current?.sha256 === target.sha256) {
        cluster = active;
        return unchanged(current);
      }
      const bytes = await store.bytes(target.sha256).catch((err) => {
        throw storeUnavailable(err);
      });
      if (!bytes) throw prunedError(target);
      // Re-verified: the verification key may have changed since it was uploaded.
      let candidate: LoadedBundle;
      try {
        candidate = await prepare(bytes);
      } catch (err) {
        throw await refuse(err, bytes, { source: "rollback", actor });
      }
      // A rollback goes back to a bundle first activated before the one it replaces.
      const firsts = active
        ? await store.firstActivations([target.sha256, active.sha256]).catch(() => new Map<string, number>())
        : new Map<string, number>();
      const older = (firsts.get(target.sha256) ?? Infinity) < (firsts.get(active?.sha256 ?? "") ?? -Infinity);
      const activation = await store
        .activate({
          sha256: target.sha256,
          revision: target.revision,
          source: "rollback",
          actor: actor.principal,
          at: clock(),
          onWritten: recordActivation(older ? "bundle.rolled_back" : "bundle.activated", actor),
        })
        .catch((err) => {
          throw err instanceof BundlePruned ? prunedError(target) : storeUnavailable(err);
        });
      if (activation) cluster = activation;
      else cluster = await store.active().catch(() => cluster);
      const bundle = await swapIn(candidate, "rollback", actor, activation ? "none" : "loaded");
      if (!activation) return unchanged(bundle);
      await announce(activation);
      return { ...summaryOf(bundle), changed: true, previous_revision: activation.previous_revision };
    });
  }

  function sync(startup = false): Promise<void> {
    return serial(async () => {
      if (closed) return;
      let target: ActiveRecord | null;
      try {
        target = await store.active();
      } catch (err) {
        logger.warn({ err }, "bundle check: the bundle store is unavailable; keeping the serving bundle");
        return;
      }
      if (!target) return;
      cluster = target;
      if (engine.current()?.sha256 === target.sha256 || refused.has(target.sha256)) return;
      const bytes = await store.bytes(target.sha256).catch(() => null);
      if (!bytes) return;
      let candidate: LoadedBundle;
      try {
        candidate = await prepare(bytes, { checked: true });
      } catch (err) {
        refused.add(target.sha256);
        await refuse(err, bytes, { source: "cluster", actor: SYSTEM });
        return;
      }
      await swapIn(candidate, startup ? "startup" : "cluster", SYSTEM);
    });
  }

  async function dryRun(
    bytes: Buffer,
    options: { limit: number; examples: number; actor: Actor },
  ): Promise<DryRunReport> {
    const refusal = (err: unknown) =>
      refuse(err, bytes, { source: "dry_run", actor: options.actor, dryRun: true });
    // The candidate's code runs only in workers: its checks, then the replay, each within budget.
    try {
      await check(bytes);
    } catch (err) {
      throw await refusal(err);
    }
    const active = engine.current();
    const rows = await replayableRows(deps.records, options.limit).catch((err) => {
      throw new AppError("STORE_UNAVAILABLE", "the audit log (Postgres) is unavailable", { cause: err });
    });
    let report: DryRunReport;
    try {
      report = await replayInSandbox(bytes, active?.bytes ?? null, rows, {
        examples: options.examples,
        ...(deps.sandbox ? { budget: deps.sandbox } : {}),
      });
    } catch (err) {
      throw await refusal(err);
    }
    await record(
      "bundle.dry_run",
      {
        candidate: report.candidate,
        active_revision: report.active_revision,
        limit: options.limit,
        replayed: report.replayed,
        changed: report.changed,
        unchanged: report.unchanged,
        errors: report.errors,
      },
      active?.revision ?? null,
      options.actor,
    );
    return report;
  }

  /**
   * The watchdog's verdict on the serving bundle, at its third strike (inside that evaluation's
   * report). When this instance still holds the bundle it served before, that one serves again at
   * once — the next decision already uses it, with no await in between, since each further
   * evaluation of the retired bundle would block the event loop up to its limit. Then, or for want
   * of a local one (with the newest earlier activation Postgres has), retire() records it.
   */
  function onRetire(r: Retirement): void {
    const current = engine.current();
    if (!current || current.sha256 !== r.sha256) return; // replaced meanwhile
    refused.add(r.sha256);
    metrics.bundleLoads.inc({ outcome: "retired" });
    const local = previousBundle && !refused.has(previousBundle.sha256) ? previousBundle : null;
    if (local) {
      engine.activate(local);
      void local.warm(); // closed when it was replaced: on its own instance until its thread is up
      localSource = "watchdog";
      metrics.bundleInfo.reset();
      metrics.bundleInfo.set({ revision: local.revision }, 1);
    }
    void serial(() => retire(r, current, local)).catch((err) =>
      logger.error({ err }, "watchdog: could not record the retirement"),
    );
  }

  /**
   * Records (and, without a local fallback, performs) a retirement: back to the last good bundle
   * cluster-wide when Postgres answers — audited as `bundle.rolled_back` with the reason, in the
   * activation's transaction — else on this instance alone. The retired bundle is not loaded again
   * by convergence; publishing it again on purpose does.
   */
  async function retire(r: Retirement, retired: LoadedBundle, restored: LoadedBundle | null): Promise<void> {
    const why = {
      reason: "watchdog",
      code: "BUNDLE_BUDGET_EXCEEDED",
      retired_revision: retired.revision,
      retired_sha256: retired.sha256,
      strikes: r.strikes,
      stopped: r.stopped,
      slowest_ms: r.slowest_ms,
      window_ms: r.window_ms,
    };
    logger.error(
      why,
      "watchdog: the serving bundle's evaluations exceed their budget; back to the last good bundle",
    );
    let target: { sha256: string; revision: string; bytes: Buffer } | null = restored;
    if (!target) {
      // The newest earlier activation whose bytes are still stored (an older one may be pruned).
      const earlier = await store.activations(50).catch(() => []);
      for (const a of earlier) {
        if (a.sha256 === r.sha256 || refused.has(a.sha256)) continue;
        const bytes = await store.bytes(a.sha256).catch(() => null);
        if (bytes) {
          target = { sha256: a.sha256, revision: a.revision, bytes };
          break;
        }
      }
    }
    if (!target) {
      logger.error(
        why,
        "watchdog: no earlier bundle to return to; it keeps serving, each evaluation stopped at its limit",
      );
      await record(
        "bundle.rejected",
        { ...why, source: "watchdog", serving_revision: retired.revision },
        retired.revision,
        WATCHDOG,
      );
      return;
    }
    const activation = await store
      .activate({
        sha256: target.sha256,
        revision: target.revision,
        source: "watchdog",
        actor: WATCHDOG.principal,
        at: clock(),
        onWritten: recordActivation("bundle.rolled_back", WATCHDOG, why),
      })
      .catch((err) => {
        logger.error(
          { err },
          "watchdog: the cluster record could not be written; retired on this instance only",
        );
        return null;
      });
    if (activation) cluster = activation;
    if (!restored) {
      let bundle: LoadedBundle;
      try {
        bundle = await prepare(target.bytes, { checked: true });
      } catch (err) {
        logger.error(
          { err },
          "watchdog: the earlier bundle could not be loaded; the retired one keeps serving",
        );
        return;
      }
      await swapIn(bundle, "watchdog", WATCHDOG, "none");
    }
    if (activation) await announce(activation);
    else {
      await record(
        "bundle.rolled_back",
        { ...why, revision: target.revision, sha256: target.sha256, cluster: false },
        target.revision,
        WATCHDOG,
      );
    }
  }

  async function history(limit = 50, cursor?: string): Promise<BundleHistory> {
    const after = cursor ? decodeCursor(cursor, ["instant", "string"]) : null;
    const [rows, activations, active] = await Promise.all([
      store.list(limit, after ? { uploadedAt: String(after[0]), sha256: String(after[1]) } : undefined),
      store.activations(limit),
      store.active(),
    ]).catch((err) => {
      throw new AppError("STORE_UNAVAILABLE", "the bundle store (Postgres) is unavailable", { cause: err });
    });
    const page = pageOf(rows, limit, (b) => [b.uploaded_at.toISOString(), b.sha256]);
    return {
      next_cursor: page.next_cursor,
      items: page.items.map((b) => ({
        revision: b.revision,
        sha256: b.sha256,
        size_bytes: b.size_bytes,
        signed: b.signed,
        entrypoints: b.entrypoints,
        source: b.source,
        uploaded_by: b.uploaded_by,
        uploaded_at: b.uploaded_at.toISOString(),
        active: active?.sha256 === b.sha256,
        pruned_at: b.pruned_at ? b.pruned_at.toISOString() : null,
        archived_location: b.archived_location,
      })),
      activations: activations.map(activationView),
    };
  }

  async function activationHistory(limit = 50, cursor?: string): Promise<Page<BundleActivation>> {
    const before = cursor ? (decodeCursor(cursor, ["serial"])[0] as number) : undefined;
    const rows = await store.activations(limit + 1, before).catch((err) => {
      throw new AppError("STORE_UNAVAILABLE", "the bundle store (Postgres) is unavailable", { cause: err });
    });
    return pageOf(rows, limit, (a) => [a.generation], activationView);
  }

  // ---- start-up ---------------------------------------------------------------------------------
  let fileBytes: Buffer | null = null;
  if (deps.bundlePath) {
    try {
      fileBytes = await readFile(deps.bundlePath);
    } catch (err) {
      logger.warn({ err: toError(err), path: deps.bundlePath }, "bundle file unreadable at start-up");
    }
  }
  const fileSha = fileBytes ? sha256Hex(fileBytes) : null;
  const startupActor: Actor = { principal: "system", requestId: null };
  const tryPublishFile = async () => {
    try {
      await publish(fileBytes!, { source: "startup", actor: startupActor });
    } catch (err) {
      logger.error({ err: toError(err), path: deps.bundlePath }, "the bundle file could not be activated");
    }
  };
  const unseen = fileBytes !== null && fileSha !== null && !(await store.has(fileSha));
  if (unseen) await tryPublishFile();
  await sync(true);
  if (!unseen && !engine.current() && fileBytes && !(await store.active())) await tryPublishFile();
  const serving = engine.current();
  if (!serving) {
    // Not fatal: the service stays up, not ready, and answers 503 POLICY_UNAVAILABLE until a valid
    // bundle arrives (file change, push, or another instance).
    logger.error({ path: deps.bundlePath }, "no bundle could be activated at start-up");
  } else if (fileSha && serving.sha256 !== fileSha) {
    logger.warn(
      { serving: serving.revision, file: await revisionOf(fileBytes!), path: deps.bundlePath },
      "the bundle file differs from the cluster's active bundle (a rollback or a newer push); serving the cluster's",
    );
  }

  // ---- convergence ------------------------------------------------------------------------------
  const poll = setInterval(() => void sync(), deps.pollIntervalMs);
  poll.unref();

  let subscriber: Redis | null = null;
  if (deps.redis) {
    // A subscriber must queue while offline, and subscribes itself on every "ready" (below):
    // ioredis's own resubscribe has no catch, so a close during it rejected unhandled (faults).
    const sub = deps.redis.duplicate({
      enableOfflineQueue: true,
      commandTimeout: undefined,
      autoResubscribe: false,
    });
    subscriber = sub;
    sub.on("error", (err) => logger.warn({ err }, "redis bundle subscriber error"));
    sub.on("message", (from: string) => {
      if (from === channel) void sync();
    });
    // On every (re)connection: subscribe, and catch up on whatever was announced meanwhile.
    sub.on("ready", () => {
      sub
        .subscribe(channel)
        .catch((err) => logger.warn({ err }, "could not subscribe to bundle announcements"));
      void sync();
    });
    try {
      if (sub.status === "wait") await sub.connect();
      else if (sub.status === "ready") await sub.subscribe(channel);
    } catch (err) {
      logger.warn({ err }, "redis bundle subscriber not connected; relying on the periodic check");
    }
  }

  let watcher: BundleWatcher | null = null;
  if (deps.bundlePath && (deps.watch ?? true)) {
    const path = deps.bundlePath;
    watcher = watchBundleFile({
      path,
      initialSha256: fileSha,
      debounceMs: deps.watchDebounceMs ?? 300,
      pollIntervalMs: deps.pollIntervalMs,
      onBundle: async (bytes) => {
        try {
          const r = await publish(bytes, {
            source: "file",
            actor: { principal: `file:${path}`, requestId: null },
          });
          if (r.changed) logger.info({ revision: r.revision, path }, "bundle file published");
        } catch (err) {
          // Already logged, audited and counted as a rejection (or a store outage).
          if (!(err instanceof AppError && err.code === "POLICY_VIOLATION")) {
            logger.error({ err: toError(err), path }, "bundle file could not be published");
          }
        }
      },
      onError: (err, context) => logger.warn({ err, path }, context),
    });
  }

  return {
    engine,
    active: () => {
      const b = engine.current();
      return b ? summaryOf(b) : null;
    },
    history,
    activationHistory,
    publish,
    activate: activateStored,
    dryRun,
    sync: () => sync(),
    async close() {
      closed = true;
      clearInterval(poll);
      watcher?.close();
      await chain.catch(() => undefined);
      if (subscriber) {
        subscriber.removeAllListeners("ready");
        await subscriber.quit().catch(() => subscriber?.disconnect());
      }
      // Their evaluation threads end once what was sent to them is answered.
      engine.current()?.close?.();
      previousBundle?.close();
    },
  };
}

function activationView(a: ActivationRecord): BundleActivation {
  return {
    generation: a.generation,
    revision: a.revision,
    sha256: a.sha256,
    previous_revision: a.previous_revision,
    source: a.source,
    activated_by: a.activated_by,
    activated_at: a.activated_at.toISOString(),
  };
}
