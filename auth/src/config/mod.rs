//! The authenticator's configuration as data, one type per concept: every setting with its
//! default on the field and its range in [`crate::limits`], and one
//! [`AuthConfig::validate`] that checks them all, naming the failing setting by its path.
//! [`crate::AuthenticatorBuilder`] is a thin front on it. With the `serde` feature it
//! deserializes from any format (durations as `*_secs` or `*_ms`; a list may be one string; an
//! empty string means unset), so that an application loads it straight from its own
//! configuration files.
//!
//! A new setting is a field here (with its default and its rule), a line in the application's
//! defaults file, and a row in its docs.

#[cfg(feature = "serde")]
use crate::de;

use std::time::Duration;

use crate::algorithm::Algorithm;
use crate::claims::ScopeClaim;
use crate::dpop::{
    DEFAULT_REDIS_COMMAND_TIMEOUT, DEFAULT_REDIS_CONNECT_TIMEOUT, DEFAULT_REDIS_KEY_PREFIX,
    MemoryReplayStore, ProofRules, ReplayStore,
};
use crate::error::{ConfigError, UrlKind};
use crate::jwks::{JwksConfig, check_url};
use crate::limits::{self, within, within_millis, within_secs};
use crate::sender::{
    DEFAULT_REPLAY_CAPACITY, DEFAULT_REPLAY_MAX_BYTES, DEFAULT_REPLAY_PER_CLIENT, DpopMode,
};
use crate::validation::issuer_matches;

/// The default accepted algorithms: Auth0 signs with RS256.
pub const DEFAULT_ALGORITHMS: [Algorithm; 1] = [Algorithm::RS256];

/// The default clock skew allowed on `exp`, `nbf` and a future `auth_time`.
pub const DEFAULT_LEEWAY: Duration = Duration::from_secs(5);

/// The default claims that grant scopes: `scope` and Auth0's `permissions`.
pub const DEFAULT_SCOPE_CLAIMS: [ScopeClaim; 2] = [ScopeClaim::Scope, ScopeClaim::Permissions];

/// The default number of verified tokens remembered.
pub const DEFAULT_TOKEN_CACHE_CAPACITY: usize = 10_000;

/// The default memory budget of the verified-token cache, in bytes: 32 MiB.
pub const DEFAULT_TOKEN_CACHE_MAX_BYTES: usize = 32 * 1024 * 1024;

/// The default memory of the DPoP proof key cache: 4 MiB, some 3,000 clients' keys.
pub const DEFAULT_PROOF_KEY_CACHE_MAX_BYTES: usize = 4 * 1024 * 1024;

/// The default window of a DPoP server nonce: a nonce is good for one to two of them.
pub const DEFAULT_NONCE_WINDOW: Duration = Duration::from_secs(60);

/// The shortest secret DPoP server nonces may be made under, in bytes.
const MIN_NONCE_SECRET_BYTES: usize = 32;

/// The default longest token accepted, in bytes: Node-based servers refuse 16 KiB headers.
pub const DEFAULT_MAX_TOKEN_BYTES: usize = 16 * 1024;

/// Whom to trust and how tokens are checked. [`AuthConfig::builder`] turns it into an
/// [`crate::AuthenticatorBuilder`]; [`AuthConfig::validate`] names the first setting that is wrong by
/// its path (`issuers[2].jwks_uri`).
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Deserialize),
    serde(default, deny_unknown_fields)
)]
#[non_exhaustive]
pub struct AuthConfig {
    /// An Auth0 tenant domain such as `dev-abc123.us.auth0.com`: issuer `https://{domain}/`,
    /// JWKS `https://{domain}/.well-known/jwks.json`.
    #[cfg_attr(feature = "serde", serde(deserialize_with = "de::unset_if_empty"))]
    pub domain: Option<String>,
    /// An explicit issuer URL, which wins over `domain`; its JWKS is found by discovery.
    #[cfg_attr(feature = "serde", serde(deserialize_with = "de::unset_if_empty"))]
    pub issuer: Option<String>,
    /// An explicit JWKS URL.
    #[cfg_attr(feature = "serde", serde(deserialize_with = "de::unset_if_empty"))]
    pub jwks_uri: Option<String>,
    /// Several issuers, each with its own keys, in place of `domain`/`issuer`/`jwks_uri`.
    pub issuers: Vec<IssuerConfig>,
    /// The accepted audiences: a token must name at least one.
    #[cfg_attr(feature = "serde", serde(deserialize_with = "de::list"))]
    pub audience: Vec<String>,
    /// The accepted signature algorithms.
    #[cfg_attr(feature = "serde", serde(deserialize_with = "de::list"))]
    pub algorithms: Vec<Algorithm>,
    /// Clock skew allowed on `exp`, `nbf` and a future `auth_time` (`leeway_secs`).
    #[cfg_attr(
        feature = "serde",
        serde(rename = "leeway_secs", deserialize_with = "de::secs")
    )]
    pub leeway: Duration,
    /// Whether Auth0's RBAC `permissions` claim may count as scopes (false drops it from
    /// `scope_claims`).
    pub permissions_as_scopes: bool,
    /// The claims that grant scopes.
    #[cfg_attr(feature = "serde", serde(deserialize_with = "de::list"))]
    pub scope_claims: Vec<ScopeClaim>,
    /// How many verified tokens to remember; 0 turns the cache off.
    pub token_cache_capacity: usize,
    /// The memory budget of the verified-token cache, in bytes.
    pub token_cache_max_bytes: usize,
    /// The longest token accepted, in bytes.
    pub max_token_bytes: usize,
    /// Whether tokens must carry `typ: at+jwt` (RFC 9068).
    pub require_at_jwt: bool,
    /// The realm every challenge names.
    pub realm: String,
    /// The API's public URL, such as `https://api.example.com` or `https://api.example.com/mcp`:
    /// its origin and the request's path are the URL a DPoP proof's `htu` must name (never read
    /// from the request's `Host`), and it is the resource that RFC 9728 metadata describes
    /// ([`resource_metadata_location`]). https, or http to a loopback host.
    #[cfg_attr(feature = "serde", serde(deserialize_with = "de::unset_if_empty"))]
    pub public_url: Option<String>,
    /// Fetching and keeping the issuers' keys.
    pub jwks: JwksConfig,
    /// DPoP-bound tokens (RFC 9449).
    pub dpop: DpopSettings,
    /// Certificate-bound tokens (RFC 8705).
    pub mtls: MtlsSettings,
}

/// DPoP (RFC 9449): which schemes are accepted, the proofs' rules, and where used proofs are
/// remembered.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Deserialize),
    serde(default, deny_unknown_fields)
)]
#[non_exhaustive]
pub struct DpopSettings {
    /// `allowed`, `required` or `disabled`.
    pub mode: DpopMode,
    /// The proof algorithms accepted.
    #[cfg_attr(feature = "serde", serde(deserialize_with = "de::list"))]
    pub algorithms: Vec<Algorithm>,
    /// How old a proof's `iat` may be (`max_age_secs`).
    #[cfg_attr(
        feature = "serde",
        serde(rename = "max_age_secs", deserialize_with = "de::secs")
    )]
    pub max_age: Duration,
    /// How far in the future a proof's `iat` may be (`leeway_secs`).
    #[cfg_attr(
        feature = "serde",
        serde(rename = "leeway_secs", deserialize_with = "de::secs")
    )]
    pub leeway: Duration,
    /// Where used proofs are remembered: `memory`, `redis` or `off`.
    pub replay: ReplayKind,
    /// The in-memory store's capacity, in live proofs.
    pub replay_capacity: usize,
    /// The memory the in-memory store may hold, in bytes.
    pub replay_max_bytes: usize,
    /// The share of the in-memory store one client may hold: per proof key, and per token
    /// subject across its keys.
    pub replay_per_client: usize,
    /// The Redis (or Valkey) server for `replay = "redis"`: `redis://` or `rediss://` (TLS).
    #[cfg_attr(feature = "serde", serde(deserialize_with = "de::unset_if_empty"))]
    pub redis_url: Option<String>,
    /// The prefix of every key written to Redis.
    pub redis_key_prefix: String,
    /// How long connecting to Redis may take (`redis_connect_timeout_ms`).
    #[cfg_attr(
        feature = "serde",
        serde(rename = "redis_connect_timeout_ms", deserialize_with = "de::millis")
    )]
    pub redis_connect_timeout: Duration,
    /// How long one Redis command may take (`redis_command_timeout_ms`).
    #[cfg_attr(
        feature = "serde",
        serde(rename = "redis_command_timeout_ms", deserialize_with = "de::millis")
    )]
    pub redis_command_timeout: Duration,
    /// A PEM file of the CA certificates to trust for `rediss://` in place of the built-in
    /// roots. Data only, like [`JwksConfig::ca_file`]: the application reads it and passes
    /// the PEM to [`crate::AuthenticatorBuilder::redis_root_certificates`].
    #[cfg_attr(feature = "serde", serde(deserialize_with = "de::unset_if_empty"))]
    pub redis_ca_file: Option<String>,
    /// Use a Redis whose `maxmemory-policy` may evict keys (default false): a weakening, see
    /// [`crate::dpop::RedisOptions::allow_eviction`].
    pub redis_allow_eviction: bool,
    /// The memory that the parsed keys of DPoP proofs may take, cached by the exact bytes of
    /// each proof's protected header once its signature passed; 0 turns the cache off.
    pub proof_key_cache_max_bytes: usize,
    /// Resource-server nonces (RFC 9449 §9): `off`, or `required`, where every proof must carry
    /// a nonce this API issued for its key in the current or the previous window.
    pub nonce: NonceMode,
    /// The secret nonces are made under, at least 32 bytes, shared by every replica (each then
    /// accepts the others' nonces). Unset: a random one per process, with a warning, since
    /// replicas then refuse each other's nonces. Never logged.
    #[cfg_attr(feature = "serde", serde(deserialize_with = "secret"))]
    pub nonce_secret: Option<Secret>,
    /// How long a nonce's window is (`nonce_window_secs`); a nonce is good in its window and
    /// the next.
    #[cfg_attr(
        feature = "serde",
        serde(rename = "nonce_window_secs", deserialize_with = "de::secs")
    )]
    pub nonce_window: Duration,
}

/// Whether DPoP proofs must carry a server nonce.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Deserialize),
    serde(rename_all = "lowercase")
)]
#[non_exhaustive]
pub enum NonceMode {
    /// No nonce is asked for (the default).
    #[default]
    Off,
    /// Every proof needs a nonce from this API; others get 401 `use_dpop_nonce` and one.
    Required,
}

/// A secret setting: compared and cloned, but never shown by `Debug`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps `value`.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// Its bytes.
    pub fn expose(&self) -> &[u8] {
        self.0.as_bytes()
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Secret({} bytes)", self.0.len())
    }
}

/// An optional secret: empty means unset.
#[cfg(feature = "serde")]
fn secret<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Option<Secret>, D::Error> {
    de::unset_if_empty(deserializer).map(|value| value.map(Secret))
}

/// Where used DPoP proofs are remembered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Deserialize),
    serde(rename_all = "lowercase")
)]
#[non_exhaustive]
pub enum ReplayKind {
    /// In this process: one use per replica.
    #[default]
    Memory,
    /// In a Redis or Valkey server that every replica shares: one use in all.
    Redis,
    /// Nowhere: a proof may be replayed within its `iat` window.
    Off,
}

/// mTLS-bound tokens (RFC 8705 §3).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Deserialize),
    serde(default, deny_unknown_fields)
)]
#[non_exhaustive]
pub struct MtlsSettings {
    /// The header in which the TLS proxy forwards the client certificate; unset: tokens bound
    /// to a certificate are refused.
    #[cfg_attr(feature = "serde", serde(deserialize_with = "de::unset_if_empty"))]
    pub certificate_header: Option<String>,
}

impl Default for DpopSettings {
    fn default() -> Self {
        let proofs = ProofRules::default();
        Self {
            mode: DpopMode::default(),
            algorithms: proofs.algorithms,
            max_age: proofs.max_age,
            leeway: proofs.leeway,
            replay: ReplayKind::default(),
            replay_capacity: DEFAULT_REPLAY_CAPACITY,
            replay_max_bytes: DEFAULT_REPLAY_MAX_BYTES,
            replay_per_client: DEFAULT_REPLAY_PER_CLIENT,
            redis_url: None,
            redis_key_prefix: DEFAULT_REDIS_KEY_PREFIX.to_owned(),
            redis_connect_timeout: DEFAULT_REDIS_CONNECT_TIMEOUT,
            redis_command_timeout: DEFAULT_REDIS_COMMAND_TIMEOUT,
            redis_ca_file: None,
            redis_allow_eviction: false,
            proof_key_cache_max_bytes: DEFAULT_PROOF_KEY_CACHE_MAX_BYTES,
            nonce: NonceMode::default(),
            nonce_secret: None,
            nonce_window: DEFAULT_NONCE_WINDOW,
        }
    }
}

impl DpopSettings {
    /// The proof rules these settings give.
    pub fn proof_rules(&self) -> ProofRules {
        let mut rules = ProofRules::default();
        rules.algorithms.clone_from(&self.algorithms);
        rules.max_age = self.max_age;
        rules.leeway = self.leeway;
        rules
    }

    fn validate(&self) -> Result<(), ConfigError> {
        if self.algorithms.is_empty() {
            return Err(ConfigError::invalid(
                "dpop.algorithms",
                format!(
                    "list at least one of {}",
                    Algorithm::ALL.map(Algorithm::as_str).join(", ")
                ),
            ));
        }
        within_secs("dpop.max_age_secs", self.max_age, &limits::DPOP_MAX_AGE)?;
        within_secs("dpop.leeway_secs", self.leeway, &limits::DPOP_LEEWAY)?;
        within(
            "dpop.replay_capacity",
            self.replay_capacity,
            &limits::REPLAY_CAPACITY,
        )?;
        within(
            "dpop.replay_max_bytes",
            self.replay_max_bytes,
            &limits::REPLAY_MAX_BYTES,
        )?;
        within(
            "dpop.replay_per_client",
            self.replay_per_client,
            &(1..=self.replay_capacity),
        )?;
        within_millis(
            "dpop.redis_connect_timeout_ms",
            self.redis_connect_timeout,
            &limits::REDIS_TIMEOUT,
        )?;
        within_millis(
            "dpop.redis_command_timeout_ms",
            self.redis_command_timeout,
            &limits::REDIS_TIMEOUT,
        )?;
        within(
            "dpop.proof_key_cache_max_bytes",
            self.proof_key_cache_max_bytes,
            &limits::PROOF_KEY_CACHE_MAX_BYTES,
        )?;
        within_secs(
            "dpop.nonce_window_secs",
            self.nonce_window,
            &limits::NONCE_WINDOW,
        )?;
        if let Some(secret) = &self.nonce_secret
            && secret.expose().len() < MIN_NONCE_SECRET_BYTES
        {
            return Err(ConfigError::invalid(
                "dpop.nonce_secret",
                format!(
                    "is {} bytes; it must be at least {MIN_NONCE_SECRET_BYTES} (for one: \
                     openssl rand -base64 32)",
                    secret.expose().len()
                ),
            ));
        }
        if self.redis_key_prefix.len() > 64 {
            return Err(ConfigError::invalid(
                "dpop.redis_key_prefix",
                "must be at most 64 bytes",
            ));
        }
        match (&self.redis_url, self.replay) {
            (None, ReplayKind::Redis) => Err(ConfigError::invalid(
                "dpop.redis_url",
                "replay = \"redis\" needs the server's URL, such as redis://127.0.0.1:6379/0 \
                 or rediss://cache.example.com:6380 for TLS",
            )),
            (Some(url), _) if !(url.starts_with("redis://") || url.starts_with("rediss://")) => {
                Err(ConfigError::invalid(
                    "dpop.redis_url",
                    "must start with redis:// or rediss:// (TLS)",
                ))
            }
            _ => Ok(()),
        }
    }
}

/// One more trusted issuer: `domain` or `issuer`, an optional `jwks_uri`, and optional
/// audiences (default: [`AuthConfig::audience`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Deserialize),
    serde(default, deny_unknown_fields)
)]
#[non_exhaustive]
pub struct IssuerConfig {
    /// An Auth0 domain, as [`AuthConfig::domain`].
    #[cfg_attr(feature = "serde", serde(deserialize_with = "de::unset_if_empty"))]
    pub domain: Option<String>,
    /// An issuer URL, as [`AuthConfig::issuer`].
    #[cfg_attr(feature = "serde", serde(deserialize_with = "de::unset_if_empty"))]
    pub issuer: Option<String>,
    /// An explicit JWKS URL.
    #[cfg_attr(feature = "serde", serde(deserialize_with = "de::unset_if_empty"))]
    pub jwks_uri: Option<String>,
    /// Its audiences; empty means [`AuthConfig::audience`].
    #[cfg_attr(feature = "serde", serde(deserialize_with = "de::list"))]
    pub audience: Vec<String>,
}

/// A trusted issuer resolved from the configuration: what `iss` must name, where its keys are
/// (none: OIDC discovery), and the audiences its tokens may name.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Trusted {
    /// The issuer URL.
    pub issuer: String,
    /// The JWKS URL, or `None` for discovery.
    pub jwks_uri: Option<String>,
    /// The accepted audiences.
    pub audiences: Vec<String>,
}

impl Default for AuthConfig {
    fn default() -> Self {
        Self {
            domain: None,
            issuer: None,
            jwks_uri: None,
            issuers: Vec::new(),
            audience: Vec::new(),
            algorithms: DEFAULT_ALGORITHMS.to_vec(),
            leeway: DEFAULT_LEEWAY,
            permissions_as_scopes: true,
            scope_claims: DEFAULT_SCOPE_CLAIMS.to_vec(),
            token_cache_capacity: DEFAULT_TOKEN_CACHE_CAPACITY,
            token_cache_max_bytes: DEFAULT_TOKEN_CACHE_MAX_BYTES,
            max_token_bytes: DEFAULT_MAX_TOKEN_BYTES,
            require_at_jwt: false,
            realm: crate::DEFAULT_REALM.to_owned(),
            public_url: None,
            jwks: JwksConfig::default(),
            dpop: DpopSettings::default(),
            mtls: MtlsSettings::default(),
        }
    }
}

/// The issuer and JWKS URL of a `domain`/`issuer`/`jwks_uri` triple: `issuer` wins over
/// `https://{domain}/`; the JWKS is `jwks_uri`, the domain's well-known one, or (for an explicit
/// issuer) found by discovery.
fn resolve(
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

impl AuthConfig {
    /// The issuer tokens must name in `iss`: `issuer`, or `https://{domain}/`.
    pub fn resolved_issuer(&self) -> Option<String> {
        resolve(self.domain.as_ref(), self.issuer.as_ref(), None).map(|(issuer, _)| issuer)
    }

    /// Where the keys of the one-issuer shorthand are fetched: `jwks_uri`, or the domain's
    /// well-known JWKS. `None` means discovery on the issuer (or no shorthand issuer).
    pub fn resolved_jwks_uri(&self) -> Option<String> {
        resolve(
            self.domain.as_ref(),
            self.issuer.as_ref(),
            self.jwks_uri.as_ref(),
        )
        .and_then(|(_, jwks)| jwks)
    }

    /// Every trusted issuer: the one-issuer shorthand (`domain`/`issuer`), or each `issuers`
    /// entry, with [`AuthConfig::audience`] where an entry names none. Empty when none is set.
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

    /// The claims that grant scopes: `scope_claims`, less `permissions` when
    /// `permissions_as_scopes` is off.
    pub fn granting_claims(&self) -> Vec<ScopeClaim> {
        self.scope_claims
            .iter()
            .copied()
            .filter(|claim| self.permissions_as_scopes || *claim != ScopeClaim::Permissions)
            .collect()
    }

    /// Checks every value: forms, ranges, and the issuer rules. Whether an issuer must be set at
    /// all is the application's choice (a development issuer may stand in), so none is required
    /// here; but every issuer that is set needs an audience.
    ///
    /// # Errors
    /// [`ConfigError::Invalid`] naming the first setting that is wrong, by its path.
    pub fn validate(&self) -> Result<(), ConfigError> {
        validate_issuer(
            "",
            self.domain.as_ref(),
            self.issuer.as_ref(),
            self.jwks_uri.as_ref(),
        )?;
        self.validate_issuers()?;
        validate_audiences("audience", &self.audience)?;
        if self.algorithms.is_empty() {
            return Err(ConfigError::invalid(
                "algorithms",
                format!(
                    "list at least one of {}",
                    Algorithm::ALL.map(Algorithm::as_str).join(", ")
                ),
            ));
        }
        if self.granting_claims().is_empty() {
            return Err(ConfigError::invalid(
                "scope_claims",
                format!(
                    "no claim grants scopes, so every scoped route would refuse every token: \
                     list at least one of {} (and keep permissions_as_scopes true if \
                     permissions is the only one)",
                    ScopeClaim::names()
                ),
            ));
        }
        within_secs("leeway_secs", self.leeway, &limits::LEEWAY)?;
        limits::sizes(
            self.token_cache_capacity,
            self.token_cache_max_bytes,
            self.max_token_bytes,
        )?;
        limits::realm(&self.realm)?;
        if let Some(url) = &self.public_url {
            check_url(UrlKind::Resource, url)
                .map_err(|error| ConfigError::invalid("public_url", error))?;
        }
        self.jwks.validate()?;
        self.dpop.validate()?;
        if self.dpop.mode == DpopMode::Required && self.public_url.is_none() {
            return Err(ConfigError::Needs {
                path: "dpop.mode".to_owned(),
                needs: "public_url".to_owned(),
                reason: "\"required\" needs the API's public URL, which DPoP proofs name \
                         (their htu)"
                    .to_owned(),
            });
        }
        self.mtls.validate()?;
        if self.trusted().iter().any(|one| one.audiences.is_empty()) {
            return Err(ConfigError::invalid(
                "audience",
                "at least one audience is required, such as https://my-api (the API's \
                 identifier in the Auth0 dashboard)",
            ));
        }
        Ok(())
    }

    /// The `issuers` rules: one form of issuer at a time, each entry naming one issuer, and no
    /// issuer twice.
    fn validate_issuers(&self) -> Result<(), ConfigError> {
        if self.issuers.is_empty() {
            return Ok(());
        }
        if self.domain.is_some() || self.issuer.is_some() || self.jwks_uri.is_some() {
            return Err(ConfigError::invalid(
                "issuers",
                "is set together with `domain`, `issuer` or `jwks_uri`: use the one-issuer \
                 shorthand or the list, not both",
            ));
        }
        let mut seen: Vec<String> = Vec::new();
        for (i, entry) in self.issuers.iter().enumerate() {
            let prefix = format!("issuers[{i}].");
            if entry.domain.is_some() == entry.issuer.is_some() {
                return Err(ConfigError::invalid(
                    &format!("{prefix}domain"),
                    "each issuer needs exactly one of `domain` and `issuer`",
                ));
            }
            validate_issuer(
                &prefix,
                entry.domain.as_ref(),
                entry.issuer.as_ref(),
                entry.jwks_uri.as_ref(),
            )?;
            validate_audiences(&format!("{prefix}audience"), &entry.audience)?;
            let (issuer, _) = resolve(
                entry.domain.as_ref(),
                entry.issuer.as_ref(),
                entry.jwks_uri.as_ref(),
            )
            .unwrap_or_default();
            // Two configured forms of one issuer, but for its trailing slash, are one issuer.
            if seen.iter().any(|other| issuer_matches(other, &issuer)) {
                return Err(ConfigError::invalid(
                    &format!("{prefix}issuer"),
                    format!("{issuer:?} is listed twice"),
                ));
            }
            seen.push(issuer);
        }
        Ok(())
    }
}

impl AuthConfig {
    /// The replay store `dpop.replay` names.
    #[cfg_attr(
        not(feature = "redis"),
        allow(clippy::needless_pass_by_value, unused_variables)
    )]
    pub(crate) fn replay_store(
        &self,
        redis_roots: Option<Vec<u8>>,
    ) -> Result<Option<std::sync::Arc<dyn ReplayStore>>, ConfigError> {
        let dpop = &self.dpop;
        Ok(match dpop.replay {
            ReplayKind::Off => None,
            ReplayKind::Memory => Some(std::sync::Arc::new(MemoryReplayStore::new(
                dpop.replay_capacity,
                dpop.replay_max_bytes,
                dpop.replay_per_client,
            ))),
            #[cfg(feature = "redis")]
            ReplayKind::Redis => Some(std::sync::Arc::new(crate::dpop::RedisReplayStore::new(
                dpop.redis_url.as_deref().unwrap_or_default(),
                crate::dpop::RedisOptions {
                    key_prefix: dpop.redis_key_prefix.clone(),
                    connect_timeout: dpop.redis_connect_timeout,
                    command_timeout: dpop.redis_command_timeout,
                    root_certificates: redis_roots,
                    allow_eviction: dpop.redis_allow_eviction,
                },
            )?)),
            #[cfg(not(feature = "redis"))]
            ReplayKind::Redis => {
                return Err(ConfigError::invalid(
                    "dpop.replay",
                    "redis needs this crate's `redis` feature, which this build leaves out",
                ));
            }
        })
    }
}

impl MtlsSettings {
    /// The header name, when set, is an HTTP token.
    fn validate(&self) -> Result<(), ConfigError> {
        if let Some(name) = &self.certificate_header
            && !is_header_name(name)
        {
            return Err(ConfigError::invalid(
                "mtls.certificate_header",
                format!("{name:?} is not an HTTP header name"),
            ));
        }
        Ok(())
    }
}

/// An HTTP field name (RFC 9110 §5.1: a token).
fn is_header_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// Where RFC 9728 §3.1 puts the metadata of the resource `public_url`: the well-known prefix
/// between the host and the resource's path, whose trailing slash is dropped. Returns the
/// document's full URL (which challenges name as `resource_metadata`) and its path (where the
/// application serves it). `https://api.example.com/mcp` has its document at
/// `https://api.example.com/.well-known/oauth-protected-resource/mcp`.
pub fn resource_metadata_location(public_url: &str) -> (String, String) {
    const WELL_KNOWN: &str = "/.well-known/oauth-protected-resource";
    let after_scheme = public_url.find("://").map_or(0, |i| i + 3);
    let (origin, path) = match public_url[after_scheme..].find('/') {
        Some(slash) => public_url.split_at(after_scheme + slash),
        None => (public_url, ""),
    };
    let path = format!("{WELL_KNOWN}{}", path.trim_end_matches('/'));
    (format!("{origin}{path}"), path)
}

fn validate_audiences(path: &str, audiences: &[String]) -> Result<(), ConfigError> {
    for audience in audiences {
        if audience.trim().is_empty() || audience.trim() != audience {
            return Err(ConfigError::invalid(
                path,
                format!("{audience:?}: an audience must not be empty or padded with spaces"),
            ));
        }
    }
    Ok(())
}

/// Checks one `domain`/`issuer`/`jwks_uri` triple, whose paths start with `prefix`.
fn validate_issuer(
    prefix: &str,
    domain: Option<&String>,
    issuer: Option<&String>,
    jwks_uri: Option<&String>,
) -> Result<(), ConfigError> {
    if let Some(domain) = domain
        && !is_host_with_port(domain)
    {
        return Err(ConfigError::invalid(
            &format!("{prefix}domain"),
            format!(
                "{domain:?} is not a bare host name such as dev-abc123.us.auth0.com, with an \
                 optional :port (no scheme, user, path, query, fragment or backslash)"
            ),
        ));
    }
    let urls = [
        ("issuer", UrlKind::Issuer, issuer),
        ("jwks_uri", UrlKind::JwksUri, jwks_uri),
    ];
    for (key, kind, value) in urls {
        if let Some(value) = value {
            check_url(kind, value)
                .map_err(|error| ConfigError::invalid(&format!("{prefix}{key}"), error))?;
        }
    }
    Ok(())
}

/// `host[:port]`, where host is a DNS name or dotted IPv4 address: letters, digits and hyphens
/// in dot-separated labels. Anything a URL parser could read as a scheme, user, path, query or
/// fragment (`/`, `\`, `@`, `?`, `#`, a second `:`) is refused.
fn is_host_with_port(value: &str) -> bool {
    let (host, port) = match value.split_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (value, None),
    };
    let port_ok = port.is_none_or(|port| {
        port.bytes().all(|b| b.is_ascii_digit()) && port.parse::<u16>().is_ok_and(|p| p > 0)
    });
    let label_ok = |label: &str| {
        (1..=63).contains(&label.len())
            && label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-')
            && !label.starts_with('-')
            && !label.ends_with('-')
    };
    port_ok && host.len() <= 253 && host.split('.').all(label_ok)
}

#[cfg(test)]
mod tests {
    use super::{is_host_with_port, resource_metadata_location};

    #[test]
    fn the_well_known_prefix_goes_between_host_and_path() {
        for (resource, url) in [
            (
                "https://api.example.com",
                "https://api.example.com/.well-known/oauth-protected-resource",
            ),
            (
                "https://api.example.com/",
                "https://api.example.com/.well-known/oauth-protected-resource",
            ),
            (
                "https://api.example.com/mcp",
                "https://api.example.com/.well-known/oauth-protected-resource/mcp",
            ),
            (
                "https://api.example.com:8443/tenant/mcp/",
                "https://api.example.com:8443/.well-known/oauth-protected-resource/tenant/mcp",
            ),
            (
                "http://127.0.0.1:3010",
                "http://127.0.0.1:3010/.well-known/oauth-protected-resource",
            ),
        ] {
            let (found, path) = resource_metadata_location(resource);

            assert_eq!(found, url, "{resource}");
            assert!(url.ends_with(&path), "{resource}");
        }
    }

    #[test]
    fn a_domain_is_a_bare_host_with_an_optional_port() {
        for ok in [
            "dev-abc123.us.auth0.com",
            "login.example.com:8443",
            "localhost",
            "127.0.0.1:9000",
        ] {
            assert!(is_host_with_port(ok), "{ok}");
        }
        for bad in [
            "",
            "https://tenant.auth0.com",
            "tenant.auth0.com/",
            "tenant.auth0.com/path",
            "user:pass@tenant.auth0.com",
            "evil.example\\@tenant.auth0.com",
            "evil.example@tenant.auth0.com",
            "tenant.auth0.com?x=1",
            "tenant.auth0.com#x",
            "tenant.auth0.com:",
            "tenant.auth0.com:0",
            "tenant.auth0.com:99999",
            "tenant.auth0.com:80:80",
            "tenant..auth0.com",
            "-tenant.auth0.com",
            "tenant.auth0.com.",
            " tenant.auth0.com",
            "[::1]",
        ] {
            assert!(!is_host_with_port(bad), "{bad}");
        }
    }
}
