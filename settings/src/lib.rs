//! Typed settings for the API, loaded from layered TOML files and environment variables.
//!
//! Layers, later wins:
//! 1. `config/default.toml`
//! 2. `config/{APP_ENVIRONMENT}.toml` (`development` by default, or `production`)
//! 3. `config/local.toml`, optional and git-ignored
//! 4. the Auth0 quickstart names `AUTH0_DOMAIN`, `AUTH0_AUDIENCE` and `PORT`
//! 5. `APP__SECTION__KEY` environment variables
//!
//! The crate knows nothing about HTTP. Its `[auth]` section is the `auth` library's own
//! configuration type, with that library's defaults, ranges and rules; this crate adds only what
//! is its own: the layers, the env vars, the `server` and `log` sections, and an error message
//! that names the key and the env var.

mod env;
mod error;
mod load;
mod model;
mod validate;

pub use env::{CONFIG_DIR_VAR, ENVIRONMENT_VAR, env_vars};
pub use error::SettingsError;
pub use model::{Environment, LogFormat, LogSettings, ServerSettings, Settings};
pub use validate::{SHUTDOWN_TIMEOUT_SECS, WORKERS, auth_error};

#[cfg(test)]
mod tests;
