# METADATA
# title: COPPA
# description: >-
#   Children's Online Privacy Protection Rule (16 CFR Part 312). No localisation
#   rule; collecting a child's data needs verifiable parental consent (312.5),
#   which a school may give for educational use; disclosure for AI training needs
#   separate consent (312.5(a)(2)); retention needs a written policy (312.10).
# related_resources:
#   - ref: https://www.ecfr.gov/current/title-16/chapter-I/subchapter-C/part-312
package frameworks.coppa

import data.residency.policy
import data.residency.reasons
import data.residency.regions

# METADATA
# title: COPPA applies
# description: The effective policy lists `coppa` (service directed to children or with actual knowledge, 16 CFR 312.3).
# related_resources:
#   - ref: https://www.ecfr.gov/current/title-16/section-312.3
applies if "coppa" in policy.frameworks

# METADATA
# title: COPPA legal regions
# description: All regions; COPPA gates collection on consent (16 CFR 312.5), not on location.
# related_resources:
#   - ref: https://www.ecfr.gov/current/title-16/section-312.5
legal_regions := regions.codes

# METADATA
# scope: document
# title: Child
# description: >-
#   A learner under 13 (16 CFR 312.2 "child"). With COPPA listed and no known
#   age the learner counts as a child: fail closed.
# related_resources:
#   - ref: https://www.ecfr.gov/current/title-16/section-312.2
child if {
	applies
	policy.under(13)
}

# METADATA
# scope: document
# title: Consent to collection
# description: >-
#   Verifiable parental consent (16 CFR 312.5(a)(1)), or the school's
#   authorisation for use solely for the educational context (FTC COPPA FAQ N);
#   advertising is not educational, so `targeted_advertising` needs the parent.
# related_resources:
#   - ref: https://www.ecfr.gov/current/title-16/section-312.5
#   - ref: https://www.ftc.gov/business-guidance/resources/complying-coppa-frequently-asked-questions
consented if {
	policy.consent("school_authorization")
	policy.purpose != "targeted_advertising"
}

consented if {
	policy.consent("school_authorization")
	not policy.purpose
}

consented if policy.consent("parental_consent")

# METADATA
# title: Consent gate
# description: A child's data is not processed without consent (16 CFR 312.5(a)(1)).
# related_resources:
#   - ref: https://www.ecfr.gov/current/title-16/section-312.5
# custom:
#   code: DENY_COPPA_NO_CONSENT
#   decided_by: consent_gate
#   message: a child's data needs school authorisation or verifiable parental consent (16 CFR 312.5)
consent_gate := reasons.finding(rego.metadata.rule(), "coppa") if {
	child
	not consented
}

# METADATA
# title: Separate consent for AI training
# description: >-
#   Disclosing a child's data to train or fine-tune AI, or to a provider that
#   trains on it, is not integral to the service and needs its own parental
#   consent (16 CFR 312.5(a)(2), 2025 amendments).
# related_resources:
#   - ref: https://www.ecfr.gov/current/title-16/section-312.5
# custom:
#   code: DENY_COPPA_SEPARATE_CONSENT_REQUIRED
#   decided_by: consent_gate
#   message: training on a child's data needs separate parental consent (ai_training_consent, 16 CFR 312.5(a)(2))
separate_consent := reasons.finding(rego.metadata.rule(), "coppa") if {
	child
	not policy.consent("ai_training_consent")
}

# METADATA
# title: Written retention policy
# description: >-
#   An operator keeps a child's data only as long as reasonably necessary under a
#   written retention policy (16 CFR 312.10): a COPPA policy needs `data_retention_days`.
# related_resources:
#   - ref: https://www.ecfr.gov/current/title-16/section-312.10
# custom:
#   code: RETENTION_REQUIRED
#   decided_by: framework
#   message: COPPA needs a written retention period (data_retention_days, 16 CFR 312.10)
retention_missing := reasons.finding(rego.metadata.rule(), "coppa") if {
	applies
	not policy.retention_days
}
