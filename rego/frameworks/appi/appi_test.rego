package frameworks.appi_test

import data.frameworks.appi

_input(policy) := {"policy": object.union({"compliance_frameworks": ["appi"], "primary_region": "apac-east"}, policy)}

_entry(patch) := object.union({"provider": "openai", "region": "us-east", "destinations": ["us-east"]}, patch)

test_applies_when_listed if {
	appi.applies with input as _input({})
	not appi.applies with input as {"policy": {"compliance_frameworks": ["gdpr"]}}
}

# Art. 28(1) with PPC Rules: Japan and the designated EU/EEA need no consent
test_designated_by_default if {
	appi.legal_regions == {"apac-east", "eu-west", "eu-central"} with input as _input({})
	appi.route_regions(_entry({})) == {"apac-east", "eu-west", "eu-central"} with input as _input({})
}

# Art. 28(1): the principal's prior consent allows provision to any foreign third party
test_consent_widens_to_all if {
	count(appi.legal_regions) == 7 with input as _input({"transfer_mechanisms": {"appi_consent": true}})
	count(appi.route_regions(_entry({}))) == 7 with input as _input({"transfer_mechanisms": {"appi_consent": true}})
}

# Art. 28(1), (3) and PPC Rules: a recipient bound to equivalent measures; bare = storage, item = that provider
test_equivalent_measures_per_importer if {
	doc := _input({"transfer_mechanisms": {"appi_equivalent_measures": ["us-west", {"provider": "openai", "regions": ["us-east"]}]}})
	appi.legal_regions == {"apac-east", "eu-west", "eu-central", "us-west"} with input as doc
	appi.route_regions(_entry({})) == {"apac-east", "eu-west", "eu-central", "us-east"} with input as doc
	appi.route_regions(_entry({"provider": "aws-bedrock"})) == {"apac-east", "eu-west", "eu-central"} with input as doc
}

# PPC Rules: APEC CBPR recognition of the recipient; only an exact true counts (SPEC §11.A6)
test_cbpr_recognition if {
	count(appi.route_regions(_entry({"apec_cbpr": true}))) == 7 with input as _input({})
	appi.route_regions(_entry({"apec_cbpr": "yes"})) == {"apac-east", "eu-west", "eu-central"} with input as _input({})
}

test_exclusion if {
	appi.exclusion.code == "DENY_APPI_NO_TRANSFER_BASIS"
	appi.elimination == "appi:no_transfer_basis"
}

# Consent of a minor under 16 is the legal representative's (PPC guidelines, 2026 amendment [U])
test_minor_gate_only_where_consent_is_the_basis if {
	doc := _input({"transfer_mechanisms": {"appi_consent": true}, "learner_age": 14})
	appi.minor_gate("us-west", null).code == "DENY_APPI_MINOR_NO_CONSENT" with input as doc
	not appi.minor_gate("eu-west", null) with input as doc
	not appi.minor_gate("us-west", null) with input as object.union(doc, {"learner_policy": {"consents": {"parental_consent": true}}})
	not appi.minor_gate("us-west", null) with input as _input({"transfer_mechanisms": {"appi_consent": true}, "learner_age": 16})
	appi.minor_gate("us-east", _entry({})) with input as doc
	not appi.minor_gate("us-east", _entry({"apec_cbpr": true})) with input as doc
}

# Art. 35 "without delay", Art. 39 two weeks: 14 days (fail closed)
test_erasure_deadline if appi.erasure_deadline_days == 14
