import type { Principal } from "../context/keys-repo.ts";
import type { AccessResult, InferenceResult } from "../domain/policy-contract.ts";
import type { Infrastructure } from "../endpoints/infrastructure.ts";

/** Who asked, and under which request id: every use case takes it, every audit record keeps it. */
export type Caller = { principal: Principal; requestId: string };

export type DecisionEnvelope = {
  decision_id: string;
  infrastructure: Infrastructure | null;
  policy: { policy_id: string; version: number } | null;
  bundle_revision: string;
  evaluated_at: string;
};

export type AccessDecision = DecisionEnvelope &
  Omit<AccessResult, "erasure_targets" | "deferred"> & {
    erasure_targets?: AccessResult["erasure_targets"];
    deferred?: AccessResult["deferred"];
  };
export type InferenceDecision = DecisionEnvelope & InferenceResult;
