pub mod server;
pub mod services;

pub use server::TestServer;

/// Now, as the registry writes dates.
pub fn now_iso() -> String {
    dmr_store::iso_millis(std::time::SystemTime::now())
}
