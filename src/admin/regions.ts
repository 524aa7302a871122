import { auditEvent } from "../audit/events.ts";
import type { AuditAppender } from "../audit/types.ts";
import type { LoadedBundle } from "../bundles/candidate.ts";
import type { HealthRecord, RegionsRepo } from "../context/regions-repo.ts";
import type { Caller } from "../decision/types.ts";
import { REGION_CODES, type RegionCode, type RegionHealth } from "../domain/vocabulary.ts";
import type { InfrastructureMap } from "../endpoints/infrastructure.ts";
import type { PolicyEngine } from "../engine/index.ts";
import { AppError } from "../errors.ts";

export type RegionView = {
  code: RegionCode;
  name: string;
  location: string;
  jurisdiction: string;
  certifications: string[];
  aws_region: string;
  health: RegionHealth;
  health_reason: string | null;
  health_updated_at: string | null;
  infrastructure: InfrastructureMap[RegionCode];
};

export function createRegionAdmin(deps: {
  repo: RegionsRepo;
  engine: Pick<PolicyEngine<LoadedBundle>, "current">;
  infrastructure: InfrastructureMap;
  audit: AuditAppender;
  invalidateRegions: () => Promise<void>;
  clock?: () => Date;
}) {
  const clock = deps.clock ?? (() => new Date());

  // Region facts (jurisdiction, certifications) come from the active bundle: compliance engineers
  // version them with the rules. Health comes from Postgres, infrastructure from configuration.
  function facts(code: RegionCode) {
    const bundle = deps.engine.current();
    if (!bundle) throw new AppError("POLICY_UNAVAILABLE", "no policy bundle is active yet");
    return bundle.reference.regions[code];
  }

  const toView = (code: RegionCode, health: HealthRecord | undefined): RegionView => {
    const f = facts(code);
    return {
      code,
      name: f.name,
      location: f.location,
      jurisdiction: f.jurisdiction,
      certifications: f.certifications,
      aws_region: f.aws_region,
      health: health?.status ?? "healthy",
      health_reason: health?.reason ?? null,
      health_updated_at: health?.updated_at ?? null,
      infrastructure: deps.infrastructure[code],
    };
  };

  return {
    async list(): Promise<RegionView[]> {
      const health = await deps.repo.health();
      return REGION_CODES.map((code) => toView(code, health[code]));
    },
    async get(code: RegionCode): Promise<RegionView> {
      const health = await deps.repo.health();
      return toView(code, health[code]);
    },
    async setHealth(
      code: RegionCode,
      status: RegionHealth,
      reason: string | null,
      caller: Caller,
    ): Promise<RegionView> {
      const now = clock();
      await deps.repo.setHealth(code, status, reason, caller.principal.principal, now, (tx, { previous }) =>
        deps.audit.appendInTx(tx, [
          auditEvent({
            type: "region.health_changed",
            occurred_at: now,
            actor: caller.principal.principal,
            request_id: caller.requestId,
            bundle_revision: deps.engine.current()?.revision ?? null,
            payload: { region: code, from: previous, to: status, reason },
          }),
        ]),
      );
      await deps.invalidateRegions();
      const health = await deps.repo.health();
      return toView(code, health[code]);
    },
  };
}

export type RegionAdmin = ReturnType<typeof createRegionAdmin>;
