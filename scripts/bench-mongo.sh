#!/usr/bin/env bash
# The registry's MongoDB document routes against raw driver calls doing the same work, in
# one run against one MongoDB wire-protocol server (SecantusDB from PyPI; point
# MONGODB_URI at a real mongod to measure that instead).
# Usage: scripts/bench-mongo.sh [duration seconds, default 10] [concurrency, default 8]
# Prints requests/s and p50/p99 for each pair, and the registry's share of the raw rate.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-10}"
concurrency="${2:-8}"

command -v wrk >/dev/null || { echo "wrk not found: apt-get install wrk" >&2; exit 1; }
cargo build --release --quiet --bin dmr --bin mongo-raw
. scripts/test-services.sh   # secantusd-py

work="$(mktemp -d)"
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true; rm -rf "$work"' EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

if [ -z "${MONGODB_URI:-}" ]; then
    mongo_port="$(free_port)"
    "$DMR_SECANTUSD" --host 127.0.0.1 --port "$mongo_port" --log-level WARNING \
        --storage-path "$work/mongo" >"$work/mongo.log" 2>&1 &
    pids+=($!)
    for _ in $(seq 600); do (echo >"/dev/tcp/127.0.0.1/$mongo_port") 2>/dev/null && break; sleep 0.1; done
    MONGODB_URI="mongodb://127.0.0.1:$mongo_port"
    server_name="SecantusDB (secantusd-py, one Python process)"
else
    server_name="MONGODB_URI"
fi

port="$(free_port)"
env LOG_LEVEL=warn HOST=127.0.0.1 PORT="$port" DATA_DIR="$work/data" LOG_DIR="$work/logs" \
    MODELS_DIR="$PWD/models" MONGODB_URI="$MONGODB_URI" MONGODB_POOL_SIZE="$concurrency" \
    RATE_LIMIT_MAX_REQUESTS=1000000000 target/release/dmr serve >"$work/dmr.log" 2>&1 &
pids+=($!)
base="http://127.0.0.1:$port"
for _ in $(seq 100); do curl -sf "$base/health" >/dev/null && break; sleep 0.1; done
curl -sf "$base/health" >/dev/null || { cat "$work/dmr.log" >&2; exit 1; }

# 200 Orders of 20 customers, through the registry (so both sides read the same data).
for i in $(seq 1 200); do
    customer="$(printf '%024x' $((i % 20 + 1)))"
    curl -sf -H 'Content-Type: application/json' "$base/api/models/bench/Order/documents" -d \
        "{\"customerId\":\"$customer\",\"items\":[{\"productId\":\"$customer\",\"sku\":\"S1\",\"quantity\":2,\"price\":9.5}],\"payment\":{\"method\":\"paypal\"},\"totals\":{\"subtotal\":19,\"total\":19}}" >/dev/null
done
order_id="$(curl -sf "$base/api/models/bench/Order/documents?limit=1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["documents"][0]["_id"])')"
customer="$(printf '%024x' 7)"
cat >"$work/query.lua" <<LUA
wrk.method = "POST"
wrk.body   = '{"filter":{"customerId":"$customer"},"limit":10}'
wrk.headers["Content-Type"] = "application/json"
LUA

row() { printf '%-46s %10s req/s   p50 %9s   p99 %9s\n' "$@"; }
registry() {
    local name="$1"; shift
    local out
    out="$(wrk -t2 -c"$concurrency" -d"${seconds}s" --latency "$@")"
    registry_rps="$(awk '/Requests\/sec/ {print $2}' <<<"$out")"
    row "$name" "$registry_rps" "$(awk '$1=="50%" {print $2}' <<<"$out")" "$(awk '$1=="99%" {print $2}' <<<"$out")"
}
raw() {
    local name="$1"; shift
    local out
    out="$(env MONGODB_URI="$MONGODB_URI" DB=tenant_bench COLLECTION=orders CONCURRENCY="$concurrency" \
        DURATION_SECS="$seconds" "$@" target/release/mongo-raw)"
    raw_rps="$(awk '{print $1}' <<<"$out")"
    row "$name" "$raw_rps" "$(awk '{print $4}' <<<"$out")" "$(awk '{print $6}' <<<"$out")"
    awk -v a="$registry_rps" -v b="$raw_rps" 'BEGIN {printf "%-46s %9.2fx of the raw driver'"'"'s rate\n", "  registry / raw", a / b}'
}

echo "dmr $(git rev-parse --short HEAD 2>/dev/null || echo '?'), $(nproc) cores, against $server_name"
echo "concurrency $concurrency (wrk connections / driver tasks, pool size $concurrency), ${seconds}s each"
registry "registry GET .../Order/documents/:id" "$base/api/models/bench/Order/documents/$order_id"
raw "raw driver find_one({_id})" OP=get ID="$order_id"
registry "registry POST .../documents/query customerId" -s "$work/query.lua" "$base/api/models/bench/Order/documents/query"
raw "raw driver find({customerId}).sort(_id).limit(10)" OP=query FIELD=customerId VALUE="$customer" LIMIT=10
