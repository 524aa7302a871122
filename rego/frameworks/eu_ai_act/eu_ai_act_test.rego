package frameworks.eu_ai_act_test

import data.frameworks.eu_ai_act

test_emotion_recognition_prohibited_under_gdpr if {
	found := eu_ai_act.prohibited_practice with input as {
		"policy": {"compliance_frameworks": ["gdpr"]},
		"request": {"purpose": "emotion_recognition"},
	}
	found.code == "DENY_AI_ACT_PROHIBITED_PRACTICE"
	found.decided_by == "ai_act"
}

test_other_purposes_allowed if {
	not eu_ai_act.prohibited_practice with input as {
		"policy": {"compliance_frameworks": ["gdpr"]},
		"request": {"purpose": "tutoring"},
	}
}

test_not_applicable_without_gdpr if {
	not eu_ai_act.prohibited_practice with input as {
		"policy": {"compliance_frameworks": ["ferpa"]},
		"request": {"purpose": "emotion_recognition"},
	}
}
