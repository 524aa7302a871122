# METADATA
# title: Tenant set T
# description: >-
#   T = L ∩ ({primary} ∪ allowed_regions, or every region without an allow-list)
#   − prohibited_regions (SPEC §4.3), and why each region outside T left it.
# related_resources:
#   - ref: ../shared/SPEC.md#43-tenant-set-t
package residency.tenant

import data.residency.legal
import data.residency.policy
import data.residency.reasons
import data.residency.regions

# METADATA
# title: T in order
# description: >-
#   The legal regions the tenant's organisational rules permit, sorted (the order
#   of `regions.ordered`).
ordered := [region | some region in legal.ordered; not banned[region]] if {
	not policy.has_allow_list
	banned := policy.prohibited
} else := [region | some region in legal.ordered; region in scope; not banned[region]] if {
	# with an allow-list, the primary and the allow-list are in scope
	scope := array.concat([primary | primary := policy.primary], policy.allowed)
	banned := policy.prohibited
}

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
