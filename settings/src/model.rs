//! The typed settings: what each section holds, and the values derived from it.

use std::fmt;
use std::str::FromStr;

use auth::config::AuthConfig;
use auth::de::{list, unset_if_empty};
use serde::{Deserialize, Deserializer};

use crate::error::SettingsError;

/// Everything the API needs to start.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// Which environment file was layered in.
    #[serde(skip)]
    pub environment: Environment,
    /// Where and how to listen.
    pub server: ServerSettings,
    /// Who issues the tokens, and how they are checked: the `auth` library's own configuration,
    /// deserialized as it is.
    pub auth: AuthConfig,
    /// How log lines are written.
    pub log: LogSettings,
}

/// The `[log]` section.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogSettings {
    /// `text` for people, `json` (one object per line) for log aggregators.
    pub format: LogFormat,
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// `env_logger`'s text lines.
    Text,
    /// One JSON object per line: timestamp, level, target, message, and the request fields.
    Json,
}

/// The `[server]` section.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerSettings {
    /// The address to bind, such as `127.0.0.1` or `0.0.0.0`.
    pub host: String,
    /// The port to bind; 0 picks a free one.
    pub port: u16,
    /// Origins allowed by CORS, such as `http://localhost:3000`.
    #[serde(deserialize_with = "list")]
    pub cors_allowed_origins: Vec<String>,
    /// Worker threads; 0 means one per physical core.
    pub workers: usize,
    /// How long in-flight requests may take to finish after SIGTERM or SIGINT, in seconds.
    pub shutdown_timeout_secs: u64,
    /// Whether `GET /metrics` (Prometheus) is served and HTTP requests are measured.
    pub metrics_enabled: bool,
    /// A separate port for `/metrics`, so that it stays off the public listener; 0 picks a free
    /// one. Unset (or `""` in the env var): `/metrics` is served on `port` with the API.
    #[serde(default, deserialize_with = "port_unset_if_empty")]
    pub metrics_port: Option<u16>,
    /// The address `metrics_port` binds; unset means `host`.
    #[serde(default, deserialize_with = "unset_if_empty")]
    pub metrics_host: Option<String>,
}

/// The environment whose file is layered over `default.toml`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Environment {
    /// Local work: `config/development.toml`.
    #[default]
    Development,
    /// A deployment: `config/production.toml`. Issuer and audience are required.
    Production,
}

impl Environment {
    /// The environment's name, which is also its file's stem.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Development => "development",
            Self::Production => "production",
        }
    }
}

impl fmt::Display for Environment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Environment {
    type Err = SettingsError;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        match value.to_ascii_lowercase().as_str() {
            "development" => Ok(Self::Development),
            "production" => Ok(Self::Production),
            _ => Err(SettingsError::UnknownEnvironment(value.to_owned())),
        }
    }
}

impl ServerSettings {
    /// The address `/metrics` binds when it has a port of its own: `metrics_host`, else `host`.
    pub fn metrics_host(&self) -> &str {
        self.metrics_host.as_deref().unwrap_or(&self.host)
    }

    /// Whether `host` is a loopback address (`127.0.0.0/8`, `::1` or `localhost`), reachable
    /// from this machine only.
    pub fn is_loopback(&self) -> bool {
        self.host.eq_ignore_ascii_case("localhost")
            || self
                .host
                .trim_start_matches('[')
                .trim_end_matches(']')
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_loopback())
    }
}

/// An optional port: a number, or a string (an env var) where empty means unset.
fn port_unset_if_empty<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<u16>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum PortOrText {
        Port(u16),
        Text(String),
    }
    match Option::<PortOrText>::deserialize(deserializer)? {
        None => Ok(None),
        Some(PortOrText::Port(port)) => Ok(Some(port)),
        Some(PortOrText::Text(text)) if text.is_empty() => Ok(None),
        Some(PortOrText::Text(text)) => text.parse().map(Some).map_err(|_| {
            serde::de::Error::custom(format!("{text:?} is not a port number (0 to 65535)"))
        }),
    }
}
