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

.PHONY: help install build image node kstatus chart-lint generate verify lint typecheck lockfile controlplane peers cluster-up cluster-down dev dev-down dev-rotate test test-unit test-e2e bench

help: ## list targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{ printf "  %-14s %s\n", $$1, $$2 }'

# `npm ci` installs exactly the committed lock. The lock holds every platform's optional bindings
# (npm 11 adds them; an older lock without them made `npm ci` refuse), and `make lockfile` checks
# that installing leaves it unchanged.
node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

install: node_modules/.package-lock.json ## install Node 24 and the dependencies from npm

SOURCES := $(shell find src -name '*.ts' -not -name '*.test.ts') tsconfig.json tsconfig.build.json package-lock.json

build: dist/cmd/main.js ## compile to dist/ (bin: lockstep)
dist/cmd/main.js: $(SOURCES) | install
	$(BIN)/tsc -p tsconfig.build.json
	@touch $@

image: build/lockstep-image.tar ## the operator's OCI image as build/lockstep-image.tar (no Docker needed; see README)
build/lockstep-image.tar: dist/cmd/main.js scripts/image.sh
	bash scripts/image.sh $@ >/dev/null

kstatus: ## build kstatus's status rules (sigs.k8s.io/cli-utils, pinned) for the GitOps status test
	@bash e2e/kstatus/build.sh >/dev/null

node: ## install the node's parts: containerd, runc, CNI plugins (apt), helm, crictl; its images
	@bash e2e/node/install.sh >/dev/null
	@bash e2e/node/images.sh >/dev/null

lockfile: ## fail if package-lock.json differs from the commit (an install must not rewrite it)
	@git diff --exit-code --stat package-lock.json || { echo "package-lock.json changed: commit the lock npm wrote, or fix package.json"; exit 1; }

generate: install ## write crds/, config/crd/bases/ and the chart's CRDs from the zod schemas; the chart's values table
	$(BIN)/tsx src/cmd/main.ts gen-crds --out crds --out config/crd/bases --out charts/lockstep/files/crds
	$(BIN)/tsx charts/lockstep/gen-values-table.ts

chart-lint: node ## helm lint the chart (strict)
	"$$(bash e2e/node/install.sh)/helm" lint charts/lockstep --strict

verify: install typecheck lint ## fail if generated CRDs are stale, types or lint fail
	$(BIN)/tsx src/cmd/main.ts gen-crds --check --out crds --out config/crd/bases --out charts/lockstep/files/crds
	$(BIN)/tsx charts/lockstep/gen-values-table.ts --check

typecheck: install
	$(BIN)/tsc -p tsconfig.json --noEmit

lint: install
	$(BIN)/eslint src e2e charts $(wildcard bench)

controlplane: ## build (or reuse) kube-apiserver, etcd, kube-controller-manager, kubelet, kube-scheduler
	@bash e2e/controlplane/build.sh >/dev/null

peers: install ## install the provider test servers (pinned, cached outside the repo; slapd for the LDAP test from Debian)
	@for f in e2e/peers/*/install.sh; do echo "== $$f"; bash "$$f" >/dev/null || exit 1; done

cluster-up: install controlplane node image ## start a local cluster with a node; kubeconfig in $(CLUSTER_DIR)/kubeconfig
	bash scripts/cluster.sh up

cluster-down: ## stop the local cluster: every pod, the node, the control plane, its network namespace
	bash scripts/cluster.sh down

dev: cluster-up ## quick start: cluster with a node, the operator installed by the Helm chart, samples and a demo app
	bash scripts/dev.sh up

dev-rotate: ## change the demo's database password in its store: watch the demo app roll
	bash scripts/dev.sh rotate

dev-down: cluster-down ## stop everything `make dev` started

# The tests run in a private network namespace (scripts/netns.sh), where the harness's node gives
# pods their own network; everything the tests need is installed before entering it.
JEST := bash scripts/netns.sh run -- $(NODE) --experimental-vm-modules node_modules/jest/bin/jest.js
test: install controlplane peers node image kstatus ## every test: unit, then integration/e2e on a real control plane and node
	$(JEST) $(JEST_ARGS)

test-unit: install
	$(NODE) --experimental-vm-modules node_modules/jest/bin/jest.js --selectProjects unit

test-e2e: install controlplane peers node image kstatus
	$(JEST) --selectProjects e2e $(JEST_ARGS)

# A longer kill -9 soak than `make test` runs: the same test, more rotations and kills, another seed.
CHAOS_ROUNDS ?= 10
CHAOS_KILLS ?= 6
CHAOS_SEED ?= 20261203
.PHONY: chaos
chaos: install controlplane ## kill -9 soak: 2,000 ExternalSecrets, 100 rotating CHAOS_ROUNDS times (10), CHAOS_KILLS kills per phase (6), CHAOS_SEED (~15 min)
	LOCKSTEP_NODE=0 LOCKSTEP_KILL_ROUNDS=$(CHAOS_ROUNDS) LOCKSTEP_KILLS_PER_PHASE=$(CHAOS_KILLS) LOCKSTEP_KILL_SEED=$(CHAOS_SEED) \
		$(JEST) e2e/faults/kill-nine.test.ts --selectProjects e2e

# `make bench PROVIDER=aws|vault` runs the provider benchmark instead (the same as bench-provider).
ifdef PROVIDER
bench: bench-provider
else
bench: build controlplane ## N ExternalSecrets (default 1000) vs. a minimal client floor, soak (SOAK_ROUNDS=10) and restart; BENCH_N=10000 for more; then bench-rotation; with PROVIDER=aws|vault: bench-provider
	$(BIN)/tsx bench/sync-bench.ts --n $${BENCH_N:-1000} --soak-rounds $${SOAK_ROUNDS:-10}
	$(BIN)/tsx bench/rotation-bench.ts
endif

.PHONY: bench-provider bench-rotation bench-files bench-unrelated
bench-unrelated: build controlplane ## operator memory with no objects, then with 10,000 Deployments and 20,000 Secrets it does not manage (~3 min)
	$(BIN)/tsx bench/unrelated-bench.ts
PROVIDER ?= aws
bench-provider: build controlplane peers ## 1000 ExternalSecrets over 100 keys of one store: provider reads, HTTP calls, logins per refresh (PROVIDER=aws|vault, ~1.5 min)
	$(BIN)/tsx bench/provider-bench.ts --provider $(PROVIDER)

bench-files: build image node controlplane peers ## delivery as files: 100 sidecar pods on the node share the provider reads; rotation latency in every pod; agent memory (~4 min)
	bash scripts/netns.sh run -- $(BIN)/tsx bench/files-bench.ts --pods $${BENCH_PODS:-100}

bench-rotation: build controlplane ## 100 ExternalSecrets + Deployments, all values rotated at once: time to restart, restarts per Deployment (~1 min)
	$(BIN)/tsx bench/rotation-bench.ts
