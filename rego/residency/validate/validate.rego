# METADATA
# title: Policy validation
# description: >-
#   Entrypoint `residency/validate`: `{valid, violations, warnings}` for a policy
#   as it would be after a write (input `{policy, kind}`). Violations map to 422.
#   Every rule of this package is a wire field; `residency.checks` finds them.
# related_resources:
#   - ref: ../shared/SPEC.md#2-residency-policies
#   - ref: ../docs/policy-contract.md
package residency.validate

import data.residency.checks

default violations := []

# METADATA
# title: Violations
# description: "`[{code, field, framework, message}]`, in the order of the contract's table."
violations := checks.violations

default warnings := []

# METADATA
# title: Warnings
# description: Same shape as violations; they never block a write.
warnings := checks.warnings

default valid := false

# METADATA
# title: Valid
# description: No violation (false, failing closed, if the checks cannot be evaluated).
valid := checks.valid
