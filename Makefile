# Hookgate: `make test` runs the whole suite; see README.md.
SHELL   := /bin/bash
GO      ?= go
PKGS    ?= ./...
# -race needs cgo and a C compiler; use it whenever one is there.
RACE    ?= $(shell command -v gcc >/dev/null 2>&1 && echo -race)
# The PostgreSQL tests use HOOKGATE_TEST_DATABASE_URL; when it is unset and a
# server answers on 127.0.0.1:5432, use its `test` database.
PG_URL  ?= postgres://postgres@127.0.0.1:5432/test?sslmode=disable
export HOOKGATE_TEST_DATABASE_URL ?= $(shell (exec 3<>/dev/tcp/127.0.0.1/5432) 2>/dev/null && echo '$(PG_URL)')

.PHONY: test build lint bench fuzz clean
.PHONY: test-short

# `go test` shows a skip only with -v: tests that skip for want of a tool
# (the browser tests) write why to the file HOOKGATE_TEST_SKIPS names, printed
# after the run.
test:
	@if [ -z "$$HOOKGATE_TEST_DATABASE_URL" ]; then echo "PostgreSQL not reachable: its tests will skip (they fail under CI=true)"; fi
	@skips=$$(mktemp); trap 'rm -f "$$skips"' EXIT; \
	echo '$(GO) test $(RACE) -timeout 10m -count=1 -parallel 4 $(PKGS)'; \
	HOOKGATE_TEST_SKIPS="$$skips" $(GO) test $(RACE) -timeout 10m -count=1 -parallel 4 $(PKGS); status=$$?; \
	if [ -s "$$skips" ]; then echo "SKIPPED:"; sed 's/^/  /' "$$skips"; fi; \
	exit $$status

# The inner loop: `go test -short` skips the tests that take a minute or need
# tools and registries (hookgate bench's scenarios, the dashboard's browser
# test, the OpenAPI client build and lint, the two-node take-over that waits
# out a 15 s heartbeat); `make test` runs them. No -count=1,
# so unchanged packages answer from the test cache.
test-short:
	$(GO) test $(RACE) -short -timeout 10m $(PKGS)

# The version is the git description of the tree (tag, or commit, with -dirty).
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)

build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "-X main.version=$(VERSION)" -o bin/hookgate ./cmd/hookgate

# golangci-lint is pinned in tools/go.mod, a module of its own so that the
# server's go.mod stays small; `go tool` builds it once from the module proxy
# and caches it. Its linters are chosen and explained in .golangci.yml.
GOLANGCI ?= $(GO) tool -modfile=tools/go.mod golangci-lint

lint:
	@test -z "$$(gofmt -l .)" || { echo "gofmt would change:"; gofmt -l .; exit 1; }
	$(GO) vet $(PKGS)
	$(GOLANGCI) run $(PKGS)

bench:
	$(GO) test -run '^$$' -bench PostEvent -benchtime 3s -count 3 ./api/
	$(GO) test -run '^$$' -bench Deliver -benchtime 20000x -count 3 ./delivery/
	$(GO) test -run '^$$' -bench AcceptToReceipt -benchtime 10000x -count 3 ./cmd/hookgate/
	$(GO) test -run '^$$' -bench 'Trigger|Inbound' -benchtime 2000x -count 3 ./api/

# Each fuzz target of outside input for a minute; plain `make test` runs their seeds.
FUZZ_API := FuzzCreateWebhook FuzzPatchWebhook FuzzSendEvent FuzzSendBatch FuzzEventTypeSchema FuzzListCursor FuzzCanonicalJSON

fuzz:
	@for f in $(FUZZ_API); do $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime 60s ./api/ || exit 1; done
	@# Every provider package with a FuzzVerify: a new provider is fuzzed without an edit here.
	@for d in $$(grep -l '^func FuzzVerify' platforms/*/*_test.go | xargs -n1 dirname | sort -u); do $(GO) test -run '^$$' -fuzz '^FuzzVerify$$' -fuzztime 30s ./$$d/ || exit 1; done

clean:
	rm -rf bin
