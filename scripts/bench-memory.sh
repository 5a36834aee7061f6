#!/usr/bin/env bash
# Memory: resident size at idle, and with TENANTS tenants x 3 models compiled and cached,
# against the same load with L1 off (stores open, models not cached): the difference is
# what the cached models cost.
# Usage: scripts/bench-memory.sh [tenants, default 6000]            (SQLite, the default store)
#        STORE=mongodb scripts/bench-memory.sh [tenants, default 10000]  (a local SecantusDB)
# On SQLite each open tenant store holds three descriptors (the database, its WAL and its
# shared-memory index), and this machine allows 20,000 open files: 6,000 tenants at most.
# On MongoDB a tenant is a database on the one client, so 10,000 tenants fit.
set -euo pipefail
cd "$(dirname "$0")/.."
store="${STORE:-sqlite}"
case "$store" in
    sqlite) tenants="${1:-6000}" ;;
    mongodb) tenants="${1:-10000}" ;;
    *) echo "STORE must be sqlite or mongodb, not $store" >&2; exit 2 ;;
esac
cargo build --release --quiet --bin dmr
ulimit -n "$(ulimit -Hn)"   # three descriptors per open SQLite file (db, wal, shm)

work="$(mktemp -d)"
pid=""
mongo_pid=""
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; [ -n "$mongo_pid" ] && kill "$mongo_pid" 2>/dev/null; rm -rf "$work"' EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

store_env=()
if [ "$store" = mongodb ]; then
    . scripts/test-services.sh   # secantusd-py
    mongo_port="$(free_port)"
    "$DMR_SECANTUSD" --host 127.0.0.1 --port "$mongo_port" --log-level WARNING \
        --storage-path "$work/mongo" >"$work/mongo.log" 2>&1 &
    mongo_pid=$!
    for _ in $(seq 600); do (echo >"/dev/tcp/127.0.0.1/$mongo_port") 2>/dev/null && break; sleep 0.1; done
    store_env=(MONGODB_URI="mongodb://127.0.0.1:$mongo_port")
fi
rss_mib() { awk '/VmRSS/ {printf "%.1f", $2/1024}' "/proc/$1/status"; }

# measure NAME L1_SIZE: prints idle and loaded RSS (MiB) for one fresh instance.
measure() {
    local name="$1" l1="$2" port
    port="$(free_port)"
    env LOG_LEVEL=warn HOST=127.0.0.1 PORT="$port" DATA_DIR="$work/$name" LOG_DIR="$work/logs-$name" \
        MODELS_DIR="$PWD/models" MAX_OPEN_TENANTS="$tenants" L1_CACHE_MAX_SIZE="$l1" L1_CACHE_TTL=86400000 SQLITE_POOL_SIZE=1 \
        RATE_LIMIT_MAX_REQUESTS=16777214 TENANT_RATE_LIMIT_MAX_REQUESTS=16777214 "${store_env[@]}" \
        target/release/dmr serve >"$work/$name.log" 2>&1 &
    pid=$!
    for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/health" >/dev/null && break; sleep 0.1; done
    local idle; idle="$(rss_mib "$pid")"
    # GET /api/models/:tenantId compiles the tenant's three models; 8 clients in parallel.
    python3 - "$port" "$tenants" <<'PY'
import http.client, sys, threading
port, tenants = int(sys.argv[1]), int(sys.argv[2])
def worker(start):
    conn = http.client.HTTPConnection("127.0.0.1", port)
    for t in range(start, tenants, 8):
        conn.request("GET", f"/api/models/mem{t}")
        response = conn.getresponse(); body = response.read()
        assert response.status == 200, body
threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
[t.start() for t in threads]; [t.join() for t in threads]
PY
    sleep 1
    local counts loaded
    loaded="$(rss_mib "$pid")"
    counts="$(curl -sf "http://127.0.0.1:$port/api/models/stats" |
        python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["cache"]["l1"]["size"], d["connections"]["totalConnections"])')"
    kill "$pid"; wait "$pid" 2>/dev/null || true; pid=""
    echo "$idle $loaded $counts"
}

read -r idle cached l1_entries open_cached <<<"$(measure cached $((tenants * 3)))"
read -r _ uncached l1_off open_uncached <<<"$(measure uncached 0)"
echo "store: $store, tenants: $tenants, models per tenant: 3"
echo "idle resident size:                         $idle MiB"
echo "L1 on:  $l1_entries models cached, $open_cached tenant stores open: $cached MiB"
echo "L1 off: $l1_off models cached, $open_uncached tenant stores open: $uncached MiB"
awk -v a="$cached" -v b="$uncached" -v i="$idle" -v n="$l1_entries" -v t="$tenants" 'BEGIN {
    printf "per cached model: %.0f bytes; per open tenant store (over idle): %.1f KiB\n",
        (a - b) * 1048576 / n, (b - i) * 1024 / t }'
