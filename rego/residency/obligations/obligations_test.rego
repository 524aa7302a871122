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
