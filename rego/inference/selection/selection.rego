# METADATA
# title: Inference provider selection
# description: >-
#   Which catalog entry serves the model (SPEC §5, docs/policy-contract.md): the
#   candidate regions in order, the entries serving the model in each region
#   (single-region first, then zero data retention, then catalog order), and the
#   verdict on each entry. The first entry that passes is chosen.
# related_resources:
#   - ref: ../shared/SPEC.md#5-inference-routing-entrypoint-inferenceroute
package inference.selection

import data.frameworks.coppa
import data.frameworks.ferpa
import data.residency.policy
import data.residency.reasons
import data.residency.regions
import data.residency.tenant

_catalog := data.reference.providers.catalog

# METADATA
# title: Requested region
# description: The request's `requested_region`; undefined when absent or empty.
requested := input.request.requested_region if {
	is_string(input.request.requested_region)
	input.request.requested_region != ""
}

_sequence := [requested] if {
	requested
} else := array.concat(
	array.concat(
		[region | region := policy.primary],
		[region | some region in policy.failover_order; region in tenant.ordered],
	),
	[region | some region in tenant.ordered; not region in policy.failover_order],
)

# METADATA
# title: Candidate regions
# description: >-
#   The requested region only, when given; else the primary, then T in failover
#   order (`failover_regions` ∩ T in order, then the rest of T sorted). Unavailable
#   regions and repeats are skipped.
candidates := [region |
	some i, region in _sequence
	regions.health(region) != "unavailable"
	not region in array.slice(_sequence, 0, i)
]

_route_rank(entry) := 0 if {
	entry.route == "single"
} else := 1

_retention_rank(entry) := 0 if {
	entry.zero_data_retention == true
} else := 1

_ranked := sort([[c, _route_rank(entry), _retention_rank(entry), i] |
	some c, region in candidates
	some i, entry in _catalog
	entry.region == region
	input.request.model_type in entry.models
])

# METADATA
# title: Judged entries
# description: >-
#   Every catalog entry serving the model in a candidate region, in preference
#   order, with its verdict: null when it passes, else the finding that rejects it.
judged := [{"candidate": candidates[rank[0]], "entry": entry, "verdict": verdict(entry)} |
	some rank in _ranked
	entry := _catalog[rank[3]]
]

_passing := {k | some k, judgement in judged; judgement.verdict == null}

# METADATA
# title: Chosen
# description: The first judged entry that passes; undefined when none does.
chosen := judged[min(_passing)] if count(_passing) > 0

# METADATA
# title: Rejected before the choice
# description: The entries judged and rejected before the chosen one (all of them when none passes).
rejected := [judgement |
	some k, judgement in judged
	judgement.verdict != null
	_before_choice(k)
]

_before_choice(_) if count(_passing) == 0

_before_choice(k) if k < min(_passing)

# METADATA
# title: Verdict on an entry
# description: >-
#   null when the entry may serve the learner's data, else the first failing
#   check: global route, unattested location, no DPA, a destination outside T,
#   training on COPPA child data without separate consent, training on FERPA records.
verdict(entry) := reasons.about(unpinned, entry.provider) if {
	entry.route == "global"
} else := reasons.about(unverified, entry.provider) if {
	entry.attested == false
} else := reasons.about(no_dpa, entry.provider) if {
	entry.dpa == false
} else := reasons.about(exceeds, entry.provider) if {
	some destination in entry.destinations
	not destination in tenant.ordered
} else := reasons.about(coppa.separate_consent, entry.provider) if {
	entry.trains_on_data == true
	coppa.separate_consent
} else := reasons.about(ferpa.secondary_use, entry.provider) if {
	entry.trains_on_data == true
	ferpa.secondary_use
} else := null

# METADATA
# title: Unpinned route
# description: A global route may process data in any region; it is never pinned to T.
# custom:
#   code: DENY_PROVIDER_REGION_UNPINNED
#   decided_by: provider
#   message: the provider route is global and not pinned to a region
unpinned := reasons.finding(rego.metadata.rule(), null)

# METADATA
# title: Location not attested
# description: The provider has not attested where it processes data.
# custom:
#   code: DENY_PROVIDER_LOCATION_UNVERIFIED
#   decided_by: provider
#   message: the provider has not attested its processing location
unverified := reasons.finding(rego.metadata.rule(), null)

# METADATA
# title: No data processing agreement
# description: >-
#   A processor acts only under a contract (GDPR Art. 28(3); PIPEDA Sch. 1, 4.1.3;
#   FERPA direct control, 34 CFR 99.31(a)(1)(i)(B)).
# custom:
#   code: DENY_PROVIDER_NO_DPA
#   decided_by: provider
#   message: no data processing agreement with the provider
no_dpa := reasons.finding(rego.metadata.rule(), null)

# METADATA
# title: Route exceeds T
# description: A destination of the provider's route is outside the permitted regions.
# custom:
#   code: DENY_PROVIDER_ROUTE_EXCEEDS_PERMITTED
#   decided_by: provider
#   message: the provider route reaches a region outside the permitted regions
exceeds := reasons.finding(rego.metadata.rule(), null)

# METADATA
# title: Model unavailable
# description: No catalog entry serves the model in any usable candidate region.
# custom:
#   code: DENY_MODEL_UNAVAILABLE
#   decided_by: provider
#   message: no provider serves the model in a usable permitted region
model_unavailable := reasons.finding(rego.metadata.rule(), null)
