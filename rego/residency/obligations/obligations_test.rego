package residency.obligations_test

import data.residency.obligations

test_shortest_erasure_deadline if {
	obligations.erasure_deadline_days == 30 with input as {"policy": {"compliance_frameworks": ["ccpa", "gdpr"]}}
	obligations.erasure_deadline_days == 45 with input as {"policy": {"compliance_frameworks": ["ccpa"]}}
	obligations.erasure_deadline_days == null with input as {"policy": {"compliance_frameworks": ["ferpa"]}}
}

test_retention if {
	obligations.retention_days == 90 with input as {"policy": {"data_retention_days": 90}}
	obligations.retention_days == null with input as {"policy": {}}
}

# SPEC §11.A9: the shortest deadline and the framework naming it (first of the table on a tie)
test_deadline_framework if {
	obligations.erasure_deadline_framework == "appi" with input as {"policy": {"compliance_frameworks": ["gdpr", "appi"]}}
	obligations.erasure_deadline_framework == "gdpr" with input as {"policy": {"compliance_frameworks": ["pipeda", "uk_gdpr", "gdpr"]}}
	obligations.erasure_deadline_days == 90 with input as {"policy": {"compliance_frameworks": ["dpdp"]}}
	obligations.erasure_deadline_framework == null with input as {"policy": {"compliance_frameworks": ["ferpa", "coppa", "ns_piidpa"]}}
}

# GDPR Art. 35(3)(a),(b) DPIA; Art. 9(1) biometric data for identification — on allowed decisions only
test_purpose_duties if {
	doc := {"policy": {"compliance_frameworks": ["uk_gdpr"]}, "request": {"purpose": "biometric_identification"}}
	result := obligations.document(true, false, []) with input as doc
	result.dpia_required
	result.art9_condition_required
	result.ai_act_high_risk == null
	denied := obligations.document(false, false, []) with input as doc
	denied.dpia_required == false
	profiling := obligations.document(true, false, []) with input as {"policy": {"compliance_frameworks": ["gdpr"]}, "request": {"purpose": "profiling"}}
	profiling.dpia_required
	profiling.art9_condition_required == false
}

# AI Act Annex III(3)(d), Art. 26: deployer duties on inference only
test_high_risk_on_inference_only if {
	doc := {"policy": {"compliance_frameworks": ["gdpr"]}, "request": {"purpose": "proctoring"}}
	inference := obligations.document(true, true, []) with input as doc
	inference.ai_act_high_risk.category == "annex_iii_3d"
	access := obligations.document(true, false, []) with input as doc
	access.ai_act_high_risk == null
}

# GDPR Art. 17(3)(e): erasure suspended while a legal hold is active
test_legal_hold if {
	result := obligations.document(true, false, []) with input as {"policy": {}, "legal_hold": {"active": true, "reference": "M-1"}}
	result.legal_hold == {"reference": "M-1", "erasure_deadline_suspended": true}
	obligations.legal_hold == null with input as {"policy": {}, "legal_hold": {"active": false}}
	unreferenced := obligations.document(true, false, []) with input as {"policy": {}, "legal_hold": {"active": true}}
	unreferenced.legal_hold.reference == ""
}
