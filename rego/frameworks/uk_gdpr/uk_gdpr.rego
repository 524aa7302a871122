# METADATA
# title: UK GDPR and the Data Protection Act 2018 — restricted transfers
# description: >-
#   UK GDPR (retained Regulation (EU) 2016/679) Arts. 44-46 with the Data
#   Protection Act 2018. There is no UK region, so every write is a restricted
#   transfer: it needs UK adequacy regulations (DPA 2018 s.17A; Sch. 21 paras 4-5
#   keep the EEA and the pre-2021 EU findings for Japan and Canada) or appropriate
#   safeguards (Art. 46(2)(d): the IDTA or the UK Addendum to the EU SCCs). The US
#   is covered only for organisations certified to the DPF and its UK Extension
#   (SI 2023/1028). Article numbering after the Data (Use and Access) Act 2025 is
#   not verified [U].
# related_resources:
#   - ref: https://www.legislation.gov.uk/eur/2016/679/contents
#     description: UK GDPR Arts. 3, 12(3), 44-46
#   - ref: https://www.legislation.gov.uk/ukpga/2018/12/contents
#   - ref: https://www.legislation.gov.uk/uksi/2023/1028/contents/made
package frameworks.uk_gdpr

import data.residency.policy
import data.residency.reasons
import data.residency.regions

# METADATA
# title: UK GDPR applies
# description: The effective policy lists `uk_gdpr` (territorial scope, UK GDPR Art. 3, decided upstream).
# related_resources:
#   - ref: https://www.legislation.gov.uk/eur/2016/679/article/3
applies if "uk_gdpr" in policy.frameworks

# METADATA
# title: Regions needing no UK safeguard
# description: >-
#   The EEA (eu-west, eu-central) and the countries whose EU adequacy findings the
#   UK kept (DPA 2018 Sch. 21 paras 4-5): Japan (apac-east) and Canada (ca-central,
#   PIPEDA-covered organisations only; we assume the importer, AWS Canada, is
#   covered and never widen to Canadian public bodies [U]).
# related_resources:
#   - ref: https://www.legislation.gov.uk/ukpga/2018/12/schedule/21
adequate := {"eu-west", "eu-central", "apac-east", "ca-central"}

# METADATA
# title: UK GDPR legal regions (storage and search)
# description: >-
#   L_access: adequate regions; US regions in `uk_extension` (the storage/search
#   importer is certified to the DPF and its UK Extension, SI 2023/1028) while
#   bundle `mechanisms.dpf_valid` and `mechanisms.uk_extension_valid` hold;
#   regions listed bare in `idta` (Art. 46(2)(d) with a transfer risk assessment).
# related_resources:
#   - ref: https://www.legislation.gov.uk/uksi/2023/1028/contents/made
#   - ref: https://www.legislation.gov.uk/eur/2016/679/article/46
legal_regions := (adequate | _extension_listed) | {region |
	some region in policy.mechanism_regions("idta")
	regions.known(region)
}

_switches_on if {
	policy.switch_on("dpf_valid")
	policy.switch_on("uk_extension_valid")
}

_extension_listed := {region |
	some region in policy.mechanism_regions("uk_extension")
	region in regions.us
} if {
	_switches_on
} else := set()

# METADATA
# title: UK GDPR legal regions for an inference provider
# description: >-
#   L_route(e): adequate regions; US regions when the entry's `dpf_certified` and
#   `uk_extension` are both exactly true (while both switches hold); regions an
#   `idta` item naming the entry's provider lists (UK GDPR Art. 46(2)(d)).
# related_resources:
#   - ref: https://www.legislation.gov.uk/eur/2016/679/article/46
route_regions(entry) := (adequate | _extension_certified(entry)) | {region |
	some region in policy.provider_mechanism_regions("idta", entry.provider)
	regions.known(region)
}

_extension_certified(entry) := regions.us if {
	entry.dpf_certified == true
	entry.uk_extension == true
	_switches_on
} else := set()

# METADATA
# title: UK Extension withdrawn
# description: >-
#   A switch is off and the region would otherwise be admitted by a UK Extension
#   basis: flag `DPF_WITHDRAWN` (the UK Extension dies with the DPF, fail closed).
# related_resources:
#   - ref: https://www.legislation.gov.uk/uksi/2023/1028/contents/made
withdrawn(region, entry) if {
	not _switches_on
	region in regions.us
	_extension_basis(region, entry)
}

_extension_basis(region, null) if region in policy.mechanism_regions("uk_extension")

_extension_basis(_, entry) if {
	entry.dpf_certified == true
	entry.uk_extension == true
}

# METADATA
# title: Restricted transfer without a basis
# description: >-
#   A region outside the legal set would receive a restricted transfer with
#   neither adequacy regulations nor Art. 46 safeguards (UK GDPR Art. 44).
# related_resources:
#   - ref: https://www.legislation.gov.uk/eur/2016/679/article/44
# custom:
#   code: DENY_NO_TRANSFER_MECHANISM
#   decided_by: framework
#   message: no UK adequacy regulations, UK Extension certification of the importer or IDTA cover it (UK GDPR Art. 44-46)
exclusion := reasons.finding(rego.metadata.rule(), "uk_gdpr")

# METADATA
# title: Elimination label
# description: How `eliminated` names a region UK GDPR removed.
# related_resources:
#   - ref: https://www.legislation.gov.uk/eur/2016/679/article/44
elimination := "uk_gdpr:no_transfer_mechanism"

# METADATA
# title: Erasure deadline
# description: >-
#   One month from receipt (UK GDPR Art. 12(3)); 30 days. The DUAA 2025
#   "stop the clock" is not assumed [U].
# related_resources:
#   - ref: https://www.legislation.gov.uk/eur/2016/679/article/12
erasure_deadline_days := 30
