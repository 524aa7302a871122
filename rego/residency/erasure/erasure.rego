# METADATA
# title: Erasure routing
# description: >-
#   `delete` is always routable, whatever the rules, overrides or health (SPEC
#   §11.A8, replacing §4.6): every region that may hold a copy is an erasure
#   target — the request's `data_locations` plus every region any version of the
#   tenant's and the learner's policies named, and every approved override's
#   target; unavailable ones are deferred; a copy outside L is flagged. Only a
#   legal hold stops it (GDPR Art. 17(3)(b),(e); LGPD Art. 16; 34 CFR 99.10(e)).
# related_resources:
#   - ref: ../shared/SPEC.md#11a8-erasure-offboarding-legal-hold-46
package residency.erasure

import data.residency.legal
import data.residency.policy
import data.residency.reasons
import data.residency.regions

_listed(value) := value if {
	is_array(value)
} else := []

_requested := [region |
	some i, region in _listed(input.request.data_locations)
	is_string(region)
	not region in array.slice(input.request.data_locations, 0, i)
]

# Where data was routed to: the effective primary, allow-list and failover order, the
# tenant's own primary, and what earlier versions named in those fields.
_routed := (({region | some region in array.concat([primary | primary := policy.primary], policy.allowed)} | {region |
	some region in policy.failover_order
}) | {region | region := policy.tenant_primary}) | {region |
	some region in _listed(input.history.routed_regions)
}

_mechanism_lists := ["dpf", "uk_extension", "scc_tia", "idta", "appi_equivalent_measures", "qc_pia"]

# Named without data being routed there: prohibited lists (a break-glass write may
# have reached one), mechanism lists, earlier versions' such values, overrides' targets.
_named := (policy.prohibited | {region |
	some name in _mechanism_lists
	some item in _listed(input.policy.transfer_mechanisms[name])
	some region in _item_regions(item)
}) | {region | some region in _listed(input.history.named_regions)}

_item_regions(item) := [item] if is_string(item)

_item_regions(item) := _listed(item.regions) if is_object(item)

# METADATA
# title: Erasure targets
# description: >-
#   The request's `data_locations` in its order, then every other region that
#   any policy version or approved override named, in the order of SPEC §1.
targets := array.concat(_requested, [region |
	some region in regions.table_order
	region in (_routed | _named)
	not region in _requested
])

# METADATA
# title: Deferred
# description: Erasure targets that are unavailable now; the host retries them.
deferred := [region | some region in targets; regions.health(region) == "unavailable"]

# METADATA
# title: Non-compliant copies
# description: >-
#   Targets outside L that came from `data_locations` or from a primary, allowed
#   or failover value (places data was routed to) — a copy that should never
#   have been there. Prohibited lists, mechanism lists and overrides do not count.
noncompliant := [region |
	some region in targets
	_placed(region)
	not region in legal.ordered
]

_placed(region) if region in _requested

_placed(region) if region in _routed

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

# METADATA
# title: Legal hold
# description: >-
#   A legal hold of the tenant or the learner is active: erasure is suspended
#   (GDPR Art. 17(3)(b),(e); LGPD Art. 16; FERPA 34 CFR 99.10(e)). No override lifts it.
# custom:
#   code: DENY_LEGAL_HOLD
#   decided_by: legal_hold
#   message: erasure suspended by a legal hold
held := reasons.finding(rego.metadata.rule(), null)
