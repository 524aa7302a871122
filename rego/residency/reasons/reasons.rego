# METADATA
# title: Reasons
# description: >-
#   Turns rule annotations into wire reasons, so every code and its `decided_by`
#   live in the METADATA of the rule that finds it (`custom.code`, `custom.decided_by`).
#   A finding is a reason object: `{code, decided_by, framework, message}`.
# related_resources:
#   - ref: ../docs/policy-contract.md
package residency.reasons

# METADATA
# title: Finding from annotations
# description: >-
#   A reason built from the calling rule's `rego.metadata.rule()`: the code and
#   decided_by come from `custom`, the message from `custom.message` (or the title)
#   unless one is given.
finding(meta, framework) := {
	"code": meta.custom.code,
	"decided_by": meta.custom.decided_by,
	"framework": framework,
	"message": object.get(meta.custom, "message", meta.title),
}

# METADATA
# title: Reason about a region
# description: A finding restated for one region, the message prefixed with the region code.
about(found, region) := {
	"code": found.code,
	"decided_by": found.decided_by,
	"framework": found.framework,
	"message": concat("", [region, ": ", found.message]),
}

# METADATA
# title: Reason with a message
# description: A finding whose message is replaced (the code and attribution stay).
worded(found, message) := {
	"code": found.code,
	"decided_by": found.decided_by,
	"framework": found.framework,
	"message": message,
}

# METADATA
# title: Reason attributed
# description: A finding re-attributed to another decider (e.g. a law finding reported by break-glass).
attributed(found, decided_by, code, message) := {
	"code": code,
	"decided_by": decided_by,
	"framework": found.framework,
	"message": message,
}

# METADATA
# title: Violation from annotations
# description: >-
#   A validation finding `{code, field, framework, message}` built from the calling
#   rule's annotations (`custom.code`, `custom.field`).
violation(meta, framework, message) := {
	"code": meta.custom.code,
	"field": meta.custom.field,
	"framework": framework,
	"message": message,
}
