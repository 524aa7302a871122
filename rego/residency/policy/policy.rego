# METADATA
# title: Effective residency policy
# description: >-
#   Defensive accessors over `input.policy`, the learner policy merged over the
#   tenant policy by the host (SPEC §2). Absent, null or ill-typed fields read as
#   their documented defaults, so no rule elsewhere has to guard them.
# related_resources:
#   - ref: ../shared/SPEC.md#2-residency-policies
package residency.policy

import data.residency.reasons

default present := false

# METADATA
# title: A policy is in force
# description: The host found an active policy for the tenant; without one every decision fails closed.
present if is_object(input.policy)

# Each field is read by name (scripts/rego-input-check.mjs: the host passes only the
# fields rego/contract/data.json declares); `_list` keeps arrays, so an absent or
# ill-typed list reads as empty in the set comprehensions below.
_list(value) := value if is_array(value)

# METADATA
# title: Primary region
# description: The effective primary region; undefined when the policy has none.
primary := input.policy.primary_region if is_string(input.policy.primary_region)

default allowed := []

# METADATA
# title: Allowed regions
# description: The organisational allow-list in policy order; `[]` means no allow-list.
allowed := input.policy.allowed_regions if is_array(input.policy.allowed_regions)

# METADATA
# title: Allow-list present
# description: The policy restricts regions to its primary and `allowed_regions`.
has_allow_list if count(allowed) > 0

# METADATA
# title: Prohibited regions
# description: The organisational deny-list.
prohibited := {region | some region in _list(input.policy.prohibited_regions)}

# METADATA
# title: Compliance frameworks
# description: The frameworks that apply, as decided upstream (establishment or targeting).
frameworks := {name | some name in _list(input.policy.compliance_frameworks)}

# METADATA
# title: Cross-region failover enabled
# description: Both the tenant and the learner allow failover (SPEC §2 inheritance).
failover_enabled if input.policy.allow_cross_region_failover == true

# METADATA
# title: Failover order
# description: "`failover_regions`, or `allowed_regions` in order when none are listed (SPEC §2)."
failover_order := regions if {
	regions := input.policy.failover_regions
	is_array(regions)
	count(regions) > 0
} else := allowed

# METADATA
# title: Retention days
# description: The effective `data_retention_days` (the minimum across tenant and learner); undefined when unset.
retention_days := days if {
	days := input.policy.data_retention_days
	is_number(days)
}

# METADATA
# title: Learner age
# description: The learner's age in years; undefined when unknown.
age := years if {
	years := input.policy.learner_age
	is_number(years)
}

# METADATA
# title: Consent recorded
# description: "`consents[name]` is true (`school_authorization`, `parental_consent`, `ai_training_consent`)."
consent(name) if input.policy.consents[name] == true

# METADATA
# title: Transfer mechanism regions
# description: Regions covered by a region-listing transfer mechanism (`dpf`, `scc_tia`, `qc_pia`).
mechanism_regions(name) := {region | some region in input.policy.transfer_mechanisms[name]}

# METADATA
# title: Transfer mechanism in place
# description: A boolean transfer mechanism is agreed (`pipeda_contract`, `anpd_scc`).
mechanism(name) if input.policy.transfer_mechanisms[name] == true

# METADATA
# title: Break-glass permitted
# description: The tenant agreed in advance that break-glass may lift its organisational rules.
override_permitted if input.policy.override_permitted == true

# METADATA
# title: No policy
# description: No active policy for the tenant; every decision fails closed (SPEC §4).
# custom:
#   code: DENY_NO_POLICY
#   decided_by: fail_closed
#   message: no active residency policy for the tenant
missing := reasons.finding(rego.metadata.rule(), null)
