# ksk: DNSSEC KSK ceremony toolkit.
#   make demo   full rehearsal on private SoftHSM tokens (installs what it needs)
#   make test   every test, SoftHSM and independent validators included
# Other targets: build, test-resolvers, lint, fuzz, bench, setup, clean.

GO        ?= go
BIN       := bin/ksk
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS   := -X main.version=$(VERSION)
FUZZTIME  ?= 15s
STATICCHECK_VERSION ?= v0.8.2
export CGO_ENABLED := 1

.PHONY: all build test test-resolvers race lint fuzz bench demo docs-img dr-stage setup clean

all: build

build:
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/ksk

setup:
	scripts/setup.sh

test: setup
	$(GO) vet ./...
	$(GO) test -race -count=1 ./...

# Only the real-resolver tests: NSD, Unbound and BIND named follow a
# ksk-signed RFC 5011 rollover (docs/rollovers.md). make test runs them too.
test-resolvers: setup
	$(GO) test -count=1 -v -run 'TestResolversFollowRollover|TestRehearsedRollover' ./cmd/ksk

lint:
	@out=$$(gofmt -l .); if [ -n "$$out" ]; then echo "gofmt: unformatted: $$out" >&2; exit 1; fi
	$(GO) vet ./...
	$(GO) run honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION) ./...
	scripts/vulncheck.sh

# Runs every native fuzz target for FUZZTIME each (scripts/fuzz.sh).
fuzz:
	FUZZTIME=$(FUZZTIME) GO=$(GO) scripts/fuzz.sh

# The extended-signing benchmark (10,000 bundles, one RSA-2048 KSK on
# SoftHSM) prints ksk's signing rate, the raw C_Sign rate measured in the
# same run, their ratio, peak memory and the wall time of one ksk sign;
# then every package's own benchmarks run.
bench: setup
	$(GO) test -run '^$$' -bench '^BenchmarkExtendedSigning$$' -benchtime 1x ./cmd/ksk
	$(GO) test -run '^$$' -bench . -benchmem $$($(GO) list ./... | grep -v '/cmd/ksk$$')

demo: setup build
	scripts/demo.sh

# Refreshes the pictures in docs/img from the tests that render the binder,
# the transcript and the TCR report in headless Chromium and poppler.
docs-img: setup
	KSK_DOCS_IMG=1 $(GO) test -count=1 -run '^TestPaper$$' ./cmd/ksk

# A staged disaster recovery directory (scripts/dr/README.md): the DR
# rehearsal run on SoftHSM, its directory copied to DIR without secrets.
dr-stage: setup
	@test -n "$(DIR)" || { echo "usage: make dr-stage DIR=new-directory" >&2; exit 2; }
	KSK_DR_STAGE="$(abspath $(DIR))" $(GO) test -count=1 -v -run '^TestDRRehearsals$$' ./cmd/ksk | grep -E '^(--- |ok|FAIL)|staged'

clean:
	rm -rf bin .demo
