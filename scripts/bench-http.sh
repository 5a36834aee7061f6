#!/usr/bin/env bash
# HTTP benchmark of the release build on the embedded store, with wrk (Debian package,
# installed when missing). Usage: scripts/bench-http.sh [duration, default 10s] [connections, default 32]
# One run, one machine: the bare axum ceiling, the same with the registry's response
# headers, the same writing the registry's two access lines per request, /health, an L1 hit at the defaults users run (LOG_LEVEL=info: one access-log
# line per request to stdout and combined.log; /metrics counting), the same on a quiet
# instance (LOG_LEVEL=warn), an L1 hit with authentication on (an instance with
# ADMIN_API_KEY, each request carrying its tenant's key), in ROUNDS interleaved rounds
# (default 3; medians printed); then once each: an L2 hit (a second instance with L1
# disabled, on a local redis-server) under the same load and at 4 connections, and the
# SQLite-bound routes.
# Servers and wrk share every core by default; PIN=1 runs the servers on the last core and
# wrk on the others (taskset): steadier ratios to the ceiling, but the store-bound routes
# then share one core with Redis and SQLite's threads.
set -euo pipefail
cd "$(dirname "$0")/.."
duration="${1:-10s}"
connections="${2:-32}"
rounds="${ROUNDS:-3}"

if ! command -v wrk >/dev/null; then
    echo "bench-http: installing wrk (Debian package)" >&2
    if [ "$(id -u)" -eq 0 ]; then sudo=(); else sudo=(sudo); fi
    "${sudo[@]}" apt-get update -qq
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null
fi
cargo build --release --quiet --bin dmr --bin bare-axum

. scripts/test-services.sh   # redis-server for the L2 instance

work="$(mktemp -d)"
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true; rm -rf "$work"' EXIT
cores="$(nproc)"
if [ "${PIN:-0}" = 1 ] && [ "$cores" -ge 2 ] && command -v taskset >/dev/null; then
    server_cpu="taskset -c $((cores - 1))"
    client_cpu="taskset -c 0-$((cores - 2))"
    wrk_threads=$((cores - 1))
    mode="servers on core $((cores - 1)), wrk on cores 0-$((cores - 2))"
else
    server_cpu="" client_cpu="" wrk_threads=2 mode="servers and wrk share every core"
fi
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

redis_port="$(free_port)"
$server_cpu "$DMR_REDIS_SERVER" --bind 127.0.0.1 --port "$redis_port" --save "" --appendonly no --dir "$work" >/dev/null 2>&1 &
pids+=($!)

# wrk is one client: the product's 100 requests per 15 minutes would refuse nearly every
# request. The limits stay on (their cost is measured) but are never met.
limits=(RATE_LIMIT_MAX_REQUESTS=16777214 TENANT_RATE_LIMIT_MAX_REQUESTS=16777214 TENANT_MAX_CONCURRENCY=100000)
# start NAME PORT [VAR=VALUE...]: one dmr instance on the shared DATA_DIR, at the default
# LOG_LEVEL (info) unless told otherwise; its stdout goes to a file, as a service's does.
start() {
    local name="$1" port="$2"; shift 2
    env HOST=127.0.0.1 PORT="$port" DATA_DIR="$work/data" LOG_DIR="$work/logs-$name" \
        MODELS_DIR="$PWD/models" "${limits[@]}" "$@" $server_cpu target/release/dmr serve >"$work/$name.log" 2>&1 &
    pids+=($!)
    for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/health" >/dev/null && return; sleep 0.1; done
    echo "$name did not start:" >&2; cat "$work/$name.log" >&2; exit 1
}
port="$(free_port)"; l2_port="$(free_port)"; ceiling_port="$(free_port)"; auth_port="$(free_port)"
PORT="$ceiling_port" $server_cpu target/release/bare-axum >/dev/null 2>&1 &
pids+=($!)
headers_port="$(free_port)"
HEADERS=1 PORT="$headers_port" $server_cpu target/release/bare-axum >/dev/null 2>&1 &
pids+=($!)
# The same with the registry's two access lines per request (ACCESS_LOG=1): stdout to a
# file and combined.log, as the default instance writes them: the ceiling of any server
# that keeps the seed's one line per request.
logged_port="$(free_port)"
mkdir -p "$work/logs-bare"
HEADERS=1 ACCESS_LOG=1 LOG_DIR="$work/logs-bare" PORT="$logged_port" $server_cpu target/release/bare-axum >"$work/bare.log" 2>&1 &
pids+=($!)
tenants=1000
start l1 "$port" REDIS_URL="redis://127.0.0.1:$redis_port" L1_CACHE_MAX_SIZE=$((tenants * 2))
server="${pids[-1]}"
quiet_port="$(free_port)"
start quiet "$quiet_port" REDIS_URL="redis://127.0.0.1:$redis_port" L1_CACHE_MAX_SIZE=$((tenants * 2)) LOG_LEVEL=warn
start l2 "$l2_port" REDIS_URL="redis://127.0.0.1:$redis_port" L1_CACHE_MAX_SIZE=0
admin_key="bench-admin-key-$(date +%s%N)-0123456789abcdef"
start auth "$auth_port" REDIS_URL="redis://127.0.0.1:$redis_port" L1_CACHE_MAX_SIZE=$((tenants * 2)) \
    ADMIN_API_KEY="$admin_key"
base="http://127.0.0.1:$port"
# Compile (bench0..bench999, User) once on the first instance: from then on each of its
# requests is an L1 hit, and each of the second instance's (L1 off) an L2 hit. Rotating
# over many tenants keeps concurrent requests off the same key, so they do not coalesce.
for i in $(seq 0 $((tenants - 1))); do
    curl -sf "$base/api/models/bench$i/User" >/dev/null
    curl -sf "http://127.0.0.1:$quiet_port/api/models/bench$i/User" >/dev/null
done
cat >"$work/rotate.lua" <<LUA
local n = 0
request = function()
  n = n + 1
  return wrk.format("GET", "/api/models/bench" .. (n % $tenants) .. "/User")
end
LUA

# One key per tenant on the authenticated instance, its models compiled with that key.
python3 - "$auth_port" "$admin_key" "$tenants" "$work/rotate-auth.lua" <<'PY'
import json, sys, urllib.request
port, admin, tenants, out = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
def call(method, path, key):
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", method=method,
                                     headers={"Authorization": f"Bearer {key}"})
    with urllib.request.urlopen(request) as response:
        return json.load(response)
keys = [call("POST", f"/api/admin/tenants/bench{i}/keys", admin)["key"] for i in range(tenants)]
for i, key in enumerate(keys):
    call("GET", f"/api/models/bench{i}/User", key)
with open(out, "w") as lua:
    lua.write("local keys = {\n" + "".join(f'  "{k}",\n' for k in keys) + "}\n")
    lua.write(f"""local n = 0
request = function()
  n = n + 1
  local i = n % {tenants}
  return wrk.format("GET", "/api/models/bench" .. i .. "/User", {{["Authorization"] = "Bearer " .. keys[i + 1]}})
end
""")
PY

cat >"$work/count.lua" <<'LUA'
wrk.method = "POST"
wrk.body   = '{"modelName":"User","operation":"count"}'
wrk.headers["Content-Type"] = "application/json"
LUA
# Orders for 1,000 customers: a realistic validated write (defaults, generated
# orderNumber, casting, timestamps) into a collection with five indexes.
cat >"$work/create.lua" <<'LUA'
request = function()
  local customer = string.format("%024x", math.random(1, 1000))
  local body = '{"customerId":"' .. customer .. '","items":[{"productId":"' .. customer ..
    '","sku":"S1","quantity":2,"price":9.5},{"productId":"' .. customer ..
    '","sku":"S2","quantity":"1","price":3}],"payment":{"method":"paypal"},' ..
    '"totals":{"subtotal":22,"total":22},"shipping":{"address":{"city":"Lyon"}}}'
  return wrk.format("POST", "/api/models/bench0/Order/documents", {["Content-Type"] = "application/json"}, body)
end
LUA
cat >"$work/query.lua" <<'LUA'
wrk.method = "POST"
wrk.body   = '{"filter":{"customerId":"000000000000000000000007"},"limit":10}'
wrk.headers["Content-Type"] = "application/json"
LUA

# measure ARGS...: one wrk run; sets rps, p50, p99.
measure() {
    local out
    out="$($client_cpu wrk -t"$wrk_threads" -c"$connections" -d"$duration" --latency "$@")"
    rps="$(awk '/Requests\/sec/ {print $2}' <<<"$out")"
    p50="$(awk '$1=="50%" {print $2}' <<<"$out")"
    p99="$(awk '$1=="99%" {print $2}' <<<"$out")"
}
row() { printf '%-46s %10s req/s   p50 %8s   p99 %8s   %s\n' "$@"; }
median() { sort -g | awk '{v[NR]=$1} END {print (NR % 2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'; }
# wrk prints 250.00us, 1.20ms, 2.00s: in milliseconds, for the median.
to_ms() { awk '{v=$1; if (v ~ /us$/) v=v/1000; else if (v ~ /ms$/) v=v+0; else if (v ~ /s$/) v=v*1000; print v}'; }

echo "dmr $(git rev-parse --short HEAD 2>/dev/null || echo '?'), $cores cores ($mode), wrk -t$wrk_threads -c$connections -d$duration"

# The hot routes, interleaved: each round runs every one of them once, so slow and fast
# moments of a shared machine fall on all of them; a ratio is taken within a round.
names=("bare axum, same path shape (ceiling)"
       "bare axum + the registry's response headers"
       "bare axum + headers + the access lines"
       "GET /health (no registry)"
       "GET /api/models/:t/:m (L1 hit), defaults"
       "same, LOG_LEVEL=warn (no access log)"
       "same, L1 hit, tenant key checked")
targets=("-s $work/rotate.lua http://127.0.0.1:$ceiling_port"
         "-s $work/rotate.lua http://127.0.0.1:$headers_port"
         "-s $work/rotate.lua http://127.0.0.1:$logged_port"
         "$base/health"
         "-s $work/rotate.lua $base"
         "-s $work/rotate.lua http://127.0.0.1:$quiet_port"
         "-s $work/rotate-auth.lua http://127.0.0.1:$auth_port")
declare -A results
for round in $(seq "$rounds"); do
    for i in "${!names[@]}"; do
        # shellcheck disable=SC2086 # the target is options and a URL
        measure ${targets[$i]}
        results[$i,$round]="$rps $(to_ms <<<"$p50") $(to_ms <<<"$p99")"
    done
done
echo "medians of $rounds interleaved rounds; last columns: req/s over the ceiling's, over the"
echo "ceiling-with-headers' and over the ceiling-with-headers-and-access-lines', in the same"
echo "round (median of the rounds)"
for i in "${!names[@]}"; do
    col() { for r in $(seq "$rounds"); do awk -v c="$1" '{print $c}' <<<"${results[$i,$r]}"; done | median; }
    ratio() { for r in $(seq "$rounds"); do
        awk -v a="$(awk '{print $1}' <<<"${results[$i,$r]}")" -v b="$(awk '{print $1}' <<<"${results[$1,$r]}")" \
            'BEGIN {printf "%.3f\n", a / b}'; done | median; }
    ratios=""
    [ "$i" -gt 0 ] && ratios="$(printf '%.2fx' "$(ratio 0)")"
    [ "$i" -gt 1 ] && ratios="$ratios  $(printf '%.2fx' "$(ratio 1)")"
    [ "$i" -gt 3 ] && ratios="$ratios  $(printf '%.2fx' "$(ratio 2)")"
    row "${names[$i]}" "$(printf '%.0f' "$(col 1)")" "$(col 2)ms" "$(col 3)ms" "$ratios"
done

echo "once each:"
once() { local name="$1"; shift; measure "$@"; row "$name" "$rps" "$p50" "$p99" ""; }
once "GET /api/models/:t/:m (L2 hit, L1 off)" -s "$work/rotate.lua" "http://127.0.0.1:$l2_port"
connections_saved="$connections"; connections=4
once "same, L2 hit, 4 connections" -s "$work/rotate.lua" "http://127.0.0.1:$l2_port"
connections="$connections_saved"
once "POST /api/models/:t/test count (SQLite)" -s "$work/count.lua" "$base/api/models/bench0/test"
once "POST .../documents (create an Order)" -s "$work/create.lua" "$base"
orders="$(curl -sf "$base/api/models/bench0/Order/documents/count" | python3 -c 'import json,sys; print(json.load(sys.stdin)["count"])')"
order_id="$(curl -sf "$base/api/models/bench0/Order/documents?limit=1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["documents"][0]["_id"])')"
once "GET .../documents/:id" "$base/api/models/bench0/Order/documents/$order_id"
once "POST .../documents/query (customerId index)" -s "$work/query.lua" "$base/api/models/bench0/Order/documents/query"
echo "the Order collection held $orders documents for the two read runs"
echo "access-log lines the default instance wrote to combined.log: $(wc -l <"$work/logs-l1/combined.log")"
echo "resident memory of the L1 instance ($tenants compiled models cached): $(ps -o rss= -p "$server" | awk '{printf "%.1f MiB", $1/1024}')"
curl -sf "http://127.0.0.1:$l2_port/api/models/stats" | python3 -c 'import json,sys; r=json.load(sys.stdin)["registry"]; print("L2 instance: %d L2 hits, %d coalesced waiters, %d compiles" % (r["cacheHits"]["l2"], r["coalescedWaiters"], r["modelCreations"]))'
