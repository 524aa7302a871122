package residency.decision_test

import data.residency.decision

_now := 1795000000000

_policy := {
	"tenant_id": "acme", "learner_id": null, "primary_region": "eu-west",
	"allowed_regions": [], "prohibited_regions": [], "compliance_frameworks": ["gdpr"],
	"data_classification": "educational", "allow_cross_region_failover": false,
	"failover_regions": [], "data_retention_days": null,
	"transfer_mechanisms": {"dpf": [], "scc_tia": [], "pipeda_contract": false, "anpd_scc": false, "qc_pia": []},
	"consents": {"school_authorization": false, "parental_consent": false, "ai_training_consent": false},
	"learner_age": null, "override_permitted": false, "emergency_contact": null,
}

_request := {"tenant_id": "acme", "operation_type": "write", "resource_type": "document", "resource_id": "d-1"}

_input(policy, request) := {
	"now_ms": _now,
	"policy": object.union(_policy, policy),
	"region_health": {},
	"settings": {"required_approvals": 2},
	"request": object.union(_request, request),
	"overrides": [],
}

_override := {
	"override_id": "ovr_1", "tenant_id": "acme", "learner_ids": null, "target_region": "apac-east",
	"operations": null, "requested_by": "alice",
	"approvals": [{"principal": "bob", "at": "t1"}, {"principal": "carol", "at": "t2"}],
	"expires_at_ms": _now + 3600000, "revoked": false,
}

# ferpa, prohibited [apac-east], override permitted, with the given overrides
_break_glass(request, list) := object.union(
	_input(
		{"primary_region": "us-east", "compliance_frameworks": ["ferpa"], "prohibited_regions": ["apac-east"], "override_permitted": true},
		object.union({"operation_type": "replicate", "requested_region": "apac-east"}, request),
	),
	{"overrides": list},
)

_failover(policy, health) := object.union(
	_input(object.union({"allow_cross_region_failover": true, "failover_regions": ["eu-central", "us-east"]}, policy), {}),
	{"region_health": health},
)

_wire_fields := {
	"allowed", "target_region", "reason", "reasons", "legal_regions", "permitted_regions", "eliminated",
	"frameworks", "obligations", "override_id", "failover", "erasure_targets", "deferred", "flags",
}

# The wire fields, and `reuse` for the host (never on the wire).
test_result_is_exactly_the_wire_fields_and_reuse if {
	{key | some key, _ in decision} == _wire_fields | {"reuse"} with input as _input({}, {})
	{key | some key, _ in decision} == _wire_fields | {"reuse"} with input as {}
}

# --- SPEC §4.7 examples -------------------------------------------------------

test_spec_gdpr_primary if {
	result := decision with input as _input({}, {"requested_region": "eu-west"})
	result.allowed
	result.target_region == "eu-west"
	result.reason.code == "ALLOW_PRIMARY"
	result.reason.decided_by == "tenant_policy"
	result.obligations == {"retention_days": null, "erasure_deadline_days": 30, "encryption_at_rest": true, "notify": [], "erasure_deadline_framework": "gdpr", "dpia_required": false, "art9_condition_required": false, "ai_act_high_risk": null, "legal_hold": null}
}

test_spec_gdpr_india_no_mechanism if {
	result := decision with input as _input({"primary_region": "eu-central"}, {"requested_region": "apac-south"})
	not result.allowed
	result.target_region == null
	result.reason.code == "DENY_NO_TRANSFER_MECHANISM"
	result.reason.framework == "gdpr"
	result.eliminated["apac-south"] == "gdpr:no_transfer_mechanism"
}

test_spec_gdpr_scc_tia_india if {
	doc := _input({"transfer_mechanisms": {"scc_tia": ["apac-south"]}}, {"operation_type": "replicate", "requested_region": "apac-south"})
	result := decision with input as doc
	result.allowed
	result.target_region == "apac-south"
	result.reason.code == "ALLOW_PERMITTED_REGION"
	"apac-south" in result.legal_regions
}

test_spec_pipeda_no_contract if {
	doc := _input(
		{"primary_region": "ca-central", "compliance_frameworks": ["pipeda"]},
		{"operation_type": "replicate", "requested_region": "us-east"},
	)
	result := decision with input as doc
	not result.allowed
	result.reason.code == "DENY_NO_COMPARABLE_PROTECTION"
	result.reason.framework == "pipeda"
	result.legal_regions == ["ca-central"]
}

test_spec_ferpa_prohibited if {
	result := decision with input as _break_glass({}, [])
	not result.allowed
	result.reason.code == "DENY_TENANT_PROHIBITED"
	result.eliminated == {"apac-east": "tenant:prohibited"}
}

test_spec_ferpa_prohibited_with_override if {
	result := decision with input as _break_glass({}, [_override])
	result.allowed
	result.target_region == "apac-east"
	result.reason.code == "ALLOW_BREAK_GLASS"
	result.reason.decided_by == "break_glass"
	result.override_id == "ovr_1"
	result.obligations.notify == ["controller"]
	[r.code | some r in result.reasons] == ["ALLOW_BREAK_GLASS", "DENY_TENANT_PROHIBITED"]
}

test_spec_gdpr_failover if {
	result := decision with input as _failover({}, {"eu-west": "unavailable"})
	result.allowed
	result.target_region == "eu-central"
	result.reason.code == "ALLOW_FAILOVER"
	result.failover
	result.override_id == null
}

# --- fail closed ----------------------------------------------------------------

test_no_policy if {
	result := decision with input as object.union(_input({}, {}), {"policy": null})
	not result.allowed
	result.reason == {"code": "DENY_NO_POLICY", "decided_by": "fail_closed", "framework": null, "message": "no active residency policy for the tenant"}
	result.legal_regions == []
	result.permitted_regions == []
	result.eliminated == {}
	result.frameworks == []
}

test_no_policy_delete if {
	result := decision with input as object.union(_input({}, {"operation_type": "delete"}), {"policy": null})
	not result.allowed
	result.reason.code == "DENY_NO_POLICY"
	result.erasure_targets == []
}

test_no_primary if {
	result := decision with input as _input({"primary_region": null}, {})
	not result.allowed
	result.reason.code == "DENY_NO_POLICY"
	result.reason.message == "the effective policy has no primary region"
}

test_unknown_region if {
	result := decision with input as _input({}, {"requested_region": "mars-1"})
	not result.allowed
	result.reason.code == "DENY_UNKNOWN_REGION"
}

# --- law --------------------------------------------------------------------------

test_no_framework_any_region if {
	result := decision with input as _input({"compliance_frameworks": [], "primary_region": "us-east"}, {"requested_region": "apac-south"})
	result.allowed
	count(result.legal_regions) == 7
}

test_strictest_wins if {
	doc := _input({"compliance_frameworks": ["gdpr", "pipeda"], "primary_region": "ca-central"}, {"requested_region": "eu-west"})
	result := decision with input as doc
	result.reason.code == "DENY_NO_COMPARABLE_PROTECTION"
	result.legal_regions == ["ca-central"]
	result.eliminated["eu-west"] == "pipeda:no_comparable_protection"
}

test_localisation_names_first_with_supporting_findings if {
	doc := _input({"compliance_frameworks": ["gdpr", "pipeda", "ns_piidpa"], "primary_region": "ca-central"}, {"requested_region": "us-east"})
	result := decision with input as doc
	result.reason.code == "DENY_PROVINCIAL_LOCALISATION"
	[r.code | some r in result.reasons] == ["DENY_PROVINCIAL_LOCALISATION", "DENY_NO_COMPARABLE_PROTECTION", "DENY_NO_TRANSFER_MECHANISM"]
	result.eliminated["us-east"] == "ns_piidpa:provincial_localisation"
}

test_quebec_pia_missing if {
	doc := _input({"compliance_frameworks": ["quebec_law25"], "primary_region": "ca-central", "learner_age": 30}, {"requested_region": "eu-west"})
	decision.reason.code == "DENY_QC_PIA_MISSING" with input as doc
}

test_quebec_pia_present if {
	doc := _input(
		{"compliance_frameworks": ["quebec_law25"], "primary_region": "ca-central", "learner_age": 30, "transfer_mechanisms": {"qc_pia": ["eu-west"]}},
		{"requested_region": "eu-west"},
	)
	decision.reason.code == "ALLOW_PERMITTED_REGION" with input as doc
}

test_lgpd_no_mechanism if {
	doc := _input({"compliance_frameworks": ["lgpd"], "learner_age": 30}, {"requested_region": "us-east"})
	decision.reason.code == "DENY_LGPD_NO_MECHANISM" with input as doc
}

test_empty_intersection if {
	doc := _input({"compliance_frameworks": ["lgpd", "ns_piidpa"], "primary_region": "ca-central", "learner_age": 30}, {})
	result := decision with input as doc
	not result.allowed
	result.reason.code == "DENY_EMPTY_INTERSECTION"
	result.reason.decided_by == "framework"
	result.legal_regions == []
	result.eliminated["ca-central"] == "lgpd:no_mechanism"
	result.eliminated["eu-west"] == "ns_piidpa:provincial_localisation"
}

# --- gates -------------------------------------------------------------------------

test_coppa_gate if {
	doc := _input({"compliance_frameworks": ["coppa", "ferpa"], "primary_region": "us-east", "data_retention_days": 365}, {"operation_type": "read"})
	result := decision with input as doc
	not result.allowed
	result.reason.code == "DENY_COPPA_NO_CONSENT"
	result.reason.decided_by == "consent_gate"
}

test_gates_listed_in_reasons if {
	doc := _input({"compliance_frameworks": ["coppa", "lgpd"], "primary_region": "eu-west", "learner_age": 9}, {})
	[r.code | some r in decision.reasons] == ["DENY_COPPA_NO_CONSENT", "DENY_LGPD_CHILD_NO_CONSENT"] with input as doc
}

test_override_never_lifts_gate if {
	doc := object.union(
		_break_glass({}, [_override]),
		{"policy": {"compliance_frameworks": ["ferpa", "coppa"], "data_retention_days": 365}},
	)
	decision.reason.code == "DENY_COPPA_NO_CONSENT" with input as doc
}

test_gates_do_not_apply_to_delete if {
	doc := _input({"compliance_frameworks": ["coppa"], "primary_region": "us-east"}, {"operation_type": "delete"})
	decision.reason.code == "ALLOW_ERASURE_ROUTED" with input as doc
}

# --- tenant set -----------------------------------------------------------------------

test_not_in_tenant_allowed if {
	doc := _input({"allowed_regions": ["eu-central"]}, {"requested_region": "ca-central"})
	result := decision with input as doc
	result.reason.code == "DENY_NOT_IN_TENANT_ALLOWED"
	result.permitted_regions == ["eu-central", "eu-west"]
	result.eliminated["ca-central"] == "tenant:not_allowed"
}

test_empty_tenant_set if {
	doc := _input({"primary_region": "us-east", "allowed_regions": ["us-west"]}, {"requested_region": "eu-west"})
	result := decision with input as doc
	result.reason.code == "DENY_EMPTY_INTERSECTION"
	result.reason.decided_by == "tenant_policy"
	result.permitted_regions == []
}

test_allowed_region_permitted if {
	doc := _input({"allowed_regions": ["eu-central"]}, {"requested_region": "eu-central"})
	decision.reason.code == "ALLOW_PERMITTED_REGION" with input as doc
}

# --- overrides ---------------------------------------------------------------------------

test_override_expired_named if {
	expired := object.union(_override, {"expires_at_ms": _now})
	result := decision with input as _break_glass({"override_id": "ovr_1"}, [expired])
	result.reason.code == "DENY_OVERRIDE_EXPIRED"
	result.override_id == null
	[r.code | some r in result.reasons] == ["DENY_OVERRIDE_EXPIRED", "DENY_TENANT_PROHIBITED"]
}

test_override_expired_unnamed_is_just_prohibited if {
	expired := object.union(_override, {"expires_at_ms": _now})
	decision.reason.code == "DENY_TENANT_PROHIBITED" with input as _break_glass({}, [expired])
}

test_override_under_approved if {
	single := object.union(_override, {"approvals": [{"principal": "bob", "at": "t1"}]})
	decision.reason.code == "DENY_OVERRIDE_INVALID" with input as _break_glass({"override_id": "ovr_1"}, [single])
	decision.reason.code == "DENY_TENANT_PROHIBITED" with input as _break_glass({}, [single])
}

test_override_requester_approving_own if {
	own := object.union(_override, {"approvals": [{"principal": "alice", "at": "t1"}, {"principal": "bob", "at": "t2"}]})
	decision.reason.code == "DENY_OVERRIDE_INVALID" with input as _break_glass({"override_id": "ovr_1"}, [own])
}

test_override_not_permitted_by_tenant if {
	doc := object.union(_break_glass({"override_id": "ovr_1"}, [_override]), {"policy": {"override_permitted": false}})
	decision.reason.code == "DENY_OVERRIDE_INVALID" with input as doc
}

test_override_out_of_scope_learner if {
	scoped := object.union(_override, {"learner_ids": ["s-2"]})
	decision.reason.code == "DENY_OVERRIDE_INVALID" with input as _break_glass({"override_id": "ovr_1", "learner_id": "s-1"}, [scoped])
	decision.reason.code == "ALLOW_BREAK_GLASS" with input as _break_glass({"override_id": "ovr_1", "learner_id": "s-2"}, [scoped])
}

test_override_out_of_scope_operation if {
	scoped := object.union(_override, {"operations": ["read"]})
	decision.reason.code == "DENY_OVERRIDE_INVALID" with input as _break_glass({"override_id": "ovr_1"}, [scoped])
}

test_override_out_of_scope_region if {
	elsewhere := object.union(_override, {"target_region": "apac-south"})
	decision.reason.code == "DENY_OVERRIDE_INVALID" with input as _break_glass({"override_id": "ovr_1"}, [elsewhere])
}

test_override_named_unknown if {
	decision.reason.code == "DENY_OVERRIDE_INVALID" with input as _break_glass({"override_id": "ovr_404"}, [_override])
}

test_override_cannot_bypass_law if {
	doc := object.union(
		_break_glass({"override_id": "ovr_1", "requested_region": "apac-south"}, [object.union(_override, {"target_region": "apac-south"})]),
		{"policy": {"compliance_frameworks": ["gdpr"], "primary_region": "eu-west"}},
	)
	result := decision with input as doc
	result.reason.code == "DENY_OVERRIDE_CANNOT_BYPASS_LAW"
	result.reason.framework == "gdpr"
	result.reason.decided_by == "break_glass"
	[r.code | some r in result.reasons] == ["DENY_OVERRIDE_CANNOT_BYPASS_LAW", "DENY_NO_TRANSFER_MECHANISM"]
}

test_unnamed_override_for_illegal_region_cannot_bypass_law if {
	doc := object.union(_break_glass({}, [_override]), {"policy": {"compliance_frameworks": ["ns_piidpa"], "primary_region": "ca-central"}})
	result := decision with input as doc
	result.reason.code == "DENY_OVERRIDE_CANNOT_BYPASS_LAW"
	result.reason.framework == "ns_piidpa"
}

test_illegal_region_without_override_names_the_law if {
	doc := object.union(_break_glass({}, []), {"policy": {"compliance_frameworks": ["ns_piidpa"], "primary_region": "ca-central"}})
	decision.reason.code == "DENY_PROVINCIAL_LOCALISATION" with input as doc
}

test_override_lifts_empty_tenant_set if {
	doc := object.union(_break_glass({}, [_override]), {"policy": {"allowed_regions": ["us-west"], "prohibited_regions": ["us-east", "us-west"]}})
	decision.reason.code == "ALLOW_BREAK_GLASS" with input as doc
}

test_override_not_needed_in_t if {
	doc := _break_glass({"requested_region": "us-east", "override_id": "ovr_1"}, [_override])
	result := decision with input as doc
	result.reason.code == "ALLOW_PRIMARY"
	result.override_id == null
}

# --- failover ----------------------------------------------------------------------------------

test_primary_unavailable_no_failover if {
	doc := _failover({"allow_cross_region_failover": false}, {"eu-west": "unavailable"})
	result := decision with input as doc
	not result.allowed
	result.reason.code == "DENY_PRIMARY_UNAVAILABLE_NO_FAILOVER"
	not result.failover
}

test_requested_primary_unavailable_fails_over if {
	doc := object.union(_failover({}, {"eu-west": "unavailable"}), {"request": {"requested_region": "eu-west"}})
	decision.target_region == "eu-central" with input as doc
}

test_failover_skips_unavailable if {
	doc := _failover({"transfer_mechanisms": {"dpf": ["us-east"]}}, {"eu-west": "unavailable", "eu-central": "unavailable"})
	result := decision with input as doc
	result.target_region == "us-east"
	result.reason.code == "ALLOW_FAILOVER"
}

test_failover_never_widens_l if {
	doc := _failover({}, {"eu-west": "unavailable", "eu-central": "unavailable"})
	result := decision with input as doc
	not result.allowed
	result.reason.code == "DENY_NO_COMPLIANT_FAILOVER_REGION"
}

test_failover_via_override_into_l if {
	doc := object.union(
		_failover({"prohibited_regions": ["eu-central"], "override_permitted": true}, {"eu-west": "unavailable"}),
		{"overrides": [object.union(_override, {"target_region": "eu-central", "operations": ["write"]})]},
	)
	result := decision with input as doc
	result.allowed
	result.target_region == "eu-central"
	result.reason.code == "ALLOW_FAILOVER"
	result.override_id == "ovr_1"
	result.obligations.notify == ["controller"]
	contains(result.reason.message, "ovr_1")
}

test_failover_override_outside_l_not_used if {
	doc := object.union(
		_failover({"failover_regions": ["us-east"], "override_permitted": true}, {"eu-west": "unavailable"}),
		{"overrides": [object.union(_override, {"target_region": "us-east"})]},
	)
	decision.reason.code == "DENY_NO_COMPLIANT_FAILOVER_REGION" with input as doc
}

test_failover_degraded_target_flagged if {
	result := decision with input as _failover({}, {"eu-west": "unavailable", "eu-central": "degraded"})
	result.target_region == "eu-central"
	result.flags == ["REGION_DEGRADED"]
}

test_degraded_primary_routes_normally if {
	doc := object.union(_input({}, {}), {"region_health": {"eu-west": "degraded"}})
	result := decision with input as doc
	result.reason.code == "ALLOW_PRIMARY"
	result.flags == ["REGION_DEGRADED"]
}

test_requested_unavailable_non_primary_flagged if {
	doc := object.union(_input({}, {"requested_region": "eu-central"}), {"region_health": {"eu-central": "unavailable"}})
	result := decision with input as doc
	result.reason.code == "ALLOW_PERMITTED_REGION"
	result.flags == ["REGION_UNAVAILABLE"]
}

# --- erasure -------------------------------------------------------------------------------------

test_erasure_routed_with_deferred_and_noncompliant_copy if {
	doc := object.union(
		_input({}, {"operation_type": "delete", "data_locations": ["eu-west", "us-east", "eu-central"]}),
		{"region_health": {"eu-central": "unavailable"}},
	)
	result := decision with input as doc
	result.allowed
	result.reason.code == "ALLOW_ERASURE_ROUTED"
	result.reason.decided_by == "erasure"
	result.target_region == "eu-west"
	result.erasure_targets == ["eu-west", "us-east", "eu-central"]
	result.deferred == ["eu-central"]
	result.flags == ["NONCOMPLIANT_COPY_FOUND"]
	result.obligations.notify == ["dpo"]
	contains(result.reason.message, "deferred: eu-central")
}

test_erasure_defaults_to_policy_regions if {
	doc := _input({"allowed_regions": ["eu-central"], "failover_regions": ["ca-central"]}, {"operation_type": "delete"})
	result := decision with input as doc
	result.erasure_targets == ["eu-west", "eu-central", "ca-central"]
	result.deferred == []
	result.flags == []
}

test_erasure_ignores_rules_overrides_and_health if {
	doc := object.union(
		_input({"prohibited_regions": ["us-east"]}, {"operation_type": "delete", "requested_region": "us-east", "override_id": "ovr_404"}),
		{"region_health": {"us-east": "unavailable", "eu-west": "unavailable"}},
	)
	result := decision with input as doc
	result.allowed
	result.target_region == "us-east"

	# SPEC §11.A8: a prohibited region is a target too (a break-glass write may have reached it)
	result.erasure_targets == ["us-east", "eu-west"]
	result.deferred == ["us-east", "eu-west"]
}

test_non_delete_has_no_erasure_fields if {
	result := decision with input as _input({}, {})
	result.erasure_targets == []
	result.deferred == []
}

test_fields_fail_closed_when_the_outcome_is_undefined if {
	result := decision with input as _input({}, {}) with data.residency.outcome.outcome as {}
	not result.allowed
	result.target_region == null
	result.reason.code == "DENY_NO_POLICY"
	result.reason.decided_by == "fail_closed"
	result.reasons == []
	result.override_id == null
	result.failover == false
	result.obligations.notify == []
}

test_erasure_without_primary_or_request_region if {
	result := decision with input as _input({"primary_region": null}, {"operation_type": "delete", "data_locations": ["eu-west"]})
	result.allowed
	result.target_region == null
	result.erasure_targets == ["eu-west"]
}

# A break-glass allow holds until the override expires, and not a millisecond longer.
test_reuse_of_a_break_glass_decision if {
	doc := _break_glass({}, [_override])
	result := decision with input as doc
	result.reason.code == "ALLOW_BREAK_GLASS"
	result.reuse == {"from_ms": null, "until_ms": _now + 3600000, "per_learner": false}
	after := decision with input as object.union(doc, {"now_ms": result.reuse.until_ms})
	after.reason.code == "DENY_TENANT_PROHIBITED"
	after.reuse == {"from_ms": _now + 3600000, "until_ms": null, "per_learner": false}
}

# An override scoped to learners makes the answer the requesting learner's own.
test_reuse_per_learner_with_a_learner_scoped_override if {
	scoped := object.union(_override, {"learner_ids": ["s-1"]})
	mine := decision with input as _break_glass({"learner_id": "s-1"}, [scoped])
	mine.reason.code == "ALLOW_BREAK_GLASS"
	mine.reuse.per_learner
	theirs := decision with input as _break_glass({"learner_id": "s-2"}, [scoped])
	theirs.reason.code == "DENY_TENANT_PROHIBITED"
}

# --- SPEC §11 -----------------------------------------------------------------------------------

# AI Act Art. 5(1)(f): the ban covers access too, and an override presented for it cannot bypass it
test_ai_act_ban_cannot_be_bypassed if {
	doc := object.union(
		_input({"override_permitted": true}, {"purpose": "emotion_recognition", "override_id": "ovr_1", "requested_region": "apac-east"}),
		{"overrides": [_override]},
	)
	result := decision with input as doc
	result.reason.code == "DENY_OVERRIDE_CANNOT_BYPASS_LAW"
	result.reasons[1].code == "DENY_AI_ACT_PROHIBITED_PRACTICE"
	delete := decision with input as _input({}, {"purpose": "emotion_recognition", "operation_type": "delete"})
	delete.allowed
}

# SPEC §11.A7: A = A_tenant ∩ A_learner; the learner's allow-list narrows, never widens
test_organisational_set_per_policy if {
	doc := object.union(
		_input({"compliance_frameworks": ["ferpa"], "primary_region": "us-west", "allowed_regions": ["us-east"]}, {"requested_region": "us-east"}),
		{
			"tenant_policy": {"primary_region": "us-east", "allowed_regions": ["ca-central"], "prohibited_regions": []},
			"learner_policy": {"primary_region": "us-west", "allowed_regions": ["us-east"]},
		},
	)
	result := decision with input as doc
	result.permitted_regions == ["us-east"]
	result.reason.code == "ALLOW_PERMITTED_REGION"
	primary := decision with input as object.union(doc, {"request": {"requested_region": "us-west"}})
	primary.reason.code == "DENY_NOT_IN_TENANT_ALLOWED"
}

# APPI Art. 28 (SPEC §11.A3 row 6): failover skips a region open only by consent for a minor
test_appi_minor_gate_in_failover if {
	doc := object.union(
		_input(
			{
				"compliance_frameworks": ["appi"], "primary_region": "apac-east", "learner_age": 14,
				"allow_cross_region_failover": true, "failover_regions": ["us-west", "eu-west"],
				"transfer_mechanisms": {"appi_consent": true},
			},
			{},
		),
		{"region_health": {"apac-east": "unavailable"}},
	)
	result := decision with input as doc
	result.reason.code == "ALLOW_FAILOVER"
	result.target_region == "eu-west"
}

# GDPR Art. 17(3)(e), SPEC §11.A8: a hold after offboarding still holds; the reference is quoted
test_legal_hold_after_offboarding if {
	doc := object.union(_input({}, {"operation_type": "delete"}), {
		"history": {"policy_inactive": true, "routed_regions": ["eu-central"], "named_regions": ["us-east"]},
		"legal_hold": {"active": true, "reference": "M-7"},
	})
	result := decision with input as doc
	not result.allowed
	result.reason.code == "DENY_LEGAL_HOLD"
	contains(result.reason.message, "M-7")
	result.erasure_targets == ["us-east", "eu-west", "eu-central"]
	result.flags == ["LEGAL_HOLD", "POLICY_INACTIVE"]
	result.obligations.legal_hold.reference == "M-7"
}
