# payflow — the two commands that matter are `make run` and `make test`.
SHELL := /bin/bash
GO ?= go
BIN := bin/payflow
export DATABASE_URL ?= postgres://payflow:payflow@127.0.0.1:5432/payflow?sslmode=disable

.PHONY: run run-prod soak-ci test test-deps build postgres vet lint fmt fuzz bench soak tidy

## run: start PostgreSQL if needed, then the whole stack (payflow dev)
run: postgres build
	PAYFLOW_ENV=$${PAYFLOW_ENV:-dev} $(BIN) dev

## run-prod: the production shape in the foreground: a real Temporal server
## v1.32.0 on PostgreSQL, its Web UI, the sandboxes, two api and two worker
## processes (scripts/run-prod.sh; Ctrl-C stops everything)
run-prod: postgres
	@scripts/run-prod.sh

# Packages whose code or tests link the Temporal server run without the race
# detector: building that server again with -race would double the cold build
# (scripts/test-packages.sh sorts them from go list).

## test: start PostgreSQL if needed, install test tools, then every test and,
## last, the short production-shape soak (soak-ci)
test: postgres test-deps
	$(GO) vet ./...
	$(GO) test -count=1 -race -timeout 10m $$(scripts/test-packages.sh light)
	$(GO) test -count=1 -timeout 25m $$(scripts/test-packages.sh heavy)
	$(MAKE) soak-ci

## soak-ci: a short soak on the production shape (a Temporal server on
## PostgreSQL, two api and two worker processes) under every provider fault,
## with a worker kill and a Temporal restart; the last step of `make test`
## (about 90 s). It prints its seed; `make soak-ci SOAK_SEED=N` replays it.
SOAK_CI_FLAGS ?= --checkouts 30 --transactions 12 --deposits 6 -c 6 --faults all \
	--kills --kill-set worker,temporal --payment-timeout 8s --stall-timeout 15s --reconcile-interval 5s --late-window 10s
soak-ci: postgres
	@scripts/run-prod.sh --build-only
	PAYFLOW_TEMPORAL_SCHEMA="$$($(GO) list -m -f '{{.Dir}}' go.temporal.io/server)/schema/postgresql/v12" \
	  timeout 15m bin/payflow soak --shape prod $(SOAK_CI_FLAGS) $(if $(SOAK_SEED),--seed $(SOAK_SEED))

build:
	$(GO) build -o $(BIN) ./cmd/payflow

postgres:
	@scripts/postgres.sh

test-deps:
	@scripts/test-deps.sh

vet:
	$(GO) vet ./...

## lint: go vet and staticcheck (fetched by go run, pinned)
STATICCHECK ?= honnef.co/go/tools/cmd/staticcheck@v0.8.2
lint: vet
	$(GO) run $(STATICCHECK) ./...

fmt:
	gofmt -l -w $$(git ls-files '*.go')

## fuzz: each webhook parser and verifier, and every API endpoint's decoding
## and validation (api/fuzz_test.go, on PostgreSQL), for FUZZ_TIME each (not
## part of `make test`)
FUZZ_TIME ?= 60s
API_FUZZ := FuzzDecodeBody FuzzCatalog FuzzCheckouts FuzzCheckoutActions FuzzCurrencyManager FuzzInboxListing FuzzWebhooks
fuzz: postgres
	@for pkg in ./providers/checkoutcom ./providers/rehive ./providers/ledger; do \
	  for target in FuzzParseWebhook FuzzVerifyWebhook; do \
	    echo "== $$pkg $$target"; \
	    $(GO) test -run='^$$' -fuzz="^$$target$$" -fuzztime=$(FUZZ_TIME) $$pkg || exit 1; \
	  done; \
	done
	@for target in $(API_FUZZ); do \
	  echo "== ./api $$target"; \
	  $(GO) test -run='^$$' -fuzz="^$$target$$" -fuzztime=$(FUZZ_TIME) ./api || exit 1; \
	done

## bench: payflow against the raw engine (throughput, POST p99, webhook ack p99) in one run; writes bench.json
bench: postgres build
	$(BIN) bench --json bench.json

## soak: a minute of mixed checkouts under provider faults, then the invariants
soak: postgres build
	$(BIN) soak

tidy:
	$(GO) mod tidy
