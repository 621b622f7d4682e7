//! The typed settings: what each section holds, and the values derived from it.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use auth::{Algorithm, ScopeClaim};
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
    /// Who issues the tokens, and how they are checked.
    pub auth: AuthSettings,
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
    /// The API's public base URL, such as `https://api.example.com`: the `resource` of its
    /// protected resource metadata (RFC 9728), which every challenge then names.
    #[serde(default, deserialize_with = "unset_if_empty")]
    pub public_url: Option<String>,
}

/// The `[auth]` section: a plain data struct that `api` maps onto the `auth` builder.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthSettings {
    /// An Auth0 tenant domain such as `dev-abc123.us.auth0.com`.
    #[serde(default, deserialize_with = "unset_if_empty")]
    pub domain: Option<String>,
    /// An explicit issuer URL, which wins over `domain`.
    #[serde(default, deserialize_with = "unset_if_empty")]
    pub issuer: Option<String>,
    /// An explicit JWKS URL; unset to derive it from `domain` or discover it from `issuer`.
    #[serde(default, deserialize_with = "unset_if_empty")]
    pub jwks_uri: Option<String>,
    /// Several issuers, each with its own keys: `[[auth.issuers]]` tables, in place of
    /// `domain`/`issuer`/`jwks_uri`.
    #[serde(default)]
    pub issuers: Vec<IssuerSettings>,
    /// The accepted audiences: a token must name at least one.
    #[serde(deserialize_with = "list")]
    pub audience: Vec<String>,
    /// The accepted signature algorithms.
    #[serde(deserialize_with = "list")]
    pub algorithms: Vec<Algorithm>,
    /// Clock skew allowed on `exp` and `nbf`, in seconds.
    pub leeway_secs: u64,
    /// Whether Auth0's RBAC `permissions` claim counts as scopes (drops `permissions` from
    /// `scope_claims` when false).
    pub permissions_as_scopes: bool,
    /// The claims that grant scopes: `scope`, `permissions`, `scp`.
    #[serde(deserialize_with = "list")]
    pub scope_claims: Vec<ScopeClaim>,
    /// How many verified tokens to remember; 0 turns the cache off.
    pub token_cache_capacity: usize,
    /// The memory budget of the verified-token cache, in bytes.
    pub token_cache_max_bytes: usize,
    /// Whether tokens must carry `typ: at+jwt` (RFC 9068).
    pub require_at_jwt: bool,
    /// The longest token accepted, in bytes.
    pub max_token_bytes: usize,
    /// The JWKS cache.
    pub jwks: JwksSettings,
}

/// One `[[auth.issuers]]` entry: `domain` or `issuer`, an optional `jwks_uri`, and optional
/// audiences (default `auth.audience`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IssuerSettings {
    /// An Auth0 domain, as `auth.domain`.
    #[serde(default, deserialize_with = "unset_if_empty")]
    pub domain: Option<String>,
    /// An issuer URL, as `auth.issuer`.
    #[serde(default, deserialize_with = "unset_if_empty")]
    pub issuer: Option<String>,
    /// An explicit JWKS URL, as `auth.jwks_uri`.
    #[serde(default, deserialize_with = "unset_if_empty")]
    pub jwks_uri: Option<String>,
    /// Its audiences; empty means `auth.audience`.
    #[serde(default, deserialize_with = "list")]
    pub audience: Vec<String>,
}

/// A trusted issuer resolved from the settings: what `iss` must name, where its keys are (none:
/// OIDC discovery), and the audiences its tokens may name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trusted {
    /// The issuer URL.
    pub issuer: String,
    /// The JWKS URL, or `None` for discovery.
    pub jwks_uri: Option<String>,
    /// The accepted audiences.
    pub audiences: Vec<String>,
}

/// The issuer and JWKS URL of a `domain`/`issuer`/`jwks_uri` triple: `issuer` wins over
/// `https://{domain}/`; the JWKS is `jwks_uri`, the domain's well-known one, or (for an explicit
/// issuer) found by discovery.
pub(crate) fn resolve(
    domain: Option<&String>,
    issuer: Option<&String>,
    jwks_uri: Option<&String>,
) -> Option<(String, Option<String>)> {
    let resolved_issuer = issuer
        .cloned()
        .or_else(|| domain.map(|domain| format!("https://{domain}/")))?;
    let resolved_jwks = match (jwks_uri, issuer, domain) {
        (Some(uri), _, _) => Some(uri.clone()),
        (None, None, Some(domain)) => Some(format!("https://{domain}/.well-known/jwks.json")),
        _ => None,
    };
    Some((resolved_issuer, resolved_jwks))
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
    /// The longest wait between two attempts while fetches fail, in seconds.
    pub retry_max_secs: u64,
    /// How long known keys keep serving while the issuer cannot be reached, in seconds.
    pub max_stale_secs: u64,
    /// A PEM file of extra CA certificates to trust for the issuer's https, besides the
    /// built-in (Mozilla) roots.
    #[serde(default, deserialize_with = "unset_if_empty")]
    pub ca_file: Option<String>,
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

impl AuthSettings {
    /// The issuer tokens must name in `iss`: `auth.issuer`, or `https://{domain}/`.
    pub fn issuer(&self) -> Option<String> {
        resolve(self.domain.as_ref(), self.issuer.as_ref(), None).map(|(issuer, _)| issuer)
    }

    /// Where the keys are fetched: `auth.jwks_uri`, or the domain's well-known JWKS. `None`
    /// means the JWKS is found through OIDC discovery on the issuer.
    pub fn jwks_uri(&self) -> Option<String> {
        resolve(
            self.domain.as_ref(),
            self.issuer.as_ref(),
            self.jwks_uri.as_ref(),
        )
        .and_then(|(_, jwks)| jwks)
    }

    /// Every trusted issuer: the one-issuer shorthand (`domain`/`issuer`), or each
    /// `[[auth.issuers]]` entry, with `auth.audience` where an entry names no audience. Empty
    /// when none is configured.
    pub fn trusted(&self) -> Vec<Trusted> {
        let shorthand = resolve(
            self.domain.as_ref(),
            self.issuer.as_ref(),
            self.jwks_uri.as_ref(),
        )
        .map(|(issuer, jwks_uri)| Trusted {
            issuer,
            jwks_uri,
            audiences: self.audience.clone(),
        });
        let listed = self.issuers.iter().filter_map(|entry| {
            let (issuer, jwks_uri) = resolve(
                entry.domain.as_ref(),
                entry.issuer.as_ref(),
                entry.jwks_uri.as_ref(),
            )?;
            let audiences = if entry.audience.is_empty() {
                self.audience.clone()
            } else {
                entry.audience.clone()
            };
            Some(Trusted {
                issuer,
                jwks_uri,
                audiences,
            })
        });
        shorthand.into_iter().chain(listed).collect()
    }

    /// The clock skew allowed on `exp` and `nbf`.
    pub fn leeway(&self) -> Duration {
        Duration::from_secs(self.leeway_secs)
    }

    /// The claims that grant scopes: `scope_claims`, less `permissions` when
    /// `permissions_as_scopes` is off.
    pub fn granting_claims(&self) -> Vec<ScopeClaim> {
        self.scope_claims
            .iter()
            .copied()
            .filter(|claim| self.permissions_as_scopes || *claim != ScopeClaim::Permissions)
            .collect()
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

    /// The longest wait between two attempts while fetches fail.
    pub fn retry_max(&self) -> Duration {
        Duration::from_secs(self.retry_max_secs)
    }

    /// How long known keys keep serving while refreshes fail.
    pub fn max_stale(&self) -> Duration {
        Duration::from_secs(self.max_stale_secs)
    }
}

/// An optional string: empty (in TOML or an env var) means unset.
fn unset_if_empty<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<String>, D::Error> {
    let value = Option::<String>::deserialize(deserializer)?;
    Ok(value.filter(|value| !value.is_empty()))
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

/// A list given as one string or as a list of strings, each parsed into `T`. An empty string is
/// an empty list. (Env var lists are split, trimmed and checked before they get here.)
fn list<'de, D, T>(deserializer: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: FromStr,
    T::Err: fmt::Display,
{
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(String),
        Many(Vec<String>),
    }
    let items = match OneOrMany::deserialize(deserializer)? {
        OneOrMany::One(value) if value.is_empty() => Vec::new(),
        OneOrMany::One(value) => vec![value],
        OneOrMany::Many(values) => values,
    };
    items
        .iter()
        .map(|item| item.parse().map_err(serde::de::Error::custom))
        .collect()
}
