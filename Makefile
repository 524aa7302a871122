# Residency — one command runs it, one tests it.
#   make run    start the service in the foreground (embedded PGlite + in-process cache by default)
#   make test   the whole gate: Rego fmt/check/test+coverage, bundle freshness, types, lint, vitest
#               (with the console's tests in headless Chromium)

SHELL := /bin/bash
.DEFAULT_GOAL := help

include mk/opa.mk
include mk/tools.mk

NODE_STAMP := node_modules/.installed

.PHONY: help deps chromium run test docs docs-check typecheck lint vitest bench bench-eval bench-http bench-audit bench-reload crash-test clean

help:
	@echo "make run         start the service (PORT, HOST, DATABASE_URL, REDIS_URL, ... see README)"
	@echo "make test        everything CI runs"
	@echo "make opa-test    Rego: opa fmt, opa check --strict, opa test --coverage (>= 95%)"
	@echo "make bundle      rebuild bundles/residency.tar.gz from rego/"
	@echo "make docs        regenerate docs/api.md and docs/reason-codes.md"
	@echo "make bench       benchmarks (policy evaluation, HTTP, audit group commit)"
	@echo "make ops-test    promtool: Prometheus config and alert rules (installs promtool when missing)"

# npm ci when node_modules is missing or older than the lock file.
$(NODE_STAMP): package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

deps: $(NODE_STAMP)

# The console's browser tests drive the system Chromium (Debian's package; no browser download).
chromium:
	@command -v chromium >/dev/null 2>&1 || apt-get install -y chromium || (apt-get update && apt-get install -y chromium)

run: deps
	node --import tsx src/main.ts

typecheck: deps
	npx tsc --noEmit

# Biome (format, lint; only main.ts reads process.env), then the room rules of
# .dependency-cruiser.cjs (docs/architecture.md).
lint: deps
	npx biome check .
	node --import tsx scripts/dependency-rules.ts

vitest: deps chromium s3-server
	npx vitest run

test: deps chromium opa-test bundle-check ops-test docs-check typecheck lint vitest

# docs/api.md (from the OpenAPI document) and docs/reason-codes.md (from the Rego METADATA) are
# generated and committed; make test fails when either is stale.
docs: deps opa
	node --import tsx scripts/api-docs.ts docs/api.md
	node scripts/reason-codes.mjs "$(OPA)" $(REGO_DIR) docs/reason-codes.md

docs-check: deps opa
	node --import tsx scripts/api-docs.ts --check docs/api.md
	node scripts/reason-codes.mjs --check "$(OPA)" $(REGO_DIR) docs/reason-codes.md

bench: deps bench-eval bench-http bench-audit bench-reload bench-vs-opa

bench-eval: deps
	node --import tsx bench/eval.ts

bench-http: deps
	node --import tsx bench/http.ts

bench-audit: deps
	node --import tsx bench/audit.ts

.PHONY: bench-vs-opa
bench-vs-opa: deps opa wrk
	node --import tsx bench/vs-opa.ts

bench-reload: deps
	node --import tsx bench/hot-reload.ts

crash-test: deps
	node --import tsx scripts/crash-test.ts

clean:
	rm -rf node_modules data coverage
