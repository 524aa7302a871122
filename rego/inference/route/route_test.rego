package inference.route_test

import data.inference.route

_policy := {
	"tenant_id": "acme", "learner_id": "s-1", "primary_region": "us-east",
	"allowed_regions": ["us-west", "ca-central"], "prohibited_regions": [], "compliance_frameworks": ["ferpa"],
	"data_classification": "educational", "allow_cross_region_failover": true,
	"failover_regions": [], "data_retention_days": 2555,
	"transfer_mechanisms": {"dpf": [], "scc_tia": [], "pipeda_contract": false, "anpd_scc": false, "qc_pia": []},
	"consents": {"school_authorization": true, "parental_consent": false, "ai_training_consent": false},
	"learner_age": null, "override_permitted": true, "emergency_contact": null,
}

_input(policy, request) := {
	"now_ms": 1795000000000,
	"policy": object.union(_policy, policy),
	"region_health": {},
	"settings": {"required_approvals": 2},
	"request": object.union({"tenant_id": "acme", "learner_id": "s-1", "model_type": "claude-3-haiku", "operation_type": "inference"}, request),
}

_health(doc, health) := object.union(doc, {"region_health": health})

_entry(patch) := object.union(
	{
		"provider": "acme-ai", "region": "us-east", "models": ["claude-3-haiku"], "endpoint": "https://ai.example",
		"route": "single", "destinations": ["us-east"], "dpa": true, "zero_data_retention": true,
		"trains_on_data": false, "attested": true,
	},
	patch,
)

_wire_fields := {
	"allowed", "target_region", "reason", "reasons", "legal_regions", "permitted_regions", "eliminated",
	"frameworks", "obligations", "override_id", "failover", "erasure_targets", "deferred", "flags",
	"provider", "model", "endpoint", "route", "provider_region", "destinations", "fallback_used", "rejected_candidates",
}

# The wire fields, and `reuse` for the host (never on the wire).
test_result_is_exactly_the_wire_fields_and_reuse if {
	{key | some key, _ in route} == _wire_fields | {"reuse"} with input as _input({}, {})
	{key | some key, _ in route} == _wire_fields | {"reuse"} with input as {}
}

test_primary_bedrock if {
	result := route with input as _input({}, {})
	result.allowed
	result.reason.code == "ALLOW_PRIMARY"
	result.provider == "aws-bedrock"
	result.provider_region == "us-east"
	result.target_region == "us-east"
	result.endpoint == "https://bedrock-runtime.us-east-1.amazonaws.com"
	result.route == "single"
	result.destinations == ["us-east"]
	result.model == "claude-3-haiku"
	result.fallback_used == false
	result.override_id == null
	result.rejected_candidates == []
}

test_no_policy if {
	result := route with input as object.union(_input({}, {}), {"policy": null})
	result.reason.code == "DENY_NO_POLICY"
	result.provider == null
	result.model == null
	result.fallback_used == null
}

test_ai_act_emotion_recognition if {
	result := route with input as _input({"compliance_frameworks": ["gdpr"], "primary_region": "eu-west"}, {"purpose": "emotion_recognition"})
	result.reason.code == "DENY_AI_ACT_PROHIBITED_PRACTICE"
	result.reason.decided_by == "ai_act"
}

test_coppa_child_without_consent if {
	doc := _input({"compliance_frameworks": ["ferpa", "coppa"], "consents": {"school_authorization": false}}, {})
	result := route with input as doc
	result.reason.code == "DENY_COPPA_NO_CONSENT"
	result.provider == null
}

test_ferpa_training if {
	route.reason.code == "DENY_FERPA_SECONDARY_USE" with input as _input({}, {"operation_type": "fine_tuning"})
	route.reason.code == "DENY_FERPA_SECONDARY_USE" with input as _input({}, {"operation_type": "training"})
}

test_coppa_training_needs_separate_consent if {
	doc := _input({"compliance_frameworks": ["coppa"], "learner_age": 9}, {"operation_type": "training"})
	route.reason.code == "DENY_COPPA_SEPARATE_CONSENT_REQUIRED" with input as doc
	consented := _input({"compliance_frameworks": ["coppa"], "learner_age": 9, "consents": {"school_authorization": true, "ai_training_consent": true}}, {"operation_type": "training"})
	route.reason.code == "ALLOW_PRIMARY" with input as consented
}

test_coppa_teen_training_allowed if {
	doc := _input({"compliance_frameworks": ["coppa"], "learner_age": 15}, {"operation_type": "training"})
	route.allowed with input as doc
}

test_empty_intersection if {
	doc := _input({"compliance_frameworks": ["lgpd", "ns_piidpa"], "primary_region": "ca-central", "learner_age": 30}, {})
	route.reason.code == "DENY_EMPTY_INTERSECTION" with input as doc
}

test_requested_outside_l_names_the_law if {
	doc := _input({"compliance_frameworks": ["gdpr"], "primary_region": "eu-west", "allowed_regions": []}, {"requested_region": "us-east"})
	result := route with input as doc
	result.reason.code == "DENY_NO_TRANSFER_MECHANISM"
	result.reason.framework == "gdpr"
}

test_requested_outside_t if {
	route.reason.code == "DENY_NOT_IN_TENANT_ALLOWED" with input as _input({}, {"requested_region": "eu-west"})
	route.reason.code == "DENY_TENANT_PROHIBITED" with input as _input({"prohibited_regions": ["us-west"]}, {"requested_region": "us-west"})
}

test_requested_unknown if {
	route.reason.code == "DENY_UNKNOWN_REGION" with input as _input({}, {"requested_region": "mars-1"})
}

# SPEC §11.A5: T is judged per entry (T_route(e)), so the primary's entry names the law that removes it
test_empty_tenant_set if {
	doc := _input({"compliance_frameworks": ["gdpr"], "allowed_regions": ["us-west"]}, {})
	result := route with input as doc
	result.reason.code == "DENY_NO_TRANSFER_MECHANISM"
	result.reason.framework == "gdpr"
	result.eliminated["us-east"] == "gdpr:no_transfer_mechanism"
}

test_requested_region_served if {
	result := route with input as _input({}, {"requested_region": "ca-central"})
	result.reason.code == "ALLOW_PERMITTED_REGION"
	result.provider_region == "ca-central"
	result.fallback_used == true
}

test_model_not_in_primary_falls_back_in_failover_order if {
	doc := _input({"compliance_frameworks": ["gdpr"], "primary_region": "eu-central", "allowed_regions": ["eu-west"]}, {"model_type": "claude-3-sonnet"})
	result := route with input as doc
	result.reason.code == "ALLOW_PERMITTED_REGION"
	result.provider == "anthropic-eu"
	result.provider_region == "eu-west"
	result.fallback_used == true
}

test_openai_in_us_east if {
	doc := _input({"primary_region": "us-west", "allowed_regions": ["us-east"]}, {"model_type": "gpt-4o"})
	result := route with input as doc
	result.provider == "openai"
	result.endpoint == "https://api.openai.com/v1"
}

test_zero_retention_preferred_within_region if {
	doc := _input({"compliance_frameworks": ["gdpr"], "primary_region": "eu-west", "allowed_regions": []}, {})
	result := route with input as doc
	result.provider == "aws-bedrock"
	result.provider_region == "eu-west"
}

test_single_region_preferred_over_geo if {
	doc := _input({"compliance_frameworks": ["gdpr"], "primary_region": "eu-central", "allowed_regions": ["eu-west"]}, {})
	result := route with input as doc
	result.route == "single"
	result.provider_region == "eu-central"
}

test_geo_route_exceeding_t_rejected if {
	catalog := [_entry({"provider": "aws-bedrock", "region": "eu-central", "route": "geo:eu", "destinations": ["eu-west", "eu-central"]})]
	doc := _input({"compliance_frameworks": ["gdpr"], "primary_region": "eu-central", "allowed_regions": [], "prohibited_regions": ["eu-west"]}, {})
	result := route with input as doc with data.reference.providers.catalog as catalog
	result.reason.code == "DENY_PROVIDER_ROUTE_EXCEEDS_PERMITTED"
	result.rejected_candidates == [{"provider": "aws-bedrock", "region": "eu-central", "code": "DENY_PROVIDER_ROUTE_EXCEEDS_PERMITTED"}]
}

test_geo_route_within_t_allowed if {
	doc := _input({"compliance_frameworks": ["gdpr"], "primary_region": "eu-central", "allowed_regions": ["eu-west"]}, {})
	catalog := [_entry({"provider": "aws-bedrock", "region": "eu-central", "route": "geo:eu", "destinations": ["eu-west", "eu-central"]})]
	result := route with input as doc with data.reference.providers.catalog as catalog
	result.route == "geo:eu"
	result.destinations == ["eu-west", "eu-central"]
}

test_global_route_unpinned if {
	result := route with input as _input({}, {}) with data.reference.providers.catalog as [_entry({"route": "global"})]
	result.reason.code == "DENY_PROVIDER_REGION_UNPINNED"
	result.reason.decided_by == "provider"
}

test_unattested_location if {
	route.reason.code == "DENY_PROVIDER_LOCATION_UNVERIFIED" with input as _input({}, {}) with data.reference.providers.catalog as [_entry({"attested": false})]
}

test_no_dpa if {
	route.reason.code == "DENY_PROVIDER_NO_DPA" with input as _input({}, {}) with data.reference.providers.catalog as [_entry({"dpa": false})]
}

test_provider_training_on_ferpa_records if {
	route.reason.code == "DENY_FERPA_SECONDARY_USE" with input as _input({}, {}) with data.reference.providers.catalog as [_entry({"trains_on_data": true})]
}

test_provider_training_on_coppa_child if {
	doc := _input({"compliance_frameworks": ["coppa"], "learner_age": 8}, {})
	route.reason.code == "DENY_COPPA_SEPARATE_CONSENT_REQUIRED" with input as doc with data.reference.providers.catalog as [_entry({"trains_on_data": true})]
}

test_provider_training_without_protected_data if {
	doc := _input({"compliance_frameworks": []}, {})
	route.allowed with input as doc with data.reference.providers.catalog as [_entry({"trains_on_data": true})]
}

test_rejected_entries_then_choice if {
	catalog := [
		_entry({"provider": "cheap", "dpa": false}),
		_entry({"provider": "good", "zero_data_retention": false}),
	]
	result := route with input as _input({}, {}) with data.reference.providers.catalog as catalog
	result.provider == "good"
	result.rejected_candidates == [{"provider": "cheap", "region": "us-east", "code": "DENY_PROVIDER_NO_DPA"}]
	[r.code | some r in result.reasons] == ["ALLOW_PRIMARY", "DENY_PROVIDER_NO_DPA"]
}

test_most_preferred_rejection_decides if {
	catalog := [
		_entry({"provider": "a", "attested": false, "zero_data_retention": false}),
		_entry({"provider": "b", "dpa": false}),
	]
	result := route with input as _input({"allowed_regions": []}, {}) with data.reference.providers.catalog as catalog
	result.reason.code == "DENY_PROVIDER_NO_DPA"
	[c.provider | some c in result.rejected_candidates] == ["b", "a"]
}

test_model_unavailable if {
	result := route with input as _input({}, {"model_type": "gpt-5"})
	result.reason.code == "DENY_MODEL_UNAVAILABLE"
	result.rejected_candidates == []
}

test_model_unavailable_in_t if {
	doc := _input({"compliance_frameworks": ["gdpr"], "primary_region": "eu-west", "allowed_regions": []}, {"model_type": "gpt-4o"})
	route.reason.code == "DENY_MODEL_UNAVAILABLE" with input as doc
}

test_primary_unavailable_fails_over if {
	doc := _health(_input({}, {}), {"us-east": "unavailable"})
	result := route with input as doc
	result.reason.code == "ALLOW_FAILOVER"
	result.failover
	result.fallback_used
	result.target_region == "us-west"
}

test_failover_order_before_rest_of_t if {
	doc := _health(_input({"failover_regions": ["ca-central"]}, {}), {"us-east": "unavailable"})
	route.target_region == "ca-central" with input as doc
}

test_requested_unavailable if {
	doc := _health(_input({}, {"requested_region": "us-west"}), {"us-west": "unavailable"})
	result := route with input as doc

	# SPEC §11.A5 step 3: a pinned non-primary region that is unavailable never falls back
	result.reason.code == "DENY_REGION_UNAVAILABLE"
	result.flags == ["REGION_UNAVAILABLE"]
}

test_degraded_region_flagged if {
	doc := _health(_input({}, {}), {"us-east": "degraded"})
	result := route with input as doc
	result.allowed
	result.flags == ["REGION_DEGRADED"]
}

test_obligations if {
	result := route with input as _input({"compliance_frameworks": ["ccpa"]}, {})
	result.obligations == {"retention_days": 2555, "erasure_deadline_days": 45, "encryption_at_rest": true, "notify": [], "erasure_deadline_framework": "ccpa", "dpia_required": false, "art9_condition_required": false, "ai_act_high_risk": null, "legal_hold": null}
	result.erasure_targets == []
	result.deferred == []
}

test_fields_fail_closed_when_the_outcome_is_undefined if {
	result := route with input as _input({}, {}) with data.inference.outcome.outcome as {}
	not result.allowed
	result.target_region == null
	result.reason.code == "DENY_NO_POLICY"
	result.reasons == []
	result.failover == false
	result.provider == null
	result.endpoint == null
	result.route == null
	result.provider_region == null
	result.destinations == null
	result.fallback_used == null
}

test_obligations_defined_when_helpers_are_undefined if {
	result := route with input as _input({}, {}) with data.residency.obligations as {}
	result.obligations == {"retention_days": null, "erasure_deadline_days": null, "encryption_at_rest": true, "notify": [], "erasure_deadline_framework": null, "dpia_required": false, "art9_condition_required": false, "ai_act_high_risk": null, "legal_hold": null}
}
