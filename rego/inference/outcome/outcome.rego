# METADATA
# title: Inference outcome
# description: >-
#   The precedence of docs/policy-contract.md for `inference/route` (SPEC §11.A5),
#   first match wins: no policy, gates rows 1-5 (purpose bans first), training
#   rules, empty L, r0 against the organisational set, health of r0, then provider
#   selection with each entry's own legal set. Overrides never apply to inference.
# related_resources:
#   - ref: ../docs/policy-contract.md
package inference.outcome

import data.frameworks.coppa
import data.frameworks.ferpa
import data.inference.selection
import data.residency.failover
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
	"entry": null,
}

_requested := selection.requested

# METADATA
# title: Outcome
# description: >-
#   `{allowed, target, reason, failover, supporting, choice, rejected, entry}`:
#   `choice` is the chosen judged entry, `rejected` the entries rejected before it,
#   `entry` the catalog entry whose sets the decision describes (null: the access view).
outcome := _deny(policy.missing, []) if {
	not policy.present
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
} else := _deny(reasons.worded(policy.missing, "the effective policy has no primary region"), []) if {
	not selection.start
} else := _deny(reasons.about(regions.unknown, _requested), []) if {
	_requested
	not regions.known(_requested)
} else := _deny(reasons.about(tenant.prohibited, selection.start), []) if {
	selection.start in policy.prohibited
} else := _deny(reasons.about(tenant.not_allowed, selection.start), []) if {
	not selection.start in tenant.organisational
} else := _health_outcome if {
	selection.health_failover
} else := _deny(reasons.about(selection.region_unavailable, _requested), []) if {
	selection.pinned_unavailable
} else := _allowed(selection.chosen, false) if {
	selection.chosen
} else := _rejected_outcome if {
	count(selection.rejected) > 0
} else := _deny(reasons.about(selection.model_unavailable, input.request.model_type), [])

_health_outcome := _deny(reasons.about(failover.disabled, selection.start), []) if {
	not policy.failover_enabled
} else := _allowed(selection.chosen, true) if {
	selection.chosen
} else := object.union(_deny(reasons.about(failover.exhausted, selection.start), _verdicts(selection.rejected)), {
	"rejected": selection.rejected,
	"entry": _first_entry,
})

_first_entry := selection.rejected[0].entry if {
	count(selection.rejected) > 0
} else := null

_verdicts(judgements) := [judgement.verdict | some judgement in judgements]

_allowed(choice, failing_over) := {
	"allowed": true,
	"target": choice.candidate,
	"reason": reasons.worded(_allow_finding(choice.candidate, failing_over), concat("", [
		choice.candidate, ": ", input.request.model_type, " via ", choice.entry.provider,
		" (", choice.entry.route, ")",
	])),
	"failover": failing_over,
	"supporting": _verdicts(selection.rejected),
	"choice": choice,
	"rejected": selection.rejected,
	"entry": choice.entry,
}

_rejected_outcome := {
	"allowed": false,
	"target": null,
	"reason": selection.rejected[0].verdict,
	"failover": false,
	"supporting": _verdicts(array.slice(selection.rejected, 1, count(selection.rejected))),
	"choice": null,
	"rejected": selection.rejected,
	"entry": selection.rejected[0].entry,
}

_allow_finding(_, true) := failover_allow

_allow_finding(region, false) := tenant.primary if {
	region == policy.primary
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
#   `DPF_WITHDRAWN` (the deciding entry was refused on a switched-off DPF basis),
#   `LEGAL_HOLD`, `REGION_DEGRADED` (the chosen region is degraded),
#   `REGION_UNAVAILABLE` (the requested region is unavailable); sorted.
flags := sort(_flags)

_flags contains "REGION_DEGRADED" if regions.health(outcome.target) == "degraded"

_flags contains "REGION_UNAVAILABLE" if {
	policy.present
	regions.health(_requested) == "unavailable"
}

_flags contains "LEGAL_HOLD" if {
	policy.present
	policy.legal_hold
}

_flags contains "DPF_WITHDRAWN" if {
	not outcome.allowed
	outcome.reason.code == "DENY_NO_TRANSFER_MECHANISM"
	selection.dpf_withdrawn(outcome.entry)
}
