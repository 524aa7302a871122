package frameworks.ferpa_test

import data.frameworks.ferpa

test_applies_when_listed if {
	ferpa.applies with input as {"policy": {"compliance_frameworks": ["ferpa"]}}
	not ferpa.applies with input as {"policy": {"compliance_frameworks": []}}
}

test_every_region_legal if {
	count(ferpa.legal_regions) == 7
	"apac-south" in ferpa.legal_regions
}

test_secondary_use_finding_when_ferpa if {
	found := ferpa.secondary_use with input as {"policy": {"compliance_frameworks": ["ferpa"]}}
	found.code == "DENY_FERPA_SECONDARY_USE"
	found.framework == "ferpa"
}

test_no_secondary_use_finding_without_ferpa if {
	not ferpa.secondary_use with input as {"policy": {"compliance_frameworks": ["gdpr"]}}
}
