//! The JWKS cache. One background thread owns every fetch (awc's `Client` is not `Send`); the
//! request path reads the latest [`Snapshot`] from a watch channel, without contention, and asks
//! that thread for a refetch only when a token names an unknown `kid` or no keys are loaded.

mod fetch;
mod lifetime;
mod tls;

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::{mpsc, oneshot, watch};
use url::Url;

use crate::algorithm::Algorithm;
use crate::error::{AuthError, ConfigError, UrlKind, UrlProblem};
use crate::keys::KeySet;
use crate::limits::{self, within, within_secs};
use crate::metrics::FetchRecorder;
pub(crate) use lifetime::Advice;
pub(crate) use tls::client_config;

/// How the key set is fetched and kept: the builder's [`crate::AuthenticatorBuilder::jwks`]
/// and the configuration's `jwks` section (with the `serde` feature: durations in whole
/// seconds, `fetch_timeout_secs` and so on). [`crate::config::AuthConfig::validate`] checks
/// the ranges ([`crate::limits`]).
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Deserialize),
    serde(default, deny_unknown_fields)
)]
#[non_exhaustive]
pub struct JwksConfig {
    /// The time limit of one fetch, body included. Default 5 s.
    #[cfg_attr(
        feature = "serde",
        serde(rename = "fetch_timeout_secs", deserialize_with = "crate::de::secs")
    )]
    pub fetch_timeout: Duration,
    /// The largest document accepted. Default 1 MiB.
    pub max_response_bytes: usize,
    /// How long a key set is fresh; it is refreshed in the background after that. Default 10 min.
    /// It is also the longest lifetime a JWKS response's `Cache-Control` or `Expires` may set.
    #[cfg_attr(
        feature = "serde",
        serde(rename = "max_age_secs", deserialize_with = "crate::de::secs")
    )]
    pub max_age: Duration,
    /// The shortest lifetime a JWKS response's `Cache-Control` or `Expires` may set (and what
    /// `no-store` and `no-cache` get), so that an issuer's headers cannot make the fetcher
    /// poll it. Default 60 s; a `max_age` below it wins, so that lowering `max_age` alone
    /// keeps working.
    #[cfg_attr(
        feature = "serde",
        serde(rename = "min_max_age_secs", deserialize_with = "crate::de::secs")
    )]
    pub min_max_age: Duration,
    /// The least time between two refetches caused by an unknown `kid`. Default 30 s.
    #[cfg_attr(
        feature = "serde",
        serde(rename = "cooldown_secs", deserialize_with = "crate::de::secs")
    )]
    pub cooldown: Duration,
    /// The longest wait between two attempts while fetches fail (they back off from 1 s,
    /// doubling), and before a failed fetcher restarts. Default 30 s.
    #[cfg_attr(
        feature = "serde",
        serde(rename = "retry_max_secs", deserialize_with = "crate::de::secs")
    )]
    pub retry_max: Duration,
    /// How long known keys keep serving while refreshes fail. Default 24 h.
    #[cfg_attr(
        feature = "serde",
        serde(rename = "max_stale_secs", deserialize_with = "crate::de::secs")
    )]
    pub max_stale: Duration,
    /// A PEM file of extra CA certificates for the issuers' https. Data only: this crate never
    /// opens files, so the application reads it and passes the PEM to
    /// [`crate::AuthenticatorBuilder::extra_root_certificates`].
    #[cfg_attr(
        feature = "serde",
        serde(deserialize_with = "crate::de::unset_if_empty")
    )]
    pub ca_file: Option<String>,
}

impl Default for JwksConfig {
    fn default() -> Self {
        Self {
            fetch_timeout: Duration::from_secs(5),
            max_response_bytes: 1024 * 1024,
            max_age: Duration::from_secs(600),
            min_max_age: Duration::from_secs(60),
            cooldown: Duration::from_secs(30),
            retry_max: Duration::from_secs(30),
            max_stale: Duration::from_secs(24 * 3600),
            ca_file: None,
        }
    }
}

impl JwksConfig {
    /// The key cache's ranges ([`crate::limits`]), and a stale age no shorter than the fresh
    /// one; paths as the configuration names them.
    pub(crate) fn validate(&self) -> Result<(), ConfigError> {
        within_secs(
            "jwks.fetch_timeout_secs",
            self.fetch_timeout,
            &limits::FETCH_TIMEOUT,
        )?;
        within(
            "jwks.max_response_bytes",
            self.max_response_bytes,
            &limits::MAX_RESPONSE_BYTES,
        )?;
        within_secs("jwks.max_age_secs", self.max_age, &limits::MAX_AGE)?;
        within_secs("jwks.min_max_age_secs", self.min_max_age, &limits::MAX_AGE)?;
        within_secs("jwks.cooldown_secs", self.cooldown, &limits::COOLDOWN)?;
        within_secs("jwks.retry_max_secs", self.retry_max, &limits::RETRY_MAX)?;
        within_secs("jwks.max_stale_secs", self.max_stale, &limits::MAX_STALE)?;
        if self.max_stale < self.max_age {
            return Err(ConfigError::invalid(
                "jwks.max_stale_secs",
                format!(
                    "must be at least jwks.max_age_secs ({})",
                    limits::show_secs(self.max_age)
                ),
            ));
        }
        Ok(())
    }

    /// How long a key set fetched with `advice` stays fresh before its routine refresh: the
    /// issuer's lifetime clamped to `min_max_age` and `max_age` (which wins should it be the
    /// shorter); `max_age` when the issuer says nothing readable.
    pub(crate) fn lifetime(&self, advice: Advice) -> Duration {
        let shortest = self.min_max_age.min(self.max_age);
        match advice {
            Advice::Unstated => self.max_age,
            Advice::Uncacheable => shortest,
            Advice::For(stated) => stated.max(shortest).min(self.max_age),
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
        let issuer_url = check_url(UrlKind::Issuer, issuer)?;
        if let Some(uri) = jwks_uri {
            return Ok(Self::Jwks(check_url(UrlKind::JwksUri, uri)?));
        }
        let mut document = issuer_url;
        let path = format!(
            "{}/.well-known/openid-configuration",
            document.path().trim_end_matches('/')
        );
        document.set_path(&path);
        Ok(Self::Discovery {
            issuer: issuer.to_owned(),
            document,
        })
    }
}

/// Parses a URL that is trusted as the issuer or fetched for keys: absolute, https or http to a
/// loopback host, with no user name, password, query or fragment.
///
/// # Errors
/// [`ConfigError::BadUrl`] naming the first rule the URL breaks.
pub(crate) fn check_url(kind: UrlKind, url: &str) -> Result<Url, ConfigError> {
    let bad = |problem| ConfigError::BadUrl {
        kind,
        url: url.to_owned(),
        problem,
    };
    let parsed = Url::parse(url).map_err(|_| bad(UrlProblem::NotAbsolute))?;
    let loopback = match parsed.host() {
        Some(url::Host::Domain(domain)) => domain.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => return Err(bad(UrlProblem::NotAbsolute)),
    };
    match parsed.scheme() {
        "https" => {}
        "http" if loopback => {}
        _ => return Err(bad(UrlProblem::Insecure)),
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(bad(UrlProblem::Userinfo));
    }
    if parsed.query().is_some() {
        return Err(bad(UrlProblem::Query));
    }
    if parsed.fragment().is_some() {
        return Err(bad(UrlProblem::Fragment));
    }
    Ok(parsed)
}

/// Whether the key cache can verify tokens, and if not, why.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Readiness {
    /// Usable keys are loaded, and the last fetch succeeded.
    Ready {
        /// How many.
        keys: usize,
        /// Since they were fetched.
        age: Duration,
    },
    /// Usable keys are loaded, but refreshes fail: they serve until the maximum stale age.
    Stale {
        /// How many.
        keys: usize,
        /// Since they were fetched.
        age: Duration,
        /// Since when refreshes fail.
        failing_for: Duration,
        /// What the last refresh met, such as `timed out` or `answered 503`.
        last_error: Arc<str>,
    },
    /// The issuer's JWKS parsed but holds no usable key: every token is refused.
    NoUsableKeys {
        /// Since that JWKS was fetched.
        age: Duration,
    },
    /// No key set is loaded: never fetched yet, or staler than the maximum stale age.
    NotLoaded {
        /// What the last fetch met, if one failed.
        last_error: Option<Arc<str>>,
    },
    /// The fetcher failed and is restarting, or could not be started.
    FetcherDown,
}

impl Readiness {
    /// Whether tokens can be verified (stale keys included).
    pub fn is_ready(&self) -> bool {
        matches!(self, Self::Ready { .. } | Self::Stale { .. })
    }

    /// A short status, for a readiness probe's body.
    pub fn reason(&self) -> &'static str {
        match self {
            Self::Ready { .. } => "ready",
            Self::Stale { .. } => "serving stale keys",
            Self::NoUsableKeys { .. } => "no usable keys",
            Self::NotLoaded { .. } => "keys not loaded",
            Self::FetcherDown => "key fetcher restarting",
        }
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
    /// Set while fetches fail.
    failure: Option<Failure>,
    /// Until then, an unknown `kid` causes no refetch.
    cooldown_until: Option<Instant>,
    /// Set when the fetcher panicked, until its restart fetches keys again.
    fetcher_failed: bool,
    /// The issuer as the discovery document states it: with discovery, the one exact value
    /// that tokens' `iss` must equal.
    issuer: Option<Arc<str>>,
    /// Set while a fetch is in flight: a request for an unknown `kid` waits for its answer.
    fetching: bool,
    /// How many fetches have completed, so a waiter can tell when the next one has.
    generation: u64,
    /// How long the current keys stay fresh, as the issuer set it (clamped); `None` before
    /// the first fetch.
    lifetime: Option<Duration>,
}

/// While fetches fail: since when, the earliest next attempt, and what the last one met.
#[derive(Clone)]
struct Failure {
    since: Instant,
    retry_at: Instant,
    /// A short kind, such as `timed out`; no URLs.
    error: Arc<str>,
}

/// At most this many refetch demands wait in the fetcher's queue; more requesters wait for the
/// next fetch to complete instead of queueing.
const MAX_PENDING_DEMANDS: usize = 64;

/// The longest span a deadline is set ahead; configured durations are far shorter.
const LONGEST_DEADLINE: Duration = Duration::from_secs(100 * 365 * 24 * 3600);

/// `now + after`, which never panics: `after` is capped at a century, and a deadline that still
/// does not fit is `now` (keys unusable, no cooldown: the safe side of each use).
pub(crate) fn deadline(now: Instant, after: Duration) -> Instant {
    now.checked_add(after.min(LONGEST_DEADLINE)).unwrap_or(now)
}

impl Snapshot {
    /// Marks the fetch in flight as done, whatever its outcome, waking its waiters.
    fn fetch_completed(&mut self) {
        self.fetching = false;
        self.generation = self.generation.wrapping_add(1);
    }

    fn usable_keys(&self, now: Instant) -> Option<&Arc<KeySet>> {
        self.keys
            .as_ref()
            .filter(|_| self.usable_until.is_some_and(|until| now < until))
    }

    fn knows(&self, kid: Option<&str>, now: Instant) -> bool {
        self.usable_keys(now)
            .is_some_and(|keys| kid.is_none_or(|kid| keys.has_kid(kid)))
    }

    /// Whether the last fetch failed.
    fn failing(&self) -> bool {
        self.failure.is_some()
    }

    fn backing_off(&self, now: Instant) -> bool {
        self.failure.as_ref().is_some_and(|f| now < f.retry_at)
    }

    fn cooling_down(&self, now: Instant) -> bool {
        self.cooldown_until.is_some_and(|until| now < until)
    }

    /// Whether a fetch for `kid` may run now: the key is not known, no backoff is running, and,
    /// when keys are loaded (so `kid` is merely unknown), no cooldown is running either. The
    /// request path and the fetcher decide with this same rule.
    fn refetch_allowed(&self, kid: Option<&str>, now: Instant) -> bool {
        !self.knows(kid, now)
            && !self.backing_off(now)
            && (self.usable_keys(now).is_none() || !self.cooling_down(now))
    }

    /// The key set to look `kid` up in, from this snapshot alone: the keys, unless none are
    /// usable, or `kid` is unknown while refreshes fail, which no cached key can decide.
    fn resolve(&self, kid: Option<&str>, now: Instant) -> Result<Arc<KeySet>, AuthError> {
        if self.fetcher_failed && !self.knows(kid, now) {
            // The fetch this request waited on died with the fetcher: the issuer's keys are
            // unknown, not refused.
            return Err(fetcher_unavailable());
        }
        match self.usable_keys(now) {
            Some(keys) if !self.failing() || self.knows(kid, now) => Ok(Arc::clone(keys)),
            _ => Err(self.unavailable(now)),
        }
    }

    fn unavailable(&self, now: Instant) -> AuthError {
        AuthError::KeysUnavailable {
            retry_after: self.failure.as_ref().map_or(Duration::ZERO, |f| {
                f.retry_at.saturating_duration_since(now)
            }),
        }
    }
}

fn fetcher_unavailable() -> AuthError {
    AuthError::KeysUnavailable {
        retry_after: Duration::from_secs(1),
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
    demands: mpsc::Sender<Demand>,
    /// How long a request waits for a fetch: the deadline of every document one fetch may
    /// need (discovery, then the JWKS), shared by the fetcher and its waiters.
    wait_limit: Duration,
    /// The lifetime of a key set before the issuer says otherwise: `max_age`.
    configured_lifetime: Duration,
}

/// Slack on a waiter's deadline, so that a fetch ending right at its own deadline still
/// reaches the requests that waited for it.
const WAIT_SLACK: Duration = Duration::from_millis(250);

impl JwksCache {
    /// Starts the fetcher thread, which fetches the keys at once. Keys are parsed for the
    /// `algorithms` allowed.
    pub(crate) fn start(
        source: Source,
        algorithms: Vec<Algorithm>,
        config: JwksConfig,
        tls: Arc<rustls::ClientConfig>,
        metrics: FetchRecorder,
    ) -> Self {
        let (state_tx, state) = watch::channel(Arc::new(Snapshot::default()));
        let (demands, demands_rx) = mpsc::channel(MAX_PENDING_DEMANDS);
        let documents = match source {
            Source::Jwks(_) => 1,
            Source::Discovery { .. } => 2,
        };
        let wait_limit = config.fetch_timeout.saturating_mul(documents) + WAIT_SLACK;
        let configured_lifetime = config.max_age;
        fetch::spawn(
            source, algorithms, config, tls, metrics, state_tx, demands_rx,
        );
        Self {
            state,
            demands,
            wait_limit,
            configured_lifetime,
        }
    }

    /// How long the current key set stays fresh before its routine refresh: what the issuer's
    /// `Cache-Control` or `Expires` said, clamped, or `max_age`.
    pub(crate) fn lifetime(&self) -> Duration {
        self.state
            .borrow()
            .lifetime
            .unwrap_or(self.configured_lifetime)
    }

    /// Whether usable keys are loaded and the fetcher is alive to keep them fresh; if not, why.
    pub(crate) fn readiness(&self) -> Readiness {
        // `has_changed` fails only once the fetcher thread is gone for good.
        if self.state.has_changed().is_err() {
            return Readiness::FetcherDown;
        }
        let snapshot = Arc::clone(&self.state.borrow());
        if snapshot.fetcher_failed {
            return Readiness::FetcherDown;
        }
        let now = Instant::now();
        let age = snapshot
            .fetched_at
            .map_or(Duration::ZERO, |at| now.saturating_duration_since(at));
        match (snapshot.usable_keys(now), &snapshot.failure) {
            (None, failure) => Readiness::NotLoaded {
                last_error: failure.as_ref().map(|f| Arc::clone(&f.error)),
            },
            (Some(keys), _) if keys.is_empty() => Readiness::NoUsableKeys { age },
            (Some(keys), Some(failure)) => Readiness::Stale {
                keys: keys.len(),
                age,
                failing_for: now.saturating_duration_since(failure.since),
                last_error: Arc::clone(&failure.error),
            },
            (Some(keys), None) => Readiness::Ready {
                keys: keys.len(),
                age,
            },
        }
    }

    /// Whether the usable key set holds `kid` (or, for a token without one, whether any usable
    /// set is loaded): if not, verifying the token would need a fetch.
    pub(crate) fn knows(&self, kid: Option<&str>) -> bool {
        self.state.borrow().knows(kid, Instant::now())
    }

    /// The issuer as discovery stated it, once a discovery document has been read.
    pub(crate) fn discovered_issuer(&self) -> Option<Arc<str>> {
        self.state.borrow().issuer.clone()
    }

    /// The usable key set, if any, without fetching.
    pub(crate) fn current(&self) -> Option<Arc<KeySet>> {
        self.state.borrow().usable_keys(Instant::now()).cloned()
    }

    /// The key set to look `kid` up in. It refetches, once per cooldown and shared by concurrent
    /// callers, when `kid` is unknown or no keys are loaded; while a fetch is in flight, an
    /// unknown `kid` waits for that fetch's answer.
    ///
    /// # Errors
    /// [`AuthError::KeysUnavailable`] when no usable keys can decide: none are loaded and the
    /// issuer cannot be reached, or `kid` is unknown while refreshes fail.
    pub(crate) async fn key_set(&self, kid: Option<&str>) -> Result<Arc<KeySet>, AuthError> {
        let snapshot = Arc::clone(&self.state.borrow());
        let now = Instant::now();
        let snapshot = if snapshot.refetch_allowed(kid, now) {
            self.demand(kid, snapshot.generation).await?
        } else if snapshot.fetching && !snapshot.knows(kid, now) {
            self.next_fetch(snapshot.generation).await?
        } else {
            snapshot
        };
        snapshot.resolve(kid, Instant::now())
    }

    /// Asks the fetcher for a refetch and waits for its answer. When the queue is full, enough
    /// refetches are pending already: wait for the next one to complete instead.
    async fn demand(&self, kid: Option<&str>, seen: u64) -> Result<Arc<Snapshot>, AuthError> {
        let (reply, answer) = oneshot::channel();
        let demand = Demand {
            kid: kid.map(str::to_owned),
            reply,
        };
        match self.demands.try_send(demand) {
            Ok(()) => match tokio::time::timeout(self.wait_limit, answer).await {
                Ok(Ok(snapshot)) => Ok(snapshot),
                // Timed out, or the fetcher dropped the demand (it failed and restarts).
                _ => Err(fetcher_unavailable()),
            },
            Err(mpsc::error::TrySendError::Full(_)) => self.next_fetch(seen).await,
            Err(mpsc::error::TrySendError::Closed(_)) => Err(fetcher_unavailable()),
        }
    }

    /// Waits, up to the wait limit, until a fetch after generation `seen` has completed.
    async fn next_fetch(&self, seen: u64) -> Result<Arc<Snapshot>, AuthError> {
        let mut state = self.state.clone();
        let completed = state.wait_for(|snapshot| snapshot.generation > seen);
        match tokio::time::timeout(self.wait_limit, completed).await {
            Ok(Ok(snapshot)) => Ok(Arc::clone(&snapshot)),
            _ => Err(fetcher_unavailable()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_sets_lifetime_is_the_issuers_clamped_to_the_configured_bounds() {
        let secs = Duration::from_secs;
        let config = JwksConfig {
            max_age: secs(600),
            ..JwksConfig::default()
        };
        assert_eq!(config.lifetime(Advice::Unstated), secs(600));
        assert_eq!(config.lifetime(Advice::Uncacheable), secs(60));
        assert_eq!(config.lifetime(Advice::For(secs(1))), secs(60));
        assert_eq!(config.lifetime(Advice::For(secs(300))), secs(300));
        assert_eq!(config.lifetime(Advice::For(secs(86_400_000))), secs(600));
        let short = JwksConfig {
            max_age: secs(10),
            ..JwksConfig::default()
        };
        assert_eq!(short.lifetime(Advice::Uncacheable), secs(10));
    }

    fn keys() -> Arc<KeySet> {
        Arc::new(KeySet::default())
    }

    #[test]
    fn keys_stop_being_usable_at_their_deadline() {
        let earlier = Instant::now();
        let deadline = earlier + Duration::from_millis(1);
        let snapshot = Snapshot {
            keys: Some(keys()),
            usable_until: Some(deadline),
            ..Snapshot::default()
        };

        assert!(snapshot.usable_keys(deadline).is_none());
        assert!(snapshot.usable_keys(earlier).is_some());
    }

    #[test]
    fn backoff_and_cooldown_end_at_their_deadline() {
        let earlier = Instant::now();
        let now = earlier + Duration::from_millis(1);
        let snapshot = Snapshot {
            keys: Some(keys()),
            usable_until: Some(now + Duration::from_secs(60)),
            failure: Some(Failure {
                since: earlier,
                retry_at: now,
                error: Arc::from("timed out"),
            }),
            cooldown_until: Some(now),
            ..Snapshot::default()
        };

        assert!(!snapshot.backing_off(now));
        assert!(!snapshot.cooling_down(now));
        assert!(snapshot.refetch_allowed(Some("new"), now));
        assert!(snapshot.backing_off(earlier));
        assert!(snapshot.cooling_down(earlier));
        assert!(!snapshot.refetch_allowed(Some("new"), earlier));
    }

    #[test]
    fn a_dead_fetcher_makes_an_unknown_kid_unavailable_not_unknown() {
        let now = Instant::now();
        let snapshot = Snapshot {
            keys: Some(keys()),
            usable_until: Some(now + Duration::from_secs(60)),
            fetcher_failed: true,
            ..Snapshot::default()
        };

        assert!(matches!(
            snapshot.resolve(Some("new"), now),
            Err(AuthError::KeysUnavailable { retry_after }) if retry_after > Duration::ZERO
        ));
        assert!(snapshot.resolve(None, now).is_ok());
    }

    #[test]
    fn deadlines_never_overflow() {
        let now = Instant::now();

        assert_eq!(
            deadline(now, Duration::from_secs(5)),
            now + Duration::from_secs(5)
        );
        assert!(deadline(now, Duration::MAX) > now + Duration::from_secs(365 * 24 * 3600));
    }

    #[test]
    fn https_or_loopback_http_only() {
        for ok in [
            "https://issuer.example/jwks",
            "http://localhost:8080/jwks",
            "http://127.0.0.1/jwks",
            "http://127.9.9.9/jwks",
            "http://[::1]/jwks",
        ] {
            assert!(check_url(UrlKind::JwksUri, ok).is_ok(), "{ok}");
        }
        for (bad, problem) in [
            ("http://issuer.example/jwks", UrlProblem::Insecure),
            ("http://10.0.0.1/jwks", UrlProblem::Insecure),
            ("http://localhost.evil.example/jwks", UrlProblem::Insecure),
            ("file:///etc/passwd", UrlProblem::NotAbsolute),
            ("https://", UrlProblem::NotAbsolute),
            ("jwks.json", UrlProblem::NotAbsolute),
            (
                "https://user:pass@issuer.example/jwks",
                UrlProblem::Userinfo,
            ),
            ("https://user@issuer.example/jwks", UrlProblem::Userinfo),
            ("https://issuer.example/jwks?x=1", UrlProblem::Query),
            ("https://issuer.example/jwks#x", UrlProblem::Fragment),
        ] {
            let error = check_url(UrlKind::JwksUri, bad).unwrap_err();
            assert_eq!(
                error,
                ConfigError::BadUrl {
                    kind: UrlKind::JwksUri,
                    url: bad.to_owned(),
                    problem
                },
                "{bad}"
            );
        }
        let secret = check_url(UrlKind::Issuer, "https://u:hunter2@issuer.example/").unwrap_err();
        assert!(!secret.to_string().contains("hunter2"), "{secret}");
    }
}
