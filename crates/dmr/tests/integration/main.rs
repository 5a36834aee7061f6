//! Every integration test of the binary, in one test executable (one link on a 2-core
//! machine). Each test starts the real `dmr` on a free loopback port with its own
//! temporary DATA_DIR and LOG_DIR, and talks HTTP to it; `deploy_monitoring` checks the
//! monitoring files under deploy/ instead (with promtool), sharing the one link;
//! `dashboard` drives a headless Chromium against the server.

mod support;

mod auth;

mod bad_input;
mod connection_limits;
mod connections;
mod crash;
mod dashboard;
mod deploy_monitoring;
mod documents;
mod edge;
mod fail_safe;
mod fleet;
mod logs;
mod metrics;
mod metrics_promtool;
mod mongodb;
mod openapi;
mod redis_health;
mod seed_routes;
mod services;
mod shutdown;
mod single_flight;
mod startup;
mod traces;
mod versions;
