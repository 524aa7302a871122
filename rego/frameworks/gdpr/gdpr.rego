# METADATA
# title: GDPR — Chapter V transfers
# description: >-
#   Regulation (EU) 2016/679. Personal data leaves the EEA only to a country with
#   an adequacy decision (Art. 45) or under appropriate safeguards (Art. 46);
#   Art. 44 makes every other transfer unlawful. Which establishments GDPR binds
#   (Art. 3) is decided upstream and arrives as `compliance_frameworks`.
# related_resources:
#   - ref: https://eur-lex.europa.eu/eli/reg/2016/679/oj
#     description: GDPR Art. 3, 12(3), 44-46
package frameworks.gdpr

import data.residency.policy
import data.residency.reasons
import data.residency.regions

# METADATA
# title: GDPR applies
# description: The effective policy lists `gdpr` (territorial scope, GDPR Art. 3, decided upstream).
# related_resources:
#   - ref: https://eur-lex.europa.eu/eli/reg/2016/679/oj#art_3
applies if "gdpr" in policy.frameworks

# METADATA
# title: Regions needing no transfer mechanism
# description: >-
#   Regions inside the EEA (eu-west, eu-central: no transfer at all) and regions
#   in a third country with an adequacy decision under GDPR Art. 45(3): Canada
#   (ca-central, Decision 2002/2/EC, organisations subject to PIPEDA) and Japan
#   (apac-east, Implementing Decision (EU) 2019/419). India (apac-south) has none.
#   The tests check this table against the jurisdictions in the region data.
# related_resources:
#   - ref: https://eur-lex.europa.eu/eli/reg/2016/679/oj#art_45
#   - ref: https://commission.europa.eu/law/law-topic/data-protection/international-dimension-data-protection/adequacy-decisions_en
adequate := {"eu-west", "eu-central", "ca-central", "apac-east"}

# METADATA
# title: GDPR legal regions (storage and search)
# description: >-
#   L_access (SPEC §11.A2.2), for the tenant's storage/search importer: adequate
#   regions; US regions the tenant lists in `dpf` (its importer certified under the
#   EU-US Data Privacy Framework, adequacy decision (EU) 2023/1795 under Art. 45)
#   while bundle `mechanisms.dpf_valid` holds; regions listed bare in `scc_tia`
#   (standard contractual clauses plus a transfer impact assessment, Art. 46(2)(c)
#   as read in C-311/18 Schrems II). Security certifications are never a transfer
#   mechanism, and a provider item never covers storage.
# related_resources:
#   - ref: https://eur-lex.europa.eu/eli/reg/2016/679/oj#art_46
#   - ref: https://eur-lex.europa.eu/eli/dec_impl/2023/1795/oj
legal_regions := (adequate | _dpf_listed) | {region |
	some region in policy.mechanism_regions("scc_tia")
	regions.known(region)
}

_dpf_listed := {region |
	some region in policy.mechanism_regions("dpf")
	region in regions.us
} if {
	policy.switch_on("dpf_valid")
} else := set()

# METADATA
# title: GDPR legal regions for an inference provider
# description: >-
#   L_route(e) (SPEC §11.A2.2): each importer proves its own basis (Art. 28(2),(4),
#   44, 46). Adequate regions; US regions when the catalog entry's `dpf_certified`
#   is exactly true (while `dpf_valid`); regions a `scc_tia` item naming the
#   entry's provider lists. A bare region never covers a provider.
# related_resources:
#   - ref: https://eur-lex.europa.eu/eli/reg/2016/679/oj#art_28
#   - ref: https://eur-lex.europa.eu/eli/dec_impl/2021/914/oj
route_regions(entry) := (adequate | _dpf_certified(entry)) | {region |
	some region in policy.provider_mechanism_regions("scc_tia", entry.provider)
	regions.known(region)
}

_dpf_certified(entry) := regions.us if {
	entry.dpf_certified == true
	policy.switch_on("dpf_valid")
} else := set()

# METADATA
# title: DPF withdrawn
# description: >-
#   Bundle `mechanisms.dpf_valid` is false and the region would otherwise be
#   admitted by a DPF basis (the tenant's `dpf` list, or the entry's
#   `dpf_certified`): the decision carries flag `DPF_WITHDRAWN` (SPEC §11.A1).
# related_resources:
#   - ref: https://eur-lex.europa.eu/eli/dec_impl/2023/1795/oj
withdrawn(region, entry) if {
	not policy.switch_on("dpf_valid")
	region in regions.us
	_dpf_basis(region, entry)
}

_dpf_basis(region, null) if region in policy.mechanism_regions("dpf")

_dpf_basis(_, entry) if entry.dpf_certified == true

# METADATA
# title: Transfer without a Chapter V basis
# description: >-
#   A region outside `legal_regions` would receive personal data with neither
#   adequacy nor safeguards, which GDPR Art. 44 forbids.
# related_resources:
#   - ref: https://eur-lex.europa.eu/eli/reg/2016/679/oj#art_44
# custom:
#   code: DENY_NO_TRANSFER_MECHANISM
#   decided_by: framework
#   message: no adequacy decision, DPF certification of the importer or SCCs with a transfer impact assessment cover it (GDPR Art. 44-46)
exclusion := reasons.finding(rego.metadata.rule(), "gdpr")

# METADATA
# title: Elimination label
# description: How `eliminated` names a region GDPR removed.
# related_resources:
#   - ref: https://eur-lex.europa.eu/eli/reg/2016/679/oj#art_44
elimination := "gdpr:no_transfer_mechanism"

# METADATA
# title: Erasure deadline
# description: >-
#   An erasure request (Art. 17) is answered without undue delay and within one
#   month (Art. 12(3)); 30 days.
# related_resources:
#   - ref: https://eur-lex.europa.eu/eli/reg/2016/679/oj#art_12
erasure_deadline_days := 30
