package residency.legal_test

import data.residency.legal

_input(frameworks, mechanisms) := {"policy": {"compliance_frameworks": frameworks, "transfer_mechanisms": mechanisms}}

_all := {"us-east", "us-west", "eu-west", "eu-central", "apac-south", "apac-east", "ca-central"}

test_no_policy_empty if {
	legal.legal_regions == set() with input as {"policy": null}
}

test_no_framework_all_regions if {
	legal.legal_regions == _all with input as _input([], {})
}

test_non_restricting_frameworks_all_regions if {
	legal.legal_regions == _all with input as _input(["ccpa", "ferpa", "coppa"], {})
}

test_gdpr if {
	legal.legal_regions == {"eu-west", "eu-central", "ca-central", "apac-east"} with input as _input(["gdpr", "ferpa"], {})
}

test_intersection_strictest_wins if {
	# GDPR permits ca-central, the EU and Japan; PIPEDA only Canada
	legal.legal_regions == {"ca-central"} with input as _input(["gdpr", "pipeda"], {})
}

test_gdpr_and_lgpd if {
	legal.legal_regions == {"eu-west", "eu-central"} with input as _input(["gdpr", "lgpd"], {})
}

test_empty_intersection if {
	legal.legal_regions == set() with input as _input(["lgpd", "ns_piidpa"], {})
}

test_mechanisms_widen_each_framework_separately if {
	mechanisms := {"scc_tia": ["us-east"], "anpd_scc": true}
	legal.legal_regions == {"eu-west", "eu-central", "ca-central", "apac-east", "us-east"} with input as _input(["gdpr", "lgpd"], mechanisms)
}

test_removals_named_localisation_first if {
	removals := legal.removals with input as _input(["gdpr", "pipeda", "ns_piidpa", "quebec_law25", "lgpd"], {})
	removals["us-east"] == ["ns_piidpa", "quebec_law25", "pipeda", "gdpr", "lgpd"]
	removals["eu-west"] == ["ns_piidpa", "quebec_law25", "pipeda"]
	removals["ca-central"] == ["lgpd"]
}

test_findings if {
	findings := legal.findings("apac-south") with input as _input(["gdpr", "pipeda"], {})
	[f.code | some f in findings] == ["DENY_NO_COMPARABLE_PROTECTION", "DENY_NO_TRANSFER_MECHANISM"]
	startswith(findings[0].message, "apac-south: ")
	legal.findings("ca-central") == [] with input as _input(["gdpr", "pipeda"], {})
}

test_exclusions_and_eliminations if {
	[legal.exclusion(name).code | some name in legal.order] == [
		"DENY_PROVINCIAL_LOCALISATION", "DENY_DPDP_RESTRICTED_COUNTRY", "DENY_QC_PIA_MISSING",
		"DENY_NO_COMPARABLE_PROTECTION", "DENY_NO_TRANSFER_MECHANISM", "DENY_NO_TRANSFER_MECHANISM",
		"DENY_APPI_NO_TRANSFER_BASIS", "DENY_LGPD_NO_MECHANISM",
	]
	[legal.elimination(name) | some name in legal.order] == [
		"ns_piidpa:provincial_localisation", "dpdp:restricted_country", "quebec_law25:qc_pia_missing",
		"pipeda:no_comparable_protection", "gdpr:no_transfer_mechanism", "uk_gdpr:no_transfer_mechanism",
		"appi:no_transfer_basis", "lgpd:no_mechanism",
	]
}

test_framework_regions if {
	legal.framework_regions("ns_piidpa") == {"ca-central"}
	legal.framework_regions("lgpd") == {"eu-west", "eu-central"} with input as _input(["lgpd"], {})
}

test_empty_finding if {
	legal.empty.code == "DENY_EMPTY_INTERSECTION"
	legal.empty.decided_by == "framework"
}

test_ordered_is_l_sorted if {
	legal.ordered == sort(legal.legal_regions) with input as _input(["gdpr", "ferpa"], {"dpf": ["us-east"]})
	legal.ordered == ["apac-east", "ca-central", "eu-central", "eu-west", "us-east"] with input as _input(["gdpr", "ferpa"], {"dpf": ["us-east"]})
	legal.ordered == sort(_all) with input as _input([], {})
	legal.ordered == [] with input as {"policy": null}
	legal.ordered == [] with input as _input(["lgpd", "ns_piidpa"], {})
}

test_first_removal_names_localisation_first if {
	legal.first_removal("us-east") == "ns_piidpa" with input as _input(["gdpr", "pipeda", "ns_piidpa", "quebec_law25", "lgpd"], {})
	legal.first_removal("ca-central") == "lgpd" with input as _input(["gdpr", "pipeda", "ns_piidpa", "quebec_law25", "lgpd"], {})
	legal.first_removal("apac-south") == "gdpr" with input as _input(["gdpr", "ferpa"], {})
	not legal.first_removal("eu-west") with input as _input(["gdpr", "ferpa"], {})
}
