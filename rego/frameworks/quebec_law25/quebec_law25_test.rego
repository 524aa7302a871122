package frameworks.quebec_law25_test

import data.frameworks.quebec_law25

_input(policy) := {"policy": object.union({"compliance_frameworks": ["quebec_law25"]}, policy)}

test_applies_when_listed if {
	quebec_law25.applies with input as _input({})
	not quebec_law25.applies with input as {"policy": {"compliance_frameworks": ["pipeda"]}}
}

test_quebec_only_by_default if {
	quebec_law25.legal_regions == {"ca-central"} with input as _input({})
}

test_quebec_region_matches_region_data if {
	{code | some code, region in data.reference.regions; region.subdivision == "CA-QC"} == {"ca-central"}
}

test_pia_widens_listed_regions if {
	regions := quebec_law25.legal_regions with input as _input({"transfer_mechanisms": {"qc_pia": ["eu-west", "mars-1"]}})
	regions == {"ca-central", "eu-west"}
}

test_exclusion_code if {
	quebec_law25.exclusion.code == "DENY_QC_PIA_MISSING"
	quebec_law25.elimination == "quebec_law25:qc_pia_missing"
}

test_minor_under_14_needs_parental_consent if {
	found := quebec_law25.consent_gate with input as _input({"learner_age": 13})
	found.code == "DENY_QC_MINOR_NO_CONSENT"
	found.framework == "quebec_law25"
	not quebec_law25.consent_gate with input as _input({"learner_age": 13, "consents": {"parental_consent": true}})
}

test_school_authorization_is_not_parental_consent if {
	quebec_law25.consent_gate with input as _input({"learner_age": 10, "consents": {"school_authorization": true}})
}

test_fourteen_passes if {
	not quebec_law25.consent_gate with input as _input({"learner_age": 14})
}

# SPEC §11.A3: unknown age counts as a minor (CQLR c. P-39.1 s.4.1, fail closed); the tenant's
# min_learner_age attests otherwise
test_unknown_age_is_a_minor if {
	quebec_law25.consent_gate.code == "DENY_QC_MINOR_NO_CONSENT" with input as _input({})
	not quebec_law25.consent_gate with input as _input({"min_learner_age": 18})
}

# CQLR c. A-2.1 s.98: 20 days (public bodies, fail closed)
test_erasure_deadline if quebec_law25.erasure_deadline_days == 20

test_provider_item_covers_inference_only if {
	doc := _input({"transfer_mechanisms": {"qc_pia": ["us-west", {"provider": "openai", "regions": ["us-east"]}]}})
	quebec_law25.legal_regions == {"ca-central", "us-west"} with input as doc
	quebec_law25.route_regions({"provider": "openai"}) == {"ca-central", "us-east"} with input as doc
}
