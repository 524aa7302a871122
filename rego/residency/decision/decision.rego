# METADATA
# title: Access decision
# description: >-
#   Entrypoint `residency/decision` (SPEC §4, docs/policy-contract.md). Every rule
#   of this package is a field of the result and is always defined; all but
#   `reuse` (for the host) are wire fields. The logic lives in sibling
#   packages (`residency.outcome` decides).
# related_resources:
#   - ref: ../shared/SPEC.md#4-the-decision-entrypoint-residencydecision
#   - ref: ../docs/policy-contract.md
package residency.decision

import data.residency.erasure
import data.residency.legal
import data.residency.obligations as duties
import data.residency.outcome as access
import data.residency.overrides
import data.residency.policy
import data.residency.tenant

default allowed := false

# METADATA
# title: Allowed
# description: Whether the access may proceed.
allowed := access.outcome.allowed

default target_region := null

# METADATA
# title: Target region
# description: Where to serve the request; null when denied.
target_region := access.outcome.target

default reason := {
	"code": "DENY_NO_POLICY",
	"decided_by": "fail_closed",
	"framework": null,
	"message": "the policy could not be evaluated; failing closed",
}

# METADATA
# title: Reason
# description: "`{code, decided_by, framework, message}` of the rule that decided."
reason := access.outcome.reason

default reasons := []

# METADATA
# title: Reasons
# description: The deciding reason first, then the supporting findings (other laws, gates, lifted rules).
reasons := array.concat([access.outcome.reason], access.outcome.supporting)

# METADATA
# title: Legal regions
# description: L, sorted (SPEC §4.1).
legal_regions := legal.ordered

# METADATA
# title: Permitted regions
# description: T, sorted (SPEC §4.3).
permitted_regions := tenant.ordered

# METADATA
# title: Eliminated
# description: Each region outside T and why (SPEC §4.7).
eliminated := tenant.eliminated

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
#   Retention, erasure deadline and its framework, encryption at rest, who to
#   notify, purpose duties and legal hold (SPEC §4.7, §11.A4, §11.A9).
obligations := duties.document(access.outcome.allowed, false, access.outcome.notify)

default override_id := null

# METADATA
# title: Override used
# description: The break-glass override the decision relied on, else null.
override_id := access.outcome.override_id

default failover := false

# METADATA
# title: Failover
# description: The primary was unavailable and the request failed over.
failover := access.outcome.failover

default erasure_targets := []

# METADATA
# title: Erasure targets
# description: >-
#   For `delete`, every region that may hold a copy: the request's order, then
#   SPEC §1's (§11.A8); listed under a legal hold too.
erasure_targets := erasure.targets if {
	policy.present
	access.erasing
}

default deferred := []

# METADATA
# title: Deferred erasure targets
# description: For `delete`, the targets that are unavailable now.
deferred := erasure.deferred if {
	policy.present
	access.erasing
}

# METADATA
# title: Flags
# description: >-
#   `NONCOMPLIANT_COPY_FOUND`, `POLICY_INACTIVE`, `LEGAL_HOLD`, `REGION_DEGRADED`,
#   `REGION_UNAVAILABLE`, `DPF_WITHDRAWN`; sorted (see residency.outcome).
flags := access.flags

# METADATA
# title: Reuse
# description: >-
#   Host-facing, not a wire field: which other inputs get this same answer (a clock
#   within a window; another learner unless per_learner). See residency.overrides.
reuse := overrides.reuse
