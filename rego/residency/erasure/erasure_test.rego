package residency.erasure_test

import data.residency.erasure

_input(request, health) := {
	"policy": {
		"primary_region": "eu-west", "compliance_frameworks": ["gdpr"],
		"allowed_regions": ["eu-central"], "failover_regions": ["ca-central", "eu-central"],
	},
	"region_health": health,
	"request": object.union({"operation_type": "delete"}, request),
}

test_targets_from_policy if {
	erasure.targets == ["eu-west", "eu-central", "ca-central"] with input as _input({}, {})
}

# SPEC §11.A8: data_locations add to the policy's regions (request order first), never replace them
test_targets_from_data_locations if {
	erasure.targets == ["us-east", "eu-west", "eu-central", "ca-central"] with input as _input({"data_locations": ["us-east", "eu-west", "us-east"]}, {})
}

test_empty_data_locations_fall_back if {
	erasure.targets == ["eu-west", "eu-central", "ca-central"] with input as _input({"data_locations": []}, {})
}

test_deferred if {
	erasure.deferred == ["eu-central"] with input as _input({}, {"eu-central": "unavailable", "eu-west": "degraded"})
}

test_noncompliant if {
	erasure.noncompliant == ["us-east"] with input as _input({"data_locations": ["us-east", "eu-west"]}, {})
	erasure.noncompliant == [] with input as _input({}, {})
}

test_finding if {
	erasure.allow.code == "ALLOW_ERASURE_ROUTED"
	erasure.noncompliant_flag == "NONCOMPLIANT_COPY_FOUND"
}
