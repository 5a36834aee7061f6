#!/usr/bin/env bash
# The whole test suite, from a clean clone: installs the services the tests start where
# missing, runs every test of the workspace, then the OpenAPI-driven fuzz run of the
# release build. Extra arguments go to the test runner.
set -euo pipefail
cd "$(dirname "$0")/.."

. scripts/test-services.sh

if cargo nextest --version >/dev/null 2>&1; then
    cargo nextest run --workspace --no-fail-fast "$@"
else
    cargo test --workspace --no-fail-fast "$@"
fi

# The API against its OpenAPI document: the release build, fuzzed (docs/fuzzing.md).
scripts/fuzz-api.sh
