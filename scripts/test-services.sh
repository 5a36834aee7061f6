#!/usr/bin/env bash
# Makes sure the real services the tests start are installed, and tells the tests where:
#   redis-server  from Debian's package            -> DMR_REDIS_SERVER
#   openssl       from Debian's package (test certificates for rediss://)
#   promtool      from Debian's prometheus package (checks of deploy/prometheus, /metrics) -> DMR_PROMTOOL
#   secantusd-py  from PyPI (secantusdb), a MongoDB wire-protocol server -> DMR_SECANTUSD
#   schemathesis  from PyPI, the OpenAPI-driven fuzzer of scripts/fuzz-api.sh -> DMR_SCHEMATHESIS
#   chromium      from Debian's package, the headless browser of the dashboard test -> DMR_CHROMIUM
# Source it (`. scripts/test-services.sh`); it installs only what is missing.
set -euo pipefail

SECANTUSDB_VERSION="0.7.0b3"
SCHEMATHESIS_VERSION="4.32.5"
DMR_TOOLS_DIR="${DMR_TOOLS_DIR:-$HOME/.cache/dmr-test-tools}"

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

missing=()
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
command -v openssl >/dev/null 2>&1 || missing+=(openssl)   # certificates for the rediss:// test
if [ "${#missing[@]}" -gt 0 ]; then
    echo "test-services: installing ${missing[*]} (Debian packages)" >&2
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
DMR_REDIS_SERVER="$(command -v redis-server)"

# promtool comes with the Prometheus server, installed without its recommends (the node
# exporter). Where an init system runs, the package also starts that server on :9090
# (`systemctl disable --now prometheus` stops it); in containers and CI it does not.
if ! command -v promtool >/dev/null 2>&1; then
    echo "test-services: installing prometheus (Debian package, for promtool)" >&2
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        prometheus >/dev/null
fi
DMR_PROMTOOL="$(command -v promtool)"

# The dashboard test drives Debian's chromium headless over the DevTools protocol; a font
# (fonts-liberation, a recommend skipped here) keeps the screenshot's text legible.
if ! command -v chromium >/dev/null 2>&1; then
    echo "test-services: installing chromium (Debian package, for the dashboard test)" >&2
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        chromium fonts-liberation >/dev/null
fi
DMR_CHROMIUM="$(command -v chromium)"

venv="$DMR_TOOLS_DIR/venv"
if ! "$venv/bin/secantusd-py" --help >/dev/null 2>&1; then
    echo "test-services: installing secantusdb==$SECANTUSDB_VERSION into $venv" >&2
    mkdir -p "$DMR_TOOLS_DIR"
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q "secantusdb==$SECANTUSDB_VERSION"
fi
DMR_SECANTUSD="$venv/bin/secantusd-py"

if [ "$("$venv/bin/st" --version 2>/dev/null)" != "st, version $SCHEMATHESIS_VERSION" ]; then
    echo "test-services: installing schemathesis==$SCHEMATHESIS_VERSION into $venv" >&2
    "$venv/bin/pip" install -q "schemathesis==$SCHEMATHESIS_VERSION"
fi
DMR_SCHEMATHESIS="$venv/bin/st"

export DMR_REDIS_SERVER DMR_PROMTOOL DMR_SECANTUSD DMR_SCHEMATHESIS DMR_CHROMIUM
