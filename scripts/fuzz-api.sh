#!/usr/bin/env bash
# The OpenAPI-driven fuzz run (part of scripts/test.sh): schemathesis generates requests
# from the release server's own document (/openapi.json), valid and invalid, and checks
# every answer against it. Any finding fails: a 5xx, or a status, content type or body
# the document does not allow.
#   FUZZ_MAX_EXAMPLES  cases per operation in the fuzzing phase (default 300)
#   FUZZ_SEED          generation seed (default fixed: a run is reproducible; vary it to
#                      explore, and reproduce a finding with the seed it printed)
set -euo pipefail
cd "$(dirname "$0")/.."

if [ -z "${DMR_SCHEMATHESIS:-}" ]; then
    . scripts/test-services.sh
fi
max_examples="${FUZZ_MAX_EXAMPLES:-300}"
seed="${FUZZ_SEED:-7}"

cargo build --release --locked --bin dmr

work="$(mktemp -d)"
server_pid=""
cleanup() {
    if [ -n "$server_pid" ]; then
        kill "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT

# The real server on a free port with its own data, in a clean environment and away from
# any .env (no Redis or MongoDB of the developer's); the rate limiter would throttle the
# run, so its budget is lifted.
repo="$PWD"
(
    cd "$work"
    exec env -i NODE_ENV=development HOST=127.0.0.1 PORT=0 LOG_LEVEL=info \
        DATA_DIR="$work/data" LOG_DIR="$work/logs" MODELS_DIR="$repo/models" \
        RATE_LIMIT_MAX_REQUESTS=16777214 TENANT_RATE_LIMIT_MAX_REQUESTS=16777214 \
        "$repo/target/release/dmr" serve
) >"$work/server.log" 2>&1 &
server_pid=$!
base=""
for _ in $(seq 200); do
    base="$(grep -o 'listening on http://[0-9.:]*' "$work/server.log" | head -n1 | sed 's/listening on //')" || true
    [ -n "$base" ] && break
    if ! kill -0 "$server_pid" 2>/dev/null; then
        cat "$work/server.log" >&2
        echo "fuzz-api: the server did not start" >&2
        exit 1
    fi
    sleep 0.05
done
[ -n "$base" ] || { echo "fuzz-api: the server did not report its address" >&2; exit 1; }

python3 scripts/fuzz_api_setup.py "$base" "$work/openapi.json"

status=0
# One worker: the server has the other core (and CPython 3.11's parser is not safe to
# call from two of schemathesis' threads at once). Run from the scratch directory, where
# schemathesis keeps its cache.
(
    cd "$work"
    "$DMR_SCHEMATHESIS" run "$work/openapi.json" --url "$base" \
        --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
        --max-examples "$max_examples" --seed "$seed" --workers 1 \
        --generation-database none --request-timeout 30 --no-color \
        --report junit --report-dir "$work/report"
) || status=$?

if ! kill -0 "$server_pid" 2>/dev/null; then
    echo "fuzz-api: the server died during the run" >&2
    status=1
fi
if grep -q "handler panicked" "$work/server.log"; then
    grep "handler panicked" "$work/server.log" >&2
    status=1
fi
if [ "$status" -ne 0 ]; then
    echo "fuzz-api: FAILED (seed $seed); server log: $work/server.log" >&2
    trap - EXIT
    kill "$server_pid" 2>/dev/null || true
fi
exit "$status"
