pub mod server;
pub mod services;

pub use server::TestServer;
