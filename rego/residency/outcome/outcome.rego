# METADATA
# title: Access outcome
# description: >-
#   The precedence of docs/policy-contract.md for `residency/decision`, first match
#   wins. `residency.decision` only maps `outcome` onto wire fields, because every
#   rule of an entrypoint package (private ones too) is part of its result.
# related_resources:
#   - ref: ../docs/policy-contract.md
package residency.outcome

import data.frameworks.appi
import data.residency.erasure
import data.residency.failover
import data.residency.gates
import data.residency.legal
import data.residency.overrides
import data.residency.policy
import data.residency.reasons
import data.residency.regions
import data.residency.tenant

# METADATA
# title: Erasure request
# description: The operation is `delete`, which is always routable (SPEC §4.6).
erasing if input.request.operation_type == "delete"

# METADATA
# title: Requested region
# description: The request's `requested_region`; undefined when absent or empty.
requested := input.request.requested_region if {
	is_string(input.request.requested_region)
	input.request.requested_region != ""
}

# METADATA
# scope: document
# title: Target
# description: The requested region, else the primary (SPEC §4.5).
target := requested if {
	requested
} else := policy.primary

default _target_or_null := null

_target_or_null := target

_deny(found, supporting) := {
	"allowed": false,
	"target": null,
	"reason": found,
	"override_id": null,
	"failover": false,
	"supporting": supporting,
	"notify": [],
}

_allow(region, found, override_id, failing_over, supporting) := {
	"allowed": true,
	"target": region,
	"reason": found,
	"override_id": override_id,
	"failover": failing_over,
	"supporting": supporting,
	"notify": [note | override_id != null; note := "controller"],
}

# METADATA
# title: Outcome
# description: >-
#   `{allowed, target, reason, override_id, failover, supporting, notify}` by the
#   precedence of docs/policy-contract.md: no policy, erasure, gates, empty L,
#   failover, law, tenant rules and overrides, allow.
outcome := _deny(policy.missing, []) if {
	not policy.present
} else := _deny(_hold_finding, []) if {
	erasing
	policy.legal_hold
} else := _erasure_outcome if {
	erasing
} else := _deny(_ban_bypass, gates.failures) if {
	gates.ban
	overrides.presented(_target_or_null)
} else := _deny(gates.first, array.slice(gates.failures, 1, count(gates.failures))) if {
	gates.first
} else := _deny(legal.empty, []) if {
	count(legal.ordered) == 0
} else := _deny(reasons.worded(policy.missing, "the effective policy has no primary region"), []) if {
	not target
} else := _deny(reasons.about(appi.minor_gate(target, null), target), []) if {
	appi.minor_gate(target, null)
} else := _failover_outcome if {
	failover.needed(target)
} else := _deny(reasons.about(regions.unknown, target), []) if {
	not regions.known(target)
} else := _law_outcome if {
	not target in legal.ordered
} else := _tenant_outcome if {
	not target in tenant.ordered
} else := _allow(target, reasons.about(tenant.primary, target), null, false, []) if {
	target == policy.primary
} else := _allow(target, reasons.about(tenant.permitted, target), null, false, [])

_hold_finding := reasons.worded(erasure.held, concat("", [
	erasure.held.message, " (reference ", policy.legal_hold.reference, "); ",
	format_int(count(erasure.targets), 10), " region(s) held",
]))

_ban_bypass := reasons.attributed(
	gates.first,
	overrides.cannot_bypass_law.decided_by,
	overrides.cannot_bypass_law.code,
	concat("", [overrides.cannot_bypass_law.message, " (", gates.first.message, ")"]),
)

_erasure_outcome := {
	"allowed": true,
	"target": _target_or_null,
	"reason": reasons.worded(erasure.allow, concat("", [
		"erasure routed to ", format_int(count(erasure.targets), 10), " region(s)",
		_deferred_note,
	])),
	"override_id": null,
	"failover": false,
	"supporting": [],
	"notify": [note | count(erasure.noncompliant) > 0; note := "dpo"],
}

_deferred_note := concat("", ["; deferred: ", concat(", ", erasure.deferred)]) if {
	count(erasure.deferred) > 0
} else := ""

_failover_outcome := _deny(reasons.about(failover.disabled, target), []) if {
	not policy.failover_enabled
} else := _allow(region, reasons.worded(failover.allow, message), via, true, []) if {
	[region, via] := failover.choice
	message := concat("", ["primary ", target, " is unavailable; failed over to ", region, _via_note(via)])
} else := _deny(reasons.about(failover.exhausted, target), [])

_via_note(via) := "" if {
	via == null
} else := concat("", [" under break-glass override ", via])

_law_outcome := _deny(bypass, findings) if {
	overrides.presented(target)
	findings := legal.findings(target)
	bypass := reasons.attributed(
		findings[0],
		overrides.cannot_bypass_law.decided_by,
		overrides.cannot_bypass_law.code,
		concat("", [target, ": ", overrides.cannot_bypass_law.message, " (", findings[0].framework, ")"]),
	)
} else := _deny(findings[0], array.slice(findings, 1, count(findings))) if {
	findings := legal.findings(target)
}

_tenant_outcome := _allow(target, found, id, false, [tenant.finding(target)]) if {
	id := overrides.valid_for(target)
	found := reasons.worded(overrides.allow, concat("", [target, ": ", overrides.allow.message, " ", id]))
} else := _deny(overrides.named_failure(target), [tenant.finding(target)]) if {
	overrides.named_failure(target)
} else := _deny(tenant.finding(target), [])

# METADATA
# title: Flags
# description: >-
#   Erasure: `NONCOMPLIANT_COPY_FOUND` (a target outside L), `POLICY_INACTIVE`
#   (routed on the last version after offboarding). Otherwise: `REGION_DEGRADED`
#   (target degraded), `REGION_UNAVAILABLE` (a requested non-primary region is
#   unavailable), `DPF_WITHDRAWN` (a DPF basis switched off by bundle decided the
#   deny). Both: `LEGAL_HOLD`. Sorted.
flags := sort(_erasure_flags | _hold_flags) if {
	erasing
} else := sort(_access_flags | _hold_flags)

_erasure_flags contains erasure.noncompliant_flag if {
	policy.present
	count(erasure.noncompliant) > 0
}

_erasure_flags contains "POLICY_INACTIVE" if {
	policy.present
	policy.inactive
}

_hold_flags contains "LEGAL_HOLD" if {
	policy.present
	policy.legal_hold
}

_access_flags contains "REGION_DEGRADED" if regions.health(outcome.target) == "degraded"

_access_flags contains "REGION_UNAVAILABLE" if {
	policy.present
	requested != policy.primary
	regions.health(requested) == "unavailable"
}

_access_flags contains "DPF_WITHDRAWN" if {
	not outcome.allowed
	outcome.reason.code == "DENY_NO_TRANSFER_MECHANISM"
	legal.dpf_withdrawn(target, null)
}
