# METADATA
# title: Region catalog and runtime health
# description: >-
#   The seven regions of SPEC §1 (bundle data `data.reference.regions`) and the
#   operator-set health the host passes in `input.region_health`.
# related_resources:
#   - ref: ../shared/SPEC.md#1-regions
package residency.regions

import data.residency.reasons

# METADATA
# title: Region codes in order
# description: >-
#   Every region code the bundle knows, sorted: the order of every region list in
#   a result, so results are built in order instead of sorted. The tests check it
#   against the catalog (`data.reference.regions`).
ordered := ["apac-east", "apac-south", "ca-central", "eu-central", "eu-west", "us-east", "us-west"]

# METADATA
# title: Table order
# description: The regions in the order of SPEC §1's table (erasure targets after the request's own are listed in it).
table_order := ["us-east", "us-west", "eu-west", "eu-central", "apac-south", "apac-east", "ca-central"]

# METADATA
# title: Region codes
# description: Every region code the bundle knows.
codes := {code | some code in ordered}

# METADATA
# title: Region country
# description: The ISO 3166-1 alpha-2 country of a region (bundle data `reference.regions[code].country`).
country(region) := data.reference.regions[region].country

# METADATA
# title: US regions
# description: Regions whose jurisdiction is the United States (where a DPF basis can apply).
us := {code | some code in ordered; data.reference.regions[code].jurisdiction == "US"}

# METADATA
# title: Known region
# description: The code names a region of the catalog.
known(region) if data.reference.regions[region]

default _health := {}

_health := input.region_health if is_object(input.region_health)

# METADATA
# title: Region health
# description: >-
#   `healthy`, `degraded` or `unavailable`; a region the host did not mention is healthy.
health(region) := status if {
	status := input.region_health[region]
} else := "healthy"

# METADATA
# title: Unavailable regions
# description: Regions an operator marked `unavailable` (they trigger failover, SPEC §4.5).
unavailable contains region if {
	some region, status in _health
	status == "unavailable"
}

# METADATA
# title: Unknown region
# description: >-
#   A region code the catalog does not know. The host rejects it with 400 before
#   evaluating; the policy still fails closed if one reaches it.
# custom:
#   code: DENY_UNKNOWN_REGION
#   decided_by: fail_closed
#   message: unknown region
unknown := reasons.finding(rego.metadata.rule(), null)
