import type { AuditReader, LatestRecord } from "../audit/types.ts";
import type { AccessResult, Entrypoint, InferenceResult } from "../domain/policy-contract.ts";
import type { Servable } from "../engine/index.ts";
import { toError } from "../errors.ts";

// Impact analysis: the last N audited decisions are replayed through a candidate bundle. A decision
// record holds exactly what the bundle saw (`payload.evaluation` + `payload.request`, including
// `now_ms`, health and overrides), so the replay is deterministic.
//
// "before" is what the ACTIVE bundle answers for that input now — the question a compliance engineer
// asks is "what changes if this goes live", not "what changed since each decision was recorded"
// (records made under an older revision would otherwise show changes that are already live). With no
// active bundle, the recorded answer is the baseline. Each example carries the recorded revision.

const REPLAYED_TYPES: Record<string, Entrypoint> = {
  "decision.access": "residency/decision",
  "decision.presign": "residency/decision",
  "decision.inference": "inference/route",
};

/** Evaluations between yields to the event loop: a large replay must not stall live decisions. */
const SLICE = 200;

export type Outcome = {
  allowed: boolean;
  reason_code: string | null;
  target_region: string | null;
  provider?: string | null;
  provider_region?: string | null;
};

export type DryRunExample = {
  event_id: string;
  type: string;
  tenant_id: string | null;
  learner_id: string | null;
  occurred_at: string;
  recorded_revision: string | null;
  before: Outcome;
  after: Outcome;
};

export type DryRunReport = {
  candidate: { revision: string; sha256: string };
  active_revision: string | null;
  baseline: "active" | "recorded";
  replayed: number;
  changed: number;
  unchanged: number;
  errors: number;
  window: { from: string | null; to: string | null };
  /** Counts per before → after reason code, most frequent first. */
  transitions: Array<{ before: string | null; after: string | null; count: number }>;
  examples: DryRunExample[];
  error_examples: Array<{ event_id: string; type: string; message: string }>;
};

/** A past decision as the audit reader returns it (a Date is accepted for the time too). */
export type AuditRow = Omit<LatestRecord, "occurred_at"> & { occurred_at: Date | string };

const iso = (v: Date | string) => new Date(v).toISOString();

type DecisionPayload = {
  request?: unknown;
  evaluation?: Record<string, unknown>;
  decision?: {
    allowed?: boolean;
    reason_code?: string;
    target_region?: string | null;
    provider?: string | null;
    provider_region?: string | null;
  };
};

function outcomeOf(entrypoint: Entrypoint, result: AccessResult | InferenceResult): Outcome {
  const base: Outcome = {
    allowed: result.allowed === true,
    reason_code: result.reason?.code ?? null,
    target_region: result.target_region ?? null,
  };
  if (entrypoint !== "inference/route") return base;
  const r = result as InferenceResult;
  return { ...base, provider: r.provider ?? null, provider_region: r.provider_region ?? null };
}

function recordedOutcome(entrypoint: Entrypoint, d: DecisionPayload["decision"]): Outcome {
  const base: Outcome = {
    allowed: d?.allowed === true,
    reason_code: d?.reason_code ?? null,
    target_region: d?.target_region ?? null,
  };
  if (entrypoint !== "inference/route") return base;
  return { ...base, provider: d?.provider ?? null, provider_region: d?.provider_region ?? null };
}

function same(a: Outcome, b: Outcome): boolean {
  return (
    a.allowed === b.allowed &&
    a.reason_code === b.reason_code &&
    a.target_region === b.target_region &&
    (a.provider ?? null) === (b.provider ?? null) &&
    (a.provider_region ?? null) === (b.provider_region ?? null)
  );
}

/** The last `limit` audited decisions, newest first: what a dry run replays. */
export function replayableRows(records: Pick<AuditReader, "latest">, limit: number): Promise<AuditRow[]> {
  // Past decisions come through the audit room's reader: this room never reads its table.
  return records.latest(Object.keys(REPLAYED_TYPES), limit);
}

export async function replayDecisions(
  deps: { records: Pick<AuditReader, "latest">; candidate: Servable; active: Servable | null },
  options: { limit: number; examples: number },
): Promise<DryRunReport> {
  return replayRows(await replayableRows(deps.records, options.limit), deps, options);
}

/** Replays `rows` (from replayableRows) through the candidate, against the active bundle. */
export async function replayRows(
  rows: AuditRow[],
  deps: { candidate: Servable; active: Servable | null },
  options: { examples: number },
): Promise<DryRunReport> {
  const report: DryRunReport = {
    candidate: { revision: deps.candidate.revision, sha256: deps.candidate.sha256 },
    active_revision: deps.active?.revision ?? null,
    baseline: deps.active ? "active" : "recorded",
    replayed: 0,
    changed: 0,
    unchanged: 0,
    errors: 0,
    window: {
      from: rows.length ? iso(rows[rows.length - 1]!.occurred_at) : null,
      to: rows.length ? iso(rows[0]!.occurred_at) : null,
    },
    transitions: [],
    examples: [],
    error_examples: [],
  };
  const transitions = new Map<string, { before: string | null; after: string | null; count: number }>();

  for (let i = 0; i < rows.length; i++) {
    if (i > 0 && i % SLICE === 0) await new Promise((resolve) => setImmediate(resolve));
    const row = rows[i]!;
    const entrypoint = REPLAYED_TYPES[row.type]!;
    const payload = (
      typeof row.payload === "string" ? JSON.parse(row.payload) : row.payload
    ) as DecisionPayload;
    report.replayed++;
    try {
      if (!payload?.evaluation || payload.request === undefined)
        throw new Error("record has no replayable input");
      const input = { ...payload.evaluation, request: payload.request };
      const after = outcomeOf(entrypoint, deps.candidate.evaluate(entrypoint, input, { fresh: true }));
      let before: Outcome;
      try {
        before = deps.active
          ? outcomeOf(entrypoint, deps.active.evaluate(entrypoint, input, { fresh: true }))
          : recordedOutcome(entrypoint, payload.decision);
      } catch {
        before = recordedOutcome(entrypoint, payload.decision);
      }
      if (same(before, after)) {
        report.unchanged++;
        continue;
      }
      report.changed++;
      const key = `${before.reason_code}\u0000${after.reason_code}`;
      const t = transitions.get(key) ?? { before: before.reason_code, after: after.reason_code, count: 0 };
      t.count++;
      transitions.set(key, t);
      if (report.examples.length < options.examples) {
        report.examples.push({
          event_id: row.event_id,
          type: row.type,
          tenant_id: row.tenant_id,
          learner_id: row.learner_id,
          occurred_at: iso(row.occurred_at),
          recorded_revision: row.bundle_revision,
          before,
          after,
        });
      }
    } catch (err) {
      report.errors++;
      if (report.error_examples.length < options.examples) {
        report.error_examples.push({ event_id: row.event_id, type: row.type, message: toError(err).message });
      }
    }
  }
  report.transitions = [...transitions.values()].sort((a, b) => b.count - a.count);
  return report;
}
