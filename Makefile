# The README's two commands: `make run` and `make test`.
GO ?= go
BIN := bin

.PHONY: run build test test-race bench tools clean cluster

## run: build and start assignd with the embedded defaults (no Redis or PostgreSQL needed); the
## console's results read the demo's metrics (examples/shipping-address/metrics-demo.yaml)
run: build
	./$(BIN)/assignd -metrics-file examples/shipping-address/metrics-demo.yaml

## build: build every binary into ./bin
build:
	$(GO) build -o $(BIN)/ ./cmd/...

## test: run every test; Redis (127.0.0.1:6379) and PostgreSQL (127.0.0.1:5432, db test) are used when present
test:
	$(GO) vet ./...
	$(GO) test -count=1 -timeout 15m ./...
	$(MAKE) fuzz

## fuzz: run each fuzz target for FUZZTIME: a count of inputs by default (10000x, about 3 s each
## here), because Go 1.26's fuzzer can fail a duration run at its deadline with a bare "context
## deadline exceeded" and no failing input (golang/go#75804, fixed in Go 1.27); a duration such as
## make fuzz FUZZTIME=10m still works for a long run
FUZZTIME ?= 10000x
.PHONY: fuzz
fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzValidateText$$' -fuzztime $(FUZZTIME) ./assign
	$(GO) test -run '^$$' -fuzz '^FuzzEncodeUserID$$' -fuzztime $(FUZZTIME) ./redisstore
	$(GO) test -run '^$$' -fuzz '^FuzzEnrollBody$$' -fuzztime $(FUZZTIME) ./http
	$(GO) test -run '^$$' -fuzz '^FuzzCreateBody$$' -fuzztime $(FUZZTIME) ./http
	$(GO) test -run '^$$' -fuzz '^FuzzUpdateBody$$' -fuzztime $(FUZZTIME) ./http
	$(GO) test -run '^$$' -fuzz '^FuzzVerify$$' -fuzztime $(FUZZTIME) ./auth
	$(GO) test -run '^$$' -fuzz '^FuzzVerifySigned$$' -fuzztime $(FUZZTIME) ./auth
	$(GO) test -run '^$$' -fuzz '^FuzzDecodeClaims$$' -fuzztime $(FUZZTIME) ./auth

## test-race: every test under the race detector (slower)
test-race:
	$(GO) test -race -count=1 -timeout 30m ./...

## bench: reproduce BENCHMARKS.md (installs redis-tools, wrk, hyperfine if missing)
bench:
	bash bench/run.sh

## tools: install the Debian packages the tests and benchmarks use
tools:
	bash .ci/install-tools

cluster: ## start a local 3-master, 3-replica Redis Cluster (Ctrl-C stops it)
	$(GO) run ./cmd/assign-devcluster

clean:
	rm -rf $(BIN)
