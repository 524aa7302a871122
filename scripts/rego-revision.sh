#!/bin/sh
# Prints the bundle revision for a Rego tree: "rev-" and the first 12 hex digits
# of a sha256 over every non-test file (sorted path, then that file's sha256),
# so it changes exactly when what goes into the bundle changes.
#   scripts/rego-revision.sh [rego-dir]
set -eu
dir=${1:-rego}
cd "$dir"
digest=$(
	find . -type f ! -name '*_test.rego' | LC_ALL=C sort | while IFS= read -r file; do
		printf '%s %s\n' "$(sha256sum <"$file" | cut -c1-64)" "$file"
	done | sha256sum | cut -c1-12
)
printf 'rev-%s\n' "$digest"
