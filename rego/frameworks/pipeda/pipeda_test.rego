package frameworks.pipeda_test

import data.frameworks.pipeda

_input(mechanisms) := {"policy": {"compliance_frameworks": ["pipeda"], "transfer_mechanisms": mechanisms}}

test_applies_when_listed if {
	pipeda.applies with input as _input({})
	not pipeda.applies with input as {"policy": {"compliance_frameworks": ["gdpr"]}}
}

test_canada_only_by_default if {
	pipeda.legal_regions == {"ca-central"} with input as _input({"pipeda_contract": false})
}

test_canadian_regions_match_region_data if {
	pipeda.legal_regions == {code | some code, region in data.reference.regions; region.country == "CA"} with input as _input({})
}

test_contract_widens_to_all if {
	count(pipeda.legal_regions) == 7 with input as _input({"pipeda_contract": true})
}

test_exclusion_code if {
	pipeda.exclusion.code == "DENY_NO_COMPARABLE_PROTECTION"
	pipeda.exclusion.framework == "pipeda"
	pipeda.elimination == "pipeda:no_comparable_protection"
}
