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
import data.residency.regions

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

_learner if input.kind == "learner"

# METADATA
# title: Learner primary outside the tenant
# description: >-
#   A learner policy's own primary lies outside A_tenant (the tenant's primary and
#   allow-list, when it has one) or on the tenant's deny-list: a learner field
#   never widens the tenant's set (SPEC §11.A7).
# custom:
#   code: LEARNER_PRIMARY_OUTSIDE_TENANT
#   field: primary_region
learner_primary_outside := [reasons.violation(rego.metadata.rule(), null, concat("", ["learner primary region ", primary, " is outside the tenant's regions"])) |
	_learner
	primary := policy.learner_primary
	_outside_tenant(primary)
]

_outside_tenant(region) if region in policy.tenant_prohibited

_outside_tenant(region) if {
	count(policy.tenant_allowed) > 0
	not region in policy.tenant_allowed
	region != policy.tenant_primary
}

# METADATA
# title: Learner younger than the tenant minimum
# description: The learner's `learner_age` is below the tenant's attested `min_learner_age` (SPEC §11.A7).
# custom:
#   code: LEARNER_AGE_BELOW_TENANT_MINIMUM
#   field: learner_age
learner_below_minimum := [reasons.violation(rego.metadata.rule(), null, concat("", ["learner_age is below the tenant's min_learner_age ", format_int(policy.min_age, 10)])) |
	_learner
	is_number(input.policy.learner_age)
	input.policy.learner_age < policy.min_age
]

# METADATA
# title: Tenant-only field
# description: "`min_learner_age` or `dpdp_education_exemption` on a learner policy: only the tenant attests them (SPEC §11.A1)."
# custom:
#   code: FIELD_TENANT_ONLY
#   field: learner_policy
tenant_only := [violation |
	_learner
	meta := rego.metadata.rule()
	some field in sort(policy.learner_tenant_only)
	violation := object.union(
		reasons.violation(meta, null, concat("", [field, " may be set on the tenant policy only"])),
		{"field": field},
	)
]

# METADATA
# title: Mechanism region mismatch
# description: >-
#   `dpf` and `uk_extension` certify US importers only: a non-US region there is a
#   mistake (SPEC §11.A1).
# custom:
#   code: MECHANISM_REGION_MISMATCH
#   field: transfer_mechanisms
mechanism_mismatch := [violation |
	meta := rego.metadata.rule()
	some name in ["dpf", "uk_extension"]
	some region in _items(input.policy.transfer_mechanisms[name])
	not region in regions.us
	violation := object.union(
		reasons.violation(meta, null, concat("", [name, " lists ", _text(region), ", which is not a US region"])),
		{"field": concat(".", ["transfer_mechanisms", name])},
	)
]

_items(value) := value if {
	is_array(value)
} else := []

_text(value) := value if {
	is_string(value)
} else := json.marshal(value)

# METADATA
# title: Unknown provider
# description: A `{provider, regions}` mechanism item names a provider absent from the active catalog (SPEC §11.A1).
# custom:
#   code: UNKNOWN_PROVIDER
#   field: transfer_mechanisms
unknown_provider := [violation |
	meta := rego.metadata.rule()
	catalog := {entry.provider | some entry in data.reference.providers.catalog}
	some name in ["scc_tia", "idta", "appi_equivalent_measures", "qc_pia"]
	some provider in sort(policy.mechanism_providers(name))
	not provider in catalog
	violation := object.union(
		reasons.violation(meta, null, concat("", [name, " names provider ", _text(provider), ", which the provider catalog does not list"])),
		{"field": concat(".", ["transfer_mechanisms", name])},
	)
]

# METADATA
# title: Violations
# description: Every violation, in the order of the contract's table.
violations := array.concat(
	array.concat(
		array.concat(array.concat(primary_required, allowed_and_prohibited), array.concat(primary_prohibited, primary_not_legal)),
		array.concat(retention_required, learner_primary_outside),
	),
	array.concat(array.concat(learner_below_minimum, tenant_only), array.concat(mechanism_mismatch, unknown_provider)),
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
