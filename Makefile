# MPS — two commands set up and run everything on a fresh Debian machine:
#   make run    builds and runs the server on the default config
#   make test   runs every test (Go unit, integration and browser tests)
# Both first run `make deps`, which installs what is missing.

GO        ?= go
BIN       := bin/mps
VERSION   := $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS   := -X mps/server.Version=$(VERSION)
STATICCHECK_VERSION := v0.7.0
GOLANGCI_VERSION    := v2.15.0
GOBIN     := $(shell $(GO) env GOPATH)/bin

# Debian packages the server and its tests need, as "command:package" pairs
# (a command on PATH, or an absolute file that the package installs).
DEB_DEPS := ffmpeg:ffmpeg ffprobe:ffmpeg chromium:chromium node:nodejs npm:npm curl:curl \
	/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf:fonts-dejavu-core \
	pocketsphinx_continuous:pocketsphinx /usr/share/pocketsphinx/model/en-us/en-us.lm.bin:pocketsphinx-en-us \
	tesseract:tesseract-ocr /usr/share/tesseract-ocr/5/tessdata/eng.traineddata:tesseract-ocr-eng

# The real S3 server of the storage tests: SeaweedFS's weed, built once from
# its Go module at a pinned version and cached outside the repo.
WEED_MODULE  := github.com/seaweedfs/seaweedfs
WEED_VERSION := v0.0.0-20261109003541-7506e5f91cd6
TOOLS_DIR    := $(HOME)/.cache/mps-tools
WEED         := $(TOOLS_DIR)/weed

.PHONY: all build run test deps lint vet fmt-check staticcheck bench bench-load clean browser-deps s3-server fuzz fuzz-short soak soak-short golangci

# fuzz: how long each fuzz target runs, and how many workers it uses
FUZZTIME     ?= 60s
FUZZPARALLEL ?= 2
# soak: length and size of the load run by `make soak`
SOAKTIME       ?= 10m
SOAKPUBLISHERS ?= 20
SOAKREADERS    ?= 200
# soak readers: -go for Go clients (RTMP, RTSP, HLS, WHEP, SRT; 200 fit on
# two cores), empty for ffmpeg readers (RTMP, RTSP, HLS)
SOAKFLAGS      ?= -go

all: build

## deps: install missing Debian packages (as root) or print the command to run
deps:
	@missing=""; \
	for pair in $(DEB_DEPS); do \
		what=$${pair%%:*}; pkg=$${pair#*:}; \
		case $$what in /*) [ -e $$what ] && continue;; *) command -v $$what >/dev/null 2>&1 && continue;; esac; \
		case " $$missing " in *" $$pkg "*) ;; *) missing="$$missing $$pkg";; esac; \
	done; \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" = 0 ]; then \
			echo "deps: installing$$missing"; \
			apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends$$missing; \
		else \
			echo "deps: missing Debian packages. Run:"; \
			echo "  sudo apt-get update && sudo apt-get install -y --no-install-recommends$$missing"; \
			exit 1; \
		fi; \
	fi
	@$(MAKE) --no-print-directory browser-deps
	@$(MAKE) --no-print-directory s3-server

## browser-deps: the node modules of the browser tests (playwright-core, which
## drives Debian's chromium and never downloads a browser, and dash.js for the
## DASH tests); installed again when a pinned version is missing
browser-deps: export NODE_DEPS_PRESENT = const p=require('./package.json'),fs=require('fs');\
	for (const [d,v] of Object.entries(p.dependencies||{})) {\
	if (JSON.parse(fs.readFileSync('node_modules/'+d+'/package.json')).version!==v) process.exit(1); }
browser-deps:
	@for d in hls/browsertest web/test; do \
		if [ -f $$d/package.json ] && ! (cd $$d && node -e "$$NODE_DEPS_PRESENT") 2>/dev/null; then \
			echo "deps: npm ci in $$d"; \
			(cd $$d && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error) || exit 1; \
		fi; \
	done

## s3-server: build SeaweedFS's weed for the storage tests (a few minutes,
## once per machine; its go.mod has a replace, so it is built in a scratch
## module that repeats it)
s3-server:
	@if [ ! -x $(WEED) ] || [ "$$(cat $(WEED).version 2>/dev/null)" != "$(WEED_VERSION)" ]; then \
		echo "deps: building the S3 test server (SeaweedFS $(WEED_VERSION)) into $(WEED), once"; \
		d=$(TOOLS_DIR)/weedbuild; rm -rf $$d; mkdir -p $$d && cd $$d && \
		printf 'module weedbuild\n\ngo 1.26.6\n\nreplace github.com/tyler-smith/go-bip39 => github.com/cosmos/go-bip39 v1.0.0\n' > go.mod && \
		$(GO) get $(WEED_MODULE)/weed@$(WEED_VERSION) && $(GO) build -o $(WEED) $(WEED_MODULE)/weed && \
		echo $(WEED_VERSION) > $(WEED).version || exit 1; \
	fi

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/mps

## run: build and run the server on the default config (configs/mps.yaml)
run: deps build
	./$(BIN) serve -c configs/mps.yaml

## test: lint, then every test with the race detector
test: deps lint
	$(GO) test -race -count=1 -timeout 20m ./...
	@$(MAKE) --no-print-directory fuzz-short
	@$(MAKE) --no-print-directory soak-short

lint: fmt-check vet staticcheck golangci

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...

staticcheck:
	@[ -x $(GOBIN)/staticcheck ] || $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)
	$(GOBIN)/staticcheck ./...

## golangci: the project's chosen golangci-lint set (.golangci.yml)
golangci:
	@[ -x $(GOBIN)/golangci-lint ] && $(GOBIN)/golangci-lint version 2>/dev/null | grep -q "$(GOLANGCI_VERSION:v%=%)" || \
		(cd /tmp && GOFLAGS=-mod=mod $(GO) install github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$(GOLANGCI_VERSION))
	$(GOBIN)/golangci-lint run ./...

## bench: the benchmarks, then the fan-out load scenario (1 publisher to 200
## RTMP and 200 RTSP readers, about a minute); figures depend on the machine
bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...
	GO=$(GO) ./cmd/mpsload/benchload.sh fanout

## bench-load: the load scenarios of cmd/mpsload/benchload.sh named in
## BENCHLOAD (all: fan-out, 50 SRT readers, 50 LL-HLS players, 30 publishers
## with HLS, 1080p60 at 8 Mb/s, a mix), DURATION each
BENCHLOAD ?= all
bench-load:
	GO=$(GO) ./cmd/mpsload/benchload.sh $(BENCHLOAD)

## fuzz: run every Fuzz* target of the repo for FUZZTIME each. The targets
## are found with `go test -list` in the packages whose tests define one. A
## crasher is written to the package's testdata/fuzz/FuzzName/ by go test:
## commit it, and it runs as a regression seed in every `go test` from then on.
## A run that ends in the fuzzing engine's own "context deadline exceeded"
## with no failing input (a go test flake on loaded machines) runs once more.
fuzz:
	@for dir in $$(grep -rl --include='*_test.go' '^func Fuzz' . | xargs -n1 dirname | sort -u); do \
		for t in $$($(GO) test -list '^Fuzz' $$dir | grep '^Fuzz'); do \
			echo "fuzz: $$dir $$t for $(FUZZTIME)"; \
			out=$$(mktemp); \
			if ! $(GO) test -run '^$$' -fuzz "^$$t$$" -fuzztime $(FUZZTIME) -parallel $(FUZZPARALLEL) $$dir > $$out 2>&1; then \
				cat $$out; \
				if grep -q 'Failing input written' $$out || ! grep -q 'context deadline exceeded' $$out; then rm -f $$out; exit 1; fi; \
				echo "fuzz: $$t: the engine timed out with no failing input; once more"; \
				$(GO) test -run '^$$' -fuzz "^$$t$$" -fuzztime $(FUZZTIME) -parallel $(FUZZPARALLEL) $$dir || { rm -f $$out; exit 1; }; \
			else cat $$out; fi; \
			rm -f $$out; \
		done; \
	done

## fuzz-short: every fuzz target for a few seconds (part of `make test`)
fuzz-short:
	@$(MAKE) --no-print-directory fuzz FUZZTIME=3s FUZZPARALLEL=1

## soak: the server under SOAKPUBLISHERS publishers and SOAKREADERS readers
## with churn and malformed clients for SOAKTIME; fails when memory,
## goroutines or file descriptors grow without bound or a reader loses frames
soak: build
	$(GO) build -o bin/mpsload ./cmd/mpsload
	./bin/mpsload soak -mps ./$(BIN) -t $(SOAKTIME) -publishers $(SOAKPUBLISHERS) -readers $(SOAKREADERS) $(SOAKFLAGS)

## soak-short: a 60-second soak with 3 publishers and 20 ffmpeg readers (part of `make test`)
soak-short:
	@$(MAKE) --no-print-directory soak SOAKTIME=60s SOAKPUBLISHERS=3 SOAKREADERS=20 SOAKFLAGS=

clean:
	rm -rf bin
