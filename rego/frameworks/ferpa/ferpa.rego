# METADATA
# title: FERPA
# description: >-
#   Family Educational Rights and Privacy Act (20 U.S.C. §1232g; 34 CFR Part 99).
#   No geographic rule: a provider acting as a "school official" may hold education
#   records anywhere, but may use them only for the purpose of the disclosure
#   (34 CFR 99.31(a)(1)(i)(B), 99.33(a)).
# related_resources:
#   - ref: https://www.ecfr.gov/current/title-34/subtitle-A/part-99
package frameworks.ferpa

import data.residency.policy
import data.residency.reasons
import data.residency.regions

# METADATA
# title: FERPA applies
# description: The effective policy lists `ferpa` (an educational agency or institution's records, 34 CFR 99.1).
# related_resources:
#   - ref: https://www.ecfr.gov/current/title-34/section-99.1
applies if "ferpa" in policy.frameworks

# METADATA
# title: FERPA legal regions
# description: All regions; 34 CFR 99.31 conditions disclosure on purpose and control, not on location.
# related_resources:
#   - ref: https://www.ecfr.gov/current/title-34/section-99.31
legal_regions := regions.codes

# METADATA
# title: Secondary use of education records
# description: >-
#   Training or fine-tuning a model on education records, or sending them to a
#   provider that trains on its inputs, is a use beyond the legitimate educational
#   interest the school-official exception allows (34 CFR 99.31(a)(1)(i)(B)) and a
#   redisclosure 34 CFR 99.33(a) forbids.
# related_resources:
#   - ref: https://www.ecfr.gov/current/title-34/section-99.31
#   - ref: https://www.ecfr.gov/current/title-34/section-99.33
# custom:
#   code: DENY_FERPA_SECONDARY_USE
#   decided_by: framework
#   message: education records may not be used to train or fine-tune models (34 CFR 99.31(a)(1)(i)(B), 99.33(a))
secondary_use := reasons.finding(rego.metadata.rule(), "ferpa") if applies

# METADATA
# title: Advertising from education records
# description: >-
#   Using education records for advertising directed at the student is no
#   legitimate educational interest (34 CFR 99.31(a)(1)(i)(B)) and a redisclosure
#   34 CFR 99.33(a) forbids; purpose `targeted_advertising` denies.
# related_resources:
#   - ref: https://www.ecfr.gov/current/title-34/section-99.31
#   - ref: https://www.ecfr.gov/current/title-34/section-99.33
# custom:
#   code: DENY_FERPA_SECONDARY_USE
#   decided_by: framework
#   message: education records may not be used for advertising (34 CFR 99.31(a)(1)(i)(B), 99.33(a))
advertising := reasons.finding(rego.metadata.rule(), "ferpa") if {
	applies
	policy.purpose == "targeted_advertising"
}
