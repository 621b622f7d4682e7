//! Typed settings for the API, loaded from layered TOML files and environment variables.
//!
//! Layers, later wins:
//! 1. `config/default.toml`
//! 2. `config/{APP_ENVIRONMENT}.toml` (`development` by default, or `production`)
//! 3. `config/local.toml`, optional and git-ignored
//! 4. the Auth0 quickstart names `AUTH0_DOMAIN`, `AUTH0_AUDIENCE` and `PORT`
//! 5. `APP__SECTION__KEY` environment variables
//!
//! The crate knows nothing about HTTP or tokens: `api` maps these values onto the `auth` builder.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use config::{Config, ConfigError, File, FileFormat};
use serde::Deserialize;
use url::Url;

/// The variable that selects the environment file.
pub const ENVIRONMENT_VAR: &str = "APP_ENVIRONMENT";
/// The variable that overrides where the TOML files are read from.
pub const CONFIG_DIR_VAR: &str = "APP_CONFIG_DIR";

/// Quickstart-style aliases: (alias, key). The `APP__` form of the key wins over its alias.
const ALIASES: [(&str, &str); 3] = [
    ("AUTH0_DOMAIN", "auth.domain"),
    ("AUTH0_AUDIENCE", "auth.audience"),
    ("PORT", "server.port"),
];

/// Keys whose env var value is a comma-separated list.
const LIST_KEYS: [&str; 3] = [
    "server.cors_allowed_origins",
    "auth.audience",
    "auth.algorithms",
];

/// The algorithms an operator may allow. Symmetric ones and `none` are never accepted.
pub const SUPPORTED_ALGORITHMS: [&str; 9] = [
    "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "EdDSA",
];

/// Everything the API needs to start.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// Which environment file was layered in.
    #[serde(skip)]
    pub environment: Environment,
    /// Where and how to listen.
    pub server: ServerSettings,
    /// Who issues the tokens, and how they are checked.
    pub auth: AuthSettings,
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
    pub cors_allowed_origins: Vec<String>,
}

/// The `[auth]` section: a plain data struct that `api` maps onto the `auth` builder.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthSettings {
    /// An Auth0 tenant domain such as `dev-abc123.us.auth0.com`; empty when unset.
    pub domain: String,
    /// An explicit issuer URL, which wins over `domain`; empty when unset.
    pub issuer: String,
    /// An explicit JWKS URL; empty to derive it from `domain` or discover it from `issuer`.
    pub jwks_uri: String,
    /// The accepted audiences: a token must name at least one.
    #[serde(deserialize_with = "one_or_many")]
    pub audience: Vec<String>,
    /// The accepted signature algorithms.
    #[serde(deserialize_with = "one_or_many")]
    pub algorithms: Vec<String>,
    /// Clock skew allowed on `exp` and `nbf`, in seconds.
    pub leeway_secs: u64,
    /// Whether Auth0's RBAC `permissions` claim counts as scopes.
    pub permissions_as_scopes: bool,
    /// How many verified tokens to remember; 0 turns the cache off.
    pub token_cache_capacity: usize,
    /// The JWKS cache.
    pub jwks: JwksSettings,
}

/// The `[auth.jwks]` section: fetching and caching the issuer's keys.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JwksSettings {
    /// How long one fetch may take, in seconds.
    pub fetch_timeout_secs: u64,
    /// The largest JWKS or discovery document accepted, in bytes.
    pub max_response_bytes: usize,
    /// How long a fetched key set is fresh, in seconds.
    pub max_age_secs: u64,
    /// The least time between two refetches caused by an unknown `kid`, in seconds.
    pub cooldown_secs: u64,
    /// How long known keys keep serving while the issuer cannot be reached, in seconds.
    pub max_stale_secs: u64,
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

impl TryFrom<&str> for Environment {
    type Error = SettingsError;

    fn try_from(value: &str) -> Result<Self, Self::Error> {
        match value.to_ascii_lowercase().as_str() {
            "development" => Ok(Self::Development),
            "production" => Ok(Self::Production),
            _ => Err(SettingsError::UnknownEnvironment(value.to_owned())),
        }
    }
}

/// Why the settings could not be loaded. Every message names the key and the env var to set.
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
        /// What the `config` crate reported.
        #[source]
        source: ConfigError,
    },
    /// A key is unknown, or its value has the wrong type.
    #[error("{}", describe(key.as_deref(), message))]
    Value {
        /// The dotted key, when known.
        key: Option<String>,
        /// What was wrong with it.
        message: String,
    },
    /// A key that no section has, usually a typo.
    #[error("unknown setting `{key}` in config/*.toml or an APP__ env var: {message}")]
    Unknown {
        /// The dotted key.
        key: String,
        /// The keys allowed there.
        message: String,
    },
    /// A value parsed but makes no sense, or a required value is missing.
    #[error("invalid setting `{key}` (env var {}): {reason}", env_vars(key))]
    Invalid {
        /// The dotted key.
        key: &'static str,
        /// What is wrong with it.
        reason: String,
    },
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

fn describe(key: Option<&str>, message: &str) -> String {
    match key {
        Some(key) => format!(
            "invalid setting `{key}` (env var {}): {message}",
            env_vars(key)
        ),
        None => format!("invalid configuration: {message}"),
    }
}

/// The `APP__` env var that sets a dotted key.
fn app_var(key: &str) -> String {
    format!("APP__{}", key.to_ascii_uppercase().replace('.', "__"))
}

/// The env var (and its quickstart alias, if any) that sets a dotted key.
pub fn env_vars(key: &str) -> String {
    let main = app_var(key);
    match ALIASES.iter().find(|(_, k)| *k == key) {
        Some((alias, _)) => format!("{main} or {alias}"),
        None => main,
    }
}

impl Settings {
    /// Loads the settings from `APP_CONFIG_DIR` (or this workspace's `config/`) and the process
    /// environment.
    ///
    /// # Errors
    /// See [`Settings::load_with`].
    pub fn load() -> Result<Self, SettingsError> {
        let env: HashMap<String, String> = std::env::vars().collect();
        let dir = env
            .get(CONFIG_DIR_VAR)
            .map_or_else(default_config_dir, PathBuf::from);
        Self::load_with(&dir, &env)
    }

    /// Loads the settings from the files in `dir` and the process environment.
    ///
    /// # Errors
    /// See [`Settings::load_with`].
    pub fn load_from(dir: &Path) -> Result<Self, SettingsError> {
        Self::load_with(dir, &std::env::vars().collect())
    }

    /// Loads the settings from the files in `dir` and the given variables, in place of the
    /// process environment.
    ///
    /// # Errors
    /// Fails when `APP_ENVIRONMENT` is unknown, a file is unreadable or malformed, a key is
    /// unknown, a value has the wrong type or makes no sense, or `production` lacks an issuer
    /// or an audience.
    pub fn load_with(dir: &Path, env: &HashMap<String, String>) -> Result<Self, SettingsError> {
        let environment = match env.get(ENVIRONMENT_VAR) {
            Some(value) => Environment::try_from(value.as_str())?,
            None => Environment::default(),
        };
        let app_vars: config::Map<String, String> = env
            .iter()
            .filter(|(name, _)| name.starts_with("APP__"))
            .map(|(name, value)| (name.clone(), value.clone()))
            .collect();
        let mut env_source = config::Environment::with_prefix("APP")
            .prefix_separator("__")
            .separator("__")
            .list_separator(",")
            .try_parsing(true)
            .source(Some(app_vars));
        for key in LIST_KEYS {
            env_source = env_source.with_list_parse_key(key);
        }

        let mut builder = Config::builder()
            .add_source(File::from(dir.join("default.toml")).format(FileFormat::Toml))
            .add_source(
                File::from(dir.join(format!("{environment}.toml")))
                    .format(FileFormat::Toml)
                    .required(false),
            )
            .add_source(
                File::from(dir.join("local.toml"))
                    .format(FileFormat::Toml)
                    .required(false),
            );
        for (alias, key) in ALIASES {
            if let (Some(value), false) = (env.get(alias), env.contains_key(&app_var(key))) {
                builder = builder
                    .set_override(key, value.as_str())
                    .map_err(value_error)?;
            }
        }
        let config = builder
            .add_source(env_source)
            .build()
            .map_err(|source| match source {
                ConfigError::FileParse { .. } | ConfigError::Foreign(_) => SettingsError::Files {
                    dir: dir.to_owned(),
                    source,
                },
                other => value_error(other),
            })?;
        let mut settings: Settings = config.try_deserialize().map_err(value_error)?;
        settings.environment = environment;
        settings.validate()?;
        Ok(settings)
    }

    fn validate(&self) -> Result<(), SettingsError> {
        self.server.validate()?;
        self.auth.validate()?;
        if self.environment == Environment::Production {
            if self.auth.issuer().is_none() {
                return Err(SettingsError::Invalid {
                    key: "auth.domain",
                    reason: format!(
                        "production needs an issuer: set `auth.domain` or `auth.issuer` ({})",
                        env_vars("auth.issuer")
                    ),
                });
            }
            if self.auth.audience.is_empty() {
                return Err(SettingsError::Invalid {
                    key: "auth.audience",
                    reason: "production needs at least one audience, such as https://my-api".into(),
                });
            }
        }
        Ok(())
    }
}

fn value_error(error: ConfigError) -> SettingsError {
    match error {
        ConfigError::Type {
            key,
            unexpected,
            expected,
            ..
        } => SettingsError::Value {
            key,
            message: format!("found {unexpected}, expected {expected}"),
        },
        ConfigError::At { error, key, .. } => match *error {
            ConfigError::Message(message) => message_error(key, message),
            inner => SettingsError::Value {
                key,
                message: inner.to_string(),
            },
        },
        ConfigError::Message(message) => message_error(None, message),
        other => SettingsError::Value {
            key: None,
            message: other.to_string(),
        },
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
        None => SettingsError::Value {
            key: parent,
            message,
        },
    }
}

/// This workspace's `config/` directory, fixed at build time so that neither `cargo run` nor the
/// tests depend on the current directory.
fn default_config_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../config")
}

impl ServerSettings {
    fn validate(&self) -> Result<(), SettingsError> {
        if self.host.trim().is_empty() {
            return Err(SettingsError::Invalid {
                key: "server.host",
                reason: "must not be empty; use 127.0.0.1 or 0.0.0.0".into(),
            });
        }
        for origin in &self.cors_allowed_origins {
            let valid = Url::parse(origin).is_ok_and(|url| {
                matches!(url.scheme(), "http" | "https")
                    && url.host().is_some()
                    && url.path() == "/"
                    && !origin.ends_with('/')
            });
            if !valid {
                return Err(SettingsError::Invalid {
                    key: "server.cors_allowed_origins",
                    reason: format!(
                        "{origin:?} is not an origin such as http://localhost:3000 (scheme, host and port, no path)"
                    ),
                });
            }
        }
        Ok(())
    }
}

impl AuthSettings {
    /// The issuer tokens must name in `iss`: `auth.issuer`, or `https://{domain}/`.
    pub fn issuer(&self) -> Option<String> {
        if !self.issuer.is_empty() {
            Some(self.issuer.clone())
        } else if !self.domain.is_empty() {
            Some(format!("https://{}/", self.domain))
        } else {
            None
        }
    }

    /// Where the keys are fetched: `auth.jwks_uri`, or the domain's well-known JWKS. `None`
    /// means the JWKS is found through OIDC discovery on the issuer.
    pub fn jwks_uri(&self) -> Option<String> {
        if !self.jwks_uri.is_empty() {
            Some(self.jwks_uri.clone())
        } else if self.issuer.is_empty() && !self.domain.is_empty() {
            Some(format!("https://{}/.well-known/jwks.json", self.domain))
        } else {
            None
        }
    }

    /// The clock skew allowed on `exp` and `nbf`.
    pub fn leeway(&self) -> Duration {
        Duration::from_secs(self.leeway_secs)
    }

    fn validate(&self) -> Result<(), SettingsError> {
        if !self.domain.is_empty() {
            let valid = !self.domain.contains("://")
                && !self.domain.contains('/')
                && Url::parse(&format!("https://{}/", self.domain))
                    .is_ok_and(|url| url.host_str().is_some_and(|h| !h.is_empty()));
            if !valid {
                return Err(SettingsError::Invalid {
                    key: "auth.domain",
                    reason: format!(
                        "{:?} is not a host name such as dev-abc123.us.auth0.com (no https://, no path)",
                        self.domain
                    ),
                });
            }
        }
        check_url("auth.issuer", &self.issuer)?;
        check_url("auth.jwks_uri", &self.jwks_uri)?;
        for audience in &self.audience {
            if audience.trim().is_empty() {
                return Err(SettingsError::Invalid {
                    key: "auth.audience",
                    reason: "an audience must not be empty".into(),
                });
            }
        }
        if self.algorithms.is_empty() {
            return Err(SettingsError::Invalid {
                key: "auth.algorithms",
                reason: format!("list at least one of {}", SUPPORTED_ALGORITHMS.join(", ")),
            });
        }
        for alg in &self.algorithms {
            if !SUPPORTED_ALGORITHMS.contains(&alg.as_str()) {
                return Err(SettingsError::Invalid {
                    key: "auth.algorithms",
                    reason: format!(
                        "{alg:?} is not supported; choose from {}",
                        SUPPORTED_ALGORITHMS.join(", ")
                    ),
                });
            }
        }
        self.jwks.validate()
    }
}

fn check_url(key: &'static str, value: &str) -> Result<(), SettingsError> {
    if value.is_empty() {
        return Ok(());
    }
    match Url::parse(value) {
        Ok(url) if matches!(url.scheme(), "http" | "https") && url.host().is_some() => Ok(()),
        _ => Err(SettingsError::Invalid {
            key,
            reason: format!("{value:?} is not an http(s) URL"),
        }),
    }
}

impl JwksSettings {
    /// How long one fetch may take.
    pub fn fetch_timeout(&self) -> Duration {
        Duration::from_secs(self.fetch_timeout_secs)
    }

    /// How long a fetched key set is fresh.
    pub fn max_age(&self) -> Duration {
        Duration::from_secs(self.max_age_secs)
    }

    /// The least time between two unknown-`kid` refetches.
    pub fn cooldown(&self) -> Duration {
        Duration::from_secs(self.cooldown_secs)
    }

    /// How long known keys keep serving while refreshes fail.
    pub fn max_stale(&self) -> Duration {
        Duration::from_secs(self.max_stale_secs)
    }

    fn validate(&self) -> Result<(), SettingsError> {
        let positive = [
            ("auth.jwks.fetch_timeout_secs", self.fetch_timeout_secs),
            ("auth.jwks.max_age_secs", self.max_age_secs),
            (
                "auth.jwks.max_response_bytes",
                u64::try_from(self.max_response_bytes).unwrap_or(u64::MAX),
            ),
        ];
        for (key, value) in positive {
            if value == 0 {
                return Err(SettingsError::Invalid {
                    key,
                    reason: "must be greater than 0".into(),
                });
            }
        }
        if self.max_stale_secs < self.max_age_secs {
            return Err(SettingsError::Invalid {
                key: "auth.jwks.max_stale_secs",
                reason: format!(
                    "must be at least auth.jwks.max_age_secs ({})",
                    self.max_age_secs
                ),
            });
        }
        Ok(())
    }
}

/// Accepts a single string or a list of strings.
fn one_or_many<'de, D>(deserializer: D) -> Result<Vec<String>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(String),
        Many(Vec<String>),
    }
    Ok(match OneOrMany::deserialize(deserializer)? {
        OneOrMany::One(value) if value.is_empty() => Vec::new(),
        OneOrMany::One(value) => vec![value],
        OneOrMany::Many(values) => values,
    })
}

#[cfg(test)]
mod tests;
