package frameworks.uk_gdpr_test

import data.frameworks.uk_gdpr

_input(policy) := {"policy": object.union({"compliance_frameworks": ["uk_gdpr"], "primary_region": "eu-west"}, policy)}

_entry(patch) := object.union({"provider": "aws-bedrock", "region": "us-east", "destinations": ["us-east"]}, patch)

test_applies_when_listed if {
	uk_gdpr.applies with input as _input({})
	not uk_gdpr.applies with input as {"policy": {"compliance_frameworks": ["gdpr"]}}
}

# DPA 2018 s.17A, Sch. 21 paras 4-5: EEA, Japan, Canada (PIPEDA-covered) keep adequacy
test_adequate_by_default if {
	uk_gdpr.legal_regions == {"eu-west", "eu-central", "apac-east", "ca-central"} with input as _input({})
}

# SI 2023/1028: the UK Extension covers only organisations certified to the DPF *and* the Extension
test_eu_dpf_is_not_the_uk_extension if {
	not "us-east" in uk_gdpr.legal_regions with input as _input({"transfer_mechanisms": {"dpf": ["us-east"]}})
	"us-east" in uk_gdpr.legal_regions with input as _input({"transfer_mechanisms": {"uk_extension": ["us-east"]}})
	not "us-east" in uk_gdpr.route_regions(_entry({"dpf_certified": true})) with input as _input({})
	"us-east" in uk_gdpr.route_regions(_entry({"dpf_certified": true, "uk_extension": true})) with input as _input({})
}

# The UK Extension is void with the DPF (fail closed), or when the UK withdraws it alone
test_switches if {
	doc := _input({"transfer_mechanisms": {"uk_extension": ["us-east"]}})
	not "us-east" in uk_gdpr.legal_regions with input as doc with data.reference.mechanisms.dpf_valid as false
	not "us-east" in uk_gdpr.legal_regions with input as doc with data.reference.mechanisms.uk_extension_valid as false
	uk_gdpr.withdrawn("us-east", null) with input as doc with data.reference.mechanisms.dpf_valid as false
	not uk_gdpr.withdrawn("us-east", null) with input as doc
	uk_gdpr.withdrawn("us-east", _entry({"dpf_certified": true, "uk_extension": true})) with input as _input({})
		with data.reference.mechanisms.uk_extension_valid as false
}

# Art. 46(2)(d): IDTA or UK Addendum; bare = storage/search, item = that provider
test_idta_per_importer if {
	doc := _input({"transfer_mechanisms": {"idta": ["apac-south", {"provider": "openai", "regions": ["us-east"]}]}})
	"apac-south" in uk_gdpr.legal_regions with input as doc
	not "us-east" in uk_gdpr.legal_regions with input as doc
	"us-east" in uk_gdpr.route_regions(_entry({"provider": "openai"})) with input as doc
	not "apac-south" in uk_gdpr.route_regions(_entry({"provider": "openai"})) with input as doc
}

# Art. 44: a restricted transfer without a basis
test_exclusion if {
	uk_gdpr.exclusion.code == "DENY_NO_TRANSFER_MECHANISM"
	uk_gdpr.exclusion.framework == "uk_gdpr"
	uk_gdpr.elimination == "uk_gdpr:no_transfer_mechanism"
}

# Art. 12(3): one month
test_erasure_deadline if uk_gdpr.erasure_deadline_days == 30
