# METADATA
# title: LGPD
# description: >-
#   Lei Geral de Proteção de Dados (Lei nº 13.709/2018). International transfers
#   go only to countries Brazil recognised as adequate (Art. 33(I)) or under
#   ANPD standard contractual clauses (Art. 33(II)(b), Resolução CD/ANPD nº 19/2024);
#   a child's data needs specific consent from a parent (Art. 14 §1).
# related_resources:
#   - ref: https://www.planalto.gov.br/ccivil_03/_ato2015-2018/2018/lei/l13709.htm
package frameworks.lgpd

import data.residency.policy
import data.residency.reasons
import data.residency.regions

# METADATA
# title: LGPD applies
# description: The effective policy lists `lgpd` (processing in Brazil or of people there, LGPD Art. 3).
# related_resources:
#   - ref: https://www.planalto.gov.br/ccivil_03/_ato2015-2018/2018/lei/l13709.htm
applies if "lgpd" in policy.frameworks

# METADATA
# title: LGPD legal regions
# description: >-
#   EU regions (eu-west, eu-central: Brazil recognised the EU as adequate, LGPD Art. 33(I) and Art. 34);
#   every region once `anpd_scc` records ANPD standard contractual clauses
#   (Art. 33(II)(b)).
# related_resources:
#   - ref: https://www.planalto.gov.br/ccivil_03/_ato2015-2018/2018/lei/l13709.htm
legal_regions := regions.codes if {
	policy.mechanism("anpd_scc")
} else := {"eu-west", "eu-central"}

# METADATA
# title: Transfer without an LGPD mechanism
# description: An international transfer outside LGPD Art. 33 is unlawful.
# related_resources:
#   - ref: https://www.planalto.gov.br/ccivil_03/_ato2015-2018/2018/lei/l13709.htm
# custom:
#   code: DENY_LGPD_NO_MECHANISM
#   decided_by: framework
#   message: no adequacy recognition or ANPD standard contractual clauses cover it (LGPD Art. 33)
exclusion := reasons.finding(rego.metadata.rule(), "lgpd")

# METADATA
# title: Elimination label
# description: How `eliminated` names a region LGPD removed.
# related_resources:
#   - ref: https://www.planalto.gov.br/ccivil_03/_ato2015-2018/2018/lei/l13709.htm
elimination := "lgpd:no_mechanism"

# METADATA
# title: Child under 12
# description: >-
#   A learner under 12 (a child under the Estatuto da Criança e do Adolescente,
#   read with LGPD Art. 14), or of unknown age (fail closed, SPEC §11.A3).
# related_resources:
#   - ref: https://www.planalto.gov.br/ccivil_03/_ato2015-2018/2018/lei/l13709.htm
child if {
	applies
	policy.under(12)
}

# METADATA
# title: Consent gate for children
# description: A child's data is processed only with specific, prominent consent of a parent (LGPD Art. 14 §1).
# related_resources:
#   - ref: https://www.planalto.gov.br/ccivil_03/_ato2015-2018/2018/lei/l13709.htm
# custom:
#   code: DENY_LGPD_CHILD_NO_CONSENT
#   decided_by: consent_gate
#   message: a child's data needs specific consent from a parent (LGPD Art. 14 §1)
consent_gate := reasons.finding(rego.metadata.rule(), "lgpd") if {
	child
	not policy.consent("parental_consent")
}

# METADATA
# title: Erasure deadline
# description: >-
#   Fail closed: the 15-day complete answer of Art. 19 II applied to erasure
#   (Art. 18 VI), for which ANPD has set no deadline [U].
# related_resources:
#   - ref: https://www.planalto.gov.br/ccivil_03/_ato2015-2018/2018/lei/l13709.htm
erasure_deadline_days := 15
