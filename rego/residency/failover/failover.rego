# METADATA
# title: Failover
# description: >-
#   When the target is the primary and it is unavailable: the first healthy region
#   of the failover order that is in T, or in L under a valid override (SPEC §4.5).
#   Failover never widens L.
# related_resources:
#   - ref: ../shared/SPEC.md#45-target-and-failover
package residency.failover

import data.frameworks.appi
import data.residency.legal
import data.residency.overrides
import data.residency.policy
import data.residency.reasons
import data.residency.regions
import data.residency.tenant

# METADATA
# title: Failover needed
# description: The target is the primary region and an operator marked it `unavailable`.
needed(target) if {
	target == policy.primary
	regions.health(target) == "unavailable"
}

_via(region) := null if {
	region in tenant.ordered
} else := id if {
	region in legal.ordered
	id := overrides.valid_for(region)
}

# METADATA
# title: Failover candidates
# description: >-
#   The usable regions of the failover order, in order, each with the override
#   it needs (null when it is in T). Skips the primary, unavailable regions and
#   regions the APPI minor gate closes (SPEC §11.A3 row 6).
candidates := [[region, via] |
	some region in policy.failover_order
	region != policy.primary
	regions.health(region) != "unavailable"
	not appi.minor_gate(region, null)
	via := _via(region)
]

# METADATA
# title: Failover choice
# description: "`[region, override_id | null]`: the first candidate; undefined when there is none."
choice := candidates[0]

# METADATA
# title: Failing over
# description: The primary is unavailable and the request moves to a compliant failover region.
# custom:
#   code: ALLOW_FAILOVER
#   decided_by: failover
#   message: the primary region is unavailable; failed over
allow := reasons.finding(rego.metadata.rule(), null)

# METADATA
# title: Failover not allowed
# description: The primary is unavailable and the policy does not allow cross-region failover.
# custom:
#   code: DENY_PRIMARY_UNAVAILABLE_NO_FAILOVER
#   decided_by: failover
#   message: the primary region is unavailable and the policy does not allow cross-region failover
disabled := reasons.finding(rego.metadata.rule(), null)

# METADATA
# title: No compliant failover region
# description: >-
#   No healthy region of the failover order is in T, nor in L under a valid override.
# custom:
#   code: DENY_NO_COMPLIANT_FAILOVER_REGION
#   decided_by: failover
#   message: the primary region is unavailable and no healthy failover region is permitted
exhausted := reasons.finding(rego.metadata.rule(), null)
