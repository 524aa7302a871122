package residency.outcome_test

import data.residency.outcome

test_target_is_requested_else_primary if {
	outcome.target == "eu-central" with input as {"policy": {"primary_region": "eu-west"}, "request": {"requested_region": "eu-central"}}
	outcome.target == "eu-west" with input as {"policy": {"primary_region": "eu-west"}, "request": {"requested_region": ""}}
	outcome.target == "eu-west" with input as {"policy": {"primary_region": "eu-west"}, "request": {}}
}

test_erasing_only_for_delete if {
	outcome.erasing with input as {"request": {"operation_type": "delete"}}
	not outcome.erasing with input as {"request": {"operation_type": "export"}}
}

test_outcome_shape if {
	result := outcome.outcome with input as {"policy": {"primary_region": "eu-west"}, "request": {"operation_type": "read"}}
	{key | some key, _ in result} == {"allowed", "target", "reason", "override_id", "failover", "supporting", "notify"}
	result.reason.code == "ALLOW_PRIMARY"
}

test_no_flags_without_policy if {
	outcome.flags == [] with input as {"policy": null, "request": {"operation_type": "delete"}}
}
