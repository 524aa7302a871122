# METADATA
# title: Tenant set T
# description: >-
#   T = L ∩ A − prohibited_regions (SPEC §4.3 as amended by §11.A7), and why each
#   region outside T left it.
# related_resources:
#   - ref: ../shared/SPEC.md#43-tenant-set-t
package residency.tenant

import data.residency.legal
import data.residency.policy
import data.residency.reasons
import data.residency.regions

# METADATA
# title: Organisational set A
# description: >-
#   A = A_tenant ∩ A_learner (SPEC §11.A7): A_tenant = the tenant's primary and
#   allow-list when it has one, else every region; A_learner = the effective primary
#   and the learner's allow-list when it has one, else every region. A learner
#   field never widens the tenant's set, not even its `primary_region`. Without the
#   tenant policy passed apart: the effective primary and allow-list.
organisational := _tenant_scope & _learner_scope if {
	policy.split
} else := _scope([primary | primary := policy.primary], policy.allowed)

_scope(primaries, allowed) := {region | some region in array.concat(primaries, allowed)} if {
	count(allowed) > 0
} else := regions.codes

_tenant_scope := _scope([primary | primary := policy.tenant_primary], policy.tenant_allowed)

_learner_scope := _scope([primary | primary := policy.primary], policy.learner_allowed)

# METADATA
# title: T in order
# description: >-
#   T = L ∩ A − prohibited, sorted (the order of `regions.ordered`).
ordered := _within(legal.ordered)

_within(lawful) := [region | some region in lawful; region in scope; not banned[region]] if {
	scope := organisational
	banned := policy.prohibited
}

# METADATA
# title: T for an inference provider
# description: T_route(e) = L_route(e) ∩ A − prohibited, sorted (SPEC §11.A5).
ordered_for(entry) := _within(legal.ordered_for(entry))

# METADATA
# title: T
# description: The legal regions the tenant's organisational rules permit.
permitted_regions := {region | some region in ordered}

default eliminated := {}

# METADATA
# title: Eliminated
# description: >-
#   Every region outside T and why: `<framework>:<slug>` when a law removed it,
#   else `tenant:prohibited` or `tenant:not_allowed` (SPEC §4.7).
eliminated := {region: _label(region, lawful, banned) |
	some region in regions.ordered
	not region in permitted
} if {
	policy.present
	permitted := ordered
	lawful := legal.ordered
	banned := policy.prohibited
}

_label(region, lawful, banned) := legal.elimination(legal.first_removal(region)) if {
	not region in lawful
} else := "tenant:prohibited" if {
	banned[region]
} else := "tenant:not_allowed"

# METADATA
# title: Eliminated for an inference provider
# description: Every region outside T_route(e) and why, labelled as `eliminated`.
eliminated_for(entry) := {region: _route_label(region, entry, lawful, banned) |
	some region in regions.ordered
	not region in permitted
} if {
	policy.present
	permitted := ordered_for(entry)
	lawful := legal.ordered_for(entry)
	banned := policy.prohibited
} else := {}

_route_label(region, entry, lawful, banned) := legal.elimination(legal.first_removal_for(region, entry)) if {
	not region in lawful
} else := "tenant:prohibited" if {
	banned[region]
} else := "tenant:not_allowed"

# METADATA
# title: Tenant finding against a region
# description: >-
#   For a legal region outside T: prohibited, or outside the allow-list; T empty
#   reads as an empty intersection.
finding(region) := reasons.about(empty, region) if {
	count(ordered) == 0
} else := reasons.about(prohibited, region) if {
	region in policy.prohibited
} else := reasons.about(not_allowed, region)

# METADATA
# title: Prohibited by the tenant
# description: The region is on the tenant's organisational deny-list.
# custom:
#   code: DENY_TENANT_PROHIBITED
#   decided_by: tenant_policy
#   message: the tenant policy prohibits this region
prohibited := reasons.finding(rego.metadata.rule(), null)

# METADATA
# title: Outside the tenant allow-list
# description: The region is neither the primary nor on the tenant's allow-list.
# custom:
#   code: DENY_NOT_IN_TENANT_ALLOWED
#   decided_by: tenant_policy
#   message: the region is neither the primary nor on the tenant's allow-list
not_allowed := reasons.finding(rego.metadata.rule(), null)

# METADATA
# title: Empty tenant set
# description: The tenant's rules leave no legal region (SPEC §4.3).
# custom:
#   code: DENY_EMPTY_INTERSECTION
#   decided_by: tenant_policy
#   message: the tenant's allowed and prohibited regions leave no legal region
empty := reasons.finding(rego.metadata.rule(), null)

# METADATA
# title: Primary region
# description: The request is served in the primary region.
# custom:
#   code: ALLOW_PRIMARY
#   decided_by: tenant_policy
#   message: the primary region
primary := reasons.finding(rego.metadata.rule(), null)

# METADATA
# title: Permitted region
# description: The request is served in a non-primary region of T.
# custom:
#   code: ALLOW_PERMITTED_REGION
#   decided_by: tenant_policy
#   message: permitted by the tenant policy and every applicable framework
permitted := reasons.finding(rego.metadata.rule(), null)
