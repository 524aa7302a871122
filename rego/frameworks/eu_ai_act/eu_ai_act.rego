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
#   An inference request with purpose `emotion_recognition` on learner data is a
#   prohibited practice under AI Act Art. 5(1)(f); no override lifts it.
# related_resources:
#   - ref: https://eur-lex.europa.eu/eli/reg/2024/1689/oj
# custom:
#   code: DENY_AI_ACT_PROHIBITED_PRACTICE
#   decided_by: ai_act
#   message: emotion recognition in education is a prohibited AI practice (EU AI Act Art. 5(1)(f))
prohibited_practice := reasons.finding(rego.metadata.rule(), null) if {
	applies
	input.request.purpose == "emotion_recognition"
}
