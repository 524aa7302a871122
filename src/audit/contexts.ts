// Compact decision records (docs/decisions/0007): the evaluation context a decision was taken in
// (effective policy, region health, overrides, settings — ~1.3 KB) repeats across thousands of
// decisions, so it is stored once in audit_contexts, addressed by the sha256 of its canonical JSON,
// and each record keeps only that hash (and its own `now_ms`, which differs every time):
//
//   payload.evaluation = {"context_sha256": "<hex>", "now_ms": 1733068800000}
//
// The record's hash covers the reference, and the reference is the hash of the context, so the
// chain covers the context. Readers (dry runs, replays, archives) get the exact input back with
// expandPayload. Records written before this keep their inline `evaluation` and verify as ever:
// the hashing rule did not change, only what the writer puts in the payload.

import { createHash } from "node:crypto";
import { LRUCache } from "lru-cache";
import { identityOf } from "../domain/sealed.ts";
import type { Queryable } from "../store/db.ts";
import { canonicalJsonReusing } from "./canonical.ts";

export type ContextRef = { context_sha256: string; now_ms?: number };

export type StoredContext = { sha256: string; json: string };

/** The sha256 of context texts seen lately, by text (a few MiB at most). */
const recentHashes = new LRUCache<string, string>({ max: 2_000 });

/**
 * Contexts seen lately, by the identity of their members: a context assembled from the same sealed
 * (never changing) cached values has the same text and hash, found without printing or hashing
 * its ~1.3 KB again.
 */
const byMembers = new LRUCache<string, StoredContext>({ max: 2_000 });

/** The members' names and identities; null when a member is not sealed (its text must be built). */
function membersKey(context: Record<string, unknown>): string | null {
  let key = "";
  for (const name of Object.keys(context)) {
    const member = context[name];
    const id = member === null ? "null" : identityOf(member);
    if (id === undefined) return null;
    key += `${JSON.stringify(name)}=${id};`;
  }
  return key;
}

/**
 * The compact form of a payload whose `evaluation` is an object: the payload to hash and store,
 * and the context to store beside it. Anything else is returned unchanged with no context.
 */
export function compactPayload(payload: unknown): { payload: unknown; context: StoredContext | null } {
  if (payload === null || typeof payload !== "object" || Array.isArray(payload))
    return { payload, context: null };
  const evaluation = (payload as { evaluation?: unknown }).evaluation;
  if (evaluation === null || typeof evaluation !== "object" || Array.isArray(evaluation)) {
    return { payload, context: null };
  }
  if (Object.hasOwn(evaluation, "context_sha256")) return { payload, context: null }; // already compact
  const { now_ms, ...context } = evaluation as Record<string, unknown>;
  const key = membersKey(context);
  let stored = key === null ? undefined : byMembers.get(key);
  if (stored === undefined) {
    stored = storedContext(context);
    if (key !== null) byMembers.set(key, stored);
  }
  const ref: ContextRef =
    now_ms === undefined
      ? { context_sha256: stored.sha256 }
      : { context_sha256: stored.sha256, now_ms: now_ms as number };
  return { payload: { ...(payload as object), evaluation: ref }, context: stored };
}

function storedContext(context: Record<string, unknown>): StoredContext {
  // Most of it is sealed, cached values: their text is reused, and so is the hash of a text seen
  // lately (thousands of decisions share one context).
  const json = canonicalJsonReusing(context);
  let sha256 = recentHashes.get(json);
  if (sha256 === undefined) {
    sha256 = createHash("sha256").update(json).digest("hex");
    recentHashes.set(json, sha256);
  }
  return { sha256, json };
}

export function contextRefOf(payload: unknown): string | null {
  const evaluation = (payload as { evaluation?: { context_sha256?: unknown } } | null)?.evaluation;
  return typeof evaluation?.context_sha256 === "string" ? evaluation.context_sha256 : null;
}

/** The payload with its evaluation context back in place (as the bundle saw it). */
export function expandPayload(payload: unknown, contexts: ReadonlyMap<string, unknown>): unknown {
  const sha = contextRefOf(payload);
  if (sha === null) return payload;
  const context = contexts.get(sha);
  if (context === undefined) throw new Error(`audit context ${sha} is missing`);
  const { evaluation, ...rest } = payload as { evaluation: ContextRef };
  const expanded =
    evaluation.now_ms === undefined
      ? { ...(context as object) }
      : { ...(context as object), now_ms: evaluation.now_ms };
  return { ...rest, evaluation: expanded };
}

/** The contexts these payloads reference, parsed, from the store. */
export async function loadContexts(
  db: Queryable,
  payloads: readonly unknown[],
): Promise<Map<string, unknown>> {
  const wanted = [...new Set(payloads.map(contextRefOf).filter((s): s is string => s !== null))];
  const out = new Map<string, unknown>();
  if (wanted.length === 0) return out;
  const { rows } = await db.query<{ sha256: string; body: string }>(
    "SELECT sha256, body::text AS body FROM audit_contexts WHERE sha256 = ANY($1::text[])",
    [wanted],
  );
  for (const row of rows) out.set(row.sha256, JSON.parse(row.body));
  return out;
}

/** One stored context, as the exact canonical text its sha256 was taken of (null: none such). */
export async function readContext(db: Queryable, sha256: string): Promise<string | null> {
  const { rows } = await db.query<{ body: string }>(
    "SELECT body::text AS body FROM audit_contexts WHERE sha256 = $1",
    [sha256],
  );
  return rows[0]?.body ?? null;
}

/** Rows of decision records with their payloads expanded (what dry runs replay). */
export async function expandRows<T extends { payload: unknown }>(db: Queryable, rows: T[]): Promise<T[]> {
  const parsed = rows.map((r) => ({
    ...r,
    payload: typeof r.payload === "string" ? JSON.parse(r.payload) : r.payload,
  }));
  const contexts = await loadContexts(
    db,
    parsed.map((r) => r.payload),
  );
  return parsed.map((r) => {
    try {
      return { ...r, payload: expandPayload(r.payload, contexts) };
    } catch {
      return r; // a missing context: the replay reports the record as not replayable
    }
  });
}

/** Inserts contexts not stored yet (one statement; a context already there is left as it is). */
export async function storeContexts(tx: Queryable, contexts: readonly StoredContext[]): Promise<void> {
  if (contexts.length === 0) return;
  const params: string[] = [];
  const tuples = contexts.map((c) => {
    params.push(c.sha256, c.json);
    return `($${params.length - 1}, $${params.length})`;
  });
  await tx.query(
    `INSERT INTO audit_contexts (sha256, body) VALUES ${tuples.join(", ")} ON CONFLICT (sha256) DO NOTHING`,
    params,
  );
}
