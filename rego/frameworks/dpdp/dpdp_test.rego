package frameworks.dpdp_test

import data.frameworks.dpdp

_input(policy, request) := {
	"policy": object.union({"compliance_frameworks": ["dpdp"], "primary_region": "apac-south"}, policy),
	"request": request,
}

_learner(consents) := {"consents": consents}

test_applies_when_listed if {
	dpdp.applies with input as _input({}, {})
	not dpdp.applies with input as {"policy": {"compliance_frameworks": ["gdpr"]}}
}

# DPDP Act s.16(1): a negative list; none notified, so every region is legal by default
test_all_regions_without_restriction if {
	count(dpdp.legal_regions) == 7 with input as _input({}, {})
}

# s.16(1): a notified country is removed, matched on the region's country
test_restricted_country_removed if {
	dpdp.legal_regions == {"apac-east", "apac-south", "ca-central", "eu-central", "eu-west"} with input as _input({}, {})
		with data.reference.dpdp.restricted_countries as ["US"]
}

# s.16(1) restricts transfers *outside* India: apac-south is never removed
test_india_never_removed if {
	"apac-south" in dpdp.legal_regions with input as _input({}, {}) with data.reference.dpdp.restricted_countries as ["IN", "JP"]
	not "apac-east" in dpdp.legal_regions with input as _input({}, {}) with data.reference.dpdp.restricted_countries as ["IN", "JP"]
}

test_ill_typed_list_entries_ignored if {
	count(dpdp.legal_regions) == 7 with input as _input({}, {}) with data.reference.dpdp.restricted_countries as [1, null]
}

test_exclusion if {
	dpdp.exclusion.code == "DENY_DPDP_RESTRICTED_COUNTRY"
	dpdp.elimination == "dpdp:restricted_country"
}

# s.2(f): a child is under 18; unknown age fails closed; the tenant's min_learner_age attests otherwise
test_child if {
	dpdp.child with input as _input({"learner_age": 17}, {})
	dpdp.child with input as _input({}, {})
	not dpdp.child with input as _input({"learner_age": 18}, {})
	not dpdp.child with input as _input({"min_learner_age": 18}, {})
}

# s.9(1), Rules r.10: verifiable parental consent, recorded on the learner policy itself
test_consent_only_from_the_learner_policy if {
	dpdp.consent_gate.code == "DENY_DPDP_CHILD_NO_CONSENT" with input as _input({"learner_age": 17, "consents": {"parental_consent": true}}, {})
	not dpdp.consent_gate with input as object.union(_input({"learner_age": 17}, {}), {"learner_policy": _learner({"parental_consent": true})})
}

# s.9(3): no tracking, behavioural monitoring or targeted advertising of children — no consent lifts it
test_banned_purposes if {
	doc := object.union(_input({"learner_age": 15, "dpdp_education_exemption": true}, {"purpose": "profiling"}), {"learner_policy": _learner({"parental_consent": true})})
	dpdp.tracking.code == "DENY_DPDP_CHILD_TRACKING" with input as doc
}

# s.9(4), Rules r.12 Fourth Schedule Part A: an educational institution may track for educational
# activities or safety, without consent; other processing still needs it (fail closed)
test_education_exemption if {
	exempt := _input({"learner_age": 15, "dpdp_education_exemption": true}, {"purpose": "safety"})
	not dpdp.tracking with input as exempt
	not dpdp.consent_gate with input as exempt
	dpdp.tracking.code == "DENY_DPDP_CHILD_TRACKING" with input as _input({"learner_age": 15}, {"purpose": "proctoring"})
	dpdp.consent_gate with input as _input({"learner_age": 15, "dpdp_education_exemption": true}, {"purpose": "assessment"})
}

test_adults_pass if {
	not dpdp.tracking with input as _input({"learner_age": 30}, {"purpose": "profiling"})
	not dpdp.consent_gate with input as _input({"learner_age": 30}, {})
}

# Rules r.14: at most 90 days [U]
test_erasure_deadline if dpdp.erasure_deadline_days == 90
