package residency.validate_test

import data.residency.validate

_input(policy) := {"kind": "tenant", "policy": object.union(
	{"tenant_id": "acme", "primary_region": "eu-west", "allowed_regions": [], "prohibited_regions": [], "compliance_frameworks": ["gdpr"]},
	policy,
)}

test_valid_policy if {
	result := validate with input as _input({})
	result == {"valid": true, "violations": [], "warnings": []}
}

# SPEC §4.7: gdpr, allowed [us-east], primary us-east ⇒ 422
test_spec_row_gdpr_us_primary_rejected if {
	result := validate with input as _input({"primary_region": "us-east", "allowed_regions": ["us-east"]})
	not result.valid
	[[v.code, v.field, v.framework] | some v in result.violations] == [["PRIMARY_REGION_NOT_LEGAL", "primary_region", "gdpr"]]
	[w.code | some w in result.warnings] == ["ALLOWED_REGION_NOT_LEGAL"]
}

test_fields_always_present if {
	result := validate with input as {}
	result.valid == false
	is_array(result.violations)
	is_array(result.warnings)
}

test_fields_defined_when_checks_are_undefined if {
	result := validate with input as _input({}) with data.residency.checks as {}
	result == {"valid": false, "violations": [], "warnings": []}
}
