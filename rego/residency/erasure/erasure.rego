# METADATA
# title: Erasure routing
# description: >-
#   `delete` is always routable, whatever the rules, overrides or health: every
#   region that may hold a copy is an erasure target; unavailable ones are
#   deferred; a copy outside L is flagged (SPEC §4.6).
# related_resources:
#   - ref: ../shared/SPEC.md#46-erasure
package residency.erasure

import data.residency.legal
import data.residency.policy
import data.residency.reasons
import data.residency.regions

_locations := input.request.data_locations if {
	is_array(input.request.data_locations)
	count(input.request.data_locations) > 0
} else := array.concat(array.concat([region | region := policy.primary], policy.allowed), policy.failover_order)

# METADATA
# title: Erasure targets
# description: >-
#   The request's `data_locations` when given, else primary ∪ allowed ∪ failover
#   regions; sorted, unique.
targets := sort({region | some region in _locations})

# METADATA
# title: Deferred
# description: Erasure targets that are unavailable now; the host retries them.
deferred := [region | some region in targets; regions.health(region) == "unavailable"]

# METADATA
# title: Non-compliant copies
# description: Erasure targets outside L (a copy that should never have been there).
noncompliant := [region | some region in targets; not region in legal.ordered]

# METADATA
# title: Non-compliant copy flag
# description: Flag raised when a copy sits outside L; the DPO is notified.
noncompliant_flag := "NONCOMPLIANT_COPY_FOUND"

# METADATA
# title: Erasure routed
# description: A delete is routed to every region that may hold a copy.
# custom:
#   code: ALLOW_ERASURE_ROUTED
#   decided_by: erasure
#   message: erasure routed to every region that may hold a copy
allow := reasons.finding(rego.metadata.rule(), null)
