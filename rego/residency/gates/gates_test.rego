package residency.gates_test

import data.residency.gates

_input(frameworks, age, consents) := {"policy": {"compliance_frameworks": frameworks, "learner_age": age, "consents": consents}}

test_no_gate_frameworks if {
	not gates.first with input as _input(["gdpr"], 5, {})
	gates.failures == [] with input as _input(["gdpr"], 5, {})
}

test_all_gates_fail_in_order if {
	doc := _input(["lgpd", "quebec_law25", "coppa"], 10, {})
	[f.code | some f in gates.failures] == ["DENY_COPPA_NO_CONSENT", "DENY_QC_MINOR_NO_CONSENT", "DENY_LGPD_CHILD_NO_CONSENT"] with input as doc
	gates.first.code == "DENY_COPPA_NO_CONSENT" with input as doc
}

test_school_authorization_leaves_quebec if {
	gates.first.code == "DENY_QC_MINOR_NO_CONSENT" with input as _input(["coppa", "quebec_law25"], 10, {"school_authorization": true})
}

test_lgpd_gate_last if {
	gates.first.code == "DENY_LGPD_CHILD_NO_CONSENT" with input as _input(["coppa", "lgpd"], 11, {"school_authorization": true})
}

test_parental_consent_passes_all if {
	not gates.first with input as _input(["coppa", "quebec_law25", "lgpd"], 8, {"parental_consent": true})
}
