//! Benchmark-only programs (see BENCHMARKS.md): `bare-axum`, the ceiling the HTTP harness
//! (`scripts/bench-http.sh`) measures the registry's routes against.
pub mod access_line;
