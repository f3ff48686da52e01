# MPS — two commands set up and run everything on a fresh Debian machine:
#   make run    builds and runs the server on the default config
#   make test   runs every test (Go unit, integration and browser tests)
# Both first run `make deps`, which installs what is missing.

GO        ?= go
BIN       := bin/mps
VERSION   := $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS   := -X mps/server.Version=$(VERSION)
STATICCHECK_VERSION := v0.7.0
GOBIN     := $(shell $(GO) env GOPATH)/bin

# Debian packages the server and its tests need, as "command:package" pairs
# (a command on PATH, or an absolute file that the package installs).
DEB_DEPS := ffmpeg:ffmpeg ffprobe:ffmpeg chromium:chromium node:nodejs npm:npm \
	/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf:fonts-dejavu-core

# The real S3 server of the storage tests: SeaweedFS's weed, built once from
# its Go module at a pinned version and cached outside the repo.
WEED_MODULE  := github.com/seaweedfs/seaweedfs
WEED_VERSION := v0.0.0-20261109003541-7506e5f91cd6
TOOLS_DIR    := $(HOME)/.cache/mps-tools
WEED         := $(TOOLS_DIR)/weed

.PHONY: all build run test deps lint vet fmt-check staticcheck bench clean browser-deps s3-server

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

## browser-deps: the node modules of the browser tests (playwright-core only; it
## drives Debian's chromium and never downloads a browser)
browser-deps:
	@for d in hls/browsertest web/test; do \
		if [ -f $$d/package.json ] && [ ! -d $$d/node_modules ]; then \
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

lint: fmt-check vet staticcheck

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...

staticcheck:
	@[ -x $(GOBIN)/staticcheck ] || $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)
	$(GOBIN)/staticcheck ./...

## bench: the benchmarks, then the load scenarios (1 publisher to 200 RTMP
## and 200 RTSP readers, about a minute); figures depend on the machine
bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...
	GO=$(GO) ./cmd/mpsload/benchload.sh

clean:
	rm -rf bin
