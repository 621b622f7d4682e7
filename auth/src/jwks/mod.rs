//! The JWKS cache. One background thread owns every fetch (awc's `Client` is not `Send`); the
//! request path reads the latest [`Snapshot`] from a watch channel, without contention, and asks
//! that thread for a refetch only when a token names an unknown `kid` or no keys are loaded.

mod fetch;
pub mod keys;

use std::sync::Arc;
use std::time::{Duration, Instant};

use jsonwebtoken::Algorithm;
use tokio::sync::{mpsc, oneshot, watch};
use url::Url;

use crate::error::{AuthError, ConfigError};
use keys::KeySet;

/// How the key set is fetched and kept.
#[derive(Debug, Clone)]
pub struct JwksConfig {
    /// The time limit of one fetch, body included. Default 5 s.
    pub fetch_timeout: Duration,
    /// The largest document accepted. Default 1 MiB.
    pub max_response_bytes: usize,
    /// How long a key set is fresh; it is refreshed in the background after that. Default 10 min.
    pub max_age: Duration,
    /// The least time between two refetches caused by an unknown `kid`. Default 30 s.
    pub cooldown: Duration,
    /// How long known keys keep serving while refreshes fail. Default 24 h.
    pub max_stale: Duration,
}

impl Default for JwksConfig {
    fn default() -> Self {
        Self {
            fetch_timeout: Duration::from_secs(5),
            max_response_bytes: 1024 * 1024,
            max_age: Duration::from_secs(600),
            cooldown: Duration::from_secs(30),
            max_stale: Duration::from_secs(24 * 3600),
        }
    }
}

/// Where the keys come from.
#[derive(Debug, Clone)]
pub(crate) enum Source {
    /// A JWKS URL.
    Jwks(Url),
    /// OIDC discovery: `{issuer}/.well-known/openid-configuration`, whose `issuer` must match.
    Discovery { issuer: String, document: Url },
}

impl Source {
    pub(crate) fn new(issuer: &str, jwks_uri: Option<&str>) -> Result<Self, ConfigError> {
        if let Some(uri) = jwks_uri {
            return Ok(Self::Jwks(checked_url("jwks_uri", uri)?));
        }
        let document = format!(
            "{}/.well-known/openid-configuration",
            issuer.trim_end_matches('/')
        );
        Ok(Self::Discovery {
            issuer: issuer.to_owned(),
            document: checked_url("issuer", &document)?,
        })
    }
}

/// Parses a URL that keys may be fetched from: https, or http to a loopback host.
pub(crate) fn checked_url(what: &'static str, url: &str) -> Result<Url, ConfigError> {
    let insecure = || ConfigError::InsecureUrl {
        what,
        url: url.to_owned(),
    };
    let parsed = Url::parse(url).map_err(|_| insecure())?;
    let loopback = match parsed.host() {
        Some(url::Host::Domain(domain)) => domain.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    };
    match parsed.scheme() {
        "https" if parsed.host().is_some() => Ok(parsed),
        "http" if loopback => Ok(parsed),
        _ => Err(insecure()),
    }
}

/// What the fetcher last published.
#[derive(Clone, Default)]
pub(crate) struct Snapshot {
    keys: Option<Arc<KeySet>>,
    /// Past this, `keys` are too stale to use.
    usable_until: Option<Instant>,
    /// When the current keys were fetched.
    fetched_at: Option<Instant>,
    /// Whether the last fetch failed.
    failing: bool,
    /// After a failure, the earliest next attempt.
    retry_at: Option<Instant>,
    /// Until then, an unknown `kid` causes no refetch.
    cooldown_until: Option<Instant>,
}

impl Snapshot {
    fn usable_keys(&self, now: Instant) -> Option<&Arc<KeySet>> {
        self.keys
            .as_ref()
            .filter(|_| self.usable_until.is_some_and(|until| now < until))
    }

    fn knows(&self, kid: Option<&str>, now: Instant) -> bool {
        self.usable_keys(now)
            .is_some_and(|keys| kid.is_none_or(|kid| keys.has_kid(kid)))
    }

    fn backing_off(&self, now: Instant) -> bool {
        self.failing && self.retry_at.is_some_and(|at| now < at)
    }

    fn cooling_down(&self, now: Instant) -> bool {
        self.cooldown_until.is_some_and(|until| now < until)
    }

    fn unavailable(&self, now: Instant) -> AuthError {
        AuthError::KeysUnavailable {
            retry_after: self
                .retry_at
                .map_or(Duration::ZERO, |at| at.saturating_duration_since(now)),
        }
    }
}

/// A request for fresh keys, answered with the snapshot after the fetcher acted on it.
struct Demand {
    kid: Option<String>,
    reply: oneshot::Sender<Arc<Snapshot>>,
}

/// The shared handle on the key cache. Cloning is cheap.
#[derive(Clone)]
pub(crate) struct JwksCache {
    state: watch::Receiver<Arc<Snapshot>>,
    demands: mpsc::UnboundedSender<Demand>,
    fetch_timeout: Duration,
}

impl JwksCache {
    /// Starts the fetcher thread, which fetches the keys at once. Keys are parsed for the
    /// `algorithms` allowed.
    pub(crate) fn start(source: Source, algorithms: Vec<Algorithm>, config: JwksConfig) -> Self {
        let (state_tx, state) = watch::channel(Arc::new(Snapshot::default()));
        let (demands, demands_rx) = mpsc::unbounded_channel();
        let fetch_timeout = config.fetch_timeout;
        fetch::spawn(source, algorithms, config, state_tx, demands_rx);
        Self {
            state,
            demands,
            fetch_timeout,
        }
    }

    /// Whether a usable key set is loaded.
    pub(crate) fn is_ready(&self) -> bool {
        self.current().is_some()
    }

    /// The usable key set, if any, without fetching.
    pub(crate) fn current(&self) -> Option<Arc<KeySet>> {
        self.state.borrow().usable_keys(Instant::now()).cloned()
    }

    /// The key set to look `kid` up in. It refetches, once per cooldown and shared by concurrent
    /// callers, when `kid` is unknown or no keys are loaded.
    ///
    /// # Errors
    /// [`AuthError::KeysUnavailable`] when no usable keys can decide: none are loaded and the
    /// issuer cannot be reached, or `kid` is unknown while refreshes fail.
    pub(crate) async fn key_set(&self, kid: Option<&str>) -> Result<Arc<KeySet>, AuthError> {
        let snapshot = Arc::clone(&self.state.borrow());
        let now = Instant::now();
        if let Some(keys) = snapshot.usable_keys(now) {
            if snapshot.knows(kid, now) || (snapshot.cooling_down(now) && !snapshot.failing) {
                return Ok(Arc::clone(keys));
            }
            if snapshot.cooling_down(now) || snapshot.backing_off(now) {
                return Err(snapshot.unavailable(now));
            }
        } else if snapshot.backing_off(now) {
            return Err(snapshot.unavailable(now));
        }

        let snapshot = self.demand(kid).await?;
        let now = Instant::now();
        match snapshot.usable_keys(now) {
            Some(keys) if snapshot.knows(kid, now) || !snapshot.failing => Ok(Arc::clone(keys)),
            _ => Err(snapshot.unavailable(now)),
        }
    }

    async fn demand(&self, kid: Option<&str>) -> Result<Arc<Snapshot>, AuthError> {
        let unavailable = AuthError::KeysUnavailable {
            retry_after: Duration::from_secs(1),
        };
        let (reply, answer) = oneshot::channel();
        self.demands
            .send(Demand {
                kid: kid.map(str::to_owned),
                reply,
            })
            .map_err(|_| unavailable.clone())?;
        match tokio::time::timeout(self.fetch_timeout, answer).await {
            Ok(Ok(snapshot)) => Ok(snapshot),
            _ => Err(unavailable),
        }
    }
}
