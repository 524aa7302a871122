# METADATA
# title: Gates
# description: >-
#   The gates of SPEC §11.A3 that do not depend on the region, in row order: 1
#   purpose bans (AI Act, FERPA advertising, DPDP tracking), 2 COPPA, 3 Quebec
#   Law 25, 4 LGPD, 5 DPDP consent. The first failure answers, so a deny no
#   consent can cure comes before one consent would cure. Row 6 (APPI minors)
#   depends on the region and is judged where the region is known. Gates never
#   apply to `delete` and no override lifts them.
# related_resources:
#   - ref: ../shared/SPEC.md#11a3-42-gates--ages-consents-unknown-age
package residency.gates

import data.frameworks.coppa
import data.frameworks.dpdp
import data.frameworks.eu_ai_act
import data.frameworks.ferpa
import data.frameworks.lgpd
import data.frameworks.quebec_law25
import data.residency.policy

# METADATA
# title: First failed gate
# description: The finding of the first gate that fails, in row order; undefined when all pass.
first := failures[0] if count(failures) > 0

# METADATA
# title: Failed gates
# description: The findings of every gate that fails, in row order; empty when all pass.
failures := [] if {
	# most policies list none of the gated laws: skip the gates without evaluating them
	not _gated(policy.frameworks)
} else := _rows

_gated(frameworks) if frameworks.gdpr

_gated(frameworks) if frameworks.ferpa

_gated(frameworks) if frameworks.coppa

_gated(frameworks) if frameworks.quebec_law25

_gated(frameworks) if frameworks.lgpd

_gated(frameworks) if frameworks.dpdp

_rows := array.concat(
	array.concat(
		array.concat([found | found := eu_ai_act.prohibited_practice], [found | found := ferpa.advertising]),
		array.concat([found | found := dpdp.tracking], [found | found := coppa.consent_gate]),
	),
	array.concat(
		array.concat([found | found := quebec_law25.consent_gate], [found | found := lgpd.consent_gate]),
		[found | found := dpdp.consent_gate],
	),
)

# METADATA
# title: Purpose ban
# description: >-
#   The first failure is a purpose ban (row 1: AI Act, FERPA advertising, DPDP
#   tracking), which no consent cures and an override cannot bypass.
ban if first.code in {"DENY_AI_ACT_PROHIBITED_PRACTICE", "DENY_FERPA_SECONDARY_USE", "DENY_DPDP_CHILD_TRACKING"}
