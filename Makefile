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

.PHONY: build
build: ## Build bin/cruise.
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
cluster-bins: $(CLUSTER_BINS) ## Build the local control plane from source into bin/k8s (once).

# One rule per tools module: make's timestamps keep a second run instant,
# and the binaries are rebuilt only when the pinned versions change.
$(addprefix $(K8S_BIN)/,$(KUBE_BINS)) &: hack/tools/kube/go.mod hack/tools/kube/go.sum
	@mkdir -p $(K8S_BIN)
	cd hack/tools/kube && $(GO) build -trimpath -o $(K8S_BIN)/ $(addprefix k8s.io/kubernetes/cmd/,$(KUBE_BINS))
	@touch $(addprefix $(K8S_BIN)/,$(KUBE_BINS))

$(K8S_BIN)/etcd: hack/tools/etcd/go.mod hack/tools/etcd/go.sum
	@mkdir -p $(K8S_BIN)
	cd hack/tools/etcd && $(GO) build -trimpath -o $@ go.etcd.io/etcd/server/v3
	@touch $@

$(K8S_BIN)/kwok: hack/tools/kwok/go.mod hack/tools/kwok/go.sum
	@mkdir -p $(K8S_BIN)
	cd hack/tools/kwok && $(GO) build -trimpath -o $@ sigs.k8s.io/kwok/cmd/kwok
	@touch $@

# kwok ships its stage definitions (how fake nodes and pods progress) in its
# module; take the "fast" set from the pinned version.
$(K8S_BIN)/kwok-stages.yaml: hack/tools/kwok/go.mod hack/tools/kwok/go.sum
	@mkdir -p $(K8S_BIN)
	hack/kwok-stages.sh "$$(cd hack/tools/kwok && $(GO) list -m -f '{{.Dir}}' sigs.k8s.io/kwok)" > $@.tmp
	@mv $@.tmp $@

$(TOOLS_BIN)/staticcheck: hack/tools/go.mod hack/tools/go.sum
	@mkdir -p $(TOOLS_BIN)
	cd hack/tools && $(GO) build -o $@ honnef.co/go/tools/cmd/staticcheck

$(TOOLS_BIN)/controller-gen: hack/tools/go.mod hack/tools/go.sum
	@mkdir -p $(TOOLS_BIN)
	cd hack/tools && $(GO) build -o $@ sigs.k8s.io/controller-tools/cmd/controller-gen

.PHONY: generate
generate: $(TOOLS_BIN)/controller-gen ## Regenerate deepcopy functions and CRD manifests.
	$(TOOLS_BIN)/controller-gen object paths=./api/...
	$(TOOLS_BIN)/controller-gen crd paths=./api/... output:crd:artifacts:config=config/crd/bases

# CI fails when generated files are stale.
.PHONY: verify-generate
verify-generate: generate
	@git diff --exit-code -- api config/crd || { echo "generated files are stale: run make generate and commit"; exit 1; }
	@test -z "$$(git ls-files --others --exclude-standard -- api config/crd)" || { echo "generated files not committed: run make generate"; exit 1; }

.PHONY: lint
lint: $(TOOLS_BIN)/staticcheck ## gofmt, go vet and staticcheck.
	@out="$$(gofmt -l $$(git ls-files '*.go' | grep -v '^hack/tools/'))"; \
	  if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(TOOLS_BIN)/staticcheck ./...

# Tests share one control plane per package; -p 2 keeps two packages (and so
# at most two control planes) running at once on a 2-core machine.
TEST_FLAGS ?= -race -count=1 -p 2 -timeout 30m

# Test dependencies from Debian's packages: PostgreSQL server binaries (the
# tests start private instances with initdb; no system service is used).
.PHONY: test-deps
test-deps:
	@hack/install-test-deps.sh

.PHONY: test
test: verify-generate lint test-deps cluster-bins build ## Run every test (builds what it needs first).
	$(GO) test $(TEST_FLAGS) ./...

# The end-to-end benchmarks run once: each run is minutes long (1,000
# Applications, a minute idle).
.PHONY: bench
bench: cluster-bins build ## Run the benchmarks; figures go into README.md's Performance section.
	$(GO) test -run '^$$' -bench . -benchtime 3x -benchmem $$($(GO) list ./... | grep -v /internal/e2e) | tee $(BIN)/bench.txt
	$(GO) test -run '^$$' -bench . -benchtime 1x -timeout 60m ./internal/e2e | grep -v '^ *main_test.go' | tee -a $(BIN)/bench.txt

.PHONY: dev
dev: build cluster-bins ## Build everything, start the local control plane and cruise, deploy the example.
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
