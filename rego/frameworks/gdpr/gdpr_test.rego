package frameworks.gdpr_test

import data.frameworks.gdpr

_policy(mechanisms) := {"input": {"policy": {"compliance_frameworks": ["gdpr"], "transfer_mechanisms": mechanisms}}}

test_applies_when_listed if {
	gdpr.applies with input as {"policy": {"compliance_frameworks": ["ferpa", "gdpr"]}}
	not gdpr.applies with input as {"policy": {"compliance_frameworks": ["ferpa"]}}
}

test_default_is_eea_and_adequate_countries if {
	gdpr.legal_regions == {"eu-west", "eu-central", "ca-central", "apac-east"} with input as _policy({}).input
}

test_adequate_table_matches_region_data if {
	eea := {code | some code, region in data.reference.regions; region.jurisdiction == "EU"}
	adequate_countries := {code | some code, region in data.reference.regions; region.country in {"CA", "JP"}}
	gdpr.adequate == eea | adequate_countries
}

test_us_denied_without_mechanism if {
	not "us-east" in gdpr.legal_regions with input as _policy({}).input
	not "us-west" in gdpr.legal_regions with input as _policy({}).input
}

test_dpf_widens_to_us_regions if {
	regions := gdpr.legal_regions with input as _policy({"dpf": ["us-east"]}).input
	"us-east" in regions
	not "us-west" in regions
}

test_dpf_never_covers_india if {
	not "apac-south" in gdpr.legal_regions with input as _policy({"dpf": ["apac-south"]}).input
}

test_india_needs_scc_and_tia if {
	not "apac-south" in gdpr.legal_regions with input as _policy({}).input
	"apac-south" in gdpr.legal_regions with input as _policy({"scc_tia": ["apac-south"]}).input
}

test_scc_tia_widens_us_regions if {
	"us-west" in gdpr.legal_regions with input as _policy({"scc_tia": ["us-west"]}).input
}

test_unknown_mechanism_region_ignored if {
	not "mars-1" in gdpr.legal_regions with input as _policy({"scc_tia": ["mars-1"], "dpf": ["mars-1"]}).input
}

test_certifications_are_not_mechanisms if {
	# us-west is CCPA-certified and us-east SOC2/HIPAA/FedRAMP: neither is a Chapter V basis
	not "us-west" in gdpr.legal_regions with input as _policy({"dpf": [], "scc_tia": []}).input
}

test_exclusion_code if {
	gdpr.exclusion.code == "DENY_NO_TRANSFER_MECHANISM"
	gdpr.exclusion.framework == "gdpr"
	gdpr.exclusion.decided_by == "framework"
	gdpr.elimination == "gdpr:no_transfer_mechanism"
}

test_erasure_deadline if gdpr.erasure_deadline_days == 30

# Arts. 28(2),(4), 44, 46 (SPEC §11.A2.2): each importer proves its own basis. A bare `dpf` or
# `scc_tia` region covers the tenant's storage vendor, never an inference provider.
test_bare_regions_cover_storage_only if {
	doc := {"policy": {"compliance_frameworks": ["gdpr"], "transfer_mechanisms": {"dpf": ["us-east"], "scc_tia": ["apac-south"]}}}
	{"us-east", "apac-south"} & gdpr.legal_regions == {"us-east", "apac-south"} with input as doc
	{"us-east", "apac-south"} & gdpr.route_regions({"provider": "aws-bedrock"}) == set() with input as doc
}

# Decision (EU) 2021/914: SCCs bind one exporter-importer pair; an item names the provider
test_provider_item_covers_that_provider if {
	doc := {"policy": {"compliance_frameworks": ["gdpr"], "transfer_mechanisms": {"scc_tia": [{"provider": "openai", "regions": ["us-east"]}]}}}
	"us-east" in gdpr.route_regions({"provider": "openai"}) with input as doc
	not "us-east" in gdpr.route_regions({"provider": "aws-bedrock"}) with input as doc
	not "us-east" in gdpr.legal_regions with input as doc
}

# Decision (EU) 2023/1795 certifies organisations: the entry's own flag, exactly true, while dpf_valid
test_catalog_dpf_certified if {
	doc := {"policy": {"compliance_frameworks": ["gdpr"]}}
	"us-west" in gdpr.route_regions({"provider": "x", "dpf_certified": true}) with input as doc
	not "us-west" in gdpr.route_regions({"provider": "x", "dpf_certified": "true"}) with input as doc
	not "us-west" in gdpr.route_regions({"provider": "x", "dpf_certified": true}) with input as doc
		with data.reference.mechanisms.dpf_valid as false
}

# C-703/25 P pending: `mechanisms.dpf_valid: false` voids tenant `dpf` lists and flags the withdrawal
test_dpf_switch if {
	doc := {"policy": {"compliance_frameworks": ["gdpr"], "transfer_mechanisms": {"dpf": ["us-east"]}}}
	not "us-east" in gdpr.legal_regions with input as doc with data.reference.mechanisms.dpf_valid as false
	gdpr.withdrawn("us-east", null) with input as doc with data.reference.mechanisms.dpf_valid as false
	gdpr.withdrawn("us-east", {"dpf_certified": true}) with input as doc with data.reference.mechanisms.dpf_valid as false
	not gdpr.withdrawn("us-east", null) with input as doc
	not gdpr.withdrawn("us-west", null) with input as doc with data.reference.mechanisms.dpf_valid as false
}
