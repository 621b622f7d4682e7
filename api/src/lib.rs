//! The Auth0 quickstart API as a library, so that `main` and the integration tests start the
//! server through the same code.

#[cfg(feature = "dev-issuer")]
pub mod dev_issuer;
pub mod logging;
pub mod metrics;
pub mod request_log;
pub mod routes;
pub mod startup;

pub use startup::Application;
