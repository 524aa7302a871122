# METADATA
# title: Policy checks
# description: >-
#   What `residency/validate` reports about a policy as it would be after a write
#   (SPEC §2, docs/policy-contract.md): violations block the write with 422,
#   warnings never do. Schema checks (unknown region or framework ⇒ 400) are the
#   host's.
# related_resources:
#   - ref: ../shared/SPEC.md#2-residency-policies
package residency.checks

import data.frameworks.coppa
import data.residency.legal
import data.residency.policy
import data.residency.reasons

# METADATA
# title: Primary region required
# description: The effective policy has no primary region.
# custom:
#   code: PRIMARY_REGION_REQUIRED
#   field: primary_region
primary_required := [reasons.violation(rego.metadata.rule(), null, "a primary region is required") |
	not policy.primary
]

# METADATA
# title: Allowed and prohibited
# description: A region is both allowed and prohibited (one violation per region).
# custom:
#   code: REGION_ALLOWED_AND_PROHIBITED
#   field: allowed_regions
allowed_and_prohibited := [reasons.violation(rego.metadata.rule(), null, concat("", [region, " is both allowed and prohibited"])) |
	some region in sort({region | some region in policy.allowed} & policy.prohibited)
]

# METADATA
# title: Primary prohibited
# description: The primary region is on the prohibited list.
# custom:
#   code: PRIMARY_REGION_PROHIBITED
#   field: primary_region
primary_prohibited := [reasons.violation(rego.metadata.rule(), null, concat("", ["primary region ", policy.primary, " is prohibited"])) |
	policy.primary in policy.prohibited
]

# METADATA
# title: Primary not legal
# description: >-
#   A framework's legal set (with the policy's transfer mechanisms) excludes the
#   primary region; one violation per framework, in naming order.
# custom:
#   code: PRIMARY_REGION_NOT_LEGAL
#   field: primary_region
primary_not_legal := [reasons.violation(rego.metadata.rule(), name, concat("", ["primary region ", policy.primary, ": ", legal.exclusion(name).message])) |
	some name in legal.removals[policy.primary]
]

# METADATA
# title: Retention required
# description: COPPA applies and the policy sets no `data_retention_days` (16 CFR 312.10).
# custom:
#   code: RETENTION_REQUIRED
#   field: data_retention_days
retention_required := [reasons.violation(rego.metadata.rule(), "coppa", coppa.retention_missing.message) |
	coppa.retention_missing
]

# METADATA
# title: Violations
# description: Every violation, in the order of the contract's table.
violations := array.concat(
	array.concat(array.concat(primary_required, allowed_and_prohibited), array.concat(primary_prohibited, primary_not_legal)),
	retention_required,
)

# METADATA
# title: Valid
# description: The policy has no violation.
valid := count(violations) == 0

# METADATA
# title: Allowed region not legal
# description: An allowed region a framework excludes; it can never be used (one per region and framework).
# custom:
#   code: ALLOWED_REGION_NOT_LEGAL
#   field: allowed_regions
allowed_not_legal := [reasons.violation(meta, name, concat("", [region, ": ", legal.exclusion(name).message])) |
	meta := rego.metadata.rule()
	some region in policy.allowed
	some name in legal.removals[region]
]

_failover_listed := listed if {
	listed := input.policy.failover_regions
} else := []

# METADATA
# title: Failover region not legal
# description: A listed failover region a framework excludes; failover will skip it.
# custom:
#   code: FAILOVER_REGION_NOT_LEGAL
#   field: failover_regions
failover_not_legal := [reasons.violation(meta, name, concat("", [region, ": ", legal.exclusion(name).message])) |
	meta := rego.metadata.rule()
	some region in _failover_listed
	some name in legal.removals[region]
]

# METADATA
# title: Failover region prohibited
# description: A listed failover region is prohibited; failover will skip it.
# custom:
#   code: FAILOVER_REGION_PROHIBITED
#   field: failover_regions
failover_prohibited := [reasons.violation(rego.metadata.rule(), null, concat("", [region, " is prohibited"])) |
	some region in _failover_listed
	region in policy.prohibited
]

# METADATA
# title: Warnings
# description: Findings that never block a write.
warnings := array.concat(array.concat(allowed_not_legal, failover_not_legal), failover_prohibited)
