package residency.failover_test

import data.residency.failover

_input(policy, health) := {
	"now_ms": 1,
	"policy": object.union(
		{
			"tenant_id": "acme", "primary_region": "eu-west", "compliance_frameworks": ["gdpr"],
			"allow_cross_region_failover": true, "allowed_regions": ["eu-central", "us-east"],
			"failover_regions": ["eu-central", "us-east"],
		},
		policy,
	),
	"region_health": health,
	"request": {"tenant_id": "acme", "operation_type": "write"},
	"overrides": [],
}

test_needed_only_for_unavailable_primary if {
	failover.needed("eu-west") with input as _input({}, {"eu-west": "unavailable"})
	not failover.needed("eu-west") with input as _input({}, {"eu-west": "degraded"})
	not failover.needed("eu-central") with input as _input({}, {"eu-central": "unavailable"})
}

test_first_healthy_in_t if {
	failover.choice == ["eu-central", null] with input as _input({}, {"eu-west": "unavailable"})
}

test_skip_unavailable if {
	# us-east is outside L (no transfer mechanism), so nothing is left
	not failover.choice with input as _input({}, {"eu-west": "unavailable", "eu-central": "unavailable"})
	failover.choice == ["us-east", null] with input as _input(
		{"transfer_mechanisms": {"dpf": ["us-east"]}},
		{"eu-west": "unavailable", "eu-central": "unavailable"},
	)
}

test_degraded_is_usable if {
	failover.choice == ["eu-central", null] with input as _input({}, {"eu-west": "unavailable", "eu-central": "degraded"})
}

test_never_widens_l if {
	not failover.choice with input as _input({"failover_regions": ["us-east", "apac-south"]}, {"eu-west": "unavailable"})
}

test_skips_primary_and_regions_outside_t if {
	failover.candidates == [["apac-east", null]] with input as _input(
		{"failover_regions": ["eu-west", "apac-south", "apac-east"], "allowed_regions": ["apac-east"]},
		{"eu-west": "unavailable"},
	)
}

test_default_order_is_allowed_regions if {
	failover.choice == ["eu-central", null] with input as _input({"failover_regions": []}, {"eu-west": "unavailable"})
}

test_via_override_into_l if {
	doc := object.union(_input({"allowed_regions": [], "prohibited_regions": ["eu-central"], "override_permitted": true}, {"eu-west": "unavailable"}), {"overrides": [{
		"override_id": "ovr_9", "tenant_id": "acme", "target_region": "eu-central",
		"requested_by": "alice", "approvals": [{"principal": "bob"}, {"principal": "carol"}],
		"expires_at_ms": 10, "revoked": false,
	}]})
	failover.choice == ["eu-central", "ovr_9"] with input as doc
}

test_findings if {
	failover.allow.code == "ALLOW_FAILOVER"
	failover.disabled.code == "DENY_PRIMARY_UNAVAILABLE_NO_FAILOVER"
	failover.exhausted.code == "DENY_NO_COMPLIANT_FAILOVER_REGION"
}
