import { randomUUID } from "node:crypto";
import { decodeCursor, type Page, pageOf } from "../domain/page.ts";
import { canonicalPrincipal } from "../domain/principal.ts";
import type { AccessOperation, RegionCode } from "../domain/vocabulary.ts";
import { AppError } from "../errors.ts";
import type { Db, InTx, Queryable } from "../store/db.ts";

export type OverrideStatus = "pending" | "active" | "expired" | "revoked";

const EXPIRED_KEPT_MS = 24 * 3_600_000;

export type OverrideRecord = {
  override_id: string;
  tenant_id: string;
  learner_ids: string[] | null;
  target_region: RegionCode;
  operations: AccessOperation[] | null;
  reason: string;
  ticket: string;
  duration_hours: number;
  requested_by: string;
  created_at: string;
  expires_at: string;
  activated_at: string | null;
  revoked_at: string | null;
  revoked_by: string | null;
  approvals: Array<{ principal: string; at: string }>;
  use_count: number;
  last_used_at: string | null;
  expiry_recorded: boolean;
};

type Row = Omit<
  OverrideRecord,
  "approvals" | "created_at" | "expires_at" | "activated_at" | "revoked_at" | "last_used_at"
> & {
  created_at: Date;
  expires_at: Date;
  activated_at: Date | null;
  revoked_at: Date | null;
  last_used_at: Date | null;
  approvals: Array<{ principal: string; at: string }> | null;
};

const iso = (d: Date | null) => (d ? new Date(d).toISOString() : null);

const SELECT = `SELECT o.*, (SELECT coalesce(json_agg(json_build_object('principal', a.principal, 'at', a.approved_at) ORDER BY a.approved_at), '[]'::json)
   FROM override_approvals a WHERE a.override_id = o.override_id) AS approvals FROM overrides o`;

// Names in canonical form (domain/principal.ts): approvals recorded before names were canonical
// must not count one person twice — here, in the bundle's input, or in the status shown.
function toRecord(row: Row): OverrideRecord {
  return {
    ...row,
    requested_by: canonicalPrincipal(row.requested_by),
    use_count: Number(row.use_count),
    created_at: iso(row.created_at)!,
    expires_at: iso(row.expires_at)!,
    activated_at: iso(row.activated_at),
    revoked_at: iso(row.revoked_at),
    last_used_at: iso(row.last_used_at),
    approvals: (row.approvals ?? []).map((a) => ({
      principal: canonicalPrincipal(a.principal),
      at: new Date(a.at).toISOString(),
    })),
  };
}

/** Status at `now` — computed, never stored, so expiry needs no sweeper to take effect. */
export function overrideStatus(o: OverrideRecord, requiredApprovals: number, now: Date): OverrideStatus {
  if (o.revoked_at) return "revoked";
  if (now.getTime() >= Date.parse(o.expires_at)) return "expired";
  // Compared in canonical form: keys made before names were canonicalised must not count twice.
  const requester = canonicalPrincipal(o.requested_by);
  const approvers = new Set(
    o.approvals.map((a) => canonicalPrincipal(a.principal)).filter((p) => p !== requester),
  );
  return approvers.size >= requiredApprovals ? "active" : "pending";
}

export type OverridesRepo = ReturnType<typeof createOverridesRepo>;

export function createOverridesRepo(db: Db) {
  async function get(q: Queryable, id: string): Promise<OverrideRecord | null> {
    const r = await q.query<Row>(`${SELECT} WHERE o.override_id = $1`, [id]);
    return r.rows[0] ? toRecord(r.rows[0]) : null;
  }

  return {
    get: (id: string) => get(db, id),

    async create(args: {
      tenantId: string;
      learnerIds: string[] | null;
      targetRegion: RegionCode;
      operations: AccessOperation[] | null;
      reason: string;
      ticket: string;
      durationHours: number;
      requestedBy: string;
      now: Date;
      onWritten?: InTx<OverrideRecord>;
    }): Promise<OverrideRecord> {
      const id = `ovr_${randomUUID().replaceAll("-", "")}`;
      const expires = new Date(args.now.getTime() + args.durationHours * 3_600_000);
      return db.transaction(async (tx) => {
        await tx.query(
          `INSERT INTO overrides (override_id, tenant_id, learner_ids, target_region, operations, reason, ticket,
             duration_hours, requested_by, created_at, expires_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
          [
            id,
            args.tenantId,
            args.learnerIds,
            args.targetRegion,
            args.operations,
            args.reason,
            args.ticket,
            args.durationHours,
            args.requestedBy,
            args.now.toISOString(),
            expires.toISOString(),
          ],
        );
        const created = (await get(tx, id))!;
        await args.onWritten?.(tx, created);
        return created;
      });
    },

    /** Adds an approval; returns the record after it and whether this approval activated it. */
    async approve(
      id: string,
      principal: string,
      requiredApprovals: number,
      now: Date,
      onWritten?: InTx<{ record: OverrideRecord; activated: boolean }>,
    ) {
      return db.transaction(async (tx) => {
        await tx.query("SELECT 1 FROM overrides WHERE override_id = $1 FOR UPDATE", [id]);
        const before = await get(tx, id);
        if (!before) throw new AppError("NOT_FOUND", `override ${id} not found`);
        const statusBefore = overrideStatus(before, requiredApprovals, now);
        if (statusBefore === "revoked" || statusBefore === "expired") {
          throw new AppError("CONFLICT", `override ${id} is ${statusBefore}`);
        }
        const inserted = await tx.query(
          "INSERT INTO override_approvals (override_id, principal, approved_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
          [id, principal, now.toISOString()],
        );
        let after = (await get(tx, id))!;
        const activated =
          statusBefore === "pending" && overrideStatus(after, requiredApprovals, now) === "active";
        if (activated) {
          await tx.query("UPDATE overrides SET activated_at = $2 WHERE override_id = $1", [
            id,
            now.toISOString(),
          ]);
          after = (await get(tx, id))!;
        }
        if (inserted.rowCount > 0) await onWritten?.(tx, { record: after, activated });
        return { record: after, activated, duplicate: inserted.rowCount === 0 };
      });
    },

    async revoke(
      id: string,
      principal: string,
      reason: string | null,
      now: Date,
      onWritten?: InTx<OverrideRecord>,
    ): Promise<OverrideRecord> {
      return db.transaction(async (tx) => {
        const r = await tx.query(
          "UPDATE overrides SET revoked_at = $2, revoked_by = $3, revoke_reason = $4 WHERE override_id = $1 AND revoked_at IS NULL",
          [id, now.toISOString(), principal, reason],
        );
        const record = await get(tx, id);
        if (!record) throw new AppError("NOT_FOUND", `override ${id} not found`);
        if (r.rowCount === 0) throw new AppError("CONFLICT", `override ${id} is already revoked`);
        await onWritten?.(tx, record);
        return record;
      });
    },

    /** Overrides that could still apply to a decision (not revoked, not past expiry by a margin). */
    /**
     * The overrides a decision may still meet: not revoked, and not expired for longer than a day
     * (a recently expired one stays so a request naming it hears DENY_OVERRIDE_EXPIRED; older ones
     * would only grow every decision's input and audit record).
     */
    /** Every override ever approved (activated) for the tenant, revoked or expired since: a write may have used it. */
    async approvedTargets(
      tenantId: string,
    ): Promise<Array<{ target_region: RegionCode; learner_ids: string[] | null }>> {
      const r = await db.query<{ target_region: RegionCode; learner_ids: string[] | null }>(
        "SELECT target_region, learner_ids FROM overrides WHERE tenant_id = $1 AND activated_at IS NOT NULL",
        [tenantId],
      );
      return r.rows;
    },

    async liveForTenant(tenantId: string, now: Date): Promise<OverrideRecord[]> {
      const r = await db.query<Row>(
        `${SELECT} WHERE o.tenant_id = $1 AND o.revoked_at IS NULL AND o.expires_at > $2 ORDER BY o.created_at`,
        [tenantId, new Date(now.getTime() - EXPIRED_KEPT_MS).toISOString()],
      );
      return r.rows.map(toRecord);
    },

    /** Newest first; the status filter runs in SQL so `limit` counts matching overrides. */
    async list(filter: {
      tenantIds: string[] | null;
      tenantId?: string;
      status?: OverrideStatus;
      requiredApprovals: number;
      now: Date;
      limit: number;
      cursor?: string | undefined;
    }): Promise<Page<OverrideRecord>> {
      const where: string[] = [];
      const params: unknown[] = [];
      const add = (sql: (p: string) => string, value: unknown) => {
        params.push(value);
        where.push(sql(`$${params.length}`));
      };
      if (filter.tenantIds) add((p) => `o.tenant_id = ANY(${p})`, filter.tenantIds);
      if (filter.tenantId) add((p) => `o.tenant_id = ${p}`, filter.tenantId);
      if (filter.status) {
        // The same rules as overrideStatus(), in SQL.
        const now = filter.now.toISOString();
        const approvers = `(SELECT count(*) FROM override_approvals a WHERE a.override_id = o.override_id AND a.principal <> o.requested_by)`;
        if (filter.status === "revoked") where.push("o.revoked_at IS NOT NULL");
        if (filter.status === "expired") add((p) => `o.revoked_at IS NULL AND o.expires_at <= ${p}`, now);
        if (filter.status === "active" || filter.status === "pending") {
          add((p) => `o.revoked_at IS NULL AND o.expires_at > ${p}`, now);
          add(
            (p) => `${approvers} ${filter.status === "active" ? ">=" : "<"} ${p}`,
            filter.requiredApprovals,
          );
        }
      }
      if (filter.cursor) {
        const [createdAt, id] = decodeCursor(filter.cursor, ["instant", "string"]);
        params.push(createdAt, id);
        where.push(`(o.created_at, o.override_id) < ($${params.length - 1}::timestamptz, $${params.length})`);
      }
      params.push(filter.limit + 1);
      const r = await db.query<Row>(
        `${SELECT} ${where.length ? `WHERE ${where.join(" AND ")}` : ""} ORDER BY o.created_at DESC, o.override_id DESC LIMIT $${params.length}`,
        params,
      );
      return pageOf(r.rows.map(toRecord), filter.limit, (o) => [o.created_at, o.override_id]);
    },

    async recordUse(id: string, now: Date): Promise<void> {
      await db.query(
        "UPDATE overrides SET use_count = use_count + 1, last_used_at = $2 WHERE override_id = $1",
        [id, now.toISOString()],
      );
    },

    /**
     * Expired overrides whose expiry has not been recorded yet: marks them and runs `onWritten`
     * (the audit record) in the same transaction, so several instances never record one twice.
     */
    async claimNewlyExpired(now: Date, onWritten?: InTx<OverrideRecord[]>): Promise<OverrideRecord[]> {
      return db.transaction(async (tx) => {
        const r = await tx.query<{ override_id: string }>(
          `UPDATE overrides SET expiry_recorded = true
           WHERE NOT expiry_recorded AND revoked_at IS NULL AND expires_at <= $1 RETURNING override_id`,
          [now.toISOString()],
        );
        const out: OverrideRecord[] = [];
        for (const row of r.rows) {
          const rec = await get(tx, row.override_id);
          if (rec) out.push(rec);
        }
        if (out.length > 0) await onWritten?.(tx, out);
        return out;
      });
    },

    async countActive(requiredApprovals: number, now: Date): Promise<number> {
      const r = await db.query<Row>(`${SELECT} WHERE o.revoked_at IS NULL AND o.expires_at > $1`, [
        now.toISOString(),
      ]);
      return r.rows.map(toRecord).filter((o) => overrideStatus(o, requiredApprovals, now) === "active")
        .length;
    },
  };
}
