import { decodeCursor, type Page, pageOf } from "../domain/page.ts";
import type { Db, InTx } from "../store/db.ts";

/** A legal hold as stored and shown (SPEC §11.A8). */
export type LegalHold = {
  tenant_id: string;
  learner_id: string | null;
  active: boolean;
  reason: string;
  reference: string;
  set_by: string;
  set_at: string;
};

type Row = Omit<LegalHold, "set_at"> & { set_at: Date };

const COLUMNS = "tenant_id, learner_id, active, reason, reference, set_by, set_at";
const toHold = (row: Row): LegalHold => ({ ...row, set_at: new Date(row.set_at).toISOString() });

export type LegalHoldsRepo = ReturnType<typeof createLegalHoldsRepo>;

type HoldFilter = {
  tenantIds: string[] | null;
  tenantId?: string | undefined;
  learnerId?: string | undefined;
  active?: boolean | undefined;
};

export function createLegalHoldsRepo(db: Db) {
  async function select(
    filter: HoldFilter & { limit?: number; cursor?: string | undefined },
  ): Promise<Page<LegalHold>> {
    const where: string[] = [];
    const args: unknown[] = [];
    const add = (sql: string, ...values: unknown[]) => {
      let text = sql;
      for (const value of values) {
        args.push(value);
        text = text.replace("?", `$${args.length}`);
      }
      where.push(text);
    };
    if (filter.tenantIds) add("tenant_id = ANY(?)", filter.tenantIds);
    if (filter.tenantId) add("tenant_id = ?", filter.tenantId);
    if (filter.learnerId) add("learner_id = ?", filter.learnerId);
    if (filter.active !== undefined) add("active = ?", filter.active);
    // The unique key (legal_holds_scope): a tenant's own hold has learner '' (ids are never empty).
    if (filter.cursor) {
      const [tenant, learner] = decodeCursor(filter.cursor, ["string", "string"]);
      add("(tenant_id, coalesce(learner_id, '')) > (?, ?)", tenant, learner);
    }
    const limit = filter.limit;
    if (limit !== undefined) args.push(limit + 1);
    const r = await db.query<Row>(
      `SELECT ${COLUMNS} FROM legal_holds ${where.length ? `WHERE ${where.join(" AND ")}` : ""}
       ORDER BY tenant_id, coalesce(learner_id, '')${limit !== undefined ? ` LIMIT $${args.length}` : ""}`,
      args,
    );
    const holds = r.rows.map(toHold);
    return limit === undefined
      ? { items: holds, next_cursor: null }
      : pageOf(holds, limit, (h) => [h.tenant_id, h.learner_id ?? ""]);
  }

  return {
    /**
     * Sets or releases the hold of one scope, returning it and the state it replaced; `onWritten`
     * (the audit record) runs in the same transaction, so neither commits without the other.
     */
    async put(
      hold: LegalHold,
      onWritten: InTx<{ hold: LegalHold; previous: LegalHold | null }>,
    ): Promise<{ hold: LegalHold; previous: LegalHold | null }> {
      return db.transaction(async (tx) => {
        await tx.query("SELECT pg_advisory_xact_lock(hashtext($1))", [
          `legal_hold:${hold.tenant_id}:${hold.learner_id ?? ""}`,
        ]);
        const before = await tx.query<Row>(
          `SELECT ${COLUMNS} FROM legal_holds WHERE tenant_id = $1 AND learner_id IS NOT DISTINCT FROM $2`,
          [hold.tenant_id, hold.learner_id],
        );
        const args = [
          hold.tenant_id,
          hold.learner_id,
          hold.active,
          hold.reason,
          hold.reference,
          hold.set_by,
          hold.set_at,
        ];
        const written = before.rows[0]
          ? await tx.query<Row>(
              `UPDATE legal_holds SET active = $3, reason = $4, reference = $5, set_by = $6, set_at = $7
               WHERE tenant_id = $1 AND learner_id IS NOT DISTINCT FROM $2 RETURNING ${COLUMNS}`,
              args,
            )
          : await tx.query<Row>(
              `INSERT INTO legal_holds (${COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING ${COLUMNS}`,
              args,
            );
        const result = {
          hold: toHold(written.rows[0]!),
          previous: before.rows[0] ? toHold(before.rows[0]) : null,
        };
        await onWritten(tx, result);
        return result;
      });
    },

    /**
     * The holds of the tenants in scope (null: all), optionally one learner's or only active ones,
     * by tenant then learner (the tenant's own hold first), a page at a time (the listing route).
     */
    list: (filter: HoldFilter & { limit: number; cursor?: string | undefined }): Promise<Page<LegalHold>> =>
      select(filter),

    /** Every hold the filter matches, unpaged: the holds shown beside the policies on one page. */
    async all(filter: HoldFilter): Promise<LegalHold[]> {
      return (await select(filter)).items;
    },

    /** The active holds that bear on a tenant's decisions: the tenant's own and its learners'. */
    async activeForTenant(tenantId: string): Promise<LegalHold[]> {
      const r = await db.query<Row>(
        `SELECT ${COLUMNS} FROM legal_holds WHERE tenant_id = $1 AND active ORDER BY learner_id NULLS FIRST`,
        [tenantId],
      );
      return r.rows.map(toHold);
    },
  };
}
