# METADATA
# title: Break-glass overrides
# description: >-
#   Whether an override lifts the organisational rules for a region (SPEC §4.4).
#   The wasm has no clock: `input.now_ms` is the moment of the decision. The host
#   passes every non-revoked override of the tenant in `input.overrides`.
# related_resources:
#   - ref: ../shared/SPEC.md#44-break-glass-overrides
package residency.overrides

import data.residency.policy
import data.residency.reasons

# METADATA
# title: Access operations
# description: The operations an override without `operations` covers (never inference).
access_operations := {"read", "write", "delete", "replicate", "backup", "index", "export"}

# METADATA
# title: Required approvals
# description: "`settings.required_approvals`, default 2."
required_approvals := n if {
	n := input.settings.required_approvals
	is_number(n)
} else := 2

# METADATA
# title: Named override
# description: The `override_id` the request names; naming one makes its failure explicit.
named := input.request.override_id if {
	is_string(input.request.override_id)
	input.request.override_id != ""
}

_considered contains i if {
	not named
	some i, _ in input.overrides
}

_considered contains i if {
	some i, candidate in input.overrides
	candidate.override_id == named
}

# METADATA
# title: Approved
# description: >-
#   Enough distinct approvers, none of them the requester (a requester's own
#   approval does not count).
_approved(candidate) if {
	approvers := {approval.principal |
		some approval in candidate.approvals
		approval.principal != candidate.requested_by
	}
	count(approvers) >= required_approvals
}

# METADATA
# title: Expired
# description: The decision is not before `expires_at_ms`.
_expired(candidate) if not _before_expiry(candidate)

# A missing or non-numeric clock or expiry reads as expired: fail closed (Rego orders
# values across types, so a string expiry would otherwise never pass).
_before_expiry(candidate) if {
	is_number(input.now_ms)
	is_number(candidate.expires_at_ms)
	input.now_ms < candidate.expires_at_ms
}

# METADATA
# title: Reuse
# description: >-
#   When the host may answer another input with this decision. The clock and the
#   learner are read only in this file (scripts/rego-input-check.mjs fails the build
#   otherwise): the clock compared with each override's expiry, the learner matched
#   against overrides scoped to learners. So an input that differs only in `now_ms`
#   within [from_ms, until_ms) (null: unbounded) gets the same answer, and, unless
#   per_learner, one that differs only in `request.learner_id` does too.
reuse := {"from_ms": _window_from, "until_ms": _window_until, "per_learner": _per_learner}

default _per_learner := false

_per_learner if {
	some candidate in input.overrides
	object.get(candidate, "learner_ids", null) != null
}

_expiries := [candidate.expires_at_ms |
	some candidate in input.overrides
	is_number(candidate.expires_at_ms)
]

default _window_from := null

_window_from := max(passed) if {
	passed := [at | some at in _expiries; at <= input.now_ms]
	count(passed) > 0
}

default _window_until := null

_window_until := min(ahead) if {
	ahead := [at | some at in _expiries; at > input.now_ms]
	count(ahead) > 0
}

_revoked(candidate) if candidate.revoked == true

_learner_in_scope(candidate) if object.get(candidate, "learner_ids", null) == null

_learner_in_scope(candidate) if input.request.learner_id in candidate.learner_ids

_operation_in_scope(candidate) if {
	object.get(candidate, "operations", null) == null
	input.request.operation_type in access_operations
}

_operation_in_scope(candidate) if input.request.operation_type in candidate.operations

# METADATA
# title: Valid for a region
# description: >-
#   Every condition of SPEC §4.4 holds for this decision and region: the tenant
#   permits break-glass, not revoked, approved, not expired, and tenant, learner,
#   operation and region in scope.
_valid(candidate, region) if {
	policy.override_permitted
	not _revoked(candidate)
	candidate.target_region == region
	candidate.tenant_id == input.request.tenant_id
	_approved(candidate)
	not _expired(candidate)
	_learner_in_scope(candidate)
	_operation_in_scope(candidate)
}

# METADATA
# title: Override for a region
# description: >-
#   The id of the first override (in input order) valid for the region; only the
#   named one when the request names one. Undefined when none is.
valid_for(region) := input.overrides[min(matches)].override_id if {
	matches := {i | some i in _considered; _valid(input.overrides[i], region)}
	count(matches) > 0
}

# METADATA
# title: Override presented
# description: >-
#   The request names an override, or one would otherwise apply to the region;
#   relevant where law forbids the region, since no override lifts the law.
presented(_) if named

presented(region) if valid_for(region)

# METADATA
# title: Failure of the named override
# description: >-
#   Why the named override does not cover the region: expired, else invalid
#   (unknown, under-approved, out of scope, not permitted by the tenant).
named_failure(region) := reasons.about(expired_finding, named) if {
	not valid_for(region)
	some candidate in input.overrides
	candidate.override_id == named
	_expired(candidate)
} else := reasons.about(invalid, named) if {
	named
	not valid_for(region)
}

# METADATA
# title: Break-glass allow
# description: A valid approved override lifts the tenant's organisational rules for this region.
# custom:
#   code: ALLOW_BREAK_GLASS
#   decided_by: break_glass
#   message: organisational rules lifted by an approved break-glass override
allow := reasons.finding(rego.metadata.rule(), null)

# METADATA
# title: Override expired
# description: The named override's `expires_at` has passed.
# custom:
#   code: DENY_OVERRIDE_EXPIRED
#   decided_by: break_glass
#   message: the override has expired
expired_finding := reasons.finding(rego.metadata.rule(), null)

# METADATA
# title: Override invalid
# description: >-
#   The named override is unknown, not approved by enough distinct approvers other
#   than the requester, out of scope, or the tenant does not permit break-glass.
# custom:
#   code: DENY_OVERRIDE_INVALID
#   decided_by: break_glass
#   message: the override is unknown, not approved, out of scope, or not permitted by the tenant
invalid := reasons.finding(rego.metadata.rule(), null)

# METADATA
# title: Override cannot bypass law
# description: >-
#   An override lifts organisational rules only, never the legal set, consent
#   gates or provincial localisation (SPEC §4.4).
# custom:
#   code: DENY_OVERRIDE_CANNOT_BYPASS_LAW
#   decided_by: break_glass
#   message: a break-glass override lifts organisational rules only, never the law
cannot_bypass_law := reasons.finding(rego.metadata.rule(), null)
