# Lockstep. `make help` lists the targets.
SHELL := /usr/bin/env bash
.SHELLFLAGS := -euo pipefail -c
CLUSTER_DIR ?= .cluster
export CLUSTER_DIR
export AWS_EC2_METADATA_DISABLED := true
export METADATA_SERVER_DETECTION := none
BIN := node_modules/.bin
# Node 24 from the npm package 'node' comes first, so tsx and npm scripts run on it.
export PATH := $(CURDIR)/node_modules/.bin:$(PATH)
NODE := $(BIN)/node

.PHONY: help install build generate verify lint typecheck controlplane peers cluster-up cluster-down dev dev-down test test-unit test-e2e bench

help: ## list targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{ printf "  %-14s %s\n", $$1, $$2 }'

# `npm install` rather than `npm ci`: npm 11 writes lock files without the other platforms'
# optional bindings of unrs-resolver (a jest dependency) and then refuses them in `npm ci`.
# The committed lock still pins every version we install.
node_modules/.package-lock.json: package.json package-lock.json
	npm install --no-audit --no-fund
	@touch $@

install: node_modules/.package-lock.json ## install Node 24 and the dependencies from npm

build: install ## compile to dist/ (bin: lockstep)
	$(BIN)/tsc -p tsconfig.build.json

generate: install ## write crds/ and config/crd/bases/ from the zod schemas
	$(BIN)/tsx src/cmd/main.ts gen-crds --out crds --out config/crd/bases --out charts/lockstep/files/crds

verify: install typecheck lint ## fail if generated CRDs are stale, types or lint fail
	$(BIN)/tsx src/cmd/main.ts gen-crds --check --out crds --out config/crd/bases --out charts/lockstep/files/crds

typecheck: install
	$(BIN)/tsc -p tsconfig.json --noEmit

lint: install
	$(BIN)/eslint src e2e $(wildcard bench)

controlplane: ## build (or reuse) kube-apiserver, etcd, kube-controller-manager
	@bash e2e/controlplane/build.sh >/dev/null

peers: install ## install the provider test servers (pinned, cached outside the repo)
	@for f in e2e/peers/*/install.sh; do echo "== $$f"; bash "$$f" >/dev/null || exit 1; done

cluster-up: install controlplane ## start a local control plane; kubeconfig in $(CLUSTER_DIR)/kubeconfig
	bash scripts/cluster.sh up

cluster-down: ## stop the local control plane (and a dev operator)
	bash scripts/dev.sh down || true
	bash scripts/cluster.sh down

dev: build cluster-up ## quick start: control plane + CRDs + operator + samples, then show the synced Secret
	bash scripts/dev.sh up

dev-down: cluster-down ## stop everything `make dev` started

test: install controlplane peers ## every test: unit, then integration/e2e on a real control plane
	$(NODE) --experimental-vm-modules node_modules/jest/bin/jest.js $(JEST_ARGS)

test-unit: install
	$(NODE) --experimental-vm-modules node_modules/jest/bin/jest.js --selectProjects unit

test-e2e: install controlplane peers
	$(NODE) --experimental-vm-modules node_modules/jest/bin/jest.js --selectProjects e2e

# `make bench PROVIDER=aws|vault` runs the provider benchmark instead (the same as bench-provider).
ifdef PROVIDER
bench: bench-provider
else
bench: build controlplane ## N ExternalSecrets (default 1000) vs. a minimal client floor; BENCH_N=5000 for more; then bench-rotation; with PROVIDER=aws|vault: bench-provider
	$(BIN)/tsx bench/sync-bench.ts --n $${BENCH_N:-1000}
	$(BIN)/tsx bench/rotation-bench.ts
endif

.PHONY: bench-provider bench-rotation
PROVIDER ?= aws
bench-provider: build controlplane peers ## 1000 ExternalSecrets over 100 keys of one store: provider reads, HTTP calls, logins per refresh (PROVIDER=aws|vault, ~1.5 min)
	$(BIN)/tsx bench/provider-bench.ts --provider $(PROVIDER)

bench-rotation: build controlplane ## 100 ExternalSecrets + Deployments, all values rotated at once: time to restart, restarts per Deployment (~1 min)
	$(BIN)/tsx bench/rotation-bench.ts
