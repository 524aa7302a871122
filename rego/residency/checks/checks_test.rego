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
