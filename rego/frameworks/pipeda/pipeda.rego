# METADATA
# title: PIPEDA
# description: >-
#   Personal Information Protection and Electronic Documents Act (S.C. 2000, c. 5).
#   An organisation stays accountable for personal information it transfers for
#   processing and must secure a comparable level of protection by contract
#   (Schedule 1, Principle 4.1.3). Without such a contract the data stays in Canada.
# related_resources:
#   - ref: https://laws-lois.justice.gc.ca/eng/acts/P-8.6/page-11.html
#     description: PIPEDA Schedule 1, clause 4.1.3
package frameworks.pipeda

import data.residency.policy
import data.residency.reasons
import data.residency.regions

# METADATA
# title: PIPEDA applies
# description: The effective policy lists `pipeda` (commercial activity in Canada, PIPEDA s.4).
# related_resources:
#   - ref: https://laws-lois.justice.gc.ca/eng/acts/P-8.6/page-2.html
applies if "pipeda" in policy.frameworks

# METADATA
# title: PIPEDA legal regions
# description: >-
#   Canadian regions (ca-central); every region once `pipeda_contract` records contractual
#   comparable protection with the processor (PIPEDA Schedule 1, Principle 4.1.3).
# related_resources:
#   - ref: https://laws-lois.justice.gc.ca/eng/acts/P-8.6/page-11.html
legal_regions := regions.codes if {
	policy.mechanism("pipeda_contract")
} else := {"ca-central"}

# METADATA
# title: Transfer without comparable protection
# description: >-
#   A region outside Canada without a contract giving comparable protection breaches
#   the accountability principle (PIPEDA Schedule 1, Principle 4.1.3).
# related_resources:
#   - ref: https://laws-lois.justice.gc.ca/eng/acts/P-8.6/page-11.html
# custom:
#   code: DENY_NO_COMPARABLE_PROTECTION
#   decided_by: framework
#   message: no contract gives comparable protection outside Canada (PIPEDA Sch. 1, 4.1.3)
exclusion := reasons.finding(rego.metadata.rule(), "pipeda")

# METADATA
# title: Elimination label
# description: How `eliminated` names a region PIPEDA removed.
# related_resources:
#   - ref: https://laws-lois.justice.gc.ca/eng/acts/P-8.6/page-11.html
elimination := "pipeda:no_comparable_protection"

# METADATA
# title: Erasure deadline
# description: A request is answered within 30 days (PIPEDA s.8(3), for access; used for erasure as a proxy).
# related_resources:
#   - ref: https://laws-lois.justice.gc.ca/eng/acts/P-8.6/page-3.html
erasure_deadline_days := 30
