# METADATA
# title: Nova Scotia PIIDPA
# description: >-
#   Personal Information International Disclosure Protection Act (S.N.S. 2006, c. 3).
#   A public body and its service providers store personal information only in
#   Canada and access it only from Canada (s.5(1)). Only the head of the public
#   body may allow otherwise (s.5(2)); a break-glass override never can.
# related_resources:
#   - ref: https://nslegislature.ca/sites/default/files/legc/statutes/persinfo.htm
package frameworks.ns_piidpa

import data.residency.policy
import data.residency.reasons

# METADATA
# title: NS PIIDPA applies
# description: The effective policy lists `ns_piidpa` (a Nova Scotia public body or its service provider, s.4).
# related_resources:
#   - ref: https://nslegislature.ca/sites/default/files/legc/statutes/persinfo.htm
applies if "ns_piidpa" in policy.frameworks

# METADATA
# title: NS PIIDPA legal regions
# description: Canadian regions only (ca-central); nothing widens the set (NS PIIDPA s.5(1)).
# related_resources:
#   - ref: https://nslegislature.ca/sites/default/files/legc/statutes/persinfo.htm
legal_regions := {"ca-central"}

# METADATA
# title: Storage or access outside Canada
# description: Personal information held outside Canada breaches NS PIIDPA s.5(1).
# related_resources:
#   - ref: https://nslegislature.ca/sites/default/files/legc/statutes/persinfo.htm
# custom:
#   code: DENY_PROVINCIAL_LOCALISATION
#   decided_by: framework
#   message: Nova Scotia public-body data is stored and accessed only in Canada (NS PIIDPA s.5)
exclusion := reasons.finding(rego.metadata.rule(), "ns_piidpa")

# METADATA
# title: Elimination label
# description: How `eliminated` names a region NS PIIDPA removed.
# related_resources:
#   - ref: https://nslegislature.ca/sites/default/files/legc/statutes/persinfo.htm
elimination := "ns_piidpa:provincial_localisation"
