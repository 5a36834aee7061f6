#!/usr/bin/env bash
# Regenerates docs/dashboard.png: the dashboard test, run in headless Chromium against a
# real server (admin key, Redis) under traffic, with DMR_WRITE_SCREENSHOT=1 so that it
# writes its screenshot over the committed one.
set -euo pipefail
cd "$(dirname "$0")/.."

. scripts/test-services.sh

# `--workspace`, as scripts/test.sh, so cargo reuses the build of the whole suite.
DMR_WRITE_SCREENSHOT=1 cargo nextest run --workspace \
    -E 'binary_id(dmr::integration) & test(=dashboard::the_dashboard_asks_for_the_admin_key_then_shows_live_numbers)'
echo "dashboard-screenshot: wrote docs/dashboard.png" >&2
