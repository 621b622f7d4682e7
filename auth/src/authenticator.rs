//! The authenticator: configuration, the key cache, and the whole check of one request.

use std::sync::Arc;
use std::time::Duration;

use crate::algorithm::Algorithm;
use crate::cache::{TokenCache, TokenDigest};
use crate::claims::{Claims, ScopeClaim};
use crate::error::{AuthError, ConfigError, TokenError};
use crate::jwks::keys::Selection;
use crate::jwks::{JwksCache, JwksConfig, Readiness, Source, client_config};
use crate::metrics::Metrics;
use crate::validation::{Validator, now};

/// Verifies bearer tokens against the issuer's JWKS. Cloning is cheap and shares the key cache.
#[derive(Clone)]
pub struct Authenticator {
    inner: Arc<Inner>,
}

struct Inner {
    max_token_bytes: usize,
    validator: Validator,
    keys: JwksCache,
    verified: TokenCache,
    metrics: Arc<Metrics>,
    resource_metadata: Option<Arc<str>>,
}

/// Builds an [`Authenticator`]. Issuer and audience are required.
#[derive(Debug, Clone)]
pub struct AuthenticatorBuilder {
    issuer: Option<String>,
    jwks_uri: Option<String>,
    audiences: Vec<String>,
    algorithms: Vec<Algorithm>,
    leeway: Duration,
    scope_claims: Vec<ScopeClaim>,
    jwks: JwksConfig,
    token_cache_capacity: usize,
    max_token_bytes: usize,
    extra_roots_pem: Option<Vec<u8>>,
    resource_metadata: Option<String>,
}

/// The default number of verified tokens remembered.
pub const DEFAULT_TOKEN_CACHE_CAPACITY: usize = 10_000;

/// The default longest token accepted, in bytes: Node-based servers refuse 16 KiB headers.
pub const DEFAULT_MAX_TOKEN_BYTES: usize = 16 * 1024;

impl Default for AuthenticatorBuilder {
    fn default() -> Self {
        Self {
            issuer: None,
            jwks_uri: None,
            audiences: Vec::new(),
            algorithms: vec![Algorithm::RS256],
            leeway: Duration::from_secs(5),
            scope_claims: vec![ScopeClaim::Scope, ScopeClaim::Permissions],
            jwks: JwksConfig::default(),
            token_cache_capacity: DEFAULT_TOKEN_CACHE_CAPACITY,
            max_token_bytes: DEFAULT_MAX_TOKEN_BYTES,
            extra_roots_pem: None,
            resource_metadata: None,
        }
    }
}

impl AuthenticatorBuilder {
    /// The issuer that `iss` must equal exactly, such as `https://tenant.auth0.com/`.
    #[must_use]
    pub fn issuer(mut self, issuer: impl Into<String>) -> Self {
        self.issuer = Some(issuer.into());
        self
    }

    /// Where the JWKS is fetched. Without it, OIDC discovery on the issuer finds it.
    #[must_use]
    pub fn jwks_uri(mut self, jwks_uri: impl Into<String>) -> Self {
        self.jwks_uri = Some(jwks_uri.into());
        self
    }

    /// The accepted audiences; `aud` must name at least one.
    #[must_use]
    pub fn audiences<I, S>(mut self, audiences: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.audiences = audiences.into_iter().map(Into::into).collect();
        self
    }

    /// The accepted algorithms; default `[RS256]`. [`Algorithm`] has no symmetric member:
    /// with keys from a JWKS, `HS*` would let anyone holding a public key forge tokens.
    #[must_use]
    pub fn algorithms(mut self, algorithms: impl IntoIterator<Item = Algorithm>) -> Self {
        self.algorithms = algorithms.into_iter().collect();
        self
    }

    /// The clock skew allowed on `exp` and `nbf`; default 5 s.
    #[must_use]
    pub fn leeway(mut self, leeway: Duration) -> Self {
        self.leeway = leeway;
        self
    }

    /// Whether Auth0's RBAC `permissions` claim counts as scopes; default true. Adds or removes
    /// [`ScopeClaim::Permissions`] in [`AuthenticatorBuilder::scope_claims`].
    #[must_use]
    pub fn permissions_as_scopes(mut self, enabled: bool) -> Self {
        self.scope_claims
            .retain(|claim| *claim != ScopeClaim::Permissions);
        if enabled {
            self.scope_claims.push(ScopeClaim::Permissions);
        }
        self
    }

    /// The claims that grant scopes; default `scope` and `permissions`. Add
    /// [`ScopeClaim::Scp`] for Okta and Azure AD tokens.
    #[must_use]
    pub fn scope_claims(mut self, claims: impl IntoIterator<Item = ScopeClaim>) -> Self {
        self.scope_claims = claims.into_iter().collect();
        self
    }

    /// How the key set is fetched and kept.
    #[must_use]
    pub fn jwks(mut self, jwks: JwksConfig) -> Self {
        self.jwks = jwks;
        self
    }

    /// How many verified tokens to remember (default 10 000); 0 turns the cache off.
    #[must_use]
    pub fn token_cache_capacity(mut self, capacity: usize) -> Self {
        self.token_cache_capacity = capacity;
        self
    }

    /// The longest token accepted, in bytes (default 16 KiB). A longer one is refused before
    /// any decoding, hashing or key lookup.
    #[must_use]
    pub fn max_token_bytes(mut self, max: usize) -> Self {
        self.max_token_bytes = max;
        self
    }

    /// Extra CA certificates (PEM) to trust when fetching keys over https, for an issuer behind
    /// a private CA. The built-in roots (Mozilla's, from webpki-roots) stay trusted.
    #[must_use]
    pub fn extra_root_certificates(mut self, pem: impl Into<Vec<u8>>) -> Self {
        self.extra_roots_pem = Some(pem.into());
        self
    }

    /// The URL of this API's protected resource metadata (RFC 9728), such as
    /// `https://api.example.com/.well-known/oauth-protected-resource`: every 401 and 403
    /// challenge then names it as `resource_metadata`, so that clients can discover the issuer.
    #[must_use]
    pub fn resource_metadata(mut self, url: impl Into<String>) -> Self {
        self.resource_metadata = Some(url.into());
        self
    }

    /// Checks the configuration and starts the key cache, which fetches the keys at once in
    /// the background. A failed first fetch is logged, not fatal.
    ///
    /// # Errors
    /// When the issuer, an audience or an algorithm is missing, a key URL is neither https
    /// nor loopback http, or the extra root certificates are unusable.
    pub fn build(self) -> Result<Authenticator, ConfigError> {
        let issuer = self.issuer.ok_or(ConfigError::MissingIssuer)?;
        if self.audiences.is_empty() {
            return Err(ConfigError::MissingAudience);
        }
        if self.algorithms.is_empty() {
            return Err(ConfigError::MissingAlgorithm);
        }
        let source = Source::new(&issuer, self.jwks_uri.as_deref())?;
        let tls = client_config(self.extra_roots_pem.as_deref())?;
        let metrics = Arc::new(Metrics::new(&issuer));
        let keys = JwksCache::start(
            source,
            self.algorithms.clone(),
            self.jwks,
            tls,
            Arc::clone(&metrics),
        );
        let validator = Validator {
            issuer,
            audiences: self.audiences,
            algorithms: self.algorithms,
            leeway_secs: self.leeway.as_secs(),
            scope_claims: self.scope_claims,
        };
        Ok(Authenticator {
            inner: Arc::new(Inner {
                max_token_bytes: self.max_token_bytes,
                validator,
                keys,
                verified: TokenCache::new(self.token_cache_capacity),
                metrics,
                resource_metadata: self.resource_metadata.map(Arc::from),
            }),
        })
    }
}

impl Authenticator {
    /// Starts building an authenticator.
    pub fn builder() -> AuthenticatorBuilder {
        AuthenticatorBuilder::default()
    }

    /// Whether a usable key set is loaded, for a readiness probe.
    pub fn is_ready(&self) -> bool {
        self.readiness().is_ready()
    }

    /// Whether a usable key set is loaded and kept fresh, and if not, why.
    pub fn readiness(&self) -> Readiness {
        self.inner.keys.readiness()
    }

    /// The RFC 9728 metadata URL that challenges name, when configured.
    pub(crate) fn resource_metadata(&self) -> Option<Arc<str>> {
        self.inner.resource_metadata.clone()
    }

    /// The counters that [`Authenticator::register_metrics`] exposes.
    pub(crate) fn metrics(&self) -> &Metrics {
        &self.inner.metrics
    }

    /// How many verified tokens are remembered now (at most the configured capacity).
    pub fn cached_tokens(&self) -> usize {
        self.inner.verified.len()
    }

    /// Verifies a token: shape, header, key, signature, then claims.
    ///
    /// # Errors
    /// [`AuthError::InvalidToken`] naming the failed check (the first: a token over the size
    /// limit), or [`AuthError::KeysUnavailable`]
    /// when no cached key can decide and the keys cannot be fetched.
    pub async fn verify(&self, token: &str) -> Result<Claims, AuthError> {
        // A token over the size limit is never looked up; the full check refuses it first.
        match self.probe(token.as_bytes()) {
            Probe::Hit(verdict) => verdict,
            Probe::Miss(digest) => self.verify_uncached(token, digest).await,
        }
    }

    /// Looks `token` up in the verified-token cache. A hit is a token byte-identical (by
    /// SHA-256) to one that passed the full check with the current key set; its time window is
    /// checked again. Tokens over the size limit are never looked up.
    pub(crate) fn probe(&self, token: &[u8]) -> Probe {
        let Inner {
            max_token_bytes,
            validator,
            keys,
            verified,
            metrics,
            resource_metadata: _,
        } = &*self.inner;
        if token.len() > *max_token_bytes {
            return Probe::Miss(None);
        }
        let digest = verified.digest(token);
        let Some(key) = &digest else {
            return Probe::Miss(None);
        };
        let entry = keys
            .current()
            .and_then(|current| verified.get(key, &current));
        metrics.token_cache_lookup(entry.is_some());
        if let Some(entry) = entry {
            let verdict = validator
                .check_time(entry.validity, now())
                .map(|()| entry.claims.clone())
                .map_err(AuthError::from);
            return Probe::Hit(verdict);
        }
        Probe::Miss(digest)
    }

    /// The full check of a token that missed the cache; `digest` is its cache key.
    pub(crate) async fn verify_uncached(
        &self,
        token: &str,
        digest: Option<TokenDigest>,
    ) -> Result<Claims, AuthError> {
        let Inner {
            max_token_bytes,
            validator,
            keys,
            verified,
            metrics: _,
            resource_metadata: _,
        } = &*self.inner;
        if token.len() > *max_token_bytes {
            return Err(TokenError::TooLarge.into());
        }
        let unverified = validator.parse(token)?;
        let key_set = keys.key_set(unverified.kid.as_deref()).await?;
        let candidates = match key_set.select(unverified.kid.as_deref(), unverified.alg) {
            Selection::Keys(candidates) => candidates,
            Selection::UnknownKid => return Err(TokenError::UnknownKid.into()),
            Selection::NoFit => return Err(TokenError::NoFittingKey.into()),
        };
        let (claims, validity) = validator.verify(&unverified, &candidates, now())?;
        if let Some(digest) = digest {
            verified.insert(digest, claims.clone(), validity, &key_set);
        }
        Ok(claims)
    }
}

/// What the verified-token cache says of a token.
pub(crate) enum Probe {
    /// The token passed the full check before: here is the verdict of its time checks.
    Hit(Result<Claims, AuthError>),
    /// Not cached; its cache key, when the cache is on and the token was looked up.
    Miss(Option<TokenDigest>),
}
