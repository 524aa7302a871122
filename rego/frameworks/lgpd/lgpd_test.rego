package frameworks.lgpd_test

import data.frameworks.lgpd

_input(policy) := {"policy": object.union({"compliance_frameworks": ["lgpd"]}, policy)}

test_applies_when_listed if {
	lgpd.applies with input as _input({})
	not lgpd.applies with input as {"policy": {"compliance_frameworks": ["gdpr"]}}
}

test_eu_only_by_default if {
	lgpd.legal_regions == {"eu-west", "eu-central"} with input as _input({})
}

test_eu_regions_match_region_data if {
	{code | some code, region in data.reference.regions; region.jurisdiction == "EU"} == {"eu-west", "eu-central"}
}

test_anpd_scc_widens_to_all if {
	count(lgpd.legal_regions) == 7 with input as _input({"transfer_mechanisms": {"anpd_scc": true}})
}

test_exclusion_code if {
	lgpd.exclusion.code == "DENY_LGPD_NO_MECHANISM"
	lgpd.elimination == "lgpd:no_mechanism"
}

test_child_under_12_needs_parental_consent if {
	found := lgpd.consent_gate with input as _input({"learner_age": 11})
	found.code == "DENY_LGPD_CHILD_NO_CONSENT"
	not lgpd.consent_gate with input as _input({"learner_age": 11, "consents": {"parental_consent": true}})
	not lgpd.consent_gate with input as _input({"learner_age": 12})
}

# SPEC §11.A3: unknown age counts as a child for every age gate (fail closed)
test_unknown_age_is_a_child if {
	lgpd.consent_gate.code == "DENY_LGPD_CHILD_NO_CONSENT" with input as _input({})
	not lgpd.consent_gate with input as _input({"min_learner_age": 18})
}

# LGPD Art. 19 II applied to erasure (Art. 18 VI): 15 days, fail closed
test_erasure_deadline if lgpd.erasure_deadline_days == 15
