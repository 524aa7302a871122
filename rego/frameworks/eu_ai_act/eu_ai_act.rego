# METADATA
# title: EU AI Act — prohibited practices
# description: >-
#   Regulation (EU) 2024/1689. Inferring emotions of a natural person in an
#   education institution is a prohibited AI practice (Art. 5(1)(f)). It binds the
#   same EU-established services that GDPR does, so it applies when GDPR does.
# related_resources:
#   - ref: https://eur-lex.europa.eu/eli/reg/2024/1689/oj
package frameworks.eu_ai_act

import data.frameworks.gdpr
import data.residency.policy
import data.residency.reasons

# METADATA
# title: AI Act applies
# description: GDPR applies (EU establishment or targeting; AI Act Art. 2(1)).
# related_resources:
#   - ref: https://eur-lex.europa.eu/eli/reg/2024/1689/oj
applies if gdpr.applies

# METADATA
# title: Emotion recognition in education
# description: >-
#   Purpose `emotion_recognition` on learner data is a prohibited practice under AI
#   Act Art. 5(1)(f), for inference and for every access operation but `delete`:
#   storing or indexing data for the practice counts as use (fail closed). No
#   override lifts it.
# related_resources:
#   - ref: https://eur-lex.europa.eu/eli/reg/2024/1689/oj
# custom:
#   code: DENY_AI_ACT_PROHIBITED_PRACTICE
#   decided_by: ai_act
#   message: emotion recognition in education is a prohibited AI practice (EU AI Act Art. 5(1)(f))
prohibited_practice := reasons.finding(rego.metadata.rule(), null) if {
	applies
	policy.purpose == "emotion_recognition"
}

# METADATA
# title: High-risk education uses
# description: >-
#   Annex III point 3: AI systems for admission (a), evaluating learning outcomes
#   (b), assessing the appropriate level of education (c) and monitoring
#   prohibited behaviour during tests (d). Obligations only (deployer duties,
#   Art. 26(2),(6),(11), 27); never a deny. Application date not verified [U].
# related_resources:
#   - ref: https://eur-lex.europa.eu/eli/reg/2024/1689/oj
high_risk_categories := {
	"admission": "annex_iii_3a",
	"assessment": "annex_iii_3b",
	"placement": "annex_iii_3c",
	"proctoring": "annex_iii_3d",
}

# METADATA
# title: High-risk obligation
# description: "`{category, duties}` for a GDPR tenant's inference with an Annex III(3) purpose; undefined otherwise."
# related_resources:
#   - ref: https://eur-lex.europa.eu/eli/reg/2024/1689/oj
high_risk := {
	"category": high_risk_categories[policy.purpose],
	"duties": ["human_oversight", "log_retention_6m", "inform_affected_persons", "fria_if_public_body"],
} if applies
