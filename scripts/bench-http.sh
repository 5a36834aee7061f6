#!/usr/bin/env bash
# HTTP benchmark of the release build on the embedded store, with wrk (Debian package).
# Usage: scripts/bench-http.sh [duration, default 10s] [connections, default 32]
# Prints requests/s and latency percentiles per route. Server and wrk share the machine.
set -euo pipefail
cd "$(dirname "$0")/.."
duration="${1:-10s}"
connections="${2:-32}"

command -v wrk >/dev/null || { echo "wrk not found: apt-get install wrk" >&2; exit 1; }
cargo build --release --quiet --bin dmr

work="$(mktemp -d)"
trap 'kill "$server" 2>/dev/null || true; rm -rf "$work"' EXIT
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
LOG_LEVEL=warn HOST=127.0.0.1 PORT="$port" DATA_DIR="$work/data" LOG_DIR="$work/logs" \
    MODELS_DIR="$PWD/models" target/release/dmr serve >"$work/server.log" 2>&1 &
server=$!
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/health" >/dev/null && break; sleep 0.1; done
base="http://127.0.0.1:$port"
curl -sf "$base/api/models/bench/User" >/dev/null   # compile once: the route below is an L1 hit

cat >"$work/count.lua" <<'LUA'
wrk.method = "POST"
wrk.body   = '{"modelName":"User","operation":"count"}'
wrk.headers["Content-Type"] = "application/json"
LUA

run() {
    local name="$1"; shift
    local out
    out="$(wrk -t2 -c"$connections" -d"$duration" --latency "$@")"
    printf '%-38s %10s req/s   p50 %8s   p99 %8s\n' "$name" \
        "$(awk '/Requests\/sec/ {print $2}' <<<"$out")" \
        "$(awk '$1=="50%" {print $2}' <<<"$out")" \
        "$(awk '$1=="99%" {print $2}' <<<"$out")"
}

echo "dmr $(git rev-parse --short HEAD 2>/dev/null || echo '?'), $(nproc) cores, wrk -t2 -c$connections -d$duration"
run "GET /health (no registry)" "$base/health"
run "GET /api/models/:t/:m (L1 hit)" "$base/api/models/bench/User"
run "POST /api/models/:t/test count (SQLite)" -s "$work/count.lua" "$base/api/models/bench/test"
echo "resident memory after the runs: $(ps -o rss= -p "$server" | awk '{printf "%.1f MiB", $1/1024}')"
