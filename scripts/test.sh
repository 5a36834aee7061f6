#!/usr/bin/env bash
# The whole test suite, from a clean clone: installs the services the tests start where
# missing, runs every test of the workspace, then the HTTP suites again against MongoDB,
# then the OpenAPI-driven fuzz run of the release build. Extra arguments go to the test
# runner.
set -euo pipefail
cd "$(dirname "$0")/.."

. scripts/test-services.sh

if cargo nextest --version >/dev/null 2>&1; then
    cargo nextest run --workspace --no-fail-fast "$@"
else
    cargo test --workspace --no-fail-fast "$@"
fi

# The HTTP suites against MongoDB: every test server gets a SecantusDB of its own
# (DMR_TEST_BACKEND=mongodb). Left out, each for its reason:
#   - tests that reach into SQLite files to set up or inspect (tables, query plans,
#     locks held to slow a request or a shutdown, an unreadable file, the control
#     database); their MongoDB counterparts are in `mongodb::`, written with the driver;
#   - crash::  restarts the binary on the same DATA_DIR, and the harness gives the
#     restart a new MongoDB server (durability of acknowledged writes is MongoDB's);
#   - text search: SecantusDB has no text indexes (`mongodb::text_search_...` checks the
#     clear 400 instead); TTL expiry: MongoDB's own monitor deletes, once a minute;
#   - startup:: and mongodb:: choose their backend themselves and already ran above.
mongo_suites='test(/^(bad_input|connections|documents|fleet|logs|metrics_promtool|seed_routes|single_flight|traces|versions)::/)'
sqlite_only='test(=documents::a_slow_request_is_a_408_and_a_huge_filter_a_400)
  | test(=documents::an_indexed_query_uses_the_models_index)
  | test(=documents::text_search_on_products_and_bulk_insert)
  | test(=documents::documents_past_a_ttl_index_expire)
  | test(=seed_routes::tenant_models_compile_into_a_tenant_database_with_indexes)
  | test(=seed_routes::test_operations_count_find_one_and_find_first_ten)
  | test(=seed_routes::unique_indexes_are_enforced_by_the_tenant_database)
  | test(=versions::sighup_puts_an_edited_model_in_service_and_tenants_recompile_lazily)'
echo "test.sh: the HTTP suites again, against MongoDB (SecantusDB)" >&2
if cargo nextest --version >/dev/null 2>&1; then
    # `--workspace`, as the first pass, so cargo resolves the same features and rebuilds
    # nothing (`-p dmr` alone resolves dmr's own and recompiles most dependencies).
    DMR_TEST_BACKEND=mongodb cargo nextest run --workspace --no-fail-fast \
        -E "binary_id(dmr::integration) & ($mongo_suites) - ($sqlite_only)" "$@"
else
    echo "test.sh: the MongoDB pass needs cargo-nextest (cargo install cargo-nextest)" >&2
    exit 1
fi

# The API against its OpenAPI document: the release build, fuzzed (docs/fuzzing.md).
scripts/fuzz-api.sh
