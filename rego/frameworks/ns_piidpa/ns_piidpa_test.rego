package frameworks.ns_piidpa_test

import data.frameworks.ns_piidpa

test_applies_when_listed if {
	ns_piidpa.applies with input as {"policy": {"compliance_frameworks": ["ns_piidpa"]}}
	not ns_piidpa.applies with input as {"policy": {"compliance_frameworks": ["pipeda"]}}
}

test_canada_only if ns_piidpa.legal_regions == {"ca-central"}

test_nothing_widens if {
	mechanisms := {"dpf": ["us-east"], "scc_tia": ["us-east"], "pipeda_contract": true, "anpd_scc": true, "qc_pia": ["us-east"]}
	ns_piidpa.legal_regions == {"ca-central"} with input as {"policy": {"compliance_frameworks": ["ns_piidpa"], "transfer_mechanisms": mechanisms}}
}

test_exclusion_code if {
	ns_piidpa.exclusion.code == "DENY_PROVINCIAL_LOCALISATION"
	ns_piidpa.elimination == "ns_piidpa:provincial_localisation"
}
