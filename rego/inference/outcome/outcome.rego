# METADATA
# title: Inference outcome
# description: >-
#   The precedence of docs/policy-contract.md for `inference/route`, first match
#   wins: no policy, AI Act, consent gates, secondary use, separate consent, empty
#   L, the requested region judged as an access request would be, empty T, then
#   provider selection. Overrides never apply to inference.
# related_resources:
#   - ref: ../docs/policy-contract.md
package inference.outcome

import data.frameworks.coppa
import data.frameworks.eu_ai_act
import data.frameworks.ferpa
import data.inference.selection
import data.residency.gates
import data.residency.legal
import data.residency.policy
import data.residency.reasons
import data.residency.regions
import data.residency.tenant

# METADATA
# title: Training operations
# description: Operations that train or fine-tune a model on the learner's data.
training_operations := {"training", "fine_tuning"}

_training if input.request.operation_type in training_operations

_deny(found, supporting) := {
	"allowed": false,
	"target": null,
	"reason": found,
	"failover": false,
	"supporting": supporting,
	"choice": null,
	"rejected": [],
}

_requested := selection.requested

# METADATA
# title: Outcome
# description: >-
#   `{allowed, target, reason, failover, supporting, choice, rejected}`: `choice` is
#   the chosen judged entry, `rejected` the entries rejected before it.
outcome := _deny(policy.missing, []) if {
	not policy.present
} else := _deny(eu_ai_act.prohibited_practice, []) if {
	eu_ai_act.prohibited_practice
} else := _deny(gates.first, array.slice(gates.failures, 1, count(gates.failures))) if {
	gates.first
} else := _deny(ferpa.secondary_use, []) if {
	_training
	ferpa.secondary_use
} else := _deny(coppa.separate_consent, []) if {
	_training
	coppa.separate_consent
} else := _deny(legal.empty, []) if {
	count(legal.ordered) == 0
} else := _deny(reasons.about(regions.unknown, _requested), []) if {
	_requested
	not regions.known(_requested)
} else := _deny(findings[0], array.slice(findings, 1, count(findings))) if {
	_requested
	not _requested in legal.ordered
	findings := legal.findings(_requested)
} else := _deny(tenant.finding(_requested), []) if {
	_requested
	not _requested in tenant.ordered
} else := _deny(tenant.empty, []) if {
	count(tenant.ordered) == 0
} else := _allowed(selection.chosen) if {
	selection.chosen
} else := _rejected_outcome if {
	count(selection.rejected) > 0
} else := _deny(reasons.about(selection.model_unavailable, input.request.model_type), [])

_allowed(choice) := {
	"allowed": true,
	"target": choice.candidate,
	"reason": reasons.worded(_allow_finding(choice.candidate), concat("", [
		choice.candidate, ": ", input.request.model_type, " via ", choice.entry.provider,
		" (", choice.entry.route, ")",
	])),
	"failover": _allow_finding(choice.candidate).code == "ALLOW_FAILOVER",
	"supporting": [judgement.verdict | some judgement in selection.rejected],
	"choice": choice,
	"rejected": selection.rejected,
}

_rejected_outcome := {
	"allowed": false,
	"target": null,
	"reason": selection.rejected[0].verdict,
	"failover": false,
	"supporting": [judgement.verdict | some judgement in array.slice(selection.rejected, 1, count(selection.rejected))],
	"choice": null,
	"rejected": selection.rejected,
}

_allow_finding(region) := tenant.primary if {
	region == policy.primary
} else := failover_allow if {
	not _requested
	regions.health(policy.primary) == "unavailable"
} else := tenant.permitted

# METADATA
# title: Inference failover
# description: The primary is unavailable and inference runs in another permitted region.
# custom:
#   code: ALLOW_FAILOVER
#   decided_by: failover
#   message: the primary region is unavailable; inference failed over
failover_allow := reasons.finding(rego.metadata.rule(), null)

# METADATA
# title: Flags
# description: >-
#   `REGION_DEGRADED` (the chosen region is degraded), `REGION_UNAVAILABLE` (the
#   requested region is unavailable); sorted, built in that order.
flags := array.concat(
	[flag | regions.health(outcome.target) == "degraded"; flag := "REGION_DEGRADED"],
	[flag | policy.present; regions.health(_requested) == "unavailable"; flag := "REGION_UNAVAILABLE"],
)
