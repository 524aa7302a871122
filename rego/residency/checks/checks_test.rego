package residency.checks_test

import data.residency.checks

_input(policy) := {"kind": "tenant", "policy": object.union(
	{"tenant_id": "acme", "primary_region": "eu-west", "allowed_regions": [], "prohibited_regions": [], "compliance_frameworks": ["gdpr"]},
	policy,
)}

_codes(findings) := [f.code | some f in findings]

test_clean_policy if {
	checks.violations == [] with input as _input({})
	checks.warnings == [] with input as _input({})
}

test_primary_required if {
	_codes(checks.violations) == ["PRIMARY_REGION_REQUIRED"] with input as {"kind": "learner", "policy": {"tenant_id": "acme"}}
}

test_allowed_and_prohibited_one_per_region if {
	violations := checks.violations with input as _input({"allowed_regions": ["eu-central", "ca-central"], "prohibited_regions": ["ca-central", "eu-central"]})
	_codes(violations) == ["REGION_ALLOWED_AND_PROHIBITED", "REGION_ALLOWED_AND_PROHIBITED"]
	[v.message | some v in violations] == ["ca-central is both allowed and prohibited", "eu-central is both allowed and prohibited"]
	violations[0].field == "allowed_regions"
}

test_primary_prohibited if {
	violations := checks.violations with input as _input({"prohibited_regions": ["eu-west"]})
	_codes(violations) == ["PRIMARY_REGION_PROHIBITED"]
	violations[0].field == "primary_region"
}

test_primary_not_legal_one_per_framework if {
	violations := checks.violations with input as _input({"primary_region": "us-east", "compliance_frameworks": ["gdpr", "pipeda"]})
	[[v.code, v.framework] | some v in violations] == [
		["PRIMARY_REGION_NOT_LEGAL", "pipeda"],
		["PRIMARY_REGION_NOT_LEGAL", "gdpr"],
	]
}

test_mechanism_makes_primary_legal if {
	checks.violations == [] with input as _input({"primary_region": "us-east", "transfer_mechanisms": {"dpf": ["us-east"]}})
}

test_retention_required_for_coppa if {
	violations := checks.violations with input as _input({"compliance_frameworks": ["coppa"]})
	violations == [{
		"code": "RETENTION_REQUIRED", "field": "data_retention_days", "framework": "coppa",
		"message": "COPPA needs a written retention period (data_retention_days, 16 CFR 312.10)",
	}]
	checks.violations == [] with input as _input({"compliance_frameworks": ["coppa"], "data_retention_days": 365})
}

test_every_violation_in_table_order if {
	policy := {
		"primary_region": "us-east", "allowed_regions": ["us-west"],
		"prohibited_regions": ["us-east", "us-west"], "compliance_frameworks": ["gdpr", "coppa"],
	}
	_codes(checks.violations) == [
		"REGION_ALLOWED_AND_PROHIBITED", "PRIMARY_REGION_PROHIBITED",
		"PRIMARY_REGION_NOT_LEGAL", "RETENTION_REQUIRED",
	] with input as _input(policy)
}

test_warnings if {
	policy := {
		"allowed_regions": ["us-east", "eu-central"], "failover_regions": ["apac-south", "eu-central", "ca-central"],
		"prohibited_regions": ["ca-central"],
	}
	warnings := checks.warnings with input as _input(policy)
	[[w.code, w.field] | some w in warnings] == [
		["ALLOWED_REGION_NOT_LEGAL", "allowed_regions"],
		["FAILOVER_REGION_NOT_LEGAL", "failover_regions"],
		["FAILOVER_REGION_PROHIBITED", "failover_regions"],
	]
	startswith(warnings[0].message, "us-east: ")
	warnings[1].framework == "gdpr"
}

_learner(policy, tenant, learner) := {
	"kind": "learner",
	"policy": object.union({"primary_region": "us-east", "compliance_frameworks": ["ferpa"]}, policy),
	"tenant_policy": tenant,
	"learner_policy": learner,
}

# SPEC §11.A7: a learner field never widens the tenant's set, not even its primary
test_learner_primary_outside_tenant if {
	tenant := {"primary_region": "us-east", "allowed_regions": ["us-west"], "prohibited_regions": ["apac-east"]}
	codes := [v.code | some v in checks.violations] with input as _learner({"primary_region": "ca-central"}, tenant, {"primary_region": "ca-central"})
	codes == ["LEARNER_PRIMARY_OUTSIDE_TENANT"]
	checks.valid with input as _learner({"primary_region": "us-west"}, tenant, {"primary_region": "us-west"})
	checks.valid with input as _learner({}, tenant, {})
	prohibited := [v.code | some v in checks.violations] with input as _learner(
		{"primary_region": "apac-east"},
		{"primary_region": "us-east", "allowed_regions": [], "prohibited_regions": ["apac-east"]},
		{"primary_region": "apac-east"},
	)
	"LEARNER_PRIMARY_OUTSIDE_TENANT" in prohibited
}

# SPEC §11.A7: the tenant attests that no learner is younger than min_learner_age
test_learner_below_tenant_minimum if {
	doc := _learner({"learner_age": 15, "min_learner_age": 18}, {"primary_region": "us-east"}, {})
	[v.code | some v in checks.violations] == ["LEARNER_AGE_BELOW_TENANT_MINIMUM"] with input as doc
	checks.valid with input as _learner({"learner_age": 18, "min_learner_age": 18}, {"primary_region": "us-east"}, {})
}

# SPEC §11.A1: min_learner_age and dpdp_education_exemption are the tenant's attestations
test_tenant_only_fields if {
	doc := _learner({}, {"primary_region": "us-east"}, {"min_learner_age": 18, "dpdp_education_exemption": false})
	[[v.code, v.field] | some v in checks.violations] == [
		["FIELD_TENANT_ONLY", "dpdp_education_exemption"],
		["FIELD_TENANT_ONLY", "min_learner_age"],
	] with input as doc
}

# SPEC §11.A1: dpf and uk_extension name US importers; provider items name catalog providers
test_mechanism_items if {
	doc := _input({"compliance_frameworks": ["gdpr"], "primary_region": "eu-west", "transfer_mechanisms": {
		"dpf": ["us-east", "eu-west"], "uk_extension": [{"provider": "openai"}],
		"scc_tia": [{"provider": "openai", "regions": ["us-east"]}, {"provider": "nobody", "regions": ["us-east"]}],
	}})
	[[v.code, v.field] | some v in checks.violations] == [
		["MECHANISM_REGION_MISMATCH", "transfer_mechanisms.dpf"],
		["MECHANISM_REGION_MISMATCH", "transfer_mechanisms.uk_extension"],
		["UNKNOWN_PROVIDER", "transfer_mechanisms.scc_tia"],
	] with input as doc
}
