# METADATA
# title: Consent gates
# description: >-
#   The consent gates of SPEC §4.2, in order COPPA, Quebec Law 25, LGPD. They never
#   apply to `delete` and no override lifts them.
# related_resources:
#   - ref: ../shared/SPEC.md#42-gates-all-must-pass
package residency.gates

import data.frameworks.coppa
import data.frameworks.lgpd
import data.frameworks.quebec_law25
import data.residency.policy

# METADATA
# title: First failed gate
# description: The finding of the first gate that fails, in order COPPA, Quebec Law 25, LGPD; undefined when all pass.
first := found if {
	# most policies list none of the gated laws: skip the gates without evaluating them
	frameworks := policy.frameworks
	_gated(frameworks)
	found := _first
}

_gated(frameworks) if frameworks.coppa

_gated(frameworks) if frameworks.quebec_law25

_gated(frameworks) if frameworks.lgpd

_first := coppa.consent_gate

_first := quebec_law25.consent_gate if not coppa.consent_gate

_first := lgpd.consent_gate if {
	not coppa.consent_gate
	not quebec_law25.consent_gate
}

# METADATA
# title: Failed gates
# description: The findings of every gate that fails, in order; empty when all pass.
failures := array.concat(
	array.concat([found | found := coppa.consent_gate], [found | found := quebec_law25.consent_gate]),
	[found | found := lgpd.consent_gate],
)
