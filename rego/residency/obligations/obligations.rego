# METADATA
# title: Obligations
# description: >-
#   What the host must do with data it routes (SPEC §4.7, §11.A4, §11.A9): keep it
#   no longer than the effective retention, answer erasure within the shortest
#   applicable deadline, encrypt at rest, and the purpose-driven duties (DPIA,
#   Art. 9 condition, AI Act high-risk deployer duties) and legal hold.
# related_resources:
#   - ref: ../shared/SPEC.md#11a9-obligations-erasure-deadlines-47
package residency.obligations

import data.frameworks.appi
import data.frameworks.ccpa
import data.frameworks.dpdp
import data.frameworks.eu_ai_act
import data.frameworks.gdpr
import data.frameworks.lgpd
import data.frameworks.pipeda
import data.frameworks.quebec_law25
import data.frameworks.uk_gdpr
import data.residency.policy

default retention_days := null

# METADATA
# title: Retention days
# description: The effective `data_retention_days`, null when the policy sets none.
retention_days := policy.retention_days

# METADATA
# title: Erasure deadlines
# description: >-
#   `[framework, days]` of every framework with an erasure deadline, in the order
#   of SPEC §11.A9's table (FERPA, COPPA and NS PIIDPA have none).
deadlines := [[name, days] |
	some [name, days] in [
		["gdpr", gdpr.erasure_deadline_days],
		["uk_gdpr", uk_gdpr.erasure_deadline_days],
		["ccpa", ccpa.erasure_deadline_days],
		["quebec_law25", quebec_law25.erasure_deadline_days],
		["lgpd", lgpd.erasure_deadline_days],
		["pipeda", pipeda.erasure_deadline_days],
		["dpdp", dpdp.erasure_deadline_days],
		["appi", appi.erasure_deadline_days],
	]
	name in policy.frameworks
]

_shortest := [pair | some pair in deadlines; pair[1] == min([days | some [_, days] in deadlines])][0]

default erasure_deadline_days := null

# METADATA
# title: Erasure deadline
# description: The shortest erasure deadline in calendar days among the applicable frameworks, else null.
erasure_deadline_days := _shortest[1]

default erasure_deadline_framework := null

# METADATA
# title: Erasure deadline framework
# description: The framework that sets the shortest deadline (the first of the table on a tie), else null.
erasure_deadline_framework := _shortest[0]

_data_protection if "gdpr" in policy.frameworks

_data_protection if "uk_gdpr" in policy.frameworks

# METADATA
# title: DPIA required
# description: >-
#   GDPR or UK GDPR and purpose `profiling` or `biometric_identification`: a data
#   protection impact assessment first (GDPR Art. 35(3)(a),(b)).
dpia_required if {
	_data_protection
	policy.purpose in {"profiling", "biometric_identification"}
}

# METADATA
# title: Art. 9 condition required
# description: >-
#   GDPR or UK GDPR and purpose `biometric_identification`: biometric data for
#   identification is special-category data (GDPR Art. 9(1)); a condition of
#   Art. 9(2) must be recorded.
art9_condition_required if {
	_data_protection
	policy.purpose == "biometric_identification"
}

default legal_hold := null

# METADATA
# title: Legal hold
# description: "`{reference, erasure_deadline_suspended: true}` while a legal hold is active, else null."
legal_hold := object.union(policy.legal_hold, {"erasure_deadline_suspended": true})

default ai_act_high_risk := null

# METADATA
# title: AI Act high-risk
# description: "`{category, duties}` for an Annex III(3) purpose of a GDPR tenant; inference decisions carry it."
ai_act_high_risk := eu_ai_act.high_risk

# METADATA
# title: Obligations document
# description: >-
#   The wire `obligations` of a decision: `allowed` decides whether the purpose
#   duties ride on it, `inference` whether the AI Act high-risk duty does.
document(allowed, inference, notify) := {
	"retention_days": retention_days,
	"erasure_deadline_days": erasure_deadline_days,
	"erasure_deadline_framework": erasure_deadline_framework,
	"encryption_at_rest": true,
	"notify": notify,
	"dpia_required": _both(allowed, _dpia),
	"art9_condition_required": _both(allowed, _art9),
	"ai_act_high_risk": _high_risk(allowed, inference),
	"legal_hold": legal_hold,
}

default _dpia := false

_dpia if dpia_required

default _art9 := false

_art9 if art9_condition_required

_both(a, b) if {
	a == true
	b == true
} else := false

_high_risk(allowed, inference) := ai_act_high_risk if {
	allowed == true
	inference == true
} else := null
