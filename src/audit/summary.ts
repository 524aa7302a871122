// The console's overview: decisions per hour by outcome and the most frequent deny codes over a
// recent window, counted in the database so the page never pages through a day of records.

import type { Db } from "../store/db.ts";
import { compileFilters, whereClause } from "./query.ts";
import type { AuditSummary } from "./types.ts";

export type { AuditSummary };

const HOUR_MS = 3_600_000;

export async function summarizeDecisions(
  db: Pick<Db, "query">,
  options: { hours: number; now: Date; tenant_ids?: readonly string[] | null },
): Promise<AuditSummary> {
  // Whole hours: the current hour is the last bucket, partly filled.
  const end = Math.floor(options.now.getTime() / HOUR_MS) * HOUR_MS + HOUR_MS;
  const start = end - options.hours * HOUR_MS;
  const params: unknown[] = [];
  const where = compileFilters(
    { tenant_ids: options.tenant_ids ?? null, from: new Date(start).toISOString() },
    params,
  );
  where.push("type LIKE 'decision.%'");
  const clause = whereClause(where);
  const [perHour, codes] = await Promise.all([
    db.query<{ bucket: string | number; allowed: string | null; n: string | number }>(
      `SELECT floor(extract(epoch FROM occurred_at) / 3600) AS bucket,
              payload->'decision'->>'allowed' AS allowed, count(*) AS n
         FROM audit_log ${clause} GROUP BY 1, 2`,
      params,
    ),
    db.query<{ code: string; n: string | number }>(
      `SELECT payload->'decision'->>'reason_code' AS code, count(*) AS n
         FROM audit_log ${clause} AND payload->'decision'->>'allowed' = 'false'
        GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 10`,
      params,
    ),
  ]);
  const hours = Array.from({ length: options.hours }, (_, i) => ({
    hour: new Date(start + i * HOUR_MS).toISOString(),
    allowed: 0,
    denied: 0,
  }));
  for (const row of perHour.rows) {
    const bucket = hours[Number(row.bucket) - start / HOUR_MS];
    if (!bucket) continue; // a record stamped in the future (clock skew) is not this window's
    if (row.allowed === "true") bucket.allowed += Number(row.n);
    else bucket.denied += Number(row.n);
  }
  return {
    from: new Date(start).toISOString(),
    to: new Date(end).toISOString(),
    hours,
    top_deny_codes: codes.rows.map((r) => ({ code: r.code, count: Number(r.n) })),
  };
}
