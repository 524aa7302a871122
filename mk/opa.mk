# Rego: test, build and check the wasm bundle. Included by the root Makefile
# (`include mk/opa.mk`); also works alone: `make -f mk/opa.mk opa-test bundle bundle-check`.
# Scripts live in scripts/; paths are relative to the repository root.

OPA_VERSION ?= v1.22.3
OPA ?= $(shell command -v opa 2>/dev/null || echo $(shell go env GOPATH)/bin/opa)
REGO_DIR ?= rego
GOLDEN_DIR ?= golden
REGO_BUNDLE ?= bundles/residency.tar.gz
OPA_CAPABILITIES ?= mk/opa-wasm-capabilities.json
REGO_COVERAGE_MIN ?= 95
REGO_METADATA_DIRS ?= $(REGO_DIR)
REGO_CITED_DIRS ?= $(REGO_DIR)/frameworks
# The one file that may read the clock and the learner (it publishes when a decision may be
# reused), and the input fields the bundle declares it reads (the host passes no others).
REGO_REUSE_FILE ?= $(REGO_DIR)/residency/overrides/overrides.rego
REGO_CONTRACT ?= $(REGO_DIR)/contract/data.json

.PHONY: opa opa-test opa-capabilities bundle bundle-check

# Install the pinned CLI when $(OPA) is missing; a no-op otherwise.
opa:
	@test -x "$(OPA)" || { echo "installing opa $(OPA_VERSION)"; go install github.com/open-policy-agent/opa@$(OPA_VERSION); }
	@test -x "$(OPA)" || { echo "opa not found at $(OPA) after go install" >&2; exit 1; }

# Formatting, strict compile against the wasm SDK's capabilities (a builtin the wasm lacks, e.g.
# time.now_ns, fails here and not first at `make bundle`), annotations (every public rule titled and described; framework
# rules also cite their article), input reads (clock and learner in one file, declared fields),
# unit and golden tests, line coverage of the policy.
opa-test: opa
	@unformatted="$$("$(OPA)" fmt --list $(REGO_DIR) $(GOLDEN_DIR))"; \
	if [ -n "$$unformatted" ]; then \
		echo "opa fmt: not formatted (fix with: $(OPA) fmt -w $(REGO_DIR) $(GOLDEN_DIR)):" >&2; \
		echo "$$unformatted" >&2; exit 1; \
	fi
	"$(OPA)" check --strict --capabilities $(OPA_CAPABILITIES) $(REGO_DIR)
	node scripts/rego-metadata-check.mjs "$(OPA)" $(REGO_METADATA_DIRS)
	node scripts/rego-metadata-check.mjs --cite "$(OPA)" $(REGO_CITED_DIRS)
	node scripts/rego-input-check.mjs "$(OPA)" $(REGO_REUSE_FILE) $(REGO_CONTRACT) $(REGO_DIR)
	"$(OPA)" test $(REGO_DIR) $(GOLDEN_DIR)
	@"$(OPA)" test $(REGO_DIR) $(GOLDEN_DIR) --coverage --format json | node scripts/rego-coverage.mjs $(REGO_DIR) $(REGO_COVERAGE_MIN)

# Regenerate the capabilities that confine the bundle to builtins the opa-wasm SDK runs.
opa-capabilities: opa
	node scripts/wasm-capabilities.mjs "$(OPA)" $(OPA_CAPABILITIES)

# Build the wasm bundle with the CLI (`residency bundle build`): opa build for the contract's
# entrypoints (src/domain/policy-contract.ts), revision stamped from the content of $(REGO_DIR)
# (src/bundles/bundle-facts.ts) — one implementation of both, shared with the service.
bundle: opa
	node --import tsx src/cli/residency.ts bundle build --rego $(REGO_DIR) --out $(REGO_BUNDLE) \
		--capabilities $(OPA_CAPABILITIES) --opa "$(OPA)"
	@# Would the service accept it? Loaded in opa-wasm, self-checked, entrypoints listed (offline).
	node bin/residency.mjs bundle check --file $(REGO_BUNDLE)

# Fail when the committed bundle does not match $(REGO_DIR) or lacks an entrypoint.
bundle-check:
	@node --import tsx scripts/bundle-check.ts $(REGO_BUNDLE) $(REGO_DIR)
