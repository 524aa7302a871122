# METADATA
# title: APPI (Japan) — provision to a third party in a foreign country
# description: >-
#   Act on the Protection of Personal Information (Act No. 57 of 2003). Provision
#   of personal data to a third party in a foreign country needs the principal's
#   prior consent (Art. 28(1)), given after the Art. 28(2) information, unless the
#   country is designated by PPC Rules (the EU/EEA and the UK) or the recipient
#   keeps a system meeting PPC standards: contract or internal rules securing
#   equivalent measures, or APEC CBPR recognition (PPC Rules Art. 16 [U: article
#   numbers]), with the exporter's continuous checks (Art. 28(3)). A foreign
#   processor counts as a third party; the PPC "cloud exception" is not relied on
#   (fail closed).
# related_resources:
#   - ref: https://www.japaneselawtranslation.go.jp/en/laws/view/4241/en
#     description: APPI Arts. 28, 35, 39
#   - ref: https://www.ppc.go.jp/en/legal/
package frameworks.appi

import data.residency.policy
import data.residency.reasons
import data.residency.regions

# METADATA
# title: APPI applies
# description: >-
#   The effective policy lists `appi` (a business handling personal information in Japan, Art. 171 [U: numbering]; decided upstream).
# related_resources:
#   - ref: https://www.japaneselawtranslation.go.jp/en/laws/view/4241/en
applies if "appi" in policy.frameworks

# METADATA
# title: Regions needing no consent
# description: Japan (apac-east) and the PPC-designated EU/EEA (eu-west, eu-central); the UK is designated too, but has no region.
# related_resources:
#   - ref: https://www.ppc.go.jp/en/legal/
designated := {"apac-east", "eu-west", "eu-central"}

_consented if policy.mechanism("appi_consent")

# METADATA
# title: APPI legal regions (storage and search)
# description: >-
#   L_access: every region when the tenant holds every principal's prior consent
#   (`appi_consent`, Art. 28(1)); else designated regions and regions listed bare
#   in `appi_equivalent_measures` (the storage importer bound to equivalent
#   measures, Art. 28(1), (3)).
# related_resources:
#   - ref: https://www.japaneselawtranslation.go.jp/en/laws/view/4241/en
legal_regions := regions.codes if {
	_consented
} else := without_consent

# METADATA
# title: APPI legal regions without consent (storage and search)
# description: Designated regions and bare `appi_equivalent_measures` regions.
# related_resources:
#   - ref: https://www.japaneselawtranslation.go.jp/en/laws/view/4241/en
without_consent := designated | {region |
	some region in policy.mechanism_regions("appi_equivalent_measures")
	regions.known(region)
}

# METADATA
# title: APPI legal regions for an inference provider
# description: >-
#   L_route(e): every region with `appi_consent`; else designated regions, the
#   regions an `appi_equivalent_measures` item naming the provider lists, and
#   every region when the entry's `apec_cbpr` is exactly true (the recipient's
#   system is recognised under an international framework).
# related_resources:
#   - ref: https://www.ppc.go.jp/en/legal/
route_regions(entry) := regions.codes if {
	_consented
} else := route_without_consent(entry)

# METADATA
# title: APPI legal regions for a provider without consent
# description: Designated regions, provider items, and every region for a CBPR-recognised entry.
# related_resources:
#   - ref: https://www.ppc.go.jp/en/legal/
route_without_consent(entry) := regions.codes if {
	entry.apec_cbpr == true
} else := designated | {region |
	some region in policy.provider_mechanism_regions("appi_equivalent_measures", entry.provider)
	regions.known(region)
}

# METADATA
# title: Provision without a basis
# description: Provision to a third party in a foreign country with neither consent, designation nor equivalent measures (Art. 28(1)).
# related_resources:
#   - ref: https://www.japaneselawtranslation.go.jp/en/laws/view/4241/en
# custom:
#   code: DENY_APPI_NO_TRANSFER_BASIS
#   decided_by: framework
#   message: no consent, PPC designation or equivalent measures of the recipient cover provision abroad (APPI Art. 28)
exclusion := reasons.finding(rego.metadata.rule(), "appi")

# METADATA
# title: Elimination label
# description: How `eliminated` names a region APPI removed.
# related_resources:
#   - ref: https://www.japaneselawtranslation.go.jp/en/laws/view/4241/en
elimination := "appi:no_transfer_basis"

# METADATA
# title: Minor's consent gate
# description: >-
#   A transfer that rests on consent alone (the region is legal only through
#   `appi_consent`) of a learner under 16, or of unknown age, needs the legal
#   representative's consent on the learner policy (PPC guidelines; the 2026
#   amendment's threshold of 16 is from a secondary source [U]). `entry` is null
#   for storage/search.
# related_resources:
#   - ref: https://www.ppc.go.jp/en/legal/
# custom:
#   code: DENY_APPI_MINOR_NO_CONSENT
#   decided_by: consent_gate
#   message: provision abroad on consent of a minor under 16 needs the legal representative's consent (APPI Art. 28)
minor_gate(region, entry) := reasons.finding(rego.metadata.rule(), "appi") if {
	applies
	_consented
	policy.under(16)
	not region in _basis_without_consent(entry)
	not policy.learner_consent("parental_consent")
}

_basis_without_consent(null) := without_consent

_basis_without_consent(entry) := route_without_consent(entry) if entry != null

# METADATA
# title: Erasure deadline
# description: >-
#   Art. 35 says "without delay"; the principal may sue two weeks after the
#   request (Art. 39), so 14 days is the shortest defensible reading (fail closed).
# related_resources:
#   - ref: https://www.japaneselawtranslation.go.jp/en/laws/view/4241/en
erasure_deadline_days := 14
