# METADATA
# title: Legal set L
# description: >-
#   The regions every applicable framework permits (SPEC §4.1): each framework's
#   `legal_regions`, intersected. A region removed by several laws is named by
#   the first of `order` (localisation laws first). No framework listed: all regions.
# related_resources:
#   - ref: ../shared/SPEC.md#41-legal-set-l-per-framework-intersected-across-all-applicable-frameworks
package residency.legal

import data.frameworks.gdpr
import data.frameworks.lgpd
import data.frameworks.ns_piidpa
import data.frameworks.pipeda
import data.frameworks.quebec_law25
import data.residency.policy
import data.residency.reasons
import data.residency.regions

# METADATA
# title: Naming order
# description: >-
#   The frameworks that can remove a region, in the order that names the removal
#   (provincial localisation, then Quebec, PIPEDA, GDPR, LGPD). CCPA, FERPA and
#   COPPA permit every region.
order := ["ns_piidpa", "quebec_law25", "pipeda", "gdpr", "lgpd"]

# METADATA
# title: A framework's legal regions
# description: The `legal_regions` of a framework that can remove regions (one of `order`).
framework_regions("ns_piidpa") := ns_piidpa.legal_regions

framework_regions("quebec_law25") := quebec_law25.legal_regions

framework_regions("pipeda") := pipeda.legal_regions

framework_regions("gdpr") := gdpr.legal_regions

framework_regions("lgpd") := lgpd.legal_regions

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

# METADATA
# title: Elimination label
# description: "The `eliminated` value for a framework's removal: `<framework>:<slug>`."
elimination("ns_piidpa") := ns_piidpa.elimination

elimination("quebec_law25") := quebec_law25.elimination

elimination("pipeda") := pipeda.elimination

elimination("gdpr") := gdpr.elimination

elimination("lgpd") := lgpd.elimination

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
