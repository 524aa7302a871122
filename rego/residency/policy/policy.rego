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
# description: >-
#   The host found an active policy for the tenant; without one every decision fails
#   closed. After offboarding (no active version, `history.policy_inactive`) the last
#   version is in force for `delete` only (SPEC §11.A8).
present if {
	is_object(input.policy)
	not inactive
}

present if {
	is_object(input.policy)
	inactive
	input.request.operation_type == "delete"
}

# METADATA
# title: Policy inactive
# description: >-
#   The tenant has no active policy; `input.policy` is its last version, passed so an
#   erasure can still be routed (SPEC §11.A8).
inactive if input.history.policy_inactive == true

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
# description: >-
#   The effective age (SPEC §11.A3): the learner's `learner_age`, else the tenant's
#   `min_learner_age`; undefined when unknown (every age gate then fails closed).
age := years if {
	years := input.policy.learner_age
	is_number(years)
} else := years if {
	years := input.policy.min_learner_age
	is_number(years)
}

# METADATA
# title: Under an age
# description: >-
#   The learner is younger than `limit`, or of unknown age: unknown age counts as a
#   child for every age gate (SPEC §11.A3, fail closed).
under(_) if not age

under(limit) if age < limit

# METADATA
# title: Learner's own consent
# description: >-
#   `consents[name]` is exactly true on the learner policy itself, not inherited from
#   the tenant (DPDP and APPI: verifiable consent is per child, SPEC §11.A1).
learner_consent(name) if input.learner_policy.consents[name] == true

# METADATA
# title: DPDP education exemption
# description: The tenant attests it is an educational institution under the DPDP Rules Fourth Schedule Part A.
education_exemption if input.policy.dpdp_education_exemption == true

# METADATA
# title: Purpose vocabulary
# description: The closed purpose vocabulary of SPEC §11.A4 (the host rejects any other value with 400).
purposes := {
	"instruction", "assessment", "admission", "placement", "proctoring", "progress_monitoring",
	"safety", "administration", "research", "profiling", "targeted_advertising",
	"emotion_recognition", "biometric_identification",
}

# METADATA
# title: Purpose
# description: The request's purpose when it is one of the vocabulary; undefined otherwise (no ban, no exemption).
purpose := input.request.purpose if input.request.purpose in purposes

# METADATA
# title: Consent recorded
# description: "`consents[name]` is true (`school_authorization`, `parental_consent`, `ai_training_consent`)."
consent(name) if input.policy.consents[name] == true

# METADATA
# title: Transfer mechanism regions
# description: >-
#   Regions a region-listing transfer mechanism (`dpf`, `uk_extension`, `scc_tia`,
#   `idta`, `appi_equivalent_measures`, `qc_pia`) lists bare: they cover the tenant's
#   storage/search importer only (SPEC §11.A2.2).
mechanism_regions(name) := {region |
	some region in input.policy.transfer_mechanisms[name]
	is_string(region)
}

# METADATA
# title: Provider mechanism regions
# description: >-
#   Regions a `{provider, regions}` item of a mechanism list names for one catalog
#   provider: they cover that provider's inference only (SPEC §11.A2.2).
provider_mechanism_regions(name, provider) := {region |
	some item in input.policy.transfer_mechanisms[name]
	is_object(item)
	item.provider == provider
	some region in item.regions
	is_string(region)
}

# METADATA
# title: Mechanism providers
# description: Every provider named by an item of a mechanism list (validation checks them against the catalog).
mechanism_providers(name) := {item.provider |
	some item in input.policy.transfer_mechanisms[name]
	is_object(item)
}

# METADATA
# title: Transfer mechanism in place
# description: A boolean transfer mechanism is agreed (`pipeda_contract`, `anpd_scc`).
mechanism(name) if input.policy.transfer_mechanisms[name] == true

# METADATA
# title: Mechanism switch
# description: >-
#   Bundle data `reference.mechanisms[name]` (`dpf_valid`, `uk_extension_valid`): true
#   unless it is exactly false (absent ⇒ default true, SPEC §11.A1).
switch_on(name) if not data.reference.mechanisms[name] == false

# METADATA
# title: Legal hold
# description: "`{reference}` when a legal hold of the tenant or the learner is active (SPEC §11.A8); undefined otherwise."
legal_hold := {"reference": reference} if {
	input.legal_hold.active == true
	reference := _hold_reference
}

_hold_reference := input.legal_hold.reference if {
	is_string(input.legal_hold.reference)
} else := ""

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

# METADATA
# title: Tenant's own primary
# description: The tenant policy's own `primary_region` (the effective primary may be the learner's); undefined when not passed.
tenant_primary := input.tenant_policy.primary_region if is_string(input.tenant_policy.primary_region)

# METADATA
# title: Tenant's own allow-list
# description: The tenant policy's own `allowed_regions`; `[]` when it has none or it was not passed.
tenant_allowed := input.tenant_policy.allowed_regions if {
	is_array(input.tenant_policy.allowed_regions)
} else := []

# METADATA
# title: Tenant's own deny-list
# description: The tenant policy's own `prohibited_regions`.
tenant_prohibited := {region | some region in _list(input.tenant_policy.prohibited_regions)}

# METADATA
# title: Tenant and learner passed apart
# description: >-
#   The host passed the tenant policy's own fields (`input.tenant_policy`), so the
#   organisational set can be built per policy (SPEC §11.A7). Without them the
#   effective policy's primary and allow-list are used.
split if is_object(input.tenant_policy)

# METADATA
# title: Learner's own allow-list
# description: The learner policy's own `allowed_regions`; `[]` when none or no learner policy.
learner_allowed := input.learner_policy.allowed_regions if {
	is_array(input.learner_policy.allowed_regions)
} else := []

# METADATA
# title: Learner's own primary
# description: The learner policy's own `primary_region`; undefined when it inherits the tenant's.
learner_primary := input.learner_policy.primary_region if is_string(input.learner_policy.primary_region)

# METADATA
# title: Tenant-only field on the learner policy
# description: A field only the tenant policy may carry (`min_learner_age`, `dpdp_education_exemption`) present on the learner policy.
learner_tenant_only contains "min_learner_age" if {
	input.learner_policy.min_learner_age != null
}

learner_tenant_only contains "dpdp_education_exemption" if {
	input.learner_policy.dpdp_education_exemption != null
}

# METADATA
# title: Tenant minimum age
# description: The tenant's `min_learner_age`; undefined when unset.
min_age := years if {
	years := input.policy.min_learner_age
	is_number(years)
}
