# The README's two commands: `make run` and `make test`.
GO ?= go
BIN := bin

.PHONY: run build test test-race bench tools clean cluster

## run: build and start assignd with the embedded defaults (no Redis or PostgreSQL needed)
run: build
	./$(BIN)/assignd

## build: build every binary into ./bin
build:
	$(GO) build -o $(BIN)/ ./cmd/...

## test: run every test; Redis (127.0.0.1:6379) and PostgreSQL (127.0.0.1:5432, db test) are used when present
test:
	$(GO) vet ./...
	$(GO) test -count=1 -timeout 15m ./...

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
