# METADATA
# title: CCPA/CPRA
# description: >-
#   California Consumer Privacy Act as amended by the CPRA (Cal. Civ. Code
#   §1798.100 et seq.). It has no data-localisation rule: every region is legal.
#   It sets the deadline to answer deletion requests.
# related_resources:
#   - ref: https://leginfo.legislature.ca.gov/faces/codes_displayText.xhtml?lawCode=CIV&division=3.&part=4.&title=1.81.5.
package frameworks.ccpa

import data.residency.policy
import data.residency.regions

# METADATA
# title: CCPA applies
# description: The effective policy lists `ccpa` (Cal. Civ. Code §1798.140(d) business thresholds, decided upstream).
# related_resources:
#   - ref: https://leginfo.legislature.ca.gov/faces/sectionsDisplay.xhtml?lawCode=CIV&sectionNum=1798.140
applies if "ccpa" in policy.frameworks

# METADATA
# title: CCPA legal regions
# description: All regions; the CCPA regulates use and sale, not where data is stored (Cal. Civ. Code §1798.100).
# related_resources:
#   - ref: https://leginfo.legislature.ca.gov/faces/sectionsDisplay.xhtml?lawCode=CIV&sectionNum=1798.100
legal_regions := regions.codes

# METADATA
# title: Erasure deadline
# description: >-
#   A verifiable deletion request (§1798.105) is answered within 45 days of
#   receipt (Cal. Civ. Code §1798.130(a)(2)(A)).
# related_resources:
#   - ref: https://leginfo.legislature.ca.gov/faces/sectionsDisplay.xhtml?lawCode=CIV&sectionNum=1798.130
erasure_deadline_days := 45
