package frameworks.coppa_test

import data.frameworks.coppa

_input(policy) := {"policy": object.union({"compliance_frameworks": ["coppa"], "data_retention_days": 365}, policy)}

test_every_region_legal if count(coppa.legal_regions) == 7

test_child_under_13 if {
	coppa.child with input as _input({"learner_age": 12})
	not coppa.child with input as _input({"learner_age": 13})
}

test_unknown_age_counts_as_child if {
	coppa.child with input as _input({})
	coppa.child with input as _input({"learner_age": null})
}

test_age_zero_is_a_child if coppa.child with input as _input({"learner_age": 0})

test_not_a_child_without_coppa if {
	not coppa.child with input as {"policy": {"compliance_frameworks": ["ferpa"], "learner_age": 8}}
}

test_gate_denies_child_without_consent if {
	found := coppa.consent_gate with input as _input({"learner_age": 9})
	found.code == "DENY_COPPA_NO_CONSENT"
	found.decided_by == "consent_gate"
	found.framework == "coppa"
}

test_school_authorization_passes_gate if {
	not coppa.consent_gate with input as _input({"learner_age": 9, "consents": {"school_authorization": true}})
}

test_parental_consent_passes_gate if {
	not coppa.consent_gate with input as _input({"consents": {"parental_consent": true}})
}

test_teen_passes_gate_without_consent if {
	not coppa.consent_gate with input as _input({"learner_age": 15})
}

test_separate_consent_for_training if {
	found := coppa.separate_consent with input as _input({"learner_age": 9, "consents": {"parental_consent": true}})
	found.code == "DENY_COPPA_SEPARATE_CONSENT_REQUIRED"
	not coppa.separate_consent with input as _input({"learner_age": 9, "consents": {"parental_consent": true, "ai_training_consent": true}})
	not coppa.separate_consent with input as _input({"learner_age": 14})
}

test_retention_required if {
	found := coppa.retention_missing with input as {"policy": {"compliance_frameworks": ["coppa"]}}
	found.code == "RETENTION_REQUIRED"
	not coppa.retention_missing with input as _input({})
	not coppa.retention_missing with input as {"policy": {"compliance_frameworks": ["ferpa"]}}
}
