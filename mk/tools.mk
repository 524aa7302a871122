# Tools the suites need beside node and opa, installed when missing (as opa is): the
# S3-compatible server the presign tests run against, and promtool for the alert rules.
# Included by the root Makefile.

GOBIN_DIR := $(shell go env GOPATH 2>/dev/null)/bin
VERSITYGW_VERSION ?= v1.8.0
VERSITYGW ?= $(shell command -v versitygw 2>/dev/null || echo $(GOBIN_DIR)/versitygw)
PROMETHEUS_VERSION ?= v0.316.0
PROMTOOL ?= $(shell command -v promtool 2>/dev/null || echo $(GOBIN_DIR)/promtool)

.PHONY: s3-server promtool ops-test wrk

s3-server:
	@test -x "$(VERSITYGW)" || { echo "installing versitygw $(VERSITYGW_VERSION)"; go install github.com/versity/versitygw/cmd/versitygw@$(VERSITYGW_VERSION); }
	@test -x "$(VERSITYGW)" || { echo "versitygw not found at $(VERSITYGW) after go install" >&2; exit 1; }

# Debian's prometheus package ships promtool and installs in seconds; go install is the fallback.
promtool:
	@if ! command -v promtool >/dev/null && ! test -x "$(GOBIN_DIR)/promtool" && command -v apt-get >/dev/null; then \
		echo "installing promtool (Debian's prometheus package)"; \
		apt-get install -y -qq prometheus >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq prometheus >/dev/null; }; \
	fi
	@if ! command -v promtool >/dev/null && ! test -x "$(GOBIN_DIR)/promtool"; then \
		echo "installing promtool $(PROMETHEUS_VERSION)"; \
		go install github.com/prometheus/prometheus/cmd/promtool@$(PROMETHEUS_VERSION); \
	fi
	@command -v promtool >/dev/null || test -x "$(GOBIN_DIR)/promtool" || { echo "promtool not found after install" >&2; exit 1; }

# Prometheus config and alert rules: syntax, and each alert's behaviour on crafted series.
ops-test: promtool
	@P="$$(command -v promtool || echo $(GOBIN_DIR)/promtool)"; \
	"$$P" check config deploy/prometheus.yml && \
	"$$P" check rules deploy/alerts.yml && \
	"$$P" test rules deploy/alerts.test.yml

# The closed-loop load generator of `make bench-vs-opa` (C, so it leaves the cores to the service).
wrk:
	@command -v wrk >/dev/null || { echo "installing wrk (Debian)"; apt-get install -y -qq wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }; }
