# METADATA
# title: Inference route
# description: >-
#   Entrypoint `inference/route` (SPEC §5, docs/policy-contract.md): the decision
#   fields plus the chosen provider. Every rule of this package is a wire field
#   and always defined; `inference.outcome` decides.
# related_resources:
#   - ref: ../shared/SPEC.md#5-inference-routing-entrypoint-inferenceroute
#   - ref: ../docs/policy-contract.md
package inference.route

import data.inference.outcome as routing
import data.residency.legal
import data.residency.obligations as duties
import data.residency.overrides
import data.residency.policy
import data.residency.tenant

default allowed := false

# METADATA
# title: Allowed
# description: Whether the inference may proceed.
allowed := routing.outcome.allowed

default target_region := null

# METADATA
# title: Target region
# description: The region the inference runs in; null when denied.
target_region := routing.outcome.target

default reason := {
	"code": "DENY_NO_POLICY",
	"decided_by": "fail_closed",
	"framework": null,
	"message": "the policy could not be evaluated; failing closed",
}

# METADATA
# title: Reason
# description: "`{code, decided_by, framework, message}` of the rule that decided."
reason := routing.outcome.reason

default reasons := []

# METADATA
# title: Reasons
# description: The deciding reason first, then supporting findings (other laws, gates, rejected providers).
reasons := array.concat([routing.outcome.reason], routing.outcome.supporting)

# METADATA
# title: Legal regions
# description: >-
#   L_route of the entry chosen, or on a deny of the entry whose check produced the
#   code; L_access when no entry decided (SPEC §11.A2.2). Sorted.
legal_regions := legal.ordered_for(routing.outcome.entry) if {
	routing.outcome.entry != null
} else := legal.ordered

# METADATA
# title: Permitted regions
# description: T_route of the same entry, else T (SPEC §11.A5). Sorted.
permitted_regions := tenant.ordered_for(routing.outcome.entry) if {
	routing.outcome.entry != null
} else := tenant.ordered

# METADATA
# title: Eliminated
# description: Each region outside that T and why (SPEC §4.7).
eliminated := tenant.eliminated_for(routing.outcome.entry) if {
	routing.outcome.entry != null
} else := tenant.eliminated

# METADATA
# title: Frameworks
# description: The applicable frameworks, sorted.
frameworks := sort(policy.frameworks)

default obligations := {
	"retention_days": null,
	"erasure_deadline_days": null,
	"erasure_deadline_framework": null,
	"encryption_at_rest": true,
	"notify": [],
	"dpia_required": false,
	"art9_condition_required": false,
	"ai_act_high_risk": null,
	"legal_hold": null,
}

# METADATA
# title: Obligations
# description: >-
#   As for access (SPEC §4.7, §11.A4, §11.A9), plus `ai_act_high_risk` for an Annex
#   III(3) purpose; inference notifies no one.
obligations := duties.document(routing.outcome.allowed, true, [])

# METADATA
# title: Override used
# description: Always null; overrides never apply to inference.
override_id := null

default failover := false

# METADATA
# title: Failover
# description: The primary was unavailable and inference runs elsewhere.
failover := routing.outcome.failover

# METADATA
# title: Erasure targets
# description: Always empty for inference.
erasure_targets := []

# METADATA
# title: Deferred
# description: Always empty for inference.
deferred := []

# METADATA
# title: Flags
# description: "`DPF_WITHDRAWN`, `LEGAL_HOLD`, `REGION_DEGRADED`, `REGION_UNAVAILABLE`; sorted."
flags := routing.flags

default provider := null

# METADATA
# title: Provider
# description: The chosen provider; null when denied.
provider := routing.outcome.choice.entry.provider

default model := null

# METADATA
# title: Model
# description: The model served; null when denied.
model := input.request.model_type if routing.outcome.allowed

default endpoint := null

# METADATA
# title: Endpoint
# description: The chosen entry's endpoint; null when denied.
endpoint := routing.outcome.choice.entry.endpoint

default route := null

# METADATA
# title: Route
# description: "`single` or `geo:<name>`; null when denied."
route := routing.outcome.choice.entry.route

default provider_region := null

# METADATA
# title: Provider region
# description: The home region of the chosen entry; null when denied.
provider_region := routing.outcome.choice.entry.region

default destinations := null

# METADATA
# title: Destinations
# description: Every region the chosen route may process data in; null when denied.
destinations := routing.outcome.choice.entry.destinations

default fallback_used := null

# METADATA
# title: Fallback used
# description: The chosen region is not the primary; null when denied.
fallback_used := routing.outcome.target != policy.primary if routing.outcome.allowed

# METADATA
# title: Rejected candidates
# description: "`[{provider, region, code}]` of the entries rejected before the choice."
rejected_candidates := [{"provider": judgement.entry.provider, "region": judgement.candidate, "code": judgement.verdict.code} |
	some judgement in routing.outcome.rejected
]

# METADATA
# title: Reuse
# description: >-
#   Host-facing, not a wire field: which other inputs get this same answer, from the one
#   package that reads the clock and the learner. Inference passes no overrides, so: any
#   clock, any learner.
reuse := overrides.reuse
