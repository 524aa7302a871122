# METADATA
# title: Obligations
# description: >-
#   What the host must do with data it routes (SPEC §4.7): keep it no longer than
#   the effective retention, answer erasure within the shortest applicable
#   deadline, encrypt at rest.
# related_resources:
#   - ref: ../shared/SPEC.md#47-the-answer
package residency.obligations

import data.frameworks.ccpa
import data.frameworks.gdpr
import data.residency.policy

default retention_days := null

# METADATA
# title: Retention days
# description: The effective `data_retention_days`, null when the policy sets none.
retention_days := policy.retention_days

default erasure_deadline_days := null

# METADATA
# title: Erasure deadline
# description: The shortest erasure deadline of the applicable frameworks (GDPR 30 days, CCPA 45), else null.
erasure_deadline_days := min([gdpr.erasure_deadline_days, ccpa.erasure_deadline_days]) if {
	gdpr.applies
	ccpa.applies
} else := gdpr.erasure_deadline_days if {
	gdpr.applies
} else := ccpa.erasure_deadline_days if {
	ccpa.applies
}
