package inference.outcome_test

import data.inference.outcome

_input(health, request) := {
	"policy": {"primary_region": "us-east", "allowed_regions": ["us-west"], "compliance_frameworks": [], "allow_cross_region_failover": true},
	"region_health": health,
	"request": object.union({"model_type": "claude-3-haiku", "operation_type": "inference"}, request),
}

test_training_operations if outcome.training_operations == {"training", "fine_tuning"}

test_outcome_shape if {
	result := outcome.outcome with input as _input({}, {})
	{key | some key, _ in result} == {"allowed", "target", "reason", "failover", "supporting", "choice", "rejected", "entry"}
	result.choice.entry.provider == "aws-bedrock"
}

test_failover_only_without_requested_region if {
	outcome.outcome.reason.code == "ALLOW_FAILOVER" with input as _input({"us-east": "unavailable"}, {})
	outcome.outcome.reason.code == "ALLOW_PERMITTED_REGION" with input as _input({"us-east": "unavailable"}, {"requested_region": "us-west"})
	outcome.failover_allow.code == "ALLOW_FAILOVER"
}
