#!/usr/bin/env bash
# Memory, two measurements.
#
# scripts/bench-memory.sh idle [requests, default 16000]
#   One release instance at the default configuration (SQLite, no Redis, LOG_LEVEL=info;
#   only the rate limits are set out of reach, which changes no table's size): its
#   resident memory 2 s after start-up, right after a burst of mixed traffic (8 clients:
#   L1 hits, document inserts, lists and counts on 20 tenants: the SQLite work runs on
#   tokio's blocking threads), 30 s later (IDLE_AFTER, seconds), and once the 20 tenants'
#   stores are closed (`DELETE /api/models/connection/:tenantId`, what the idle sweep does
#   after TENANT_IDLE_TIMEOUT_MS: what they held), broken down by kind
#   of mapping (scripts/memory_breakdown.py: binary, shared libraries, thread stacks,
#   glibc heap and arenas, mimalloc) with the thread count. Settings in the caller's
#   environment reach the server, so a candidate is measured on and off by running it
#   twice, e.g. `TOKIO_WORKER_THREADS=1 scripts/bench-memory.sh idle`; DMR_BIN=path measures
#   another build (no cargo build then).
#
# scripts/bench-memory.sh [tenants, default 6000]            (SQLite, the default store)
# STORE=mongodb scripts/bench-memory.sh [tenants, default 10000]  (a local SecantusDB)
#   Resident size at idle, and with TENANTS tenants x 3 models compiled and cached,
#   against the same load with L1 off (stores open, models not cached): the difference is
#   what the cached models cost.
#   On SQLite each open tenant store holds three descriptors (the database, its WAL and its
#   shared-memory index), and this machine allows 20,000 open files: 6,000 tenants at most.
#   On MongoDB a tenant is a database on the one client, so 10,000 tenants fit.
set -euo pipefail
cd "$(dirname "$0")/.."
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

if [ "${1:-}" = idle ]; then
    requests="${2:-16000}"
    # DMR_BIN measures another build (an earlier commit's, for a before/after).
    bin="${DMR_BIN:-target/release/dmr}"
    [ -n "${DMR_BIN:-}" ] || cargo build --release --quiet --bin dmr
    work="$(mktemp -d)"
    pid=""
    trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$work"' EXIT
    port="$(free_port)"
    env HOST=127.0.0.1 PORT="$port" DATA_DIR="$work/data" LOG_DIR="$work/logs" MODELS_DIR="$PWD/models" \
        RATE_LIMIT_MAX_REQUESTS=16777214 TENANT_RATE_LIMIT_MAX_REQUESTS=16777214 \
        "$bin" serve >"$work/server.log" 2>&1 &
    pid=$!
    for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/health" >/dev/null && break; sleep 0.1; done
    curl -sf "http://127.0.0.1:$port/health" >/dev/null || { cat "$work/server.log" >&2; exit 1; }
    sleep 2
    python3 scripts/memory_breakdown.py snapshot "$pid" start-up "$work/1.json"
    python3 - "$port" "$requests" <<'PY'
import http.client, json, sys, threading
port, requests = int(sys.argv[1]), int(sys.argv[2])
def worker(w):
    conn = http.client.HTTPConnection("127.0.0.1", port)
    for i in range(requests // 8):
        tenant = f"idle{(w * 7 + i) % 20}"
        base = f"/api/models/{tenant}/User"
        kind = i % 4
        if kind == 0:
            conn.request("GET", base)
        elif kind == 1:
            body = json.dumps({"email": f"u{w}-{i}@example.com", "username": f"u{w}-{i}",
                               "firstName": "Ada", "lastName": "Lovelace"})
            conn.request("POST", base + "/documents", body, {"Content-Type": "application/json"})
        elif kind == 2:
            conn.request("GET", base + "/documents?limit=10")
        else:
            conn.request("GET", base + "/documents/count")
        response = conn.getresponse(); answer = response.read()
        assert response.status in (200, 201), (response.status, answer)
threads = [threading.Thread(target=worker, args=(w,)) for w in range(8)]
[t.start() for t in threads]; [t.join() for t in threads]
PY
    python3 scripts/memory_breakdown.py snapshot "$pid" "after $requests" "$work/2.json"
    sleep "${IDLE_AFTER:-30}"
    python3 scripts/memory_breakdown.py snapshot "$pid" "${IDLE_AFTER:-30} s later" "$work/3.json"
    # What the open tenant stores hold: close them (as the idle sweep would), then look again.
    for t in $(seq 0 19); do
        curl -sf -X DELETE "http://127.0.0.1:$port/api/models/connection/idle$t" >/dev/null
    done
    sleep 1
    python3 scripts/memory_breakdown.py snapshot "$pid" "stores closed" "$work/4.json"
    kill "$pid"; wait "$pid" 2>/dev/null || true; pid=""
    echo "default configuration (SQLite, no Redis, LOG_LEVEL=info), $(nproc) cores${MEASURE_NOTE:+; $MEASURE_NOTE}"
    python3 scripts/memory_breakdown.py table "$work"/[1-4].json
    exit 0
fi

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
