//! Typed settings for the API, loaded from layered TOML files and environment variables.
//!
//! Layers, later wins:
//! 1. `config/default.toml`
//! 2. `config/{APP_ENVIRONMENT}.toml` (`development` by default, or `production`)
//! 3. `config/local.toml`, optional and git-ignored
//! 4. the Auth0 quickstart names `AUTH0_DOMAIN`, `AUTH0_AUDIENCE` and `PORT`
//! 5. `APP__SECTION__KEY` environment variables
//!
//! The crate knows nothing about HTTP: `api` maps these values onto the `auth` builder. It uses
//! `auth`'s vocabulary (algorithms, URL rules) so that both crates agree on what is valid.

mod env;
mod error;
mod load;
mod model;
mod validate;

pub use env::{CONFIG_DIR_VAR, ENVIRONMENT_VAR, env_vars};
pub use error::SettingsError;
pub use model::{
    AuthSettings, Environment, IssuerSettings, JwksSettings, LogFormat, LogSettings,
    ServerSettings, Settings, Trusted,
};
pub use validate::{
    COOLDOWN_SECS, FETCH_TIMEOUT_SECS, LEEWAY_SECS, MAX_AGE_SECS, MAX_RESPONSE_BYTES,
    MAX_STALE_SECS, MAX_TOKEN_BYTES, SHUTDOWN_TIMEOUT_SECS, TOKEN_CACHE_CAPACITY, WORKERS,
};

#[cfg(test)]
mod tests;
