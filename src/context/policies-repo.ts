import { randomUUID } from "node:crypto";
import { decodeCursor, type Page, pageOf } from "../domain/page.ts";
import type { PolicyDocument, StoredPolicy } from "../domain/policy.ts";
import { AppError } from "../errors.ts";
import type { Db, InTx, Queryable } from "../store/db.ts";

type PolicyRow = {
  policy_id: string;
  version: number;
  tenant_id: string;
  learner_id: string | null;
  document: PolicyDocument;
  is_active: boolean;
  policy_created_at: Date;
  created_at: Date;
  created_by: string;
};

const COLUMNS =
  "policy_id, version, tenant_id, learner_id, document, is_active, policy_created_at, created_at, created_by";

function toStored(row: PolicyRow): StoredPolicy {
  return {
    policy_id: row.policy_id,
    version: row.version,
    tenant_id: row.tenant_id,
    learner_id: row.learner_id,
    is_active: row.is_active,
    created_at: new Date(row.policy_created_at).toISOString(),
    updated_at: new Date(row.created_at).toISOString(),
    created_by: row.created_by,
    document: row.document,
  };
}

export type PoliciesRepo = ReturnType<typeof createPoliciesRepo>;

export function createPoliciesRepo(db: Db) {
  async function activeFor(
    q: Queryable,
    tenantId: string,
    learnerId: string | null,
  ): Promise<StoredPolicy | null> {
    const r = await q.query<PolicyRow>(
      `SELECT ${COLUMNS} FROM policies WHERE tenant_id = $1 AND learner_id IS NOT DISTINCT FROM $2 AND is_active`,
      [tenantId, learnerId],
    );
    return r.rows[0] ? toStored(r.rows[0]) : null;
  }

  /** Latest version of a policy id, whether active or not. */
  async function latest(q: Queryable, policyId: string): Promise<StoredPolicy | null> {
    const r = await q.query<PolicyRow>(
      `SELECT ${COLUMNS} FROM policies WHERE policy_id = $1 ORDER BY version DESC LIMIT 1`,
      [policyId],
    );
    return r.rows[0] ? toStored(r.rows[0]) : null;
  }

  /**
   * Writes a new version for the document's tenant/learner scope and makes it the active one.
   * `expectedVersion` (If-Match) must equal the current latest version of `policyId`.
   */
  async function writeVersion(args: {
    document: PolicyDocument;
    actor: string;
    policyId?: string;
    expectedVersion?: number;
    now: Date;
    /** Runs in the same transaction (the audit record): both commit or neither. */
    onWritten?: InTx<StoredPolicy>;
  }): Promise<StoredPolicy> {
    const { document, actor, now } = args;
    const learnerId = document.learner_id ?? null;
    return db.transaction(async (tx) => {
      // Serialise writers of one scope: versions must not fork.
      await tx.query("SELECT pg_advisory_xact_lock(hashtext($1))", [
        `policy:${document.tenant_id}:${learnerId ?? ""}`,
      ]);
      let previous: StoredPolicy | null;
      if (args.policyId) {
        previous = await latest(tx, args.policyId);
        if (!previous) throw new AppError("NOT_FOUND", `policy ${args.policyId} not found`);
        if (args.expectedVersion !== undefined && args.expectedVersion !== previous.version) {
          throw new AppError(
            "CONFLICT",
            `policy ${args.policyId} is at version ${previous.version}, not ${args.expectedVersion}`,
            {
              details: { current_version: previous.version },
            },
          );
        }
      } else {
        const r = await tx.query<PolicyRow>(
          `SELECT ${COLUMNS} FROM policies WHERE tenant_id = $1 AND learner_id IS NOT DISTINCT FROM $2 ORDER BY version DESC LIMIT 1`,
          [document.tenant_id, learnerId],
        );
        previous = r.rows[0] ? toStored(r.rows[0]) : null;
      }
      const policyId = previous?.policy_id ?? `pol_${randomUUID().replaceAll("-", "")}`;
      const version = (previous?.version ?? 0) + 1;
      await tx.query(
        "UPDATE policies SET is_active = false WHERE tenant_id = $1 AND learner_id IS NOT DISTINCT FROM $2 AND is_active",
        [document.tenant_id, learnerId],
      );
      const r = await tx.query<PolicyRow>(
        `INSERT INTO policies (${COLUMNS}) VALUES ($1, $2, $3, $4, $5, true, $6, $7, $8) RETURNING ${COLUMNS}`,
        [
          policyId,
          version,
          document.tenant_id,
          learnerId,
          JSON.stringify(document),
          previous ? previous.created_at : now.toISOString(),
          now.toISOString(),
          actor,
        ],
      );
      const stored = toStored(r.rows[0]!);
      await args.onWritten?.(tx, stored);
      return stored;
    });
  }

  return {
    activeFor: (tenantId: string, learnerId: string | null) => activeFor(db, tenantId, learnerId),
    latest: (policyId: string) => latest(db, policyId),
    writeVersion,

    /**
     * Every version, active or not, of the tenant-wide policy and of one learner's policy (learner
     * null: of every learner policy of the tenant), newest first — what erasure must reach.
     */
    async versionsFor(tenantId: string, learnerId: string | null): Promise<StoredPolicy[]> {
      const r = await db.query<PolicyRow>(
        `SELECT ${COLUMNS} FROM policies
         WHERE tenant_id = $1 AND (learner_id IS NULL OR $2::text IS NULL OR learner_id = $2)
         ORDER BY version DESC`,
        [tenantId, learnerId],
      );
      return r.rows.map(toStored);
    },

    /** Every active learner policy of a tenant (a tenant change must keep them valid, SPEC §11.A7). */
    async activeLearners(tenantId: string): Promise<StoredPolicy[]> {
      const r = await db.query<PolicyRow>(
        `SELECT ${COLUMNS} FROM policies WHERE tenant_id = $1 AND learner_id IS NOT NULL AND is_active ORDER BY learner_id`,
        [tenantId],
      );
      return r.rows.map(toStored);
    },

    async history(policyId: string): Promise<StoredPolicy[]> {
      const r = await db.query<PolicyRow>(
        `SELECT ${COLUMNS} FROM policies WHERE policy_id = $1 ORDER BY version DESC`,
        [policyId],
      );
      return r.rows.map(toStored);
    },

    async list(filter: {
      tenantIds: string[] | null;
      tenantId?: string;
      learnerId?: string;
      includeInactive: boolean;
      limit: number;
      cursor?: string | undefined;
    }): Promise<Page<StoredPolicy>> {
      // One row per policy: the latest version (active ones only unless asked).
      const where: string[] = [];
      const params: unknown[] = [];
      if (filter.tenantIds) {
        params.push(filter.tenantIds);
        where.push(`tenant_id = ANY($${params.length})`);
      }
      if (filter.tenantId) {
        params.push(filter.tenantId);
        where.push(`tenant_id = $${params.length}`);
      }
      if (filter.learnerId) {
        params.push(filter.learnerId);
        where.push(`learner_id = $${params.length}`);
      }
      // Keyset on the listing's own order; '' sorts before every id, as NULLS FIRST did.
      const outer: string[] = filter.includeInactive ? [] : ["is_active"];
      if (filter.cursor) {
        const [tenant, learner, policy] = decodeCursor(filter.cursor, ["string", "string", "string"]);
        params.push(tenant, learner, policy);
        const n = params.length;
        outer.push(`(tenant_id, coalesce(learner_id, ''), policy_id) > ($${n - 2}, $${n - 1}, $${n})`);
      }
      params.push(filter.limit + 1);
      const r = await db.query<PolicyRow>(
        `SELECT * FROM (
           SELECT DISTINCT ON (policy_id) ${COLUMNS} FROM policies
           ${where.length ? `WHERE ${where.join(" AND ")}` : ""}
           ORDER BY policy_id, version DESC
         ) latest ${outer.length ? `WHERE ${outer.join(" AND ")}` : ""}
         ORDER BY tenant_id, coalesce(learner_id, ''), policy_id LIMIT $${params.length}`,
        params,
      );
      return pageOf(
        r.rows,
        filter.limit,
        (row) => [row.tenant_id, row.learner_id ?? "", row.policy_id],
        toStored,
      );
    },

    async deactivate(policyId: string, onWritten?: InTx<StoredPolicy>): Promise<StoredPolicy> {
      return db.transaction(async (tx) => {
        const r = await tx.query<PolicyRow>(
          `UPDATE policies SET is_active = false WHERE policy_id = $1 AND is_active RETURNING ${COLUMNS}`,
          [policyId],
        );
        if (r.rows[0]) {
          const stored = toStored(r.rows[0]);
          await onWritten?.(tx, stored);
          return stored;
        }
        const current = await latest(tx, policyId);
        if (!current) throw new AppError("NOT_FOUND", `policy ${policyId} not found`);
        return current; // already inactive: idempotent
      });
    },
  };
}
