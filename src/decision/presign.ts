import type { InfrastructureMap } from "../endpoints/infrastructure.ts";
import type { Presigner } from "../endpoints/presigner.ts";
import { AppError, toError } from "../errors.ts";
import type { Decide } from "./decide.ts";
import type { PresignRequest } from "./requests.ts";
import type { AccessDecision, Caller } from "./types.ts";

export type PresignDecision = AccessDecision & {
  url?: string;
  method?: "GET" | "PUT";
  bucket?: string;
  key?: string;
  expires_at?: string;
};

/** A storage decision and, when allowed, a URL that can only reach the decided region's bucket. */
export function createPresign(deps: {
  decide: Decide;
  presigner: Presigner;
  infrastructure: InfrastructureMap;
}) {
  return async function presign(body: PresignRequest, caller: Caller): Promise<PresignDecision> {
    const { decision } = await deps.decide.decideAccess(
      {
        tenant_id: body.tenant_id,
        learner_id: body.learner_id,
        operation_type: body.operation,
        resource_type: body.resource_type ?? "object",
        resource_id: body.key,
        requested_region: body.requested_region,
        purpose: body.purpose,
        override_id: body.override_id,
      },
      caller,
      {
        auditType: "decision.presign",
        enrich: async (d) => {
          if (!d.allowed || !d.target_region) return { response: {}, audit: {} };
          // Keys live under the tenant's prefix: one tenant's URL can never name another's object.
          const key = `${body.tenant_id}/${body.key}`;
          const bucket = deps.infrastructure[d.target_region].storage.bucket;
          const method = body.operation === "read" ? "GET" : "PUT";
          let url: string;
          try {
            url = await deps.presigner({
              region: d.target_region,
              bucket,
              key,
              method,
              expiresIn: body.expires_in,
            });
          } catch (err) {
            throw new AppError("STORE_UNAVAILABLE", `could not sign a storage URL: ${toError(err).message}`, {
              cause: err,
            });
          }
          const expires_at = new Date(Date.parse(d.evaluated_at) + body.expires_in * 1000).toISOString();
          // The URL is a bearer credential: the audit keeps where it points and until when, not the URL.
          return {
            response: { url, method, bucket, key, expires_at },
            audit: { bucket, key, method, expires_at },
          };
        },
      },
    );
    return decision as PresignDecision;
  };
}
