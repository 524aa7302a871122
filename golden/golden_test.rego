# METADATA
# title: Golden cases
# description: >-
#   Runs every case of golden/data.json through its entrypoint package, exactly as
#   the host would, and compares the keys the case expects. The same cases run
#   against the built wasm in the TypeScript suite. Run with `opa test rego golden`.
package golden_test

_entrypoints := {"residency/decision", "inference/route", "residency/validate"}

_expect_keys := {
	"allowed", "reason_code", "target_region", "legal_regions", "permitted_regions", "eliminated",
	"flags", "override_id", "failover", "erasure_targets", "deferred", "provider", "provider_region",
	"fallback_used", "valid", "violation_codes", "reason_framework", "erasure_deadline_days",
	"erasure_deadline_framework", "ai_act_high_risk_category",
}

# A case may change bundle data (`data`: merged over `data.reference`, e.g. a test catalog or
# `mechanisms.dpf_valid: false`), as a compliance engineer would by bundle.
_reference(c) := object.union(base, object.get(c, "data", {})) if base := data.reference

_result(c) := result if {
	c.entrypoint == "residency/decision"
	reference := _reference(c)
	result := data.residency.decision with input as c.input with data.reference as reference
}

_result(c) := result if {
	c.entrypoint == "inference/route"
	reference := _reference(c)
	result := data.inference.route with input as c.input with data.reference as reference
}

_result(c) := result if {
	c.entrypoint == "residency/validate"
	reference := _reference(c)
	result := data.residency.validate with input as c.input with data.reference as reference
}

_derived := {
	"reason_code", "violation_codes", "reason_framework", "erasure_deadline_days",
	"erasure_deadline_framework", "ai_act_high_risk_category",
}

_actual(result, "reason_code") := result.reason.code

_actual(result, "reason_framework") := result.reason.framework

_actual(result, "violation_codes") := sort([v.code | some v in result.violations])

_actual(result, "erasure_deadline_days") := result.obligations.erasure_deadline_days

_actual(result, "erasure_deadline_framework") := result.obligations.erasure_deadline_framework

_actual(result, "ai_act_high_risk_category") := object.get(result.obligations, ["ai_act_high_risk", "category"], null)

_actual(result, key) := result[key] if not key in _derived

_matches(result, key, want) if _actual(result, key) == want

_mismatches(c) := [{"key": key, "want": want, "got": object.get({"v": _actual(result, key)}, "v", "<undefined>")} |
	result := _result(c)
	some key, want in c.expect
	not _matches(result, key, want)
]

# METADATA
# title: Failing cases
# description: Every case whose result differs from an expected key, with what differed.
failing[c.name] := _mismatches(c) if {
	some c in data.golden.cases
	count(_mismatches(c)) > 0
}

test_every_golden_case_matches if {
	count(failing) == 0
} else := false if {
	print("failing golden cases:", object.keys(failing))
	print("details:", failing)
}

test_cases_are_well_formed if {
	count(data.golden.cases) >= 40
	count({c.name | some c in data.golden.cases}) == count(data.golden.cases)
	every c in data.golden.cases {
		c.entrypoint in _entrypoints
		is_object(c.input)
		count(c.expect) > 0
		every key, _ in c.expect {
			key in _expect_keys
		}
	}
}

test_bench_case_is_a_realistic_allow if {
	some c in data.golden.cases
	c.name == "bench_realistic"
	c.entrypoint == "residency/decision"
	c.expect.allowed == true
	count(c.input.overrides) == 1
	c.input.policy.learner_id != null
}
