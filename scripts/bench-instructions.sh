#!/usr/bin/env bash
# Instructions per request, counted by valgrind's callgrind: repeatable for the same
# binary and inputs whatever else the machine is doing (unlike requests/s on a shared VM).
# Usage: scripts/bench-instructions.sh [requests, default 5000]
# Runs, one at a time under callgrind: the bare axum ceiling, the same with the registry's
# response headers (HEADERS=1), and the registry's L1-hit route (100 tenants compiled
# first) at the default LOG_LEVEL and at warn, and at the defaults with trace export on
# (OTEL_EXPORTER_OTLP_ENDPOINT to a receiver on loopback). Each gets the requests one after another on one keep-alive connection (curl),
# after a warm-up; counting starts after the warm-up (callgrind_control -z). Prints
# instructions (Ir) and first-level data-cache misses (simulated) per request.
set -euo pipefail
cd "$(dirname "$0")/.."
requests="${1:-5000}"
for tool in valgrind callgrind_control callgrind_annotate curl; do
    command -v "$tool" >/dev/null || { echo "$tool not found: apt-get install valgrind curl" >&2; exit 1; }
done
cargo build --release --quiet --bin dmr --bin bare-axum

work="$(mktemp -d)"
pid=""
receiver=""
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; [ -n "$receiver" ] && kill "$receiver" 2>/dev/null; rm -rf "$work"' EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# count FILE NAME COMMAND...: the server, with the variables in $vars, listens on $port;
# prints one line. (The variables go to valgrind: a program exec'd under it is not traced;
# and no HOST: callgrind_control finds valgrind by the HOST it was started with.)
count() {
    local file="$1" name="$2"; shift 2
    env "${vars[@]}" valgrind --tool=callgrind --cache-sim=yes --callgrind-out-file="$work/$file.out" "$@" \
        >"$work/$file.log" 2>&1 &
    pid=$!
    for _ in $(seq 600); do curl -sf "http://127.0.0.1:$port/health" >/dev/null && break; curl -sf "http://127.0.0.1:$port/api/models/w/User" >/dev/null && break; sleep 0.2; done
    for i in $(seq 0 99); do curl -sf "http://127.0.0.1:$port/api/models/bench$i/User" >/dev/null; done
    for i in $(seq 0 $((requests - 1))); do
        printf 'url = "http://127.0.0.1:%s/api/models/bench%d/User"\noutput = /dev/null\n' "$port" $((i % 100))
    done >"$work/urls"
    curl -s -K "$work/urls"   # warm-up
    callgrind_control -z "$pid" >/dev/null 2>&1
    curl -s -K "$work/urls"
    callgrind_control -d "$pid" >/dev/null 2>&1
    sleep 1
    kill "$pid"; wait "$pid" 2>/dev/null || true; pid=""
    local dump
    dump="$(ls -t "$work/$file.out"* | grep -v '\.out$' | head -1 || true)"
    [ -n "$dump" ] || dump="$work/$file.out"
    callgrind_annotate "$dump" 2>/dev/null | awk -v n="$requests" -v name="$name" '/PROGRAM TOTALS/ {
        gsub(",", ""); gsub(/\([^)]*\)/, "");
        split($0, v, " +"); i = (v[1] == "") ? 2 : 1;
        printf "%-44s %8.0f Ir   %6.0f D1 misses per request\n", name, v[i] / n, (v[i+4] + v[i+5]) / n }'
}

echo "dmr $(git rev-parse --short HEAD 2>/dev/null || echo '?'), $requests sequential keep-alive requests, callgrind"
port="$(free_port)"
vars=(PORT="$port")
count bare "bare axum (ceiling)" target/release/bare-axum
port="$(free_port)"
vars=(PORT="$port" HEADERS=1)
count headers "bare axum + the registry's response headers" target/release/bare-axum
port="$(free_port)"
registry=(DATA_DIR="$work/data" LOG_DIR="$work/logs" MODELS_DIR="$PWD/models"
          RATE_LIMIT_MAX_REQUESTS=16777214 TENANT_RATE_LIMIT_MAX_REQUESTS=16777214
          TENANT_MAX_CONCURRENCY=100000)
# The defaults users run (LOG_LEVEL=info: an access-log line per request, to stdout, here
# a file, and combined.log), then without the access log.
vars=(PORT="$port" "${registry[@]}")
count l1 "GET /api/models/:t/:m (L1 hit), defaults" target/release/dmr serve
port="$(free_port)"
vars=(LOG_LEVEL=warn PORT="$port" "${registry[@]}")
count quiet "same, LOG_LEVEL=warn" target/release/dmr serve
# Trace export on: every span built, batched, encoded as protobuf and POSTed to an OTLP
# receiver (answers 200 to every export and counts them), all in the count. The batch is
# sent every 100 ms so that nothing waits for the shutdown.
receiver_port="$(free_port)"
python3 - "$receiver_port" "$work/exports" <<'PY' &
import http.server, sys
port, log = int(sys.argv[1]), sys.argv[2]
class Receiver(http.server.BaseHTTPRequestHandler):
    exports = 0
    received = 0
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("content-length", 0)))
        Receiver.exports += 1
        Receiver.received += len(body)
        self.send_response(200)
        self.send_header("content-type", "application/x-protobuf")
        self.send_header("content-length", "0")
        self.end_headers()
        with open(log, "w") as f:
            f.write(f"{Receiver.exports} exports, {Receiver.received} bytes\n")
    def log_message(self, *args):
        pass
http.server.HTTPServer(("127.0.0.1", port), Receiver).serve_forever()
PY
receiver=$!
port="$(free_port)"
vars=(PORT="$port" OTEL_EXPORTER_OTLP_ENDPOINT="http://127.0.0.1:$receiver_port"
      OTEL_BSP_SCHEDULE_DELAY=100 "${registry[@]}")
count traced "same, defaults + trace export (OTLP)" target/release/dmr serve
echo "  the receiver got: $(cat "$work/exports" 2>/dev/null || echo 'nothing')"
