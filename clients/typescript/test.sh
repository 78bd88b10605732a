#!/usr/bin/env bash
# Tests the TypeScript client (clients/typescript) against a running assignd:
#
#   1. installs the pinned devDependencies (npm ci) and builds dist/;
#   2. fails when src/openapi.ts is stale against openapi/openapi.json;
#   3. type-checks the tests' compile-time assertions (test/types.ts);
#   4. builds ./cmd/assignd and starts two on free ports with the embedded
#      defaults (an in-process Redis, a DuckDB file in a temporary directory):
#      one for the API tests (with a metrics file for the results route),
#      one with -max-conns 1 whose only slot the
#      tests hold to get assignd's real 503 with its fallback;
#   5. waits for /readyz, runs node --test with the URLs and credentials in
#      the environment, and stops both servers.
#
# Run from anywhere: bash clients/typescript/test.sh (.ci/run calls it).
# Needs node >= 18 with npm, Go, and the npm registry (or a warm npm cache).
set -euo pipefail
cd "$(dirname "$0")"
pkg=$(pwd)
root=$(cd ../.. && pwd)

for tool in node npm go; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		echo "clients/typescript/test.sh: $tool is not installed; the TypeScript client cannot be tested" >&2
		exit 1
	fi
done
node -e 'const [maj] = process.versions.node.split(".").map(Number); if (maj < 18) { console.error(`node ${process.version}: the client needs node >= 18`); process.exit(1) }'
echo "node $(node --version), npm $(npm --version)"

npm ci --no-audit --no-fund --loglevel=error # its prepare script builds dist/
npm run --silent check-generated
npm run --silent typecheck-tests

tmp=$(mktemp -d)
pids=()
cleanup() {
	status=$?
	for pid in "${pids[@]}"; do
		kill "$pid" 2>/dev/null || true
	done
	for pid in "${pids[@]}"; do
		wait "$pid" 2>/dev/null || true
	done
	if [ "$status" -ne 0 ]; then
		for log in "$tmp"/*.log; do
			[ -e "$log" ] || continue
			echo "--- last lines of $(basename "$log")" >&2
			tail -n 20 "$log" >&2
		done
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT

(cd "$root" && go build -o "$tmp/assignd" ./cmd/assignd)

export ASSIGN_ADMIN_TOKEN="ts-admin-$(node -e 'process.stdout.write(require("crypto").randomBytes(16).toString("hex"))')"
export ASSIGN_JWT_SECRET="ts-jwt-$(node -e 'process.stdout.write(require("crypto").randomBytes(24).toString("hex"))')"

# start NAME FLAGS...: starts assignd on a free port (-addr 127.0.0.1:0) and
# sets url to its URL, read from its "assignd listening" log line, once
# /readyz answers 200. (Not in a subshell: cleanup must know the pid.)
start() {
	local name=$1
	shift
	"$tmp/assignd" -addr 127.0.0.1:0 -admin-token "ts:$ASSIGN_ADMIN_TOKEN" -jwt-secret "$ASSIGN_JWT_SECRET" \
		-warehouse-url "$tmp/$name.duckdb" -log-format json "$@" >"$tmp/$name.out" 2>"$tmp/$name.log" &
	pids+=($!)
	local pid=$!
	url=""
	for _ in $(seq 300); do
		url=$(sed -n 's/.*"msg":"assignd listening".*"addr":"\([^"]*\)".*/\1/p' "$tmp/$name.log" | head -n1)
		[ -n "$url" ] && break
		if ! kill -0 "$pid" 2>/dev/null; then
			echo "assignd ($name) exited before listening" >&2
			return 1
		fi
		sleep 0.1
	done
	if [ -z "$url" ]; then
		echo "assignd ($name) did not listen within 30 s" >&2
		return 1
	fi
	node -e '
		const url = process.argv[1] + "/readyz";
		const until = Date.now() + 30000;
		(async () => {
			for (;;) {
				try { if ((await fetch(url)).status === 200) return; } catch {}
				if (Date.now() > until) { console.error(url + " is not ready after 30 s"); process.exit(1); }
				await new Promise((r) => setTimeout(r, 100));
			}
		})();' "$url"
}

# The metrics file of the results route: a conversion read from the
# enrollments table itself (users whose id starts with buyer- converted).
cat >"$tmp/metrics.yaml" <<'YAML'
correction: none
metrics:
  - name: bought
    type: binary
    role: goal
    direction: higher
    sql: "SELECT user_id, now() AS at, 1 AS converted FROM enrollments WHERE user_id LIKE 'buyer-%'"
YAML

start main -metrics-file "$tmp/metrics.yaml"
export ASSIGN_URL=$url
start limited -max-conns 1
export ASSIGN_LIMITED_URL=$url
echo "assignd at $ASSIGN_URL, and at $ASSIGN_LIMITED_URL with -max-conns 1"

node --test --test-reporter=spec test/*.test.js
