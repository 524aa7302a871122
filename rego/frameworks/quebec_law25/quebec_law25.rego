# METADATA
# title: Quebec Law 25
# description: >-
#   An Act to modernize legislative provisions as regards the protection of
#   personal information (S.Q. 2021, c. 25), amending the Act respecting the
#   protection of personal information in the private sector (CQLR c. P-39.1).
#   Communicating personal information outside Quebec needs a privacy impact
#   assessment first (s.17); a minor under 14 needs parental consent (s.4.1).
# related_resources:
#   - ref: https://www.legisquebec.gouv.qc.ca/en/document/cs/P-39.1
package frameworks.quebec_law25

import data.residency.policy
import data.residency.reasons
import data.residency.regions

# METADATA
# title: Quebec Law 25 applies
# description: The effective policy lists `quebec_law25` (an enterprise in Quebec, CQLR c. P-39.1 s.1).
# related_resources:
#   - ref: https://www.legisquebec.gouv.qc.ca/en/document/cs/P-39.1
applies if "quebec_law25" in policy.frameworks

# METADATA
# title: Quebec Law 25 legal regions
# description: >-
#   Regions in Quebec (ca-central, Montréal), plus regions a privacy impact assessment under s.17 of the
#   Act respecting the protection of personal information in the private sector
#   found adequately protective (`qc_pia`).
# related_resources:
#   - ref: https://www.legisquebec.gouv.qc.ca/en/document/cs/P-39.1#se:17
legal_regions := {"ca-central"} | _qc_pia

_qc_pia contains region if {
	some region in policy.mechanism_regions("qc_pia")
	regions.known(region)
}

# METADATA
# title: Quebec Law 25 legal regions for an inference provider
# description: >-
#   L_route(e): Quebec, plus the regions a `qc_pia` item naming the entry's
#   provider lists (a s.17 assessment covers one communication to one recipient).
# related_resources:
#   - ref: https://www.legisquebec.gouv.qc.ca/en/document/cs/P-39.1#se:17
route_regions(entry) := {"ca-central"} | {region |
	some region in policy.provider_mechanism_regions("qc_pia", entry.provider)
	regions.known(region)
}

# METADATA
# title: Communication outside Quebec without a PIA
# description: >-
#   Personal information leaves Quebec only after a privacy impact assessment
#   (CQLR c. P-39.1 s.17).
# related_resources:
#   - ref: https://www.legisquebec.gouv.qc.ca/en/document/cs/P-39.1#se:17
# custom:
#   code: DENY_QC_PIA_MISSING
#   decided_by: framework
#   message: no privacy impact assessment covers communication outside Quebec (CQLR c. P-39.1 s.17)
exclusion := reasons.finding(rego.metadata.rule(), "quebec_law25")

# METADATA
# title: Elimination label
# description: How `eliminated` names a region Quebec Law 25 removed.
# related_resources:
#   - ref: https://www.legisquebec.gouv.qc.ca/en/document/cs/P-39.1#se:17
elimination := "quebec_law25:qc_pia_missing"

# METADATA
# title: Minor under 14
# description: >-
#   A learner under 14 (CQLR c. P-39.1 s.4.1), or of unknown age: unknown age
#   counts as a minor (fail closed, SPEC §11.A3).
# related_resources:
#   - ref: https://www.legisquebec.gouv.qc.ca/en/document/cs/P-39.1#se:4.1
minor if {
	applies
	policy.under(14)
}

# METADATA
# title: Consent gate for minors
# description: >-
#   Personal information about a minor under 14 is collected only with the consent
#   of the person having parental authority (CQLR c. P-39.1 s.4.1).
# related_resources:
#   - ref: https://www.legisquebec.gouv.qc.ca/en/document/cs/P-39.1#se:4.1
# custom:
#   code: DENY_QC_MINOR_NO_CONSENT
#   decided_by: consent_gate
#   message: a minor under 14 needs the consent of the person having parental authority (CQLR c. P-39.1 s.4.1)
consent_gate := reasons.finding(rego.metadata.rule(), "quebec_law25") if {
	minor
	not policy.consent("parental_consent")
}

# METADATA
# title: Erasure deadline
# description: >-
#   Fail closed on the public-body act (school service centres): a request is
#   answered within 20 days (CQLR c. A-2.1 s.98, +10 on notice, not assumed); the
#   private-sector act (P-39.1 s.32) allows 30 [U].
# related_resources:
#   - ref: https://www.legisquebec.gouv.qc.ca/en/document/cs/A-2.1#se:98
erasure_deadline_days := 20
