//! Why the settings could not be loaded: every message names the key and the env var to set.

use std::fmt;
use std::path::PathBuf;

use config::ConfigError;

use crate::env::{ENVIRONMENT_VAR, env_vars};

/// Why the settings could not be loaded, or a setting cannot be used.
#[derive(thiserror::Error)]
pub enum SettingsError {
    /// `APP_ENVIRONMENT` names no known environment.
    #[error(
        "{ENVIRONMENT_VAR}={0:?} is not a known environment; set it to `development` or `production`"
    )]
    UnknownEnvironment(String),
    /// A file could not be read or parsed.
    #[error("cannot read the configuration files in {dir}")]
    Files {
        /// The configuration directory.
        dir: PathBuf,
        /// What the `config` crate reported (boxed: it is large, and this variant is rare).
        #[source]
        source: Box<ConfigError>,
    },
    /// A key that no section has, usually a typo.
    #[error("unknown setting `{key}` in config/*.toml or an APP__ env var: {message}")]
    Unknown {
        /// The dotted key.
        key: String,
        /// The keys allowed there.
        message: String,
    },
    /// A value has the wrong type, is out of range, makes no sense, or a required value is
    /// missing. The one home of the "invalid setting" message.
    #[error("invalid setting `{key}` (env var {}): {reason}", env_vars(key))]
    Invalid {
        /// The dotted key, such as `auth.leeway_secs`.
        key: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The configuration is malformed in a way no single key explains.
    #[error("invalid configuration: {0}")]
    Malformed(String),
}

impl SettingsError {
    /// An [`SettingsError::Invalid`] for `key`.
    pub fn invalid(key: &str, reason: impl fmt::Display) -> Self {
        Self::Invalid {
            key: key.to_owned(),
            reason: reason.to_string(),
        }
    }
}

impl fmt::Debug for SettingsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{self}")?;
        let mut source = std::error::Error::source(self);
        while let Some(cause) = source {
            write!(f, "\n  caused by: {cause}")?;
            source = cause.source();
        }
        Ok(())
    }
}

/// Maps what the `config` crate reports onto a message that names the key.
pub(crate) fn value_error(error: ConfigError) -> SettingsError {
    match error {
        ConfigError::Type {
            key,
            unexpected,
            expected,
            ..
        } => keyed(key, format!("found {unexpected}, expected {expected}")),
        ConfigError::At { error, key, .. } => match *error {
            ConfigError::Message(message) => message_error(key, message),
            inner => keyed(key, inner.to_string()),
        },
        ConfigError::Message(message) => message_error(None, message),
        other => SettingsError::Malformed(other.to_string()),
    }
}

fn keyed(key: Option<String>, message: String) -> SettingsError {
    match key {
        Some(key) => SettingsError::Invalid {
            key,
            reason: message,
        },
        None => SettingsError::Malformed(message),
    }
}

/// Serde reports an unknown field at its parent's path: name the full key instead.
fn message_error(parent: Option<String>, message: String) -> SettingsError {
    let unknown = message
        .strip_prefix("unknown field `")
        .and_then(|rest| rest.split_once('`'));
    match unknown {
        Some((field, rest)) => SettingsError::Unknown {
            key: parent.map_or_else(|| field.to_owned(), |parent| format!("{parent}.{field}")),
            message: rest.trim_start_matches(", ").to_owned(),
        },
        None => keyed(parent, message),
    }
}
