pub mod chromium;
pub mod metrics_doc;
pub mod promql;
pub mod promtool;
pub mod server;
/// Real redis-server and SecantusDB processes (a crate shared with the stores' tests).
pub use dmr_test_services as services;

pub use server::TestServer;

/// Now, as the registry writes dates.
pub fn now_iso() -> String {
    dmr_model::date::format_system_time(std::time::SystemTime::now())
}
