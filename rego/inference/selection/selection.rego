# METADATA
# title: Inference provider selection
# description: >-
#   Which catalog entry serves the model (SPEC §5 as amended by §11.A5, §11.A6):
#   the candidate regions in order, the entries serving the model in each region
#   (single-region first, then zero data retention, then catalog order), and the
#   verdict on each entry, each judged with its own legal set L_route(e). The
#   first eligible entry is chosen. Catalog flags count only when exactly true.
# related_resources:
#   - ref: ../shared/SPEC.md#5-inference-routing-entrypoint-inferenceroute
package inference.selection

import data.frameworks.appi
import data.frameworks.coppa
import data.frameworks.ferpa
import data.residency.legal
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

# METADATA
# scope: document
# title: Starting region
# description: r0 = the requested region, else the effective primary (SPEC §11.A5 step 2).
start := requested if {
	requested
} else := policy.primary

# METADATA
# title: Health failover
# description: r0 is the primary and an operator marked it `unavailable` (step 3), whether or not it was named.
health_failover if {
	start == policy.primary
	regions.health(start) == "unavailable"
}

# METADATA
# title: Pinned region unavailable
# description: The caller named a region other than the primary and it is `unavailable` (step 3).
pinned_unavailable if {
	requested != policy.primary
	regions.health(requested) == "unavailable"
}

# F_model: the failover order, then the allow-list, in order; never the rest of T, never sorted.
_model_order := array.concat(policy.failover_order, policy.allowed)

_usable(sequence) := [region |
	some i, region in sequence
	region != policy.primary
	regions.health(region) != "unavailable"
	not region in array.slice(sequence, 0, i)
]

# METADATA
# title: Candidate regions
# description: >-
#   Step 3-4 of SPEC §11.A5: under a health failover, the usable regions of
#   `F_health` (the failover order) in order; a named region alone (never a
#   fallback from a pinned region); else the primary, then the usable regions of
#   `F_model` (model-availability fallback). Usable: not the primary, not
#   unavailable, not repeated.
candidates := _usable(policy.failover_order) if {
	health_failover
} else := [requested] if {
	requested
} else := array.concat([policy.primary], _usable(_model_order))

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
#   order (candidate order, single route, zero data retention exactly true,
#   catalog order), with its verdict: null when eligible, else the finding that
#   rejects it, and the region that finding is about.
judged := [{"candidate": candidates[rank[0]], "entry": entry, "verdict": verdict(entry)} |
	some rank in _ranked
	entry := _catalog[rank[3]]
]

_passing := {k | some k, judgement in judged; judgement.verdict == null}

# METADATA
# title: Chosen
# description: The first eligible judged entry; undefined when none is.
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
# title: Pinned route
# description: >-
#   The route is `single` or `geo:<name>` (`<name>` of `[a-z0-9-]{1,32}`, not
#   `global`); any other value reads as global (SPEC §11.A6).
pinned(entry) if entry.route == "single"

pinned(entry) if {
	is_string(entry.route)
	startswith(entry.route, "geo:")
	name := substring(entry.route, 4, -1)
	count(name) > 0
	count(name) <= 32
	name != "global"
	trim(name, "abcdefghijklmnopqrstuvwxyz0123456789-") == ""
}

# METADATA
# title: Well-formed destinations
# description: "`destinations` is a non-empty array of known region codes (else the location is unverified, SPEC §11.A6)."
well_formed(entry) if {
	is_array(entry.destinations)
	count(entry.destinations) > 0
	every destination in entry.destinations {
		regions.known(destination)
	}
}

# METADATA
# title: Trains on data
# description: The entry trains on inputs unless `trains_on_data` is exactly false (SPEC §11.A6).
trains(entry) if not entry.trains_on_data == false

# The entry's home region, then its destinations: where the learner's data goes.
_places(entry) := array.concat([entry.region], entry.destinations)

_outside_law(entry) := [region | some region in _places(entry); not region in legal.ordered_for(entry)]

_appi_closed(entry) := [region | some region in _places(entry); appi.minor_gate(region, entry)]

# METADATA
# title: Verdict on an entry
# description: >-
#   null when the entry is eligible, else the first failing check of SPEC §11.A5
#   step 5: pinned route; `attested` exactly true and well-formed destinations;
#   its region and destinations in L_route(e) (the eliminating framework's code);
#   the APPI minor gate; destinations in T_route(e); `dpa` exactly true; training
#   on COPPA child data without separate consent, or on FERPA records.
verdict(entry) := reasons.about(unpinned, entry.provider) if {
	not pinned(entry)
} else := reasons.about(unverified, entry.provider) if {
	not entry.attested == true
} else := reasons.about(unverified, entry.provider) if {
	not well_formed(entry)
} else := reasons.about(legal.findings_for(outside[0], entry)[0], entry.provider) if {
	outside := _outside_law(entry)
	count(outside) > 0
} else := reasons.about(appi.minor_gate(closed[0], entry), entry.provider) if {
	closed := _appi_closed(entry)
	count(closed) > 0
} else := reasons.about(exceeds, entry.provider) if {
	some destination in entry.destinations
	not destination in tenant.ordered_for(entry)
} else := reasons.about(no_dpa, entry.provider) if {
	not entry.dpa == true
} else := reasons.about(coppa.separate_consent, entry.provider) if {
	trains(entry)
	coppa.separate_consent
} else := reasons.about(ferpa.secondary_use, entry.provider) if {
	trains(entry)
	ferpa.secondary_use
} else := null

# METADATA
# title: DPF withdrawn for an entry
# description: The entry was refused on a region only a switched-off DPF basis would have admitted.
dpf_withdrawn(entry) if {
	outside := _outside_law(entry)
	count(outside) > 0
	legal.dpf_withdrawn(outside[0], entry)
}

# METADATA
# title: Pinned region unavailable
# description: The caller named a non-primary region that is unavailable; inference never falls back from a pinned region.
# custom:
#   code: DENY_REGION_UNAVAILABLE
#   decided_by: failover
#   message: the requested region is unavailable
region_unavailable := reasons.finding(rego.metadata.rule(), null)

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
# description: No catalog entry serves the model in any candidate region.
# custom:
#   code: DENY_MODEL_UNAVAILABLE
#   decided_by: provider
#   message: no provider serves the model in a usable permitted region
model_unavailable := reasons.finding(rego.metadata.rule(), null)
