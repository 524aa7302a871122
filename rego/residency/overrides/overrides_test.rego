package residency.overrides_test

import data.residency.overrides

_now := 1795000000000

_override := {
	"override_id": "ovr_1", "tenant_id": "acme", "learner_ids": null, "target_region": "apac-east",
	"operations": null, "requested_by": "alice",
	"approvals": [{"principal": "bob", "at": "t1"}, {"principal": "carol", "at": "t2"}],
	"expires_at_ms": _now + 3600000, "revoked": false,
}

_input(override, request) := {
	"now_ms": _now,
	"policy": {"tenant_id": "acme", "primary_region": "us-east", "override_permitted": true},
	"settings": {"required_approvals": 2},
	"request": object.union({"tenant_id": "acme", "learner_id": "s-1", "operation_type": "replicate"}, request),
	"overrides": [override],
}

_with(patch) := object.union(_override, patch)

test_valid_override if {
	overrides.valid_for("apac-east") == "ovr_1" with input as _input(_override, {})
}

test_not_for_another_region if {
	not overrides.valid_for("eu-west") with input as _input(_override, {})
}

test_tenant_must_permit_override if {
	doc := object.union(_input(_override, {}), {"policy": {"override_permitted": false}})
	not overrides.valid_for("apac-east") with input as doc
}

test_expired if {
	not overrides.valid_for("apac-east") with input as _input(_with({"expires_at_ms": _now}), {})
	overrides._expired(_with({"expires_at_ms": _now})) with input as {"now_ms": _now}
	not overrides._expired(_override) with input as {"now_ms": _now}
}

test_missing_clock_fails_closed if {
	overrides._expired(_override) with input as {}
}

test_revoked if {
	not overrides.valid_for("apac-east") with input as _input(_with({"revoked": true}), {})
}

test_under_approved if {
	not overrides.valid_for("apac-east") with input as _input(_with({"approvals": [{"principal": "bob"}]}), {})
}

test_same_approver_twice_counts_once if {
	approvals := [{"principal": "bob"}, {"principal": "bob"}]
	not overrides.valid_for("apac-east") with input as _input(_with({"approvals": approvals}), {})
}

test_requester_approving_own_does_not_count if {
	approvals := [{"principal": "alice"}, {"principal": "bob"}]
	not overrides._approved(_with({"approvals": approvals})) with input as {}
	not overrides.valid_for("apac-east") with input as _input(_with({"approvals": approvals}), {})
}

test_required_approvals_setting if {
	approvals := [{"principal": "bob"}]
	doc := object.union(_input(_with({"approvals": approvals}), {}), {"settings": {"required_approvals": 1}})
	overrides.valid_for("apac-east") == "ovr_1" with input as doc
	overrides.required_approvals == 2 with input as {}
}

test_other_tenant if {
	not overrides.valid_for("apac-east") with input as _input(_with({"tenant_id": "globex"}), {})
}

test_learner_scope if {
	overrides.valid_for("apac-east") with input as _input(_with({"learner_ids": ["s-1"]}), {})
	not overrides.valid_for("apac-east") with input as _input(_with({"learner_ids": ["s-2"]}), {})
}

test_learner_scoped_override_not_for_tenant_wide_request if {
	doc := _input(_with({"learner_ids": ["s-1"]}), {})
	not overrides.valid_for("apac-east") with input as json.remove(doc, ["request/learner_id"])
}

test_operation_scope if {
	overrides.valid_for("apac-east") with input as _input(_with({"operations": ["replicate"]}), {})
	not overrides.valid_for("apac-east") with input as _input(_with({"operations": ["read"]}), {})
}

test_unscoped_operations_never_cover_inference if {
	not overrides.valid_for("apac-east") with input as _input(_override, {"operation_type": "inference"})
}

test_named_override_only if {
	other := _with({"override_id": "ovr_2"})
	doc := object.union(_input(_override, {"override_id": "ovr_2"}), {"overrides": [_with({"expires_at_ms": 0}), other]})
	overrides.valid_for("apac-east") == "ovr_2" with input as doc
	overrides.named == "ovr_2" with input as doc
}

test_named_unknown if {
	not overrides.valid_for("apac-east") with input as _input(_override, {"override_id": "ovr_404"})
	found := overrides.named_failure("apac-east") with input as _input(_override, {"override_id": "ovr_404"})
	found.code == "DENY_OVERRIDE_INVALID"
}

test_named_expired if {
	doc := _input(_with({"expires_at_ms": _now - 1}), {"override_id": "ovr_1"})
	overrides.named_failure("apac-east").code == "DENY_OVERRIDE_EXPIRED" with input as doc
}

test_named_under_approved if {
	doc := _input(_with({"approvals": []}), {"override_id": "ovr_1"})
	overrides.named_failure("apac-east").code == "DENY_OVERRIDE_INVALID" with input as doc
}

test_no_named_failure_when_valid_or_unnamed if {
	not overrides.named_failure("apac-east") with input as _input(_override, {"override_id": "ovr_1"})
	not overrides.named_failure("apac-east") with input as _input(_with({"expires_at_ms": 0}), {})
}

test_first_valid_in_input_order if {
	doc := object.union(_input(_override, {}), {"overrides": [_with({"override_id": "ovr_a"}), _with({"override_id": "ovr_b"})]})
	overrides.valid_for("apac-east") == "ovr_a" with input as doc
}

test_presented if {
	overrides.presented("eu-west") with input as _input(_override, {"override_id": "anything"})
	overrides.presented("apac-east") with input as _input(_override, {})
	not overrides.presented("eu-west") with input as _input(_override, {})
}

test_findings if {
	overrides.allow.code == "ALLOW_BREAK_GLASS"
	overrides.expired_finding.code == "DENY_OVERRIDE_EXPIRED"
	overrides.invalid.code == "DENY_OVERRIDE_INVALID"
	overrides.cannot_bypass_law.code == "DENY_OVERRIDE_CANNOT_BYPASS_LAW"
}

test_absent_revoked_reads_as_not_revoked if {
	overrides.valid_for("apac-east") == "ovr_1" with input as _input(json.remove(_override, ["revoked"]), {})
}

test_reuse_window_unbounded_without_overrides if {
	overrides.reuse == {"from_ms": null, "until_ms": null, "per_learner": false} with input as {"now_ms": _now, "overrides": []}
	overrides.reuse == {"from_ms": null, "until_ms": null, "per_learner": false} with input as {"now_ms": _now}
}

test_reuse_window_between_the_expiries_around_now if {
	doc := object.union(_input(_override, {}), {"overrides": [
		_with({"expires_at_ms": _now - 5}),
		_with({"expires_at_ms": _now + 7}),
		_with({"expires_at_ms": _now - 9}),
		_with({"expires_at_ms": _now + 70}),
		_with({"expires_at_ms": "not a number"}),
	]})
	object.filter(overrides.reuse, {"from_ms", "until_ms"}) == {"from_ms": _now - 5, "until_ms": _now + 7} with input as doc
}

# An override expiring exactly now is already expired: the window starts at it.
test_reuse_window_expiry_at_now_opens_the_window if {
	doc := _input(_with({"expires_at_ms": _now}), {})
	object.filter(overrides.reuse, {"from_ms", "until_ms"}) == {"from_ms": _now, "until_ms": null} with input as doc
	overrides._expired(_with({"expires_at_ms": _now})) with input as doc
}

# The window is exact: one millisecond either side of it the decision changes.
test_reuse_window_edges_change_the_decision if {
	doc := _input(_override, {})
	window := overrides.reuse with input as doc
	window == {"from_ms": null, "until_ms": _now + 3600000, "per_learner": false}
	overrides.valid_for("apac-east") == "ovr_1" with input as object.union(doc, {"now_ms": window.until_ms - 1})
	not overrides.valid_for("apac-east") with input as object.union(doc, {"now_ms": window.until_ms})
}

test_reuse_per_learner_only_with_learner_scoped_overrides if {
	not overrides.reuse.per_learner with input as _input(_override, {})
	overrides.reuse.per_learner with input as _input(_with({"learner_ids": ["s-1"]}), {})
	overrides.reuse.per_learner with input as _input(_with({"learner_ids": []}), {})
}

test_non_numeric_expiry_reads_as_expired if {
	every expiry in ["2099-01-01T00:00:00Z", [1], {}, null, true] {
		overrides._expired(_with({"expires_at_ms": expiry})) with input as {"now_ms": _now}
		not overrides.valid_for("apac-east") with input as _input(_with({"expires_at_ms": expiry}), {})
	}
}

test_non_numeric_clock_reads_as_expired if {
	overrides._expired(_override) with input as {"now_ms": "1795000000000"}
}
