# lambda-rasp — build, test and package.
#
#   make demo    build the layer and an example function, run them in the
#                local Lambda simulator, send benign and attack traffic
#   make test    every test (race detector on), plus gofmt and go vet
#   make bench   benchmarks with allocation counts
#   make layer   reproducible layer zips in dist/ for x86_64 and arm64
#   make release the layer zips, a CycloneDX SBOM of each and SHA256SUMS in
#                dist/, reproducibly (verify: cd dist && sha256sum -c SHA256SUMS)
#   make fuzz    every fuzz target for FUZZTIME (default 30s)
#   make loadtest  100 000 invocations through the simulator with the extension
#   make compare   detection, false positives and latency against Coraza + CRS
#                  and libinjection (layer/bench, a separate module)
#   make otele2e   the OTLP fleet recipe against a real OpenTelemetry Collector
#                  (layer/otele2e, a separate module; the collector is built
#                  once per go.sum and cached)

GO        ?= go
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS   := -s -w -buildid= -X main.version=$(VERSION)
BUILDFLAGS := -trimpath -ldflags "$(LDFLAGS)"
PKGS      := ./...
FUZZTIME  ?= 30s

.PHONY: all test lint vet fmt-check bench build layer release demo fuzz fuzz-smoke loadtest compare otele2e tidy-check clean

all: build

test: lint
	$(GO) test -race -count=1 -timeout 8m $(PKGS)
	$(GO) test -count=1 -timeout 5m -run '^TestSQLGuardCorpus$$' ./rasp

lint: fmt-check vet

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet $(PKGS)

bench:
	$(GO) test -run '^$$' -bench . -benchmem $(PKGS)

build:
	mkdir -p bin
	CGO_ENABLED=0 $(GO) build $(BUILDFLAGS) -o bin/lambda-rasp ./extension
	CGO_ENABLED=0 $(GO) build $(BUILDFLAGS) -o bin/raspctl ./layer/cmd/raspctl

layer:
	$(GO) run ./layer/cmd/mklayer -version $(VERSION) -out dist

release:
	rm -rf dist
	$(GO) run ./layer/cmd/mklayer -release -version $(VERSION) -out dist

demo:
	$(GO) run ./layer/demo

# Every fuzz target for FUZZTIME (default 30s); fuzz-smoke runs each briefly.
fuzz:
	FUZZTIME=$(FUZZTIME) .ci/fuzz

fuzz-smoke:
	FUZZTIME=2s .ci/fuzz

loadtest:
	LAMBDA_RASP_LOAD_INVOCATIONS=100000 $(GO) test -race -count=1 -timeout 30m -run '^TestLoad$$' -v ./extension

# The comparison module has its own go.mod: Coraza and the CRS never
# enter the layer. It needs ../shared/corpus (or -corpus DIR).
compare:
	cd layer/bench && $(GO) run ./cmd/compare $(COMPARE_FLAGS)

# The collector and its dependencies live in layer/otele2e's own go.mod:
# they never enter the layer.
otele2e:
	.ci/otele2e

tidy-check:
	$(GO) mod tidy
	git diff --exit-code go.mod go.sum

clean:
	rm -rf bin dist

# AWS SAM builds (layer/deploy/sam/template.yaml, BuildMethod: makefile).
# SAM sets ARTIFACTS_DIR; one layer target per architecture, the function
# follows the template (arm64).
SAM_GOARCH ?= arm64

define sam-layer
	mkdir -p $(ARTIFACTS_DIR)/extensions $(ARTIFACTS_DIR)/lambda-rasp
	CGO_ENABLED=0 GOOS=linux GOARCH=$(1) $(GO) build $(BUILDFLAGS) -o $(ARTIFACTS_DIR)/extensions/lambda-rasp ./extension
	cp rules/policy/default.yaml $(ARTIFACTS_DIR)/lambda-rasp/policy.yaml
endef

build-LambdaRaspLayerX8664:
	$(call sam-layer,amd64)

build-LambdaRaspLayerArm64:
	$(call sam-layer,arm64)

build-DemoFunction:
	CGO_ENABLED=0 GOOS=linux GOARCH=$(SAM_GOARCH) $(GO) build $(BUILDFLAGS) -tags lambda.norpc -o $(ARTIFACTS_DIR)/bootstrap ./layer/demo/fn
