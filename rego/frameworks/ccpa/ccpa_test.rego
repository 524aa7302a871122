package frameworks.ccpa_test

import data.frameworks.ccpa

test_applies_when_listed if {
	ccpa.applies with input as {"policy": {"compliance_frameworks": ["ccpa"]}}
	not ccpa.applies with input as {"policy": {"compliance_frameworks": ["gdpr"]}}
}

test_every_region_legal if {
	ccpa.legal_regions == {"us-east", "us-west", "eu-west", "eu-central", "apac-south", "apac-east", "ca-central"}
}

test_erasure_deadline if ccpa.erasure_deadline_days == 45
