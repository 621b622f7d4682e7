//! The authenticator's configuration as data: every setting, its default and its range, in the
//! one crate that enforces them. With the `serde` feature it deserializes from any format
//! (`*_secs` for durations; a list may be one string; an empty string means unset), so that an
//! application loads it straight from its own configuration files.

#[cfg(feature = "serde")]
pub mod de;

pub use crate::limits;

use std::time::Duration;

use crate::algorithm::Algorithm;
use crate::authenticator::{
    AuthenticatorBuilder, DEFAULT_ALGORITHMS, DEFAULT_LEEWAY, DEFAULT_MAX_TOKEN_BYTES,
    DEFAULT_SCOPE_CLAIMS, DEFAULT_TOKEN_CACHE_CAPACITY, DEFAULT_TOKEN_CACHE_MAX_BYTES,
    TrustedIssuer,
};
use crate::claims::ScopeClaim;
use crate::dpop::{MemoryReplayStore, ProofRules, ReplayStore};
use crate::error::{ConfigError, UrlKind};
use crate::jwks::{JwksConfig, check_url};
use crate::limits::{whole_millis, whole_secs, within};
use crate::sender::DpopMode;
use crate::validation::issuer_matches;

/// Whom to trust and how tokens are checked. [`AuthConfig::builder`] turns it into an
/// [`AuthenticatorBuilder`]; [`AuthConfig::validate`] names the first setting that is wrong by
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
    /// Clock skew allowed on `exp`, `nbf` and a future `auth_time`, in seconds.
    pub leeway_secs: u64,
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
    /// Fetching and keeping the issuers' keys.
    pub jwks: JwksSettings,
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
    /// How old a proof's `iat` may be, in seconds.
    pub max_age_secs: u64,
    /// How far in the future a proof's `iat` may be, in seconds.
    pub leeway_secs: u64,
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
    /// How long connecting to Redis may take, in milliseconds.
    pub redis_connect_timeout_ms: u64,
    /// How long one Redis command may take, in milliseconds.
    pub redis_command_timeout_ms: u64,
    /// A PEM file of the CA certificates to trust for `rediss://` in place of the built-in
    /// roots. Data only, like [`JwksSettings::ca_file`]: the application reads it and passes
    /// the PEM to [`AuthConfig::builder_with_redis_roots`].
    #[cfg_attr(feature = "serde", serde(deserialize_with = "de::unset_if_empty"))]
    pub redis_ca_file: Option<String>,
    /// Use a Redis whose `maxmemory-policy` may evict keys (default false): a weakening, see
    /// [`crate::dpop::RedisOptions::allow_eviction`].
    pub redis_allow_eviction: bool,
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

pub use crate::dpop::DEFAULT_REDIS_KEY_PREFIX;

impl Default for DpopSettings {
    fn default() -> Self {
        let proofs = ProofRules::default();
        Self {
            mode: DpopMode::default(),
            algorithms: proofs.algorithms,
            max_age_secs: proofs.max_age.as_secs(),
            leeway_secs: proofs.leeway.as_secs(),
            replay: ReplayKind::default(),
            replay_capacity: crate::DEFAULT_REPLAY_CAPACITY,
            replay_max_bytes: crate::DEFAULT_REPLAY_MAX_BYTES,
            replay_per_client: crate::DEFAULT_REPLAY_PER_CLIENT,
            redis_url: None,
            redis_key_prefix: DEFAULT_REDIS_KEY_PREFIX.to_owned(),
            redis_connect_timeout_ms: 1000,
            redis_command_timeout_ms: 250,
            redis_ca_file: None,
            redis_allow_eviction: false,
        }
    }
}

impl DpopSettings {
    /// The proof rules these settings give.
    pub fn proof_rules(&self) -> ProofRules {
        let mut rules = ProofRules::default();
        rules.algorithms.clone_from(&self.algorithms);
        rules.max_age = Duration::from_secs(self.max_age_secs);
        rules.leeway = Duration::from_secs(self.leeway_secs);
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
        within(
            "dpop.max_age_secs",
            self.max_age_secs,
            &whole_secs(&limits::DPOP_MAX_AGE),
        )?;
        within(
            "dpop.leeway_secs",
            self.leeway_secs,
            &whole_secs(&limits::DPOP_LEEWAY),
        )?;
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
        within(
            "dpop.redis_connect_timeout_ms",
            self.redis_connect_timeout_ms,
            &whole_millis(&limits::REDIS_TIMEOUT),
        )?;
        within(
            "dpop.redis_command_timeout_ms",
            self.redis_command_timeout_ms,
            &whole_millis(&limits::REDIS_TIMEOUT),
        )?;
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

/// Fetching and keeping the keys, in whole seconds and bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Deserialize),
    serde(default, deny_unknown_fields)
)]
#[non_exhaustive]
pub struct JwksSettings {
    /// How long one fetch may take.
    pub fetch_timeout_secs: u64,
    /// The largest JWKS or discovery document accepted, in bytes.
    pub max_response_bytes: usize,
    /// How long a fetched key set is fresh.
    pub max_age_secs: u64,
    /// The least time between two refetches caused by an unknown `kid`.
    pub cooldown_secs: u64,
    /// The longest wait between two attempts while fetches fail.
    pub retry_max_secs: u64,
    /// How long known keys keep serving while the issuer cannot be reached.
    pub max_stale_secs: u64,
    /// A PEM file of extra CA certificates for the issuers' https. Data only: this crate never
    /// opens files, so the application reads it and passes the PEM to
    /// [`AuthenticatorBuilder::extra_root_certificates`].
    #[cfg_attr(feature = "serde", serde(deserialize_with = "de::unset_if_empty"))]
    pub ca_file: Option<String>,
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
            leeway_secs: DEFAULT_LEEWAY.as_secs(),
            permissions_as_scopes: true,
            scope_claims: DEFAULT_SCOPE_CLAIMS.to_vec(),
            token_cache_capacity: DEFAULT_TOKEN_CACHE_CAPACITY,
            token_cache_max_bytes: DEFAULT_TOKEN_CACHE_MAX_BYTES,
            max_token_bytes: DEFAULT_MAX_TOKEN_BYTES,
            require_at_jwt: false,
            realm: crate::DEFAULT_REALM.to_owned(),
            jwks: JwksSettings::default(),
            dpop: DpopSettings::default(),
            mtls: MtlsSettings::default(),
        }
    }
}

impl Default for JwksSettings {
    fn default() -> Self {
        let jwks = JwksConfig::default();
        Self {
            fetch_timeout_secs: jwks.fetch_timeout.as_secs(),
            max_response_bytes: jwks.max_response_bytes,
            max_age_secs: jwks.max_age.as_secs(),
            cooldown_secs: jwks.cooldown.as_secs(),
            retry_max_secs: jwks.retry_max.as_secs(),
            max_stale_secs: jwks.max_stale.as_secs(),
            ca_file: None,
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

    /// The clock skew allowed.
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
        within(
            "leeway_secs",
            self.leeway_secs,
            &whole_secs(&limits::LEEWAY),
        )?;
        limits::sizes(
            self.token_cache_capacity,
            self.token_cache_max_bytes,
            self.max_token_bytes,
        )?;
        limits::realm(&self.realm)?;
        self.jwks.validate()?;
        self.dpop.validate()?;
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

    /// An [`AuthenticatorBuilder`] with every setting here, after [`AuthConfig::validate`];
    /// add what is the application's own (resource metadata, extra roots, more issuers), then
    /// build.
    ///
    /// # Errors
    /// As [`AuthConfig::validate`].
    pub fn builder(&self) -> Result<AuthenticatorBuilder, ConfigError> {
        self.builder_with_redis_roots(None)
    }

    /// As [`AuthConfig::builder`], with the CA certificates (PEM) of `dpop.redis_ca_file`,
    /// which the application has read, for a Redis replay store behind a private CA.
    ///
    /// # Errors
    /// As [`AuthConfig::validate`].
    pub fn builder_with_redis_roots(
        &self,
        redis_roots: Option<Vec<u8>>,
    ) -> Result<AuthenticatorBuilder, ConfigError> {
        self.validate()?;
        let mut builder = AuthenticatorBuilder::default()
            .algorithms(self.algorithms.iter().copied())
            .leeway(self.leeway())
            .scope_claims(self.granting_claims())
            .token_cache_capacity(self.token_cache_capacity)
            .token_cache_max_bytes(self.token_cache_max_bytes)
            .require_at_jwt(self.require_at_jwt)
            .realm(self.realm.clone())
            .max_token_bytes(self.max_token_bytes)
            .jwks(self.jwks.to_jwks_config())
            .dpop_mode(self.dpop.mode)
            .dpop_proofs(self.dpop.proof_rules())
            .dpop_replay(self.replay_store(redis_roots)?);
        if let Some(header) = &self.mtls.certificate_header {
            builder = builder.mtls_certificate_header(header.clone());
        }
        for one in self.trusted() {
            let mut trusted = TrustedIssuer::new(one.issuer).audiences(one.audiences);
            if let Some(jwks_uri) = one.jwks_uri {
                trusted = trusted.jwks_uri(jwks_uri);
            }
            builder = builder.trust(trusted);
        }
        Ok(builder)
    }
}

impl AuthConfig {
    /// The replay store `dpop.replay` names.
    #[cfg_attr(
        not(feature = "redis"),
        allow(clippy::needless_pass_by_value, unused_variables)
    )]
    fn replay_store(
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
                    connect_timeout: Duration::from_millis(dpop.redis_connect_timeout_ms),
                    command_timeout: Duration::from_millis(dpop.redis_command_timeout_ms),
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

    /// The same settings as the builder takes them.
    pub fn to_jwks_config(&self) -> JwksConfig {
        JwksConfig {
            fetch_timeout: self.fetch_timeout(),
            max_response_bytes: self.max_response_bytes,
            max_age: self.max_age(),
            cooldown: self.cooldown(),
            retry_max: self.retry_max(),
            max_stale: self.max_stale(),
        }
    }

    fn validate(&self) -> Result<(), ConfigError> {
        within(
            "jwks.fetch_timeout_secs",
            self.fetch_timeout_secs,
            &whole_secs(&limits::FETCH_TIMEOUT),
        )?;
        within(
            "jwks.max_response_bytes",
            self.max_response_bytes,
            &limits::MAX_RESPONSE_BYTES,
        )?;
        within(
            "jwks.max_age_secs",
            self.max_age_secs,
            &whole_secs(&limits::MAX_AGE),
        )?;
        within(
            "jwks.cooldown_secs",
            self.cooldown_secs,
            &whole_secs(&limits::COOLDOWN),
        )?;
        within(
            "jwks.retry_max_secs",
            self.retry_max_secs,
            &whole_secs(&limits::RETRY_MAX),
        )?;
        within(
            "jwks.max_stale_secs",
            self.max_stale_secs,
            &whole_secs(&limits::MAX_STALE),
        )?;
        if self.max_stale_secs < self.max_age_secs {
            return Err(ConfigError::invalid(
                "jwks.max_stale_secs",
                format!("must be at least jwks.max_age_secs ({})", self.max_age_secs),
            ));
        }
        Ok(())
    }
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
    use super::is_host_with_port;

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
