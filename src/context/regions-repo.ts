import type { RegionCode, RegionHealth } from "../domain/vocabulary.ts";
import type { Db, InTx } from "../store/db.ts";

export type HealthRecord = {
  status: RegionHealth;
  reason: string | null;
  updated_at: string | null;
  updated_by: string | null;
};

export type RegionsRepo = ReturnType<typeof createRegionsRepo>;

export function createRegionsRepo(db: Db) {
  return {
    /** Only regions an operator has touched; the rest are healthy by default. */
    async health(): Promise<Partial<Record<RegionCode, HealthRecord>>> {
      const r = await db.query<{
        code: RegionCode;
        status: RegionHealth;
        reason: string | null;
        updated_at: Date;
        updated_by: string;
      }>("SELECT code, status, reason, updated_at, updated_by FROM region_health");
      const out: Partial<Record<RegionCode, HealthRecord>> = {};
      for (const row of r.rows) {
        out[row.code] = {
          status: row.status,
          reason: row.reason,
          updated_at: new Date(row.updated_at).toISOString(),
          updated_by: row.updated_by,
        };
      }
      return out;
    },

    async setHealth(
      code: RegionCode,
      status: RegionHealth,
      reason: string | null,
      actor: string,
      now: Date,
      onWritten?: InTx<{ previous: RegionHealth }>,
    ) {
      return db.transaction(async (tx) => {
        const r = await tx.query<{ previous: RegionHealth | null }>(
          `WITH prev AS (SELECT status FROM region_health WHERE code = $1)
         INSERT INTO region_health (code, status, reason, updated_at, updated_by) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (code) DO UPDATE SET status = EXCLUDED.status, reason = EXCLUDED.reason,
           updated_at = EXCLUDED.updated_at, updated_by = EXCLUDED.updated_by
         RETURNING (SELECT status FROM prev) AS previous`,
          [code, status, reason, now.toISOString(), actor],
        );
        const written = { previous: r.rows[0]?.previous ?? ("healthy" as RegionHealth) };
        await onWritten?.(tx, written);
        return written;
      });
    },
  };
}
