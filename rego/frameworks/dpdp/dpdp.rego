# METADATA
# title: DPDP Act 2023 (India)
# description: >-
#   Digital Personal Data Protection Act, 2023 and the DPDP Rules, 2025. Transfer
#   outside India is allowed except to countries the Central Government restricts
#   by notification (s.16(1), a negative list: bundle data
#   `reference.dpdp.restricted_countries`; none notified as of mid-2026 [U]). A
#   child is under 18 (s.2(f)); processing needs verifiable parental consent
#   (s.9(1), Rules r.10); tracking, behavioural monitoring and targeted
#   advertising directed at children are forbidden (s.9(3)), except that
#   educational institutions may track for educational activities or safety
#   (s.9(4), Rules r.12, Fourth Schedule Part A [U: exact text]).
# related_resources:
#   - ref: https://www.meity.gov.in/static/uploads/2024/06/2bf1f0e9f04e6fb4f8fef35e82c42aa5.pdf
#     description: DPDP Act 2023 ss.2(f), 9, 16
#   - ref: https://www.meity.gov.in/documents/act-and-policies/digital-personal-data-protection-rules-2025
#     description: DPDP Rules 2025 r.10, r.12, r.14, Fourth Schedule
package frameworks.dpdp

import data.residency.policy
import data.residency.reasons
import data.residency.regions

# METADATA
# title: DPDP applies
# description: The effective policy lists `dpdp` (processing in India, or offering to people in India, s.3; decided upstream).
# related_resources:
#   - ref: https://www.meity.gov.in/static/uploads/2024/06/2bf1f0e9f04e6fb4f8fef35e82c42aa5.pdf
applies if "dpdp" in policy.frameworks

# METADATA
# title: Restricted countries
# description: >-
#   The s.16(1) negative list from bundle data, ISO 3166-1 alpha-2 upper case;
#   compliance engineers change it by bundle.
# related_resources:
#   - ref: https://www.meity.gov.in/static/uploads/2024/06/2bf1f0e9f04e6fb4f8fef35e82c42aa5.pdf
restricted_countries := {country |
	some country in data.reference.dpdp.restricted_countries
	is_string(country)
}

# METADATA
# title: DPDP legal regions
# description: >-
#   Every region except those whose country is on the s.16(1) negative list;
#   apac-south (India) is never removed. No contract, consent or override lifts
#   a notified restriction, so both views of L are the same.
# related_resources:
#   - ref: https://www.meity.gov.in/static/uploads/2024/06/2bf1f0e9f04e6fb4f8fef35e82c42aa5.pdf
legal_regions := {region |
	some region in regions.ordered
	not regions.country(region) in restricted_countries
} | {"apac-south"}

# METADATA
# title: Transfer to a restricted country
# description: The region's country is on the Central Government's s.16(1) negative list.
# related_resources:
#   - ref: https://www.meity.gov.in/static/uploads/2024/06/2bf1f0e9f04e6fb4f8fef35e82c42aa5.pdf
# custom:
#   code: DENY_DPDP_RESTRICTED_COUNTRY
#   decided_by: framework
#   message: the Central Government restricts transfers to this country (DPDP Act s.16(1))
exclusion := reasons.finding(rego.metadata.rule(), "dpdp")

# METADATA
# title: Elimination label
# description: How `eliminated` names a region DPDP removed.
# related_resources:
#   - ref: https://www.meity.gov.in/static/uploads/2024/06/2bf1f0e9f04e6fb4f8fef35e82c42aa5.pdf
elimination := "dpdp:restricted_country"

# METADATA
# scope: document
# title: Child
# description: A learner under 18 (s.2(f)), or of unknown age (fail closed, SPEC §11.A3).
# related_resources:
#   - ref: https://www.meity.gov.in/static/uploads/2024/06/2bf1f0e9f04e6fb4f8fef35e82c42aa5.pdf
child if {
	applies
	policy.under(18)
}

# METADATA
# title: Purposes banned for children
# description: Profiling, emotion recognition and targeted advertising directed at a child (s.9(3)); no exemption or consent lifts them.
# related_resources:
#   - ref: https://www.meity.gov.in/static/uploads/2024/06/2bf1f0e9f04e6fb4f8fef35e82c42aa5.pdf
banned_purposes := {"profiling", "emotion_recognition", "targeted_advertising"}

# METADATA
# title: Tracking purposes
# description: >-
#   Tracking or behavioural monitoring (s.9(3)) that the Fourth Schedule Part A
#   exemption can lift for an educational institution: progress monitoring,
#   proctoring, safety.
# related_resources:
#   - ref: https://www.meity.gov.in/documents/act-and-policies/digital-personal-data-protection-rules-2025
tracking_purposes := {"progress_monitoring", "proctoring", "safety"}

# METADATA
# title: Tracking a child
# description: >-
#   Row 1 of the gates (SPEC §11.A3, DPDP steps 1-2): a banned purpose, or a
#   tracking purpose without the tenant's education exemption (s.9(3), s.9(4)).
# related_resources:
#   - ref: https://www.meity.gov.in/static/uploads/2024/06/2bf1f0e9f04e6fb4f8fef35e82c42aa5.pdf
# custom:
#   code: DENY_DPDP_CHILD_TRACKING
#   decided_by: consent_gate
#   message: tracking, behavioural monitoring or targeted advertising directed at a child is not permitted (DPDP Act s.9(3))
tracking := reasons.finding(rego.metadata.rule(), "dpdp") if {
	child
	_tracking
}

_tracking if policy.purpose in banned_purposes

_tracking if {
	policy.purpose in tracking_purposes
	not policy.education_exemption
}

# METADATA
# title: Consent gate for children
# description: >-
#   Row 5 (DPDP step 3): any other purpose, or none, needs verifiable parental
#   consent recorded on the learner policy itself (s.9(1), Rules r.10); the
#   exemption covers tracking purposes only (fail closed [U]).
# related_resources:
#   - ref: https://www.meity.gov.in/static/uploads/2024/06/2bf1f0e9f04e6fb4f8fef35e82c42aa5.pdf
# custom:
#   code: DENY_DPDP_CHILD_NO_CONSENT
#   decided_by: consent_gate
#   message: a child's data needs verifiable consent of a parent on the learner policy (DPDP Act s.9(1))
consent_gate := reasons.finding(rego.metadata.rule(), "dpdp") if {
	child
	not _exempt_tracking
	not policy.learner_consent("parental_consent")
}

_exempt_tracking if {
	policy.purpose in tracking_purposes
	policy.education_exemption
}

# METADATA
# title: Erasure deadline
# description: >-
#   Rights requests are answered within the published period, at most 90 days (DPDP Rules 2025 r.14 [U: rule number]).
# related_resources:
#   - ref: https://www.meity.gov.in/documents/act-and-policies/digital-personal-data-protection-rules-2025
erasure_deadline_days := 90
