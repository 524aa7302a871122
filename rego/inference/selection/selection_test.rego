package inference.selection_test

import data.inference.selection

_input(policy, request, health) := {
	"policy": object.union(
		{
			"primary_region": "us-east", "allowed_regions": ["us-west", "ca-central"],
			"compliance_frameworks": [], "failover_regions": ["ca-central"],
		},
		policy,
	),
	"region_health": health,
	"request": object.union({"model_type": "claude-3-haiku", "operation_type": "inference"}, request),
}

test_candidates_primary_then_failover_then_rest_of_t if {
	selection.candidates == ["us-east", "ca-central", "us-west"] with input as _input({}, {}, {})
}

test_candidates_skip_unavailable_and_repeats if {
	doc := _input({"failover_regions": ["us-east", "ca-central", "ca-central"]}, {}, {"us-west": "unavailable"})
	selection.candidates == ["us-east", "ca-central"] with input as doc
}

test_requested_only if {
	selection.candidates == ["us-west"] with input as _input({}, {"requested_region": "us-west"}, {})
	selection.candidates == ["us-west"] with input as _input({}, {"requested_region": "us-west"}, {"us-west": "unavailable"})
	selection.pinned_unavailable with input as _input({}, {"requested_region": "us-west"}, {"us-west": "unavailable"})
}

test_entries_in_preference_order if {
	doc := _input({"primary_region": "eu-west", "allowed_regions": ["eu-central"], "failover_regions": []}, {}, {})
	[[j.entry.provider, j.entry.region, j.entry.route] | some j in selection.judged] with input as doc == [
		["aws-bedrock", "eu-west", "single"],
		["anthropic-eu", "eu-west", "single"],
		["aws-bedrock", "eu-central", "single"],
		["aws-bedrock", "eu-central", "geo:eu"],
	]
}

test_findings if {
	selection.unpinned.code == "DENY_PROVIDER_REGION_UNPINNED"
	selection.unverified.code == "DENY_PROVIDER_LOCATION_UNVERIFIED"
	selection.no_dpa.code == "DENY_PROVIDER_NO_DPA"
	selection.exceeds.code == "DENY_PROVIDER_ROUTE_EXCEEDS_PERMITTED"
	selection.model_unavailable.code == "DENY_MODEL_UNAVAILABLE"
}

test_catalog_defaults if {
	catalog := data.reference.providers.catalog
	every entry in catalog {
		entry.dpa == true
		entry.trains_on_data == false
		entry.attested == true
		bedrock := entry.provider == "aws-bedrock"
		entry.zero_data_retention == bedrock
		entry.region in entry.destinations
	}
	count([e | some e in catalog; e.provider == "aws-bedrock"; e.route == "single"]) == 7
	every entry in [e | some e in catalog; e.route == "single"] {
		entry.destinations == [entry.region]
	}
	[[e.region, e.destinations] | some e in catalog; e.route == "geo:eu"] == [["eu-central", ["eu-west", "eu-central"]]]
}
