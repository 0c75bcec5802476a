# cruise build, test and development entry points. Every install step lives
# here or in hack/, so a fresh machine with Go needs nothing else.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := build

GO        ?= go
BIN       := $(CURDIR)/bin
K8S_BIN   := $(BIN)/k8s
TOOLS_BIN := $(BIN)/tools
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT    ?= $(shell git rev-parse --verify -q HEAD 2>/dev/null || echo unknown)
LDFLAGS   := -X github.com/cruisegitops/cruise/internal/cli.version=$(VERSION) \
             -X github.com/cruisegitops/cruise/internal/cli.commit=$(COMMIT)

# Tests and benchmarks find the control-plane binaries here (the same
# variable controller-runtime's envtest reads).
export KUBEBUILDER_ASSETS := $(K8S_BIN)

KUBE_BINS := kube-apiserver kube-controller-manager kube-scheduler kubectl
CLUSTER_BINS := $(addprefix $(K8S_BIN)/,$(KUBE_BINS) etcd kwok kwok-stages.yaml)
# Prometheus and promtool for the monitoring tests. Defined here, before any
# rule names it: make expands a rule's prerequisites as it reads the rule.
PROMETHEUS_BINS := $(TOOLS_BIN)/promtool $(TOOLS_BIN)/prometheus

# Independent go builds (Kubernetes, etcd, kwok, cruise) run this many at a
# time. Each already compiles on every core; a second one fills the cores
# a build leaves idle while it downloads modules and links. A -j given to
# make itself wins.
JOBS ?= 2
PARALLEL_MAKE = $(MAKE) --no-print-directory $(if $(filter -j%,$(MAKEFLAGS)),,-j$(JOBS))

# The Kubernetes release the kube binaries are built at, from the tools
# module's go.mod (the one place it is pinned). Linked in as the version
# the binaries report: without it kube-apiserver says
# v0.0.0-master+$Format:%H$ and Helm refuses charts with a kubeVersion
# constraint.
KUBE_VERSION = $(shell awk '$$1 == "require" && $$2 == "k8s.io/kubernetes" { print $$3; exit } \
                            $$1 == "k8s.io/kubernetes" && $$2 ~ /^v/ { print $$2; exit }' hack/tools/kube/go.mod)
KUBE_VERSION_PARTS = $(subst ., ,$(patsubst v%,%,$(KUBE_VERSION)))
KUBE_VERSION_PKGS := k8s.io/component-base/version k8s.io/client-go/pkg/version
# -s -w: no symbol table or DWARF. Nobody debugs the control plane here,
# and it saves link time and a third of the binaries' size.
KUBE_LDFLAGS = -s -w $(foreach p,$(KUBE_VERSION_PKGS),-X $(p).gitVersion=$(KUBE_VERSION) \
               -X $(p).gitMajor=$(word 1,$(KUBE_VERSION_PARTS)) -X $(p).gitMinor=$(word 2,$(KUBE_VERSION_PARTS)))

.PHONY: build
build: ## Build bin/cruise.
	@test -x $(BIN)/cruise || echo "building cruise (the first time takes about 2 min on 2 cores)"
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN)/cruise ./cmd/cruise

# The container image, without Docker or a registry: a static binary in
# one layer with no base image (hack/tools/image). The tarball is what
# `docker load`, `podman load` and `kind load image-archive` read; it is
# tagged cruise:dev and cruise:$(VERSION), the default of `cruise install`.
IMAGE_TAR := $(BIN)/cruise-image.tar

.PHONY: image
image: ## Build the container image bin/cruise-image.tar (tags cruise:dev, cruise:VERSION).
	@mkdir -p $(BIN)/image
	CGO_ENABLED=0 GOOS=linux $(GO) build -trimpath -ldflags '$(LDFLAGS) -s -w' -o $(BIN)/image/cruise ./cmd/cruise
	cd hack/tools/image && $(GO) run . --binary $(BIN)/image/cruise --out $(IMAGE_TAR) \
	  --tag cruise:dev --tag 'cruise:$(VERSION)' --version '$(VERSION)'

.PHONY: cluster-bins
cluster-bins: ## Build the local control plane from source into bin/k8s (once).
	@$(PARALLEL_MAKE) cluster-bins-jobs

# What cluster-bins builds, and what dev and test need (the same and
# bin/cruise), for a sub-make running $(JOBS) builds at once. Kubernetes
# comes first: it takes longest.
.PHONY: cluster-bins-jobs bins-jobs
cluster-bins-jobs: $(CLUSTER_BINS)
	@:
bins-jobs: $(CLUSTER_BINS) build $(TOOLS_BIN)/sops $(TOOLS_BIN)/helm $(PROMETHEUS_BINS)
	@:

# One rule per tools module: make's timestamps keep a second run instant,
# and the binaries are rebuilt only when the pinned versions (or the kube
# link flags) change. The four kube binaries come from one go build, which
# compiles the packages they share once.
$(addprefix $(K8S_BIN)/,$(KUBE_BINS)) &: hack/tools/kube/go.mod hack/tools/kube/go.sum $(K8S_BIN)/.kube-ldflags
	@echo "building $(KUBE_BINS) $(KUBE_VERSION) from source (the first time takes about 8 min on 2 cores)"
	cd hack/tools/kube && $(GO) build -trimpath -ldflags '$(KUBE_LDFLAGS)' -o $(K8S_BIN)/ $(addprefix k8s.io/kubernetes/cmd/,$(KUBE_BINS))
	@touch $(addprefix $(K8S_BIN)/,$(KUBE_BINS))

# The kube link flags as last used; rewritten only when they change, so
# that changed flags relink the binaries and unchanged ones do not.
$(K8S_BIN)/.kube-ldflags: FORCE
	@mkdir -p $(K8S_BIN)
	@echo '$(KUBE_LDFLAGS)' | cmp -s - $@ || echo '$(KUBE_LDFLAGS)' > $@

.PHONY: FORCE
FORCE:

$(K8S_BIN)/etcd: hack/tools/etcd/go.mod hack/tools/etcd/go.sum
	@mkdir -p $(K8S_BIN)
	@echo "building etcd from source (the first time takes about 1 min on 2 cores)"
	cd hack/tools/etcd && $(GO) build -trimpath -ldflags '-s -w' -o $@ go.etcd.io/etcd/server/v3
	@touch $@

$(K8S_BIN)/kwok: hack/tools/kwok/go.mod hack/tools/kwok/go.sum
	@mkdir -p $(K8S_BIN)
	@echo "building kwok from source (the first time takes about 2 min on 2 cores)"
	cd hack/tools/kwok && $(GO) build -trimpath -ldflags '-s -w' -o $@ sigs.k8s.io/kwok/cmd/kwok
	@touch $@

# kwok ships its stage definitions (how fake nodes and pods progress) in its
# module; take the "fast" set from the pinned version.
$(K8S_BIN)/kwok-stages.yaml: hack/tools/kwok/go.mod hack/tools/kwok/go.sum
	@mkdir -p $(K8S_BIN)
	hack/kwok-stages.sh "$$(cd hack/tools/kwok && $(GO) list -m -f '{{.Dir}}' sigs.k8s.io/kwok)" > $@.tmp
	@mv $@.tmp $@

$(TOOLS_BIN)/staticcheck: hack/tools/go.mod hack/tools/go.sum
	@mkdir -p $(TOOLS_BIN)
	@echo "building staticcheck (the first time takes about 1 min on 2 cores)"
	cd hack/tools && $(GO) build -o $@ honnef.co/go/tools/cmd/staticcheck

$(TOOLS_BIN)/controller-gen: hack/tools/go.mod hack/tools/go.sum
	@mkdir -p $(TOOLS_BIN)
	@echo "building controller-gen (the first time takes about 1 min on 2 cores)"
	cd hack/tools && $(GO) build -o $@ sigs.k8s.io/controller-tools/cmd/controller-gen

# The sops CLI: tests check that files it encrypted deploy (cruise reads
# the SOPS format itself; see internal/seal).
$(TOOLS_BIN)/sops: hack/tools/sops/go.mod hack/tools/sops/go.sum
	@mkdir -p $(TOOLS_BIN)
	@echo "building sops (the first time takes about 3 min on 2 cores)"
	cd hack/tools/sops && $(GO) build -trimpath -ldflags '-s -w' -o $@ github.com/getsops/sops/v3/cmd/sops
	@touch $@

# The helm CLI: tests compare cruise's chart rendering with `helm template`
# of the same chart (internal/helm/helmtest). Stamped with the pinned
# version, as Helm's own release build does: without it helm reports v4.3
# and .Capabilities.HelmVersion differs from a released helm.
HELM_VERSION = $(shell awk '$$1 == "require" && $$2 == "helm.sh/helm/v4" { print $$3; exit } \
                            $$1 == "helm.sh/helm/v4" && $$2 ~ /^v/ { print $$2; exit }' hack/tools/helm/go.mod)
$(TOOLS_BIN)/helm: hack/tools/helm/go.mod hack/tools/helm/go.sum
	@mkdir -p $(TOOLS_BIN)
	@echo "building helm $(HELM_VERSION) (the first time takes about 3 min on 2 cores)"
	cd hack/tools/helm && $(GO) build -trimpath -ldflags '-s -w -X helm.sh/helm/v4/internal/version.version=$(HELM_VERSION)' -o $@ helm.sh/helm/v4/cmd/helm
	@touch $@

# The name helmtest's failure message tells to build.
.PHONY: bin/tools/helm
bin/tools/helm: $(TOOLS_BIN)/helm
	@:

# promtool checks config/monitoring's alerting rules (config/monitoring_test.go);
# internal/e2e runs them in Prometheus against a controller.
$(PROMETHEUS_BINS) &: hack/install-prometheus.sh
	@echo "installing prometheus and promtool from Debian's prometheus package (about 20 MB)"
	hack/install-prometheus.sh $(TOOLS_BIN)
	@touch $(PROMETHEUS_BINS)

.PHONY: tools
tools: $(TOOLS_BIN)/staticcheck $(TOOLS_BIN)/controller-gen ## Build the lint and code generation tools into bin/tools.

.PHONY: generate
generate: $(TOOLS_BIN)/controller-gen ## Regenerate deepcopy functions and CRD manifests.
	$(TOOLS_BIN)/controller-gen object paths=./api/...
	$(TOOLS_BIN)/controller-gen crd paths=./api/... output:crd:artifacts:config=config/crd/bases

# CI fails when generated files are stale.
.PHONY: verify-generate
verify-generate: generate
	@git diff --exit-code -- api config/crd || { echo "generated files are stale: run make generate and commit"; exit 1; }
	@test -z "$$(git ls-files --others --exclude-standard -- api config/crd)" || { echo "generated files not committed: run make generate"; exit 1; }

# vet and staticcheck type-check against compiled dependencies. Built with
# -race they are the very ones `go test -race` compiles, so lint after the
# tests compiles nothing again (and lint first leaves them for the tests).
LINT_GOFLAGS := -race

.PHONY: lint
lint: $(TOOLS_BIN)/staticcheck ## gofmt, go vet and staticcheck.
	@out="$$(gofmt -l $$(git ls-files '*.go' | grep -v '^hack/tools/'))"; \
	  if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet $(LINT_GOFLAGS) ./...
	GOFLAGS="$$($(GO) env GOFLAGS) $(LINT_GOFLAGS)" $(TOOLS_BIN)/staticcheck ./...

# Tests share one control plane per package; -p 2 keeps two packages (and so
# at most two control planes) running at once on a 2-core machine.
TEST_FLAGS ?= -race -count=1 -p 2 -timeout 30m

# Test dependencies from Debian's packages: PostgreSQL server binaries (the
# tests start private instances with initdb; no system service is used).
.PHONY: test-deps
test-deps:
	@hack/install-test-deps.sh

# The tests start as soon as what they run against is built; the lint
# tools are built and run after them, on the packages the tests compiled.
.PHONY: test
test: test-deps ## Run every test (builds what it needs first), then lint.
	@$(PARALLEL_MAKE) bins-jobs
	$(GO) test $(TEST_FLAGS) ./...
	@$(MAKE) --no-print-directory verify-generate lint

# The end-to-end benchmarks, and those in ONCE_BENCH, run once: each run is
# minutes long (1,000 Applications, a minute idle; 1,000 commits).
ONCE_BENCH := BenchmarkStorage1000Commits

.PHONY: bench
bench: cluster-bins build ## Run the benchmarks; figures go into README.md's Performance section.
	$(GO) test -run '^$$' -bench . -skip '$(ONCE_BENCH)' -benchtime 3x -benchmem $$($(GO) list ./... | grep -v /internal/e2e) | tee $(BIN)/bench.txt
	$(GO) test -run '^$$' -bench '$(ONCE_BENCH)' -benchtime 1x -benchmem ./internal/source | tee -a $(BIN)/bench.txt
	$(GO) test -run '^$$' -bench . -benchtime 1x -timeout 60m ./internal/e2e | grep -v '^ *main_test.go' | tee -a $(BIN)/bench.txt

.PHONY: dev
dev: ## Build everything, start the local control plane and cruise, deploy the example.
	@$(PARALLEL_MAKE) bins-jobs
	$(BIN)/cruise dev up --full --example --server --bin-dir $(K8S_BIN)

.PHONY: dev-down
dev-down: build ## Stop the local control plane started by make dev.
	$(BIN)/cruise dev down

.PHONY: clean
clean:
	rm -rf $(BIN)

.PHONY: help
help:
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "%-14s %s\n", $$1, $$2}'
