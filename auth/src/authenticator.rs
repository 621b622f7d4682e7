//! The authenticator: configuration, the key cache, and the whole check of one request.

use std::sync::Arc;
use std::time::Duration;

use crate::algorithm::Algorithm;
use crate::cache::{TokenCache, TokenDigest};
use crate::claims::{Claims, ScopeClaim};
use crate::config::{self, AuthConfig, NonceMode};
use crate::dpop::{Nonces, ProofKeys, ProofRules, ReplayStore};
use crate::error::{AuthError, ConfigError, TokenError};
use crate::jwks::{JwksCache, JwksConfig, Readiness, Source, client_config};
use crate::keys::Selection;
use crate::metrics::{FetchRecorder, Metrics};
use crate::sender::{DpopMode, SenderRules};
use crate::validation::{HeaderRules, Unverified, Validator, issuer_matches, now};

/// Verifies bearer tokens against the issuer's JWKS. Cloning is cheap and shares the key cache.
#[derive(Clone)]
pub struct Authenticator {
    inner: Arc<Inner>,
}

/// The issuers and each one's readiness, and the token cache's size: never a token or a key.
impl std::fmt::Debug for Authenticator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authenticator")
            .field("issuers", &self.issuer_states())
            .field("cached_tokens", &self.cached_tokens())
            .finish_non_exhaustive()
    }
}

struct Inner {
    max_token_bytes: usize,
    /// The shape, `alg` and header rules, checked before any issuer is picked.
    header_rules: HeaderRules,
    /// The clock skew allowed, for route policies (each issuer's validator has it too).
    leeway: Duration,
    /// Each trusted issuer with its own claim rules and key cache. A token's `iss` picks one.
    issuers: Vec<Trusted>,
    verified: TokenCache,
    metrics: Arc<Metrics>,
    resource_metadata: Option<Arc<str>>,
    realm: Box<str>,
    sender: SenderRules,
}

/// One trusted issuer: the claim rules for its tokens, and its keys.
struct Trusted {
    /// The issuer as configured.
    configured: Arc<str>,
    /// Whether its keys are found through discovery, which settles the exact issuer.
    discovers: bool,
    validator: Validator,
    keys: JwksCache,
}

impl Trusted {
    /// The one exact value that tokens' `iss` must equal: the discovery document's `issuer`
    /// once read, else the configured issuer.
    fn issuer(&self) -> Arc<str> {
        self.keys
            .discovered_issuer()
            .unwrap_or_else(|| Arc::clone(&self.configured))
    }

    /// Whether an unverified `iss` names this issuer, to pick whose keys to try. Exact once
    /// the issuer is settled; before discovery has run, its one trailing slash is still open.
    fn named_by(&self, iss: &str) -> bool {
        match self.keys.discovered_issuer() {
            Some(exact) => *exact == *iss,
            None if self.discovers => issuer_matches(&self.configured, iss),
            None => *self.configured == *iss,
        }
    }
}

/// An issuer to trust besides (or instead of) the one set with
/// [`AuthenticatorBuilder::issuer`]: for Auth0 Multiple Custom Domains, or several tenants.
/// Each has its own key cache, so an outage of one never affects tokens of another.
#[derive(Debug, Clone)]
pub struct TrustedIssuer {
    issuer: String,
    jwks_uri: Option<String>,
    audiences: Option<Vec<String>>,
}

impl TrustedIssuer {
    /// The issuer that `iss` must name exactly, such as `https://login.example.com/`. With
    /// discovery (no [`TrustedIssuer::jwks_uri`]), the discovery document's `issuer` may differ
    /// from it by one trailing slash, and then becomes the exact value.
    pub fn new(issuer: impl Into<String>) -> Self {
        Self {
            issuer: issuer.into(),
            jwks_uri: None,
            audiences: None,
        }
    }

    /// Where its JWKS is fetched; without it, OIDC discovery on the issuer finds it.
    #[must_use]
    pub fn jwks_uri(mut self, jwks_uri: impl Into<String>) -> Self {
        self.jwks_uri = Some(jwks_uri.into());
        self
    }

    /// The audiences its tokens may name; without it, the builder's
    /// [`AuthenticatorBuilder::audiences`].
    #[must_use]
    pub fn audiences<I, S>(mut self, audiences: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.audiences = Some(audiences.into_iter().map(Into::into).collect());
        self
    }
}

/// Builds an [`Authenticator`]: a thin front on [`AuthConfig`], whose fields it sets and whose
/// [`AuthConfig::validate`] checks them at [`AuthenticatorBuilder::build`]. Issuer and audience
/// are required.
#[derive(Debug, Clone, Default)]
pub struct AuthenticatorBuilder {
    config: AuthConfig,
    /// Issuers trusted besides the configuration's own.
    also_trusted: Vec<TrustedIssuer>,
    extra_roots_pem: Option<Vec<u8>>,
    redis_roots_pem: Option<Vec<u8>>,
    resource_metadata: Option<String>,
    replay: Replay,
}

/// Where the builder's replay store comes from.
#[derive(Debug, Clone, Default)]
enum Replay {
    /// The one `config.dpop` describes.
    #[default]
    Configured,
    /// One given in its place (`None`: no replay detection).
    Given(Option<Arc<dyn ReplayStore>>),
}

impl AuthConfig {
    /// A builder with every setting here; add what is the application's own (resource
    /// metadata, root certificates, more issuers), then build, which validates.
    pub fn builder(&self) -> AuthenticatorBuilder {
        AuthenticatorBuilder {
            config: self.clone(),
            ..AuthenticatorBuilder::default()
        }
    }
}

impl AuthenticatorBuilder {
    /// The issuer that `iss` must name exactly, such as `https://tenant.auth0.com/`; see
    /// [`TrustedIssuer::new`] for the one slash that discovery may settle.
    /// [`AuthenticatorBuilder::trust`] adds more.
    #[must_use]
    pub fn issuer(mut self, issuer: impl Into<String>) -> Self {
        self.config.issuer = Some(issuer.into());
        self
    }

    /// Where the JWKS is fetched. Without it, OIDC discovery on the issuer finds it.
    #[must_use]
    pub fn jwks_uri(mut self, jwks_uri: impl Into<String>) -> Self {
        self.config.jwks_uri = Some(jwks_uri.into());
        self
    }

    /// Also trusts `issuer`. A token's `iss` selects its issuer before any key is fetched: an
    /// `iss` that names none of them is refused with no network traffic.
    #[must_use]
    pub fn trust(mut self, issuer: TrustedIssuer) -> Self {
        self.also_trusted.push(issuer);
        self
    }

    /// The accepted audiences; `aud` must name at least one.
    #[must_use]
    pub fn audiences<I, S>(mut self, audiences: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.config.audience = audiences.into_iter().map(Into::into).collect();
        self
    }

    /// The accepted algorithms; default `[RS256]`. [`Algorithm`] has no symmetric member:
    /// with keys from a JWKS, `HS*` would let anyone holding a public key forge tokens.
    #[must_use]
    pub fn algorithms(mut self, algorithms: impl IntoIterator<Item = Algorithm>) -> Self {
        self.config.algorithms = algorithms.into_iter().collect();
        self
    }

    /// The clock skew allowed on `exp`, `nbf` and a future `auth_time`; default 5 s. Fractions
    /// of a second count.
    #[must_use]
    pub fn leeway(mut self, leeway: Duration) -> Self {
        self.config.leeway = leeway;
        self
    }

    /// Whether Auth0's RBAC `permissions` claim may count as scopes; default true. False
    /// leaves [`ScopeClaim::Permissions`] out whatever [`AuthenticatorBuilder::scope_claims`]
    /// lists; true changes nothing, so that list decides. The call order does not matter.
    #[must_use]
    pub fn permissions_as_scopes(mut self, enabled: bool) -> Self {
        self.config.permissions_as_scopes = enabled;
        self
    }

    /// The claims that grant scopes; default `scope` and `permissions`. Add
    /// [`ScopeClaim::Scp`] for Okta and Azure AD tokens.
    #[must_use]
    pub fn scope_claims(mut self, claims: impl IntoIterator<Item = ScopeClaim>) -> Self {
        self.config.scope_claims = claims.into_iter().collect();
        self
    }

    /// Whether the header's `typ` must be `at+jwt` (RFC 9068); default false, which also
    /// accepts `JWT` and no `typ`. Turn it on for issuers that always send `at+jwt`: an ID token
    /// (`typ: JWT`) then can never pass as an access token, whatever its audience.
    #[must_use]
    pub fn require_at_jwt(mut self, required: bool) -> Self {
        self.config.require_at_jwt = required;
        self
    }

    /// How the key set is fetched and kept.
    #[must_use]
    pub fn jwks(mut self, jwks: JwksConfig) -> Self {
        self.config.jwks = jwks;
        self
    }

    /// How many verified tokens to remember (default 10 000); 0 turns the cache off.
    #[must_use]
    pub fn token_cache_capacity(mut self, capacity: usize) -> Self {
        self.config.token_cache_capacity = capacity;
        self
    }

    /// The memory budget of the verified-token cache, in bytes (default 32 MiB): each entry is
    /// weighed by the memory its claims take. Tokens over 4 KiB are never cached.
    #[must_use]
    pub fn token_cache_max_bytes(mut self, max_bytes: usize) -> Self {
        self.config.token_cache_max_bytes = max_bytes;
        self
    }

    /// The longest token accepted, in bytes (default 16 KiB). A longer one is refused before
    /// any decoding, hashing or key lookup.
    #[must_use]
    pub fn max_token_bytes(mut self, max: usize) -> Self {
        self.config.max_token_bytes = max;
        self
    }

    /// Extra CA certificates (PEM) to trust when fetching keys over https, for an issuer behind
    /// a private CA. The built-in roots (Mozilla's, from webpki-roots) stay trusted.
    #[must_use]
    pub fn extra_root_certificates(mut self, pem: impl Into<Vec<u8>>) -> Self {
        self.extra_roots_pem = Some(pem.into());
        self
    }

    /// The CA certificates (PEM) to trust for a `rediss://` replay store
    /// (`dpop.redis_ca_file`, which the application has read), in place of the built-in roots.
    #[must_use]
    pub fn redis_root_certificates(mut self, pem: impl Into<Vec<u8>>) -> Self {
        self.redis_roots_pem = Some(pem.into());
        self
    }

    /// The URL of this API's protected resource metadata (RFC 9728), such as
    /// `https://api.example.com/.well-known/oauth-protected-resource`
    /// ([`crate::config::resource_metadata_location`] computes it from the public URL): every
    /// 401 and 403 challenge then names it as `resource_metadata`, so that clients can discover
    /// the issuer. Set it only where the document is served.
    #[must_use]
    pub fn resource_metadata(mut self, url: impl Into<String>) -> Self {
        self.resource_metadata = Some(url.into());
        self
    }

    /// The realm every challenge names (default `api`): 1 to 64 printable ASCII characters,
    /// no `"` or `\\`.
    #[must_use]
    pub fn realm(mut self, realm: impl Into<String>) -> Self {
        self.config.realm = realm.into();
        self
    }

    /// Which schemes are accepted, and whether DPoP-bound tokens must come with their proof
    /// (default [`DpopMode::Allowed`]).
    #[must_use]
    pub fn dpop_mode(mut self, mode: DpopMode) -> Self {
        self.config.dpop.mode = mode;
        self
    }

    /// The rules DPoP proofs must meet: algorithms and the `iat` window.
    #[must_use]
    pub fn dpop_proofs(mut self, rules: ProofRules) -> Self {
        let dpop = &mut self.config.dpop;
        dpop.algorithms = rules.algorithms;
        dpop.max_age = rules.max_age;
        dpop.leeway = rules.leeway;
        self
    }

    /// Where used DPoP proofs are remembered, so that each is accepted once (RFC 9449 §11.1);
    /// `None` turns replay detection off. Default: the store the configuration's `dpop.replay`
    /// names, a [`crate::dpop::MemoryReplayStore`] of [`crate::DEFAULT_REPLAY_CAPACITY`] proofs
    /// in [`crate::DEFAULT_REPLAY_MAX_BYTES`], [`crate::DEFAULT_REPLAY_PER_CLIENT`] per proof key
    /// and per token subject unless set otherwise. Replicas without sticky routing need a
    /// shared store to refuse a proof replayed to another one.
    #[must_use]
    pub fn dpop_replay(mut self, store: Option<Arc<dyn ReplayStore>>) -> Self {
        self.replay = Replay::Given(store);
        self
    }

    /// The API's public URL, such as `https://api.example.com`: its origin and the request's
    /// path are the URL a DPoP proof's `htu` must name. Never read from the request's `Host`
    /// or `Forwarded` headers, which any client sets. Without it, DPoP proofs are refused.
    #[must_use]
    pub fn public_url(mut self, url: impl Into<String>) -> Self {
        self.config.public_url = Some(url.into());
        self
    }

    /// Whether DPoP proofs must carry a server nonce (RFC 9449 §9); default
    /// [`NonceMode::Off`].
    #[must_use]
    pub fn dpop_nonce(mut self, mode: NonceMode) -> Self {
        self.config.dpop.nonce = mode;
        self
    }

    /// The secret server nonces are made under (at least 32 bytes), shared by the replicas.
    #[must_use]
    pub fn dpop_nonce_secret(mut self, secret: impl Into<String>) -> Self {
        self.config.dpop.nonce_secret = Some(config::Secret::new(secret));
        self
    }

    /// The request header in which the TLS proxy in front of the API forwards the client
    /// certificate (URL-encoded PEM, or Envoy's `X-Forwarded-Client-Cert`), to check tokens
    /// bound to it (`cnf.x5t#S256`, RFC 8705). Without it, such tokens are refused. The proxy
    /// must set this header on every request, never pass on a client's own.
    #[must_use]
    pub fn mtls_certificate_header(mut self, name: impl Into<String>) -> Self {
        self.config.mtls.certificate_header = Some(name.into());
        self
    }

    /// Checks the configuration ([`AuthConfig::validate`]) and starts the key cache, which
    /// fetches the keys at once in the background. A failed first fetch is logged, not fatal.
    ///
    /// # Errors
    /// When the issuer or an audience is missing, an issuer is trusted twice, a setting is
    /// outside its range or form ([`ConfigError::Invalid`], naming it by its configuration
    /// path), a key URL is neither https nor loopback http, or the extra root certificates
    /// are unusable.
    pub fn build(self) -> Result<Authenticator, ConfigError> {
        let Self {
            config,
            also_trusted,
            extra_roots_pem,
            redis_roots_pem,
            resource_metadata,
            replay,
        } = self;
        let mut trusted = config.trusted();
        trusted.extend(also_trusted.into_iter().map(|one| config::Trusted {
            issuer: one.issuer,
            jwks_uri: one.jwks_uri,
            audiences: one.audiences.unwrap_or_else(|| config.audience.clone()),
        }));
        if trusted.is_empty() {
            return Err(ConfigError::MissingIssuer);
        }
        if trusted.iter().any(|one| one.audiences.is_empty()) {
            return Err(ConfigError::MissingAudience);
        }
        for (i, one) in trusted.iter().enumerate() {
            if trusted[..i]
                .iter()
                .any(|other| issuer_matches(&other.issuer, &one.issuer))
            {
                return Err(ConfigError::DuplicateIssuer {
                    issuer: one.issuer.clone(),
                });
            }
        }
        config.validate()?;
        let replay = match replay {
            Replay::Given(store) => store,
            Replay::Configured => config.replay_store(redis_roots_pem)?,
        };
        let sender = sender_rules(&config, replay)?;
        let granting = config.granting_claims();
        let tls = client_config(extra_roots_pem.as_deref())?;
        let metrics = Arc::new(Metrics::default());
        let mut issuers = Vec::with_capacity(trusted.len());
        for one in trusted {
            let source = Source::new(&one.issuer, one.jwks_uri.as_deref())?;
            let keys = JwksCache::start(
                source,
                config.algorithms.clone(),
                config.jwks.clone(),
                Arc::clone(&tls),
                FetchRecorder::new(Arc::clone(&metrics), &one.issuer),
            );
            let validator = Validator {
                audiences: one.audiences,
                leeway: config.leeway.as_secs_f64(),
                scope_claims: granting.clone(),
            };
            issuers.push(Trusted {
                configured: Arc::from(one.issuer),
                discovers: one.jwks_uri.is_none(),
                validator,
                keys,
            });
        }
        let AuthConfig {
            algorithms,
            leeway,
            token_cache_capacity,
            token_cache_max_bytes,
            max_token_bytes,
            require_at_jwt,
            realm,
            ..
        } = config;
        Ok(Authenticator {
            inner: Arc::new(Inner {
                max_token_bytes,
                leeway,
                header_rules: HeaderRules {
                    algorithms,
                    require_at_jwt,
                },
                issuers,
                verified: TokenCache::new(token_cache_capacity, token_cache_max_bytes),
                metrics,
                resource_metadata: resource_metadata.map(Arc::from),
                realm: realm.into_boxed_str(),
                sender,
            }),
        })
    }
}

/// The DPoP and mTLS rules of a validated configuration.
///
/// # Errors
/// When nonces are required, no secret is set, and none can be made.
fn sender_rules(
    config: &AuthConfig,
    replay: Option<Arc<dyn ReplayStore>>,
) -> Result<SenderRules, ConfigError> {
    let dpop = &config.dpop;
    let nonces = if dpop.mode.aware() && dpop.nonce == NonceMode::Required {
        let secret = nonce_secret(dpop.nonce_secret.as_ref())?;
        Some(Nonces::new(&secret, dpop.nonce_window))
    } else {
        None
    };
    Ok(SenderRules {
        mode: dpop.mode,
        algs: dpop
            .algorithms
            .iter()
            .map(|alg| alg.as_str())
            .collect::<Vec<_>>()
            .join(" ")
            .into_boxed_str(),
        proofs: dpop.proof_rules(),
        replay,
        origin: config
            .public_url
            .as_deref()
            .and_then(SenderRules::origin_of),
        certificate_header: config
            .mtls
            .certificate_header
            .as_deref()
            .map(|name| name.to_ascii_lowercase().into_boxed_str()),
        nonces,
        proof_keys: ProofKeys::new(dpop.proof_key_cache_max_bytes),
    })
}

/// The secret DPoP nonces are made under: the configured one, or 32 random bytes, with a
/// warning that replicas will refuse each other's nonces.
///
/// # Errors
/// When no random bytes can be had: set the secret.
fn nonce_secret(configured: Option<&config::Secret>) -> Result<Vec<u8>, ConfigError> {
    if let Some(secret) = configured {
        return Ok(secret.expose().to_vec());
    }
    log::warn!(
        "DPoP nonces are required but no nonce secret is set (dpop.nonce_secret): this process \
         made a random one, so other replicas refuse its nonces and a restart invalidates them; \
         share one secret of at least 32 bytes among the replicas"
    );
    let mut random = vec![0_u8; 32];
    aws_lc_rs::rand::fill(&mut random).map_err(|_| {
        ConfigError::invalid(
            "dpop.nonce_secret",
            "is unset, and no random bytes could be had to make one: set it",
        )
    })?;
    Ok(random)
}

impl Authenticator {
    /// Starts building an authenticator.
    pub fn builder() -> AuthenticatorBuilder {
        AuthenticatorBuilder::default()
    }

    /// Whether tokens can be verified: at least one issuer has usable keys (fresh, or stale
    /// within the maximum stale age). With several issuers, one issuer's outage does not make
    /// the whole API unready: every instance shares it, and pulling them all would refuse the
    /// other issuers' callers too. [`Authenticator::issuer_states`] tells each apart.
    pub fn is_ready(&self) -> bool {
        self.inner
            .issuers
            .iter()
            .any(|trusted| trusted.keys.readiness().is_ready())
    }

    /// Waits until [`Authenticator::is_ready`], for at most `timeout`: for tests, and for a
    /// server that wants its keys before it takes traffic.
    ///
    /// # Errors
    /// Each issuer's state, when none became ready in time.
    pub async fn wait_ready(&self, timeout: Duration) -> Result<(), Vec<(String, Readiness)>> {
        // A timeout too long to add is no limit at all.
        let deadline = tokio::time::Instant::now().checked_add(timeout);
        while !self.is_ready() {
            if deadline.is_some_and(|at| tokio::time::Instant::now() >= at) {
                return Err(self.issuer_states());
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        Ok(())
    }

    /// Each trusted issuer, in configuration order, with whether its keys can verify tokens and
    /// if not, why. Each is named by its exact value: as discovery states it, once read.
    pub fn issuer_states(&self) -> Vec<(String, Readiness)> {
        self.inner
            .issuers
            .iter()
            .map(|trusted| (trusted.issuer().to_string(), trusted.keys.readiness()))
            .collect()
    }

    /// How long each issuer's current key set stays fresh before its routine refresh: the
    /// lifetime its JWKS response set (`Cache-Control: max-age`, `Expires`), clamped, or the
    /// configured `max_age`.
    pub fn key_lifetimes(&self) -> Vec<(String, Duration)> {
        self.inner
            .issuers
            .iter()
            .map(|trusted| (trusted.issuer().to_string(), trusted.keys.lifetime()))
            .collect()
    }

    /// Each trusted issuer's exact value, in configuration order: what tokens' `iss` must
    /// equal, and what [`Claims::issuer`] reports.
    pub fn issuers(&self) -> Vec<String> {
        self.inner
            .issuers
            .iter()
            .map(|trusted| trusted.issuer().to_string())
            .collect()
    }

    /// The clock skew allowed on `exp`, `nbf` and, in [`crate::Policy::max_age`], `auth_time`.
    pub(crate) fn leeway(&self) -> Duration {
        self.inner.leeway
    }

    /// The realm that challenges name.
    pub(crate) fn realm(&self) -> &str {
        &self.inner.realm
    }

    /// The RFC 9728 metadata URL that challenges name, when configured.
    pub(crate) fn resource_metadata(&self) -> Option<Arc<str>> {
        self.inner.resource_metadata.clone()
    }

    /// The rules for sender-constrained tokens.
    pub(crate) fn sender(&self) -> &SenderRules {
        &self.inner.sender
    }

    /// Which schemes are accepted.
    pub fn dpop_mode(&self) -> DpopMode {
        self.inner.sender.mode
    }

    /// The DPoP proof algorithms accepted, for the RFC 9728 document's
    /// `dpop_signing_alg_values_supported`.
    pub fn dpop_algorithms(&self) -> &[crate::Algorithm] {
        &self.inner.sender.proofs.algorithms
    }

    /// Whether the DPoP replay store can answer now: `Ok` without one, or with one that
    /// answers; its error otherwise. For a readiness probe.
    ///
    /// # Errors
    /// The store's own.
    pub async fn replay_store_ready(&self) -> Result<(), crate::dpop::ReplayError> {
        match &self.inner.sender.replay {
            Some(store) => store.ready().await,
            None => Ok(()),
        }
    }

    /// The counters that [`Authenticator::register_metrics`] exposes.
    pub(crate) fn metrics(&self) -> &Metrics {
        &self.inner.metrics
    }

    /// How many verified tokens are remembered now (at most the configured capacity).
    pub fn cached_tokens(&self) -> usize {
        self.inner.verified.len()
    }

    /// The memory the remembered tokens are weighed at now, in bytes (at most the configured
    /// budget).
    pub fn cached_token_bytes(&self) -> u64 {
        self.inner.verified.weight()
    }

    /// Verifies a token that came without an HTTP request (from a message queue, say): shape,
    /// header, key, signature, then claims. A token bound to its sender (`cnf`: a DPoP key or
    /// a client certificate) is refused, since no proof can come with it here; use
    /// [`Authenticator::verify`] for HTTP requests, which checks those bindings.
    ///
    /// # Errors
    /// [`AuthError::InvalidToken`] naming the failed check (the first: a token over the size
    /// limit), or [`AuthError::KeysUnavailable`]
    /// when no cached key can decide and the keys cannot be fetched.
    pub async fn verify_token(&self, token: &str) -> Result<Claims, AuthError> {
        // A token over the size limit is never looked up; the full check refuses it first.
        let (claims, now) = match self.probe(token.as_bytes(), now()) {
            Probe::Hit(verdict) => (verdict?, now()),
            Probe::Miss(digest) => self.verify_uncached(token, digest).await?,
        };
        let as_bearer = crate::sender::Presented {
            scheme: crate::Scheme::Bearer,
            proof: None,
            stray_proof: false,
            certificate: None,
            several_certificates: false,
            method: "",
            path: "",
        };
        self.sender().confirm(&claims, &as_bearer, token, now)?;
        Ok(claims)
    }

    /// Looks `token` up in the verified-token cache. A hit is a token byte-identical (by
    /// SHA-256) to one that passed the full check with the current key set; its time window is
    /// checked again, at `now`. Tokens over the size limit are never looked up.
    pub(crate) fn probe(&self, token: &[u8], now: f64) -> Probe {
        let Inner {
            max_token_bytes,
            header_rules: _,
            leeway: _,
            issuers,
            verified,
            metrics,
            resource_metadata: _,
            realm: _,
            sender: _,
        } = &*self.inner;
        if token.len() > *max_token_bytes {
            return Probe::Miss(None);
        }
        let digest = verified.digest(token);
        let Some(key) = &digest else {
            return Probe::Miss(None);
        };
        // A hit counts only while the key set that verified it is its issuer's current one.
        let hit = verified.get(key).and_then(|entry| {
            let trusted = issuers.get(entry.issuer)?;
            let current = trusted.keys.current()?;
            entry.verified_with(&current).then_some((entry, trusted))
        });
        metrics.token_cache_lookup(hit.is_some());
        if let Some((entry, trusted)) = hit {
            let verdict = trusted
                .validator
                .check_time(entry.validity, now)
                .map(|()| entry.claims.clone())
                .map_err(AuthError::from);
            return Probe::Hit(verdict);
        }
        Probe::Miss(digest)
    }

    /// The full check of a token that missed the cache; `digest` is its cache key. With the
    /// claims, the time they were checked at (read once the keys are at hand), for the route's
    /// policy.
    pub(crate) async fn verify_uncached(
        &self,
        token: &str,
        digest: Option<TokenDigest>,
    ) -> Result<(Claims, f64), AuthError> {
        let Inner {
            max_token_bytes,
            header_rules,
            leeway: _,
            issuers: _,
            verified,
            metrics: _,
            resource_metadata: _,
            realm: _,
            sender: _,
        } = &*self.inner;
        if token.len() > *max_token_bytes {
            return Err(TokenError::TooLarge.into());
        }
        let unverified = header_rules.parse(token)?;
        let (index, trusted) = self.select(&unverified)?;
        let key_set = trusted.keys.key_set(unverified.kid.as_deref()).await?;
        let candidates = match key_set.select(unverified.kid.as_deref(), unverified.alg) {
            Selection::Keys(candidates) => candidates,
            Selection::UnknownKid => return Err(TokenError::UnknownKid.into()),
            Selection::NoFit => return Err(TokenError::NoFittingKey.into()),
        };
        let issuer = trusted.issuer();
        let checked_at = now();
        let (claims, validity) =
            trusted
                .validator
                .verify(&unverified, &candidates, &issuer, checked_at)?;
        if let Some(digest) = digest {
            verified.insert(digest, claims.clone(), validity, index, &key_set);
        }
        Ok((claims, checked_at))
    }

    /// The issuer whose keys may verify the token. With several, the unverified `iss` picks
    /// one. With one, the `iss` is read first only when the token's key would need a fetch;
    /// otherwise it is checked after the signature, as ever. Either way an `iss` that names no
    /// trusted issuer is refused here, before it can cause any network traffic.
    fn select(&self, token: &Unverified<'_>) -> Result<(usize, &Trusted), TokenError> {
        let issuers = &self.inner.issuers;
        if let [only] = issuers.as_slice() {
            let names_it = || token.issuer().is_some_and(|iss| only.named_by(&iss));
            if !only.keys.knows(token.kid.as_deref()) && !names_it() {
                return Err(TokenError::Issuer);
            }
            return Ok((0, only));
        }
        let iss = token.issuer().ok_or(TokenError::Issuer)?;
        issuers
            .iter()
            .enumerate()
            .find(|(_, trusted)| trusted.named_by(&iss))
            .ok_or(TokenError::Issuer)
    }
}

/// What the verified-token cache says of a token.
pub(crate) enum Probe {
    /// The token passed the full check before: here is the verdict of its time checks.
    Hit(Result<Claims, AuthError>),
    /// Not cached; its cache key, when the cache is on and the token was looked up.
    Miss(Option<TokenDigest>),
}
