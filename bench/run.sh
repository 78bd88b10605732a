#!/usr/bin/env bash
# bench/run.sh — reproduce BENCHMARKS.md (`make bench`).
#
# Measures, in one run on this machine and against its real Redis
# (127.0.0.1:6379) and PostgreSQL (127.0.0.1:5432, database test):
#   1. the ceiling: redis-benchmark calling the enrollment script by EVALSHA,
#      a new user per call (plain, and 16-deep pipelined);
#   2. assignd over HTTP at maximum throughput (closed loop): the 50%-returning
#      mix and new users only (-returning 0), with the answer cache on (the
#      default), plus wrk cross-checks: the sticky read path, the
#      multi-experiment form, and the 50%-returning mix (bench/wrk-mix.lua);
#   3. latency at half of (2)'s rate (open loop), with Redis's commands per
#      second during the run (assign-loadtest -redis-commands);
#   8. the answer cache off (issue 14): assignd restarted with
#      -answer-cache=false, the runs of (2) (mix and new users only) and (3)
#      at the same rate as (3), then restarted with the defaults; the report
#      compares throughput, p99, Redis commands/s and the CPU per decision of
#      assignd and Redis (new users measured, returning users derived from the
#      mix and the new-users run);
#   4. the naive PostgreSQL baseline (one transaction per enrollment);
#   5. Go benchmarks of the hot path (benchstat-friendly output), the answer
#      cache's BenchmarkCache (bytes/entry) among them, and a regression guard:
#      benchstat against the Go benchmark lines of the previous BENCHMARKS.md
#      (the file this run replaces, or BENCH_BASELINE);
#   6. Redis memory per member at 1M members, throughput as members grow to
#      1M, and throughput from 1 to 1,000 experiments;
#   7. Redis Cluster: a local 3-master, 3-replica cluster (cmd/assign-devcluster)
#      and a second assignd against one seed node; the runs of (2) and (3)
#      again, one hot experiment (-experiments 1: one slot, one shard), and
#      (2) and (3) with -redis-min-replicas 1; the CPU of assignd and of every
#      redis-server of the cluster, masters and replicas;
# then writes BENCHMARKS.md with the machine, every command and the verdicts.
# (The numbers are the report's sections; the steps run in the order 1, 2, 3,
# 8, 7, 4, 5, 6.)
#
# Everything runs on loopback. assignd gets its own port and key namespace,
# and every key it wrote is deleted at the end; the cluster lives in the
# bench's work dir and is stopped and removed at the end. Tools that are
# missing come from Debian's packages; benchstat is built into the bench's
# work dir (go install, pinned; not in go.mod). Whole run: about 10 minutes
# on an idle 2-core machine (BENCH_QUICK=1: about 3 minutes, for a smoke
# test; its single Go benchmark run is too few for benchstat to judge).
#
# Knobs (environment): BENCH_QUICK=1, BENCH_DURATION (default 10s),
# BENCH_FILL (members for (6), default 1000000), BENCH_CLUSTER=0 (skip (7)),
# BENCH_OUT (default BENCHMARKS.md), BENCH_BASELINE (the previous report the
# Go benchmarks are compared with; default BENCH_OUT as it was before this
# run), REDIS_URL, PG_URL.
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
QUICK=${BENCH_QUICK:-0}
DUR=${BENCH_DURATION:-10s}
SCALE_DUR=5s
FILL=${BENCH_FILL:-1000000}
FILL_MAX=150s        # the fill stops here even if it has not reached FILL members
CEIL_N=300000
CEIL_P16_N=600000
USERS=200000
BENCHTIME=300ms
BENCHCOUNT=5         # benchstat: 5 against the previous file's 3 to 5 runs can pass p < 0.05 (3 against 3 never can)
BENCHSTAT_VERSION=v0.0.0-20260908200009-22c9c6c9d4da
WARMUP=2s            # unmeasured load before each measured run (connections, pools, caches)
EXPERIMENT_SCALE="1 10 100 1000"
CLUSTER=${BENCH_CLUSTER:-1}
if [ "$QUICK" = 1 ]; then
	DUR=3s SCALE_DUR=2s FILL=${BENCH_FILL:-50000} FILL_MAX=30s CEIL_N=50000 CEIL_P16_N=100000 USERS=50000
	BENCHTIME=100ms BENCHCOUNT=1 EXPERIMENT_SCALE="1 100" WARMUP=1s
fi
OUT=${BENCH_OUT:-$ROOT/BENCHMARKS.md}
BASELINE=${BENCH_BASELINE:-$OUT}
REDIS_HOST=127.0.0.1
REDIS_PORT=6379
REDIS_URL=${REDIS_URL:-redis://$REDIS_HOST:$REDIS_PORT}
PG_URL=${PG_URL:-postgres://postgres@127.0.0.1:5432/test?sslmode=disable}

log() { printf '\033[1m== %s\033[0m\n' "$*" >&2; }

# --- tools -------------------------------------------------------------------
install_tools() {
	local need=()
	command -v redis-benchmark >/dev/null || need+=(redis-tools)
	command -v redis-cli >/dev/null || need+=(redis-tools)
	command -v wrk >/dev/null || need+=(wrk)
	command -v curl >/dev/null || need+=(curl)
	command -v openssl >/dev/null || need+=(openssl)
	if [ "$CLUSTER" = 1 ]; then
		command -v jq >/dev/null || need+=(jq)
		command -v redis-server >/dev/null || need+=(redis-server)
	fi
	if ! command -v redis-server >/dev/null && ! redis_up; then need+=(redis-server); fi
	if [ ${#need[@]} -gt 0 ]; then
		log "installing ${need[*]} from Debian packages"
		export DEBIAN_FRONTEND=noninteractive
		apt-get update -qq
		apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
	fi
}
redis_up() { command -v redis-cli >/dev/null && [ "$(redis-cli -h $REDIS_HOST -p $REDIS_PORT ping 2>/dev/null)" = PONG ]; }
pg_up() { (exec 3<>/dev/tcp/127.0.0.1/5432) 2>/dev/null; }

install_tools
if ! redis_up; then
	log "starting redis-server on $REDIS_HOST:$REDIS_PORT"
	mkdir -p /var/lib/redis /var/log/redis
	redis-server --daemonize yes --bind 127.0.0.1 --port $REDIS_PORT --save "" --appendonly no \
		--dir /var/lib/redis --logfile /var/log/redis/bench.log
	for _ in $(seq 50); do redis_up && break; sleep 0.1; done
fi
redis_up || { echo "bench: no Redis at $REDIS_HOST:$REDIS_PORT" >&2; exit 1; }

# --- build, workspace, cleanup -------------------------------------------------
WORK=$(mktemp -d /tmp/assign-bench.XXXXXX)
RES=$WORK/results
BIN=$WORK/bin
mkdir -p "$RES" "$BIN"
NS="bench-$(date +%s)-$$:"
ADMIN=$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
SECRET=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
ASSIGND_PID=
CLUSTER_ASSIGND_PID=
DEVCLUSTER_PID=
CLUSTER_DIR=$WORK/cluster
CLUSTER_PIDS=

# stop_cluster stops (7)'s assignd and the devcluster (SIGTERM: it stops its
# redis-servers; any node still alive after that is killed by its pid) and
# removes the cluster's dir. Called after (7) and from cleanup.
stop_cluster() {
	if [ -n "$CLUSTER_ASSIGND_PID" ]; then
		kill "$CLUSTER_ASSIGND_PID" 2>/dev/null || true
		wait "$CLUSTER_ASSIGND_PID" 2>/dev/null || true
		CLUSTER_ASSIGND_PID=
	fi
	if [ -n "$DEVCLUSTER_PID" ]; then
		kill "$DEVCLUSTER_PID" 2>/dev/null || true
		for _ in $(seq 100); do kill -0 "$DEVCLUSTER_PID" 2>/dev/null || break; sleep 0.1; done
		kill -9 "$DEVCLUSTER_PID" 2>/dev/null || true
		wait "$DEVCLUSTER_PID" 2>/dev/null || true
		DEVCLUSTER_PID=
	fi
	local pid
	for pid in $CLUSTER_PIDS; do
		# A node the devcluster could not stop: still a redis-server (not a reused pid)?
		if grep -qs redis-server "/proc/$pid/cmdline"; then kill -9 "$pid" 2>/dev/null || true; fi
	done
	CLUSTER_PIDS=
	rm -rf "$CLUSTER_DIR"
}

cleanup() {
	set +e
	if [ -n "$ASSIGND_PID" ]; then kill "$ASSIGND_PID" 2>/dev/null; wait "$ASSIGND_PID" 2>/dev/null; fi
	stop_cluster
	redis-cli -h $REDIS_HOST -p $REDIS_PORT --scan --pattern "${NS}*" | xargs -r -n 1000 redis-cli -h $REDIS_HOST -p $REDIS_PORT del >/dev/null
	rm -rf "$WORK"
}
trap cleanup EXIT
# Ctrl-C or a TERM ends the whole bench through cleanup: otherwise bash would
# go on with the next step once a generator had handled the signal.
trap 'exit 130' INT
trap 'exit 143' TERM

log "building assignd, assign-loadtest, assign-devcluster and the report writer"
go build -o "$BIN/" ./cmd/assignd ./cmd/assign-loadtest ./cmd/assign-devcluster ./bench/report ./bench/tokens
# benchstat for (5)'s regression guard, pinned, into the work dir (outside
# the module: go install pkg@version ignores go.mod). Without it the report
# says the comparison was not made.
log "installing benchstat $BENCHSTAT_VERSION"
GOBIN=$BIN go install "golang.org/x/perf/cmd/benchstat@$BENCHSTAT_VERSION" >"$WORK/benchstat-install.log" 2>&1 ||
	{ tail -5 "$WORK/benchstat-install.log" >&2; log "benchstat could not be installed: no regression guard in this run"; }

# cmd records the command that produced a result, for BENCHMARKS.md.
cmd() { local name=$1; shift; printf '%s\t%s\n' "$name" "$*" >>"$RES/commands.tsv"; }

# --- the machine ---------------------------------------------------------------
{
	echo "date=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
	echo "commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD 2>/dev/null || echo '+uncommitted')"
	echo "cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
	echo "cores=$(nproc)"
	echo "memory=$(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo)"
	echo "kernel=$(uname -r)"
	echo "go=$(go version | cut -d' ' -f3-)"
	echo "redis=$(redis-cli -h $REDIS_HOST -p $REDIS_PORT info server | tr -d '\r' | awk -F: '/^redis_version/ {print $2}')"
	echo "postgres=$(psql --version 2>/dev/null | head -1 || echo unknown)"
	echo "loadavg_start=$(cut -d' ' -f1-3 /proc/loadavg)"
	echo "quick=$QUICK"
} >"$RES/machine.env"

# --- assignd ------------------------------------------------------------------------
PORT=
for p in $(seq 18080 18180); do
	if ! (exec 3<>/dev/tcp/127.0.0.1/$p) 2>/dev/null; then PORT=$p; break; fi
done
[ -n "$PORT" ] || { echo "bench: no free port in 18080-18180" >&2; exit 1; }
URL=http://127.0.0.1:$PORT
ENROLL_PATH=/api/experiment-enrollments
ASSIGND_ARGS=(-addr 127.0.0.1:$PORT -redis-url "$REDIS_URL" -namespace "$NS" -admin-token "$ADMIN"
	-jwt-secret "$SECRET" -exporter=false -log-level warn -log-format json)
REDIS_PID=$(redis-cli -h $REDIS_HOST -p $REDIS_PORT info server | tr -d '\r' | awk -F: '/^process_id/ {print $2}')
ASSIGND_SHOWN_BASE="assignd -addr 127.0.0.1:$PORT -redis-url $REDIS_URL -namespace $NS -admin-token <random> -jwt-secret <random> -exporter=false -log-level warn"
LT_SHOWN="assign-loadtest -url $URL -admin-token <admin> -jwt-secret <secret> -redis-url $REDIS_URL -namespace $NS -json -watch assignd=<pid>,redis=<pid>"
# start_assignd [extra assignd flags...]: (re)starts the assignd under test
# on $URL, and points LT (whose -watch names its pid) at it. Every run
# reports the CPU time of assignd and Redis during the run (-watch).
start_assignd() {
	if [ -n "$ASSIGND_PID" ]; then
		kill "$ASSIGND_PID" 2>/dev/null || true
		wait "$ASSIGND_PID" 2>/dev/null || true
		ASSIGND_PID=
	fi
	"$BIN/assignd" "${ASSIGND_ARGS[@]}" "$@" >>"$WORK/assignd.log" 2>&1 &
	ASSIGND_PID=$!
	for _ in $(seq 100); do
		curl -fsS "$URL/healthz" >/dev/null 2>&1 && break
		kill -0 "$ASSIGND_PID" 2>/dev/null || break # it exited (a flag it refuses)
		sleep 0.1
	done
	curl -fsS "$URL/healthz" >/dev/null 2>&1 || return 1
	LT=("$BIN/assign-loadtest" -url "$URL" -admin-token "$ADMIN" -jwt-secret "$SECRET"
		-redis-url "$REDIS_URL" -namespace "$NS" -json -progress off -watch "assignd=$ASSIGND_PID,redis=$REDIS_PID")
	ASSIGND_SHOWN="$ASSIGND_SHOWN_BASE${*:+ $*}"
}
log "starting assignd on $URL (namespace $NS)"
start_assignd || { cat "$WORK/assignd.log" >&2; exit 1; }
echo "assignd=$ASSIGND_SHOWN" >>"$RES/machine.env"

# --- (1) the ceiling ---------------------------------------------------------------
log "(1) ceiling: redis-benchmark EVALSHA of scripts/enroll.lua"
curl -fsS -XPOST "$URL/api/experiment-create" -H 'Content-Type: application/json' -H "Authorization: Bearer $ADMIN" \
	-d '{"experiment_id":"ceiling","maximum_sample_size":1000000000,"sampling_probability":1,"groups":[{"group_name":"control","probability_of_falling_in":0.5},{"group_name":"treatment","probability_of_falling_in":0.5}]}' >/dev/null
# The full source: the contract's constants (scripts/contract.go) come first.
SHA=$(redis-cli -h $REDIS_HOST -p $REDIS_PORT SCRIPT LOAD "$(go run ./scripts/luasource enroll)")
PFX="${NS}{exp:ceiling}"
BUCKETS=$(redis-cli -h $REDIS_HOST -p $REDIS_PORT hget "$PFX" buckets)
FP=$(redis-cli -h $REDIS_HOST -p $REDIS_PORT hget "$PFX" fp)
# A new user per call: the bucket key and the user id each get their own
# random number (-r), so (bucket, user) pairs repeat about once in 4 billion.
# The draws are fixed decimals of the length the server sends; eligible = 1;
# then the definition's fingerprint and layout, and no platform (KEYS and
# ARGV as in scripts/contract.go: config, bucket, events, overrides).
CEIL_ARGS=(EVALSHA "$SHA" 4 "$PFX" "$PFX:m:__rand_int__" "$PFX:events" "$PFX:ovr" __rand_int__ __rand_int__ 0.4237918262847134 0.7311281392131562 1 "$FP" "$BUCKETS" "")
redis-benchmark -h $REDIS_HOST -p $REDIS_PORT -c 50 -n $CEIL_N -r "$BUCKETS" --csv "${CEIL_ARGS[@]}" >"$RES/ceiling.csv"
# The calls must really have enrolled (a refused call is faster and would
# inflate the ceiling): nearly every one records a new member.
CEIL_ENROLLED=$(redis-cli -h $REDIS_HOST -p $REDIS_PORT hget "$PFX" n)
if [ "${CEIL_ENROLLED:-0}" -lt $((CEIL_N * 9 / 10)) ]; then
	echo "bench: the ceiling run enrolled ${CEIL_ENROLLED:-0} of $CEIL_N calls: the script refused them (arguments out of date?)" >&2
	exit 1
fi
cmd ceiling "redis-benchmark -h $REDIS_HOST -p $REDIS_PORT -c 50 -n $CEIL_N -r $BUCKETS --csv ${CEIL_ARGS[*]}"
redis-benchmark -h $REDIS_HOST -p $REDIS_PORT -c 50 -P 16 -n $CEIL_P16_N -r "$BUCKETS" --csv "${CEIL_ARGS[@]}" >"$RES/ceiling_p16.csv"
cmd ceiling_p16 "redis-benchmark -h $REDIS_HOST -p $REDIS_PORT -c 50 -P 16 -n $CEIL_P16_N -r $BUCKETS --csv ${CEIL_ARGS[*]}"

# --- (2) maximum throughput through HTTP --------------------------------------------
log "(2) assignd at maximum throughput (closed loop, 64 connections, $DUR)"
MAX_FLAGS=(-experiments 10 -users $USERS -returning 0.5 -connections 64 -duration $DUR -warmup $WARMUP)
"${LT[@]}" "${MAX_FLAGS[@]}" -prefix max >"$RES/max.json" 2>"$RES/max.log" || true
cmd max "$LT_SHOWN ${MAX_FLAGS[*]} -prefix max"
# New users only (every request a first one: the answer cache cannot answer
# any), the flags of (2) otherwise.
NEW_FLAGS=(-experiments 10 -users $USERS -returning 0 -connections 64 -duration $DUR -warmup $WARMUP)
log "(2) new users only (-returning 0)"
"${LT[@]}" "${NEW_FLAGS[@]}" -prefix maxnew >"$RES/max_new.json" 2>"$RES/max_new.log" || true
cmd max_new "$LT_SHOWN ${NEW_FLAGS[*]} -prefix maxnew"

# A second generator for the same server, as a cross-check of the first:
# wrk, one user's token (the sticky read path: a returning member).
TOKEN=$(printf '%s' '{"alg":"HS256","typ":"JWT"}' | openssl base64 -A | tr '+/' '-_' | tr -d '=').$(printf '{"sub":"c0a80101-0000-4000-8000-00000000beef","exp":%d}' $(( $(date +%s) + 7200 )) | openssl base64 -A | tr '+/' '-_' | tr -d '=')
TOKEN=$TOKEN.$(printf '%s' "$TOKEN" | openssl dgst -sha256 -hmac "$SECRET" -binary | openssl base64 -A | tr '+/' '-_' | tr -d '=')
TOKEN="$TOKEN" EXPERIMENT=max-0 wrk -t 2 -c 64 -d $DUR --latency -s bench/wrk-enroll.lua "$URL$ENROLL_PATH" >"$RES/wrk.txt" 2>&1 || true
cmd wrk "TOKEN=<one user's HS256 token> EXPERIMENT=max-0 wrk -t 2 -c 64 -d $DUR --latency -s bench/wrk-enroll.lua $URL$ENROLL_PATH"
# The same with the multi-experiment form, 5 experiments a call: decisions/s
# is 5 x requests/s (a screen under five tests).
BATCH_BODY='{"experiment_ids":["max-0","max-1","max-2","max-3","max-4"]}'
TOKEN="$TOKEN" BODY="$BATCH_BODY" wrk -t 2 -c 64 -d $DUR --latency -s bench/wrk-enroll.lua "$URL$ENROLL_PATH" >"$RES/wrk_batch5.txt" 2>&1 || true
cmd wrk_batch5 "TOKEN=<one user's HS256 token> BODY='$BATCH_BODY' wrk -t 2 -c 64 -d $DUR --latency -s bench/wrk-enroll.lua $URL$ENROLL_PATH"

# wrk_mix NAME PREFIX: the 50%-returning mix of (2) from wrk (C: the
# generator takes less of the machine than assign-loadtest, and verifies
# nothing): 10 new experiments PREFIX-0..9 (no cap in reach), the tokens of
# MIX_USERS fresh users (bench/tokens), 64 connections as in (2).
MIX_USERS=$((USERS * 2))
wrk_mix() {
	local name=$1 prefix=$2 i
	for i in $(seq 0 9); do
		curl -fsS -XPOST "$URL/api/experiment-create" -H 'Content-Type: application/json' -H "Authorization: Bearer $ADMIN" \
			-d "{\"experiment_id\":\"$prefix-$i\",\"maximum_sample_size\":1000000000,\"sampling_probability\":1,\"groups\":[{\"group_name\":\"control\",\"probability_of_falling_in\":0.5},{\"group_name\":\"treatment\",\"probability_of_falling_in\":0.5}]}" >/dev/null || return 0
	done
	"$BIN/tokens" -jwt-secret "$SECRET" -users $MIX_USERS -prefix "$prefix" -experiments 10 -out "$WORK/tokens_$name.tsv" || return 0
	TOKENS="$WORK/tokens_$name.tsv" THREADS=2 RETURNING=0.5 wrk -t 2 -c 64 -d $DUR --latency -s bench/wrk-mix.lua "$URL$ENROLL_PATH" >"$RES/$name.txt" 2>&1 || true
	rm -f "$WORK/tokens_$name.tsv"
	cmd "$name" "tokens -jwt-secret <secret> -users $MIX_USERS -prefix $prefix -experiments 10 -out tokens.tsv; TOKENS=tokens.tsv THREADS=2 RETURNING=0.5 wrk -t 2 -c 64 -d $DUR --latency -s bench/wrk-mix.lua $URL$ENROLL_PATH"
}
log "(2) the 50%-returning mix from wrk"
wrk_mix wrk_mix wmix

# --- (3) latency at half the maximum rate --------------------------------------------
RATE=$(awk -F'"ok_rate": ' 'NF > 1 {split($2, a, ","); printf "%d", a[1] / 2; exit}' "$RES/max.json")
RATE=${RATE:-0}
[ "$RATE" -gt 0 ] || RATE=1000 # (2) failed: still measure something, the report says so
log "(3) open loop at $RATE/s (half of (2))"
# More connections than (2): in an open loop the arrivals must not wait for a
# free connection of the generator (that wait would be the generator's
# queueing, not the server's). Latency still counts from the scheduled time.
# -redis-commands: Redis's total_commands_processed (INFO stats) at the start
# and the end of the measured run, over its wall time (every client's
# commands: assignd's heartbeats and pub/sub too).
OPEN_FLAGS=(-experiments 10 -users $USERS -returning 0.5 -connections 256 -rate "$RATE" -duration $DUR -warmup $WARMUP -redis-commands)
"${LT[@]}" "${OPEN_FLAGS[@]}" -prefix open >"$RES/open.json" 2>"$RES/open.log" || true
cmd open "$LT_SHOWN ${OPEN_FLAGS[*]} -prefix open"

# --- (8) the answer cache off -----------------------------------------------------------
# assignd restarted with -answer-cache=false (same port, namespace, Redis):
# the runs of (2), and (3) at (3)'s rate (not half of this maximum), so that
# Redis's commands per second compare like for like. Then assignd is
# restarted with the defaults for the rest of the bench.
log "(8) assignd restarted with -answer-cache=false"
if ! start_assignd -answer-cache=false; then
	tail -5 "$WORK/assignd.log" >&2
	echo "skipped=assignd -answer-cache=false did not start ($(tail -1 "$WORK/assignd.log" | cut -c1-200))" >"$RES/nocache.env"
	log "(8) skipped: assignd -answer-cache=false did not start"
else
	echo "assignd=$ASSIGND_SHOWN" >"$RES/nocache.env"
	cmd nocache_assignd "$ASSIGND_SHOWN"
	log "(8) cache off: maximum throughput (the flags of (2))"
	"${LT[@]}" "${MAX_FLAGS[@]}" -prefix nmax >"$RES/nocache_max.json" 2>"$RES/nocache_max.log" || true
	cmd nocache_max "$LT_SHOWN ${MAX_FLAGS[*]} -prefix nmax"
	log "(8) cache off: new users only"
	"${LT[@]}" "${NEW_FLAGS[@]}" -prefix nnew >"$RES/nocache_max_new.json" 2>"$RES/nocache_max_new.log" || true
	cmd nocache_max_new "$LT_SHOWN ${NEW_FLAGS[*]} -prefix nnew"
	log "(8) cache off: open loop at $RATE/s (the rate of (3))"
	"${LT[@]}" "${OPEN_FLAGS[@]}" -prefix nopen >"$RES/nocache_open.json" 2>"$RES/nocache_open.log" || true
	cmd nocache_open "$LT_SHOWN ${OPEN_FLAGS[*]} -prefix nopen"
	log "(8) cache off: the 50%-returning mix from wrk"
	wrk_mix nocache_wrk_mix nwmix
fi
log "(8) assignd restarted with the defaults"
start_assignd || { tail -20 "$WORK/assignd.log" >&2; exit 1; }

# --- (7) Redis Cluster ----------------------------------------------------------------
# Right after (2) and (3), so that the machine's other load is as close as it
# can be to theirs. The same runs, the same flags, against a second assignd
# whose -redis-url names one seed node of a local 3-master, 3-replica cluster.
free_port() {
	local p
	for p in $(seq "$1" "$2"); do
		if ! (exec 3<>/dev/tcp/127.0.0.1/$p) 2>/dev/null; then echo "$p"; return 0; fi
	done
	return 1
}
# start_cluster_assignd [extra assignd flags...]: (re)starts (7)'s assignd.
start_cluster_assignd() {
	if [ -n "$CLUSTER_ASSIGND_PID" ]; then
		kill "$CLUSTER_ASSIGND_PID" 2>/dev/null || true
		wait "$CLUSTER_ASSIGND_PID" 2>/dev/null || true
		CLUSTER_ASSIGND_PID=
	fi
	CARGS=(-addr 127.0.0.1:$CPORT -redis-url "$SEED_URL" -namespace "$NS" -admin-token "$ADMIN"
		-jwt-secret "$SECRET" -exporter=false -log-level warn -log-format json "$@")
	"$BIN/assignd" "${CARGS[@]}" >>"$WORK/assignd-cluster.log" 2>&1 &
	CLUSTER_ASSIGND_PID=$!
	for _ in $(seq 100); do curl -fsS "$CURL/healthz" >/dev/null 2>&1 && break; sleep 0.1; done
	curl -fsS "$CURL/healthz" >/dev/null 2>&1 || return 1
	CLT=("$BIN/assign-loadtest" -url "$CURL" -admin-token "$ADMIN" -jwt-secret "$SECRET"
		-redis-url "$SEED_URL" -namespace "$NS" -json -progress off -watch "assignd=$CLUSTER_ASSIGND_PID,$CLUSTER_WATCH")
	CLT_SHOWN="assign-loadtest -url $CURL -admin-token <admin> -jwt-secret <secret> -redis-url $SEED_URL -namespace $NS -json -watch assignd=<pid>,redis-master-<port>=<pid>,...,redis-replica-<port>=<pid>,..."
	CASSIGND_SHOWN="assignd -addr 127.0.0.1:$CPORT -redis-url $SEED_URL -namespace $NS -admin-token <random> -jwt-secret <random> -exporter=false -log-level warn${*:+ $*}"
}
# placement NAME PREFIX N: which master holds each experiment's keys
# (EXISTS answers 1 on the owner, MOVED elsewhere), one "id<TAB>master" a line.
placement() {
	local name=$1 prefix=$2 n=$3 i a
	for i in $(seq 0 $((n - 1))); do
		for a in $MASTERS; do
			if [ "$(redis-cli -h "${a%:*}" -p "${a##*:}" exists "${NS}{exp:$prefix-$i}" 2>/dev/null)" = 1 ]; then
				printf '%s-%d\t%s\n' "$prefix" "$i" "$a"
			fi
		done
	done >"$RES/cluster_placement_$name.tsv"
}
cluster_skip() {
	log "(7) skipped: $*"
	echo "skipped=$*" >>"$RES/cluster.env"
}

if [ "$CLUSTER" != 1 ]; then
	echo "skipped=BENCH_CLUSTER=$CLUSTER" >"$RES/cluster.env"
	log "(7) Redis Cluster skipped (BENCH_CLUSTER=$CLUSTER)"
else
	log "(7) Redis Cluster: starting 3 masters, 3 replicas (assign-devcluster)"
	echo "loadavg_start=$(cut -d' ' -f1-3 /proc/loadavg)" >"$RES/cluster.env"
	DC_ARGS=(-masters 3 -replicas 1 -json -dir "$CLUSTER_DIR")
	"$BIN/assign-devcluster" "${DC_ARGS[@]}" >"$WORK/devcluster.json" 2>"$WORK/devcluster.log" &
	DEVCLUSTER_PID=$!
	cmd cluster_start "assign-devcluster -masters 3 -replicas 1 -json -dir <bench work dir>/cluster"
	for _ in $(seq 1200); do
		[ -s "$WORK/devcluster.json" ] && break
		kill -0 "$DEVCLUSTER_PID" 2>/dev/null || break
		sleep 0.1
	done
	CPORT=
	if ! [ -s "$WORK/devcluster.json" ] || ! jq -e .seed_url "$WORK/devcluster.json" >/dev/null 2>&1; then
		tail -20 "$WORK/devcluster.log" >&2
		cluster_skip "assign-devcluster did not start a cluster ($(tail -1 "$WORK/devcluster.log" 2>/dev/null))"
	elif ! CPORT=$(free_port $((PORT + 1)) 18200); then
		cluster_skip "no free port for the cluster's assignd"
	fi
	if [ -n "$CPORT" ]; then
		cp "$WORK/devcluster.json" "$RES/cluster_nodes.json"
		SEED_URL=$(jq -r .seed_url "$WORK/devcluster.json")
		MASTERS=$(jq -r '.nodes[] | select(.role == "master") | .addr' "$WORK/devcluster.json" | tr '\n' ' ')
		CLUSTER_PIDS=$(jq -r '.nodes[].pid' "$WORK/devcluster.json" | tr '\n' ' ')
		# Every redis-server of the cluster by role and port: redis-master-7001=pid,...
		CLUSTER_WATCH=$(jq -r '[.nodes[] | "redis-\(.role)-\(.port)=\(.pid)"] | join(",")' "$WORK/devcluster.json")
		{
			echo "seed_url=$SEED_URL"
			echo "redis=$(redis-server --version | awk '{print $3}' | sed 's/^v=//')"
			echo "node_timeout=$(jq -r .node_timeout "$WORK/devcluster.json")"
		} >>"$RES/cluster.env"
		CURL=http://127.0.0.1:$CPORT
		log "(7) starting a second assignd on $CURL against the seed $SEED_URL"
		if ! start_cluster_assignd; then
			tail -20 "$WORK/assignd-cluster.log" >&2
			cluster_skip "the cluster's assignd did not start ($(tail -1 "$WORK/assignd-cluster.log"))"
		else
			echo "assignd=$CASSIGND_SHOWN" >>"$RES/cluster.env"
			cmd cluster_assignd "$CASSIGND_SHOWN"

			log "(7) cluster: maximum throughput (the flags of (2))"
			"${CLT[@]}" "${MAX_FLAGS[@]}" -prefix cmax >"$RES/cluster_max.json" 2>"$RES/cluster_max.log" || true
			cmd cluster_max "$CLT_SHOWN ${MAX_FLAGS[*]} -prefix cmax"
			placement max cmax 10

			CRATE=$(awk -F'"ok_rate": ' 'NF > 1 {split($2, a, ","); printf "%d", a[1] / 2; exit}' "$RES/cluster_max.json")
			CRATE=${CRATE:-0}
			[ "$CRATE" -gt 0 ] || CRATE=1000
			log "(7) cluster: open loop at $CRATE/s (half of the cluster's maximum; the flags of (3))"
			COPEN_FLAGS=(-experiments 10 -users $USERS -returning 0.5 -connections 256 -rate "$CRATE" -duration $DUR -warmup $WARMUP)
			"${CLT[@]}" "${COPEN_FLAGS[@]}" -prefix copen >"$RES/cluster_open.json" 2>"$RES/cluster_open.log" || true
			cmd cluster_open "$CLT_SHOWN ${COPEN_FLAGS[*]} -prefix copen"

			log "(7) cluster: one hot experiment (the flags of (2) with -experiments 1)"
			HOT_FLAGS=(-experiments 1 -users $USERS -returning 0.5 -connections 64 -duration $DUR -warmup $WARMUP)
			"${CLT[@]}" "${HOT_FLAGS[@]}" -prefix chot >"$RES/cluster_hot.json" 2>"$RES/cluster_hot.log" || true
			cmd cluster_hot "$CLT_SHOWN ${HOT_FLAGS[*]} -prefix chot"
			placement hot chot 1

			log "(7) cluster: assignd restarted with -redis-min-replicas 1"
			if ! start_cluster_assignd -redis-min-replicas 1; then
				tail -20 "$WORK/assignd-cluster.log" >&2
				echo "durable_skipped=assignd -redis-min-replicas 1 did not start" >>"$RES/cluster.env"
			else
				echo "durable_assignd=$CASSIGND_SHOWN" >>"$RES/cluster.env"
				cmd cluster_durable_assignd "$CASSIGND_SHOWN"
				"${CLT[@]}" "${MAX_FLAGS[@]}" -prefix dmax >"$RES/cluster_durable_max.json" 2>"$RES/cluster_durable_max.log" || true
				cmd cluster_durable_max "$CLT_SHOWN ${MAX_FLAGS[*]} -prefix dmax"
				DRATE=$(awk -F'"ok_rate": ' 'NF > 1 {split($2, a, ","); printf "%d", a[1] / 2; exit}' "$RES/cluster_durable_max.json")
				DRATE=${DRATE:-0}
				[ "$DRATE" -gt 0 ] || DRATE=1000
				log "(7) cluster, -redis-min-replicas 1: open loop at $DRATE/s (half of its maximum)"
				DOPEN_FLAGS=(-experiments 10 -users $USERS -returning 0.5 -connections 256 -rate "$DRATE" -duration $DUR -warmup $WARMUP)
				"${CLT[@]}" "${DOPEN_FLAGS[@]}" -prefix dopen >"$RES/cluster_durable_open.json" 2>"$RES/cluster_durable_open.log" || true
				cmd cluster_durable_open "$CLT_SHOWN ${DOPEN_FLAGS[*]} -prefix dopen"
			fi
		fi
	fi
	echo "loadavg_end=$(cut -d' ' -f1-3 /proc/loadavg)" >>"$RES/cluster.env"
	log "(7) stopping the cluster"
	stop_cluster
fi

# --- (4) the naive PostgreSQL baseline ----------------------------------------------
if pg_up; then
	for variant in count counter; do
		log "(4) PostgreSQL baseline ($variant)"
		PG_FLAGS=(-target pg -pg-url "$PG_URL" -experiments 10 -users $USERS -returning 0.5 -connections 32 -duration $DUR -warmup $WARMUP)
		[ $variant = counter ] && PG_FLAGS+=(-pg-counter)
		"$BIN/assign-loadtest" "${PG_FLAGS[@]}" -json -progress off >"$RES/pg_$variant.json" 2>"$RES/pg_$variant.log" || true
		cmd "pg_$variant" "assign-loadtest ${PG_FLAGS[*]} -json"
	done
else
	log "(4) skipped: no PostgreSQL on 127.0.0.1:5432"
fi

# --- (5) Go benchmarks of the hot path ----------------------------------------------
log "(5) go test -bench (hot path packages)"
PKGS=()
for p in ./assign ./auth ./http ./redisstore ./answercache; do
	grep -qs '^func Benchmark' "$p"/*_test.go && PKGS+=("$p")
done
BENCH_CMD=(go test -run '^$' -bench . -benchmem -count $BENCHCOUNT -benchtime $BENCHTIME "${PKGS[@]}")
"${BENCH_CMD[@]}" >"$RES/gobench.txt" 2>&1 || echo "(some benchmarks failed; see above)" >>"$RES/gobench.txt"
cmd gobench "${BENCH_CMD[*]}"

# The regression guard: this run's Go benchmarks against the raw go test
# lines of the previous report (read now, before it is replaced).
log "(5) benchstat against the Go benchmarks of $BASELINE"
if ! [ -f "$BASELINE" ]; then
	echo "status=no_previous" >"$RES/benchstat.env"
else
	"$BIN/report" -extract-gobench "$BASELINE" >"$RES/gobench_prev.txt"
	{
		echo "previous=$BASELINE"
		echo "previous_commit=$(sed -n 's/.* at commit \([^ .]*\).*/\1/p' "$BASELINE" | head -1)"
	} >"$RES/benchstat.env"
	if ! grep -q '^Benchmark' "$RES/gobench_prev.txt"; then
		echo "status=no_lines" >>"$RES/benchstat.env"
	elif ! [ -x "$BIN/benchstat" ]; then
		echo "status=no_benchstat" >>"$RES/benchstat.env"
	else
		(cd "$RES" && "$BIN/benchstat" previous=gobench_prev.txt this-run=gobench.txt >benchstat.txt 2>&1 &&
			"$BIN/benchstat" -format csv previous=gobench_prev.txt this-run=gobench.txt >benchstat.csv 2>/dev/null) &&
			echo "status=ok" >>"$RES/benchstat.env" || echo "status=failed" >>"$RES/benchstat.env"
	fi
fi
cmd benchstat "benchstat previous=<the Go benchmark lines of $BASELINE> this-run=<this run's go test -bench output>"

# --- (6) memory per member and scaling ----------------------------------------------
log "(6) fill one experiment to $FILL members (at most $FILL_MAX), then memory per member"
USED0=$(redis-cli -h $REDIS_HOST -p $REDIS_PORT info memory | tr -d '\r' | awk -F: '/^used_memory:/ {print $2}')
# The warm-up's users (up to 20,000, another population) join the same
# experiment first: the cap leaves them room, so the fill itself reaches FILL.
FILL_FLAGS=(-experiments 1 -cap "$((FILL + 20000))" -users "$FILL" -requests "$FILL" -returning 0 -connections 64 -duration $FILL_MAX -warmup $WARMUP -memory)
"${LT[@]}" "${FILL_FLAGS[@]}" -prefix fill >"$RES/fill.json" 2>"$RES/fill.log" || true
USED1=$(redis-cli -h $REDIS_HOST -p $REDIS_PORT info memory | tr -d '\r' | awk -F: '/^used_memory:/ {print $2}')
echo "used_memory_delta=$((USED1 - USED0))" >"$RES/fill_info.env"
cmd fill "$LT_SHOWN ${FILL_FLAGS[*]} -prefix fill"
cmd fill_info "redis-cli info memory (used_memory before and after the fill)"

# Two rounds, the second in reverse order, so a drift of the machine's other
# load does not pass for a trend; the report takes the better of the two.
REVERSED=$(echo $EXPERIMENT_SCALE | tr ' ' '\n' | tac | tr '\n' ' ')
for round in 1 2; do
	order=$EXPERIMENT_SCALE
	[ $round = 2 ] && order=$REVERSED
	for n in $order; do
		log "(6) $n experiments (round $round)"
		SCALE_FLAGS=(-experiments "$n" -users 100000 -returning 0.5 -connections 64 -duration $SCALE_DUR -warmup $WARMUP)
		"${LT[@]}" "${SCALE_FLAGS[@]}" -prefix "scale$n-r$round" >"$RES/experiments_${n}_r$round.json" 2>"$RES/experiments_${n}_r$round.log" || true
		cmd "experiments_$n" "$LT_SHOWN ${SCALE_FLAGS[*]} -prefix scale$n-r<round>"
	done
done
echo "loadavg_end=$(cut -d' ' -f1-3 /proc/loadavg)" >>"$RES/machine.env"
echo "bench_seconds=$SECONDS (the whole make bench until here)" >>"$RES/machine.env"

# --- the report ------------------------------------------------------------------------
log "writing $OUT"
"$BIN/report" -results "$RES" -out "$OUT"
# Keep the raw results of the last run outside the repository, for a look.
rm -rf /tmp/assign-bench-last && cp -r "$RES" /tmp/assign-bench-last
log "done: $OUT (raw results in /tmp/assign-bench-last)"
