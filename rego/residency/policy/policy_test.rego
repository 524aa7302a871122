package residency.policy_test

import data.residency.policy

test_present_only_for_an_object if {
	policy.present with input as {"policy": {}}
	not policy.present with input as {"policy": null}
	not policy.present with input as {}
}

test_missing_finding if {
	policy.missing.code == "DENY_NO_POLICY"
	policy.missing.decided_by == "fail_closed"
}

test_defaults_for_absent_fields if {
	policy.allowed == [] with input as {"policy": {}}
	policy.prohibited == set() with input as {"policy": {}}
	policy.frameworks == set() with input as {"policy": {}}
	not policy.primary with input as {"policy": {}}
	not policy.has_allow_list with input as {"policy": {}}
	not policy.failover_enabled with input as {"policy": {}}
	not policy.retention_days with input as {"policy": {}}
	not policy.age with input as {"policy": {}}
	not policy.override_permitted with input as {"policy": {}}
	not policy.consent("parental_consent") with input as {"policy": {}}
	policy.mechanism_regions("dpf") == set() with input as {"policy": {}}
	not policy.mechanism("pipeda_contract") with input as {"policy": {}}
}

test_null_lists_read_as_empty if {
	policy.allowed == [] with input as {"policy": {"allowed_regions": null}}
	policy.prohibited == set() with input as {"policy": {"prohibited_regions": null}}
	not policy.has_allow_list with input as {"policy": {"allowed_regions": null}}
}

test_ill_typed_fields_read_as_unset if {
	not policy.primary with input as {"policy": {"primary_region": 5}}
	not policy.retention_days with input as {"policy": {"data_retention_days": "365"}}
	not policy.age with input as {"policy": {"learner_age": "9"}}
	not policy.failover_enabled with input as {"policy": {"allow_cross_region_failover": "true"}}
}

test_failover_order_defaults_to_allowed if {
	policy.failover_order == ["us-west", "ca-central"] with input as {"policy": {"allowed_regions": ["us-west", "ca-central"], "failover_regions": []}}
	policy.failover_order == ["ca-central"] with input as {"policy": {"allowed_regions": ["us-west"], "failover_regions": ["ca-central"]}}
}

test_values_read_through if {
	p := {
		"primary_region": "eu-west", "allowed_regions": ["eu-central"], "prohibited_regions": ["us-east"],
		"compliance_frameworks": ["gdpr"], "allow_cross_region_failover": true, "data_retention_days": 30,
		"learner_age": 10, "consents": {"parental_consent": true}, "override_permitted": true,
		"transfer_mechanisms": {"dpf": ["us-east"], "pipeda_contract": true},
	}
	policy.primary == "eu-west" with input as {"policy": p}
	policy.has_allow_list with input as {"policy": p}
	policy.prohibited == {"us-east"} with input as {"policy": p}
	policy.frameworks == {"gdpr"} with input as {"policy": p}
	policy.failover_enabled with input as {"policy": p}
	policy.retention_days == 30 with input as {"policy": p}
	policy.age == 10 with input as {"policy": p}
	policy.consent("parental_consent") with input as {"policy": p}
	policy.override_permitted with input as {"policy": p}
	policy.mechanism_regions("dpf") == {"us-east"} with input as {"policy": p}
	policy.mechanism("pipeda_contract") with input as {"policy": p}
}
