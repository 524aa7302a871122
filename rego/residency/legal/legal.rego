# METADATA
# title: Legal set L
# description: >-
#   The regions every applicable framework permits (SPEC §4.1): each framework's
#   `legal_regions`, intersected. A region removed by several laws is named by
#   the first of `order` (localisation laws first). No framework listed: all regions.
# related_resources:
#   - ref: ../shared/SPEC.md#41-legal-set-l-per-framework-intersected-across-all-applicable-frameworks
package residency.legal

import data.frameworks.appi
import data.frameworks.dpdp
import data.frameworks.gdpr
import data.frameworks.lgpd
import data.frameworks.ns_piidpa
import data.frameworks.pipeda
import data.frameworks.quebec_law25
import data.frameworks.uk_gdpr
import data.residency.policy
import data.residency.reasons
import data.residency.regions

# METADATA
# title: Naming order
# description: >-
#   The frameworks that can remove a region, in the order that names the removal
#   (provincial localisation, the DPDP negative list, then Quebec, PIPEDA, GDPR,
#   UK GDPR, APPI, LGPD). CCPA, FERPA and COPPA permit every region.
order := ["ns_piidpa", "dpdp", "quebec_law25", "pipeda", "gdpr", "uk_gdpr", "appi", "lgpd"]

# METADATA
# title: A framework's legal regions
# description: The `legal_regions` of a framework that can remove regions (one of `order`).
framework_regions("ns_piidpa") := ns_piidpa.legal_regions

framework_regions("quebec_law25") := quebec_law25.legal_regions

framework_regions("pipeda") := pipeda.legal_regions

framework_regions("gdpr") := gdpr.legal_regions

framework_regions("lgpd") := lgpd.legal_regions

framework_regions("dpdp") := dpdp.legal_regions

framework_regions("appi") := appi.legal_regions

framework_regions("uk_gdpr") := uk_gdpr.legal_regions

# METADATA
# title: A framework's legal regions for an inference provider
# description: >-
#   L_route(e) of one framework (SPEC §11.A2.2): the entry's own flags and the
#   tenant's items naming its provider. Frameworks without per-importer
#   mechanisms have the same set in both views.
framework_route_regions("gdpr", entry) := gdpr.route_regions(entry)

framework_route_regions("uk_gdpr", entry) := uk_gdpr.route_regions(entry)

framework_route_regions("appi", entry) := appi.route_regions(entry)

framework_route_regions("quebec_law25", entry) := quebec_law25.route_regions(entry)

framework_route_regions(name, _) := framework_regions(name) if {
	not name in {"gdpr", "uk_gdpr", "appi", "quebec_law25"}
}

_route_sets(entry) := [[name, framework_route_regions(name, entry)] | some name in order; frameworks[name]] if frameworks := policy.frameworks

# METADATA
# title: L_route in order
# description: The legal set for one catalog entry as importer, sorted; empty without a policy.
ordered_for(entry) := [region | some region in regions.ordered; not _removed(sets, region)] if {
	policy.present
	sets := _route_sets(entry)
} else := []

# METADATA
# title: First removal for an inference provider
# description: The framework naming a region's removal from L_route(e); undefined inside it.
first_removal_for(region, entry) := [name | some [name, permitted] in _route_sets(entry); not permitted[region]][0]

# METADATA
# title: Findings against a region for an inference provider
# description: Every framework finding against a region outside L_route(e), naming law first.
findings_for(region, entry) := [reasons.about(exclusion(name), region) |
	some [name, permitted] in _route_sets(entry)
	not permitted[region]
]

# METADATA
# title: DPF withdrawn
# description: >-
#   Bundle `mechanisms` switched a DPF or UK Extension basis off and it alone would
#   have admitted the region (entry null: storage/search). Raises `DPF_WITHDRAWN`.
dpf_withdrawn(region, entry) if {
	"gdpr" in policy.frameworks
	gdpr.withdrawn(region, entry)
}

dpf_withdrawn(region, entry) if {
	"uk_gdpr" in policy.frameworks
	uk_gdpr.withdrawn(region, entry)
}

# The legal set of each applicable framework that can remove regions, in naming order.
_sets := [[name, framework_regions(name)] | some name in order; frameworks[name]] if frameworks := policy.frameworks

default ordered := []

# METADATA
# title: L in order
# description: >-
#   The regions every applicable framework permits, sorted (the order of
#   `regions.ordered`); every region when none restricts; empty without a policy
#   (fail closed). Built in order, so no sort and no set operation is needed.
ordered := regions.ordered if {
	policy.present
	count(_sets) == 0
} else := [region | some region in regions.ordered; not _removed(sets, region)] if {
	policy.present
	sets := _sets
}

_removed(sets, region) if {
	some [_, permitted] in sets
	not permitted[region]
}

# METADATA
# title: L
# description: >-
#   The intersection of the legal regions of every applicable framework; every
#   region when none restricts; empty without a policy (fail closed).
legal_regions := {region | some region in ordered}

# METADATA
# title: First removal
# description: >-
#   The framework that names the removal of a region outside L: the first of
#   `order` whose legal regions exclude it. Undefined for a region inside L.
first_removal(region) := [name | some [name, permitted] in _sets; not permitted[region]][0]

# METADATA
# title: Removals
# description: For each region outside L, the frameworks that removed it, in naming order.
removals[region] := [name | some [name, permitted] in _sets; not permitted[region]] if {
	policy.present
	some region in regions.ordered
	not region in ordered
}

# METADATA
# title: Framework exclusion
# description: The finding (code, framework, message) of a framework that removed a region.
exclusion("ns_piidpa") := ns_piidpa.exclusion

exclusion("quebec_law25") := quebec_law25.exclusion

exclusion("pipeda") := pipeda.exclusion

exclusion("gdpr") := gdpr.exclusion

exclusion("lgpd") := lgpd.exclusion

exclusion("dpdp") := dpdp.exclusion

exclusion("appi") := appi.exclusion

exclusion("uk_gdpr") := uk_gdpr.exclusion

# METADATA
# title: Elimination label
# description: "The `eliminated` value for a framework's removal: `<framework>:<slug>`."
elimination("ns_piidpa") := ns_piidpa.elimination

elimination("quebec_law25") := quebec_law25.elimination

elimination("pipeda") := pipeda.elimination

elimination("gdpr") := gdpr.elimination

elimination("lgpd") := lgpd.elimination

elimination("dpdp") := dpdp.elimination

elimination("appi") := appi.elimination

elimination("uk_gdpr") := uk_gdpr.elimination

# METADATA
# title: Findings against a region
# description: >-
#   Every framework finding against a region outside L, naming law first; empty
#   for a region inside L.
findings(region) := [reasons.about(exclusion(name), region) | some name in removals[region]]

# METADATA
# title: Empty intersection
# description: The applicable frameworks have no region in common (SPEC §4.1).
# custom:
#   code: DENY_EMPTY_INTERSECTION
#   decided_by: framework
#   message: the applicable frameworks leave no region in common
empty := reasons.finding(rego.metadata.rule(), null)
