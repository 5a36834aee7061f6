pub mod chromium;
pub mod metrics_doc;
pub mod promql;
pub mod promtool;
pub mod server;
/// Real redis-server and SecantusDB processes (a crate shared with the stores' tests).
pub use dmr_test_services as services;

pub use server::TestServer;

/// An installed tool the tests run: `$variable` (set by `scripts/test-services.sh`) or
/// `name` on PATH; missing, a failure that says how to install it.
pub fn installed_tool(variable: &str, name: &str, package_hint: &str) -> std::path::PathBuf {
    let path = std::env::var_os(variable)
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::path::PathBuf::from(name));
    let found = if path.components().count() > 1 {
        path.exists()
    } else {
        std::env::var_os("PATH")
            .is_some_and(|p| std::env::split_paths(&p).any(|d| d.join(&path).exists()))
    };
    assert!(
        found,
        "{name} not found (looked for {}). {package_hint}; `. scripts/test-services.sh` \
         installs it and sets {variable}.",
        path.display()
    );
    path
}

/// Now, as the registry writes dates.
pub fn now_iso() -> String {
    dmr_model::date::format_system_time(std::time::SystemTime::now())
}
