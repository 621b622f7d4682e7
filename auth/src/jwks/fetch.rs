//! The fetcher thread: the only place that talks to the issuer. It fetches at startup, refreshes
//! in the background before the keys go stale, answers refetch demands one at a time (so
//! concurrent demands share one fetch), and backs off exponentially after failures.

use std::sync::Arc;
use std::time::{Duration, Instant};

use actix_web::http::StatusCode;
use actix_web::http::header::{ACCEPT, CACHE_CONTROL, DATE, EXPIRES, HeaderMap, HeaderValue};
use actix_web::web::Bytes;
use awc::error::PayloadError;
use serde_json::Value;
use tokio::sync::{mpsc, watch};
use url::Url;

use super::{Advice, Demand, Failure, JwksConfig, Snapshot, Source, check_url, deadline};
use crate::algorithm::Algorithm;
use crate::error::UrlKind;
use crate::keys::KeySet;
use crate::metrics::{Document, FetchOutcome, FetchRecorder};
use crate::validation::issuer_matches;

/// The first retry delay after a failure; it doubles up to the configured maximum.
const FIRST_RETRY: Duration = Duration::from_secs(1);
/// The shortest retry delay, whatever the maximum, so that failures never spin.
const MIN_RETRY: Duration = Duration::from_millis(100);
/// After this many JWKS fetches fail in a row, the next one reads the discovery document
/// again first: the issuer may have moved its `jwks_uri`.
const REDISCOVER_AFTER_FAILURES: u32 = 2;

/// Why a fetch failed.
#[derive(Debug, thiserror::Error)]
enum FetchError {
    #[error("request to {url} failed: {reason}")]
    Request { url: Url, reason: String },
    #[error("{url} answered {status}, expected 200")]
    Status { url: Url, status: StatusCode },
    #[error("{url} took longer than {timeout:?}")]
    Timeout { url: Url, timeout: Duration },
    #[error("{url} sent more than {limit} bytes")]
    TooLarge { url: Url, limit: usize },
    #[error("discovery document at {url} is unusable: {reason}")]
    Discovery { url: Url, reason: String },
    #[error("JWKS at {url} is unusable: {source}")]
    KeySet {
        url: Url,
        source: crate::keys::KeySetError,
    },
}

impl FetchError {
    /// A short kind for the readiness report: it names what went wrong without the URLs and
    /// messages that are meant for the log.
    fn kind(&self) -> String {
        match self {
            Self::Request { .. } => "request failed".into(),
            Self::Status { status, .. } => format!("answered {}", status.as_u16()),
            Self::Timeout { .. } => "timed out".into(),
            Self::TooLarge { .. } => "response too large".into(),
            Self::Discovery { .. } => "discovery document unusable".into(),
            Self::KeySet { .. } => "not a JWKS document".into(),
        }
    }

    /// The outcome label of the fetch that met this error.
    fn outcome(&self) -> FetchOutcome {
        match self {
            Self::Request { .. } => FetchOutcome::RequestFailed,
            Self::Status { .. } => FetchOutcome::Status,
            Self::Timeout { .. } => FetchOutcome::Timeout,
            Self::TooLarge { .. } => FetchOutcome::TooLarge,
            Self::Discovery { .. } | Self::KeySet { .. } => FetchOutcome::ParseError,
        }
    }
}

struct Fetcher<'s> {
    source: Source,
    algorithms: Vec<Algorithm>,
    /// The JWKS URL that discovery found, and when.
    discovered: Option<(Url, Instant)>,
    /// The last JWKS body parsed: an unchanged document keeps its key set (and so the
    /// verified-token cache entries made with it).
    last_body: Option<Bytes>,
    config: JwksConfig,
    client: awc::Client,
    state: &'s watch::Sender<Arc<Snapshot>>,
    metrics: FetchRecorder,
    failures: u32,
}

/// Starts the fetcher on its own thread, with its own single-threaded actix runtime. The thread
/// ends when every [`super::JwksCache`] handle is dropped. Should the fetcher panic, the thread
/// logs it, marks the cache not ready, and starts a fresh fetcher on the same channels.
pub(super) fn spawn(
    source: Source,
    algorithms: Vec<Algorithm>,
    config: JwksConfig,
    tls: Arc<rustls::ClientConfig>,
    metrics: FetchRecorder,
    state: watch::Sender<Arc<Snapshot>>,
    mut demands: mpsc::Receiver<Demand>,
) {
    let spawned = std::thread::Builder::new()
        .name("jwks-fetcher".into())
        .spawn(move || {
            let retry_max = config.retry_max;
            supervise(
                || {
                    actix_web::rt::System::new().block_on(
                        Fetcher::new(
                            source.clone(),
                            algorithms.clone(),
                            config.clone(),
                            Arc::clone(&tls),
                            metrics.clone(),
                            &state,
                        )
                        .run(&mut demands),
                    );
                },
                |restarts, reason| {
                    let delay = backoff(restarts, retry_max);
                    log::error!(
                        "the JWKS fetcher failed ({reason}); restarting it in {delay:?} \
                         (restart {restarts})"
                    );
                    state.send_modify(|state| {
                        let state = Arc::make_mut(state);
                        state.fetcher_failed = true;
                        // Wake whoever waited on the fetch that died.
                        state.fetch_completed();
                    });
                    std::thread::sleep(delay);
                },
            );
            log::info!("the JWKS fetcher stopped: no authenticator uses it any more");
        });
    if let Err(error) = spawned {
        // The channels are dropped with the closure: readiness fails and every request that
        // needs a fetch answers 503 at once.
        log::error!("cannot start the JWKS fetcher thread: {error}");
    }
}

/// Runs `run` until it returns; each time it panics instead, calls `on_failure` with the number
/// of failures so far and the panic message, then runs it again.
fn supervise(mut run: impl FnMut(), mut on_failure: impl FnMut(u32, &str)) {
    let mut failures = 0_u32;
    while let Err(panic) = std::panic::catch_unwind(std::panic::AssertUnwindSafe(&mut run)) {
        failures = failures.saturating_add(1);
        let reason = panic
            .downcast_ref::<&str>()
            .copied()
            .or_else(|| panic.downcast_ref::<String>().map(String::as_str))
            .unwrap_or("panic");
        on_failure(failures, reason);
    }
}

impl<'s> Fetcher<'s> {
    fn new(
        source: Source,
        algorithms: Vec<Algorithm>,
        config: JwksConfig,
        tls: Arc<rustls::ClientConfig>,
        metrics: FetchRecorder,
        state: &'s watch::Sender<Arc<Snapshot>>,
    ) -> Self {
        let client = awc::Client::builder()
            .connector(awc::Connector::new().rustls_0_23(tls))
            .timeout(config.fetch_timeout)
            .disable_redirects()
            .finish();
        Self {
            source,
            algorithms,
            discovered: None,
            last_body: None,
            config,
            client,
            state,
            metrics,
            failures: 0,
        }
    }

    async fn run(mut self, demands: &mut mpsc::Receiver<Demand>) {
        let mut next_refresh = Instant::now();
        loop {
            tokio::select! {
                demand = demands.recv() => match demand {
                    Some(demand) => self.answer(demand).await,
                    None => return,
                },
                () = tokio::time::sleep_until(next_refresh.into()) => {
                    self.refresh(Refresh::Routine).await;
                }
            }
            next_refresh = self.next_refresh();
        }
    }

    fn snapshot(&self) -> Arc<Snapshot> {
        Arc::clone(&self.state.borrow())
    }

    fn next_refresh(&self) -> Instant {
        let snapshot = self.snapshot();
        match (&snapshot.failure, snapshot.fetched_at) {
            (Some(failure), _) => failure.retry_at,
            (None, Some(at)) => deadline(at, snapshot.lifetime.unwrap_or(self.config.max_age)),
            (None, None) => Instant::now(),
        }
    }

    /// Acts on one demand: refetches unless the keys it wants are known now, or the cooldown
    /// or backoff forbids it. Demands that queued behind a fetch are answered by its result.
    async fn answer(&mut self, demand: Demand) {
        if demand.reply.is_closed() {
            // The requester has gone away: its demand causes no fetch.
            return;
        }
        let snapshot = self.snapshot();
        let now = Instant::now();
        if snapshot.refetch_allowed(demand.kid.as_deref(), now) {
            if snapshot.usable_keys(now).is_some() {
                let until = deadline(now, self.config.cooldown);
                self.state
                    .send_modify(|state| Arc::make_mut(state).cooldown_until = Some(until));
                log::debug!("unknown kid: refetching the JWKS");
            }
            self.refresh(Refresh::Demanded).await;
        }
        // The requester may have given up waiting; that is fine.
        let _ = demand.reply.send(self.snapshot());
    }

    async fn refresh(&mut self, why: Refresh) {
        self.state
            .send_modify(|state| Arc::make_mut(state).fetching = true);
        let result = self.fetch(why).await;
        let now = Instant::now();
        match result {
            Ok((keys, advice)) => {
                self.failures = 0;
                let usable_until = deadline(now, self.config.max_stale);
                let lifetime = self.config.lifetime(advice);
                if self.snapshot().lifetime != Some(lifetime) {
                    log::info!(
                        "the keys stay fresh for {lifetime:?} ({advice:?}, within {:?} to {:?})",
                        self.config.lifetime(Advice::Uncacheable),
                        self.config.max_age
                    );
                }
                self.state.send_modify(|state| {
                    let state = Arc::make_mut(state);
                    if let Some(keys) = keys {
                        state.keys = Some(Arc::new(keys));
                    }
                    state.lifetime = Some(lifetime);
                    state.fetched_at = Some(now);
                    state.usable_until = Some(usable_until);
                    state.failure = None;
                    state.fetcher_failed = false;
                    state.fetch_completed();
                });
            }
            Err(error) => {
                self.failures = self.failures.saturating_add(1);
                let delay = backoff(self.failures, self.config.retry_max);
                log::warn!(
                    "JWKS fetch failed ({} in a row, next try in {delay:?}): {error}",
                    self.failures
                );
                self.state.send_modify(|state| {
                    let state = Arc::make_mut(state);
                    state.failure = Some(Failure {
                        since: state.failure.as_ref().map_or(now, |f| f.since),
                        retry_at: deadline(now, delay),
                        error: Arc::from(error.kind()),
                    });
                    state.fetch_completed();
                    if state.usable_keys(now).is_none() && state.keys.take().is_some() {
                        log::error!("the cached JWKS is older than the maximum stale age: dropped");
                    }
                });
            }
        }
    }

    /// Fetches the key set (`None` when the document is unchanged since the last fetch) and
    /// what the response says of its lifetime.
    async fn fetch(&mut self, why: Refresh) -> Result<(Option<KeySet>, Advice), FetchError> {
        let url = match &self.source {
            Source::Jwks(url) => url.clone(),
            Source::Discovery { issuer, document } => {
                let (issuer, document) = (issuer.clone(), document.clone());
                self.discovered_jwks_uri(&issuer, &document, why).await?
            }
        };
        let started = Instant::now();
        let fetched = self.fetch_jwks(&url).await;
        let outcome = match &fetched {
            Ok((Some(keys), _)) if keys.is_empty() => FetchOutcome::NoUsableKeys,
            // Unchanged: as usable as the keys it gave before.
            Ok((None, _))
                if self
                    .snapshot()
                    .keys
                    .as_ref()
                    .is_some_and(|keys| keys.is_empty()) =>
            {
                FetchOutcome::NoUsableKeys
            }
            Ok(_) => FetchOutcome::Ok,
            Err(error) => error.outcome(),
        };
        self.metrics
            .fetched(Document::Jwks, outcome, started.elapsed());
        fetched
    }

    /// The JWKS URL from the discovery document: read once, then again on a routine refresh
    /// at most once per `max_age`, and whenever JWKS fetches keep failing. When reading it
    /// again fails, the URL found before is kept.
    async fn discovered_jwks_uri(
        &mut self,
        issuer: &str,
        document: &Url,
        why: Refresh,
    ) -> Result<Url, FetchError> {
        let now = Instant::now();
        let known = match &self.discovered {
            Some((url, at)) => {
                let due = matches!(why, Refresh::Routine)
                    && now.saturating_duration_since(*at) >= self.config.max_age;
                let failing = self.failures >= REDISCOVER_AFTER_FAILURES;
                if !due && !failing {
                    return Ok(url.clone());
                }
                Some(url.clone())
            }
            None => None,
        };
        let started = Instant::now();
        let discovered = self.discover(issuer, document).await;
        let outcome = discovered
            .as_ref()
            .map_or_else(FetchError::outcome, |_| FetchOutcome::Ok);
        if let Ok((_, found)) = &discovered {
            // The exact issuer is the discovered one: label its metrics with it.
            self.metrics.set_issuer(found);
        }
        self.metrics
            .fetched(Document::Discovery, outcome, started.elapsed());
        match (discovered, known) {
            (Ok((url, found)), _) => {
                self.discovered = Some((url.clone(), now));
                let found: Arc<str> = Arc::from(found);
                self.state.send_if_modified(|state| match &state.issuer {
                    Some(current) if *current == found => false,
                    _ => {
                        Arc::make_mut(state).issuer = Some(Arc::clone(&found));
                        true
                    }
                });
                Ok(url)
            }
            (Err(error), Some(url)) => {
                log::warn!("reading the discovery document again failed; keeping {url}: {error}");
                Ok(url)
            }
            (Err(error), None) => Err(error),
        }
    }

    /// Fetches and parses the JWKS at `url` (`None` when it is unchanged since the last
    /// fetch), with what the response says of its lifetime.
    async fn fetch_jwks(&mut self, url: &Url) -> Result<(Option<KeySet>, Advice), FetchError> {
        let (body, advice) = self.get(url).await?;
        if self.last_body.as_ref() == Some(&body) && self.snapshot().keys.is_some() {
            log::info!("fetched the JWKS: unchanged");
            return Ok((None, advice));
        }
        let keys =
            KeySet::from_json(&body, &self.algorithms).map_err(|source| FetchError::KeySet {
                url: url.clone(),
                source,
            })?;
        if keys.is_empty() {
            log::error!(
                "the JWKS at {url} holds no usable key among {}: every token is refused until it \
                 does",
                keys.published()
            );
        } else {
            log::info!(
                "fetched the JWKS: {} keys, kids {:?}",
                keys.len(),
                keys.kids()
            );
        }
        self.last_body = Some(body);
        Ok((Some(keys), advice))
    }

    /// Reads `jwks_uri` and the exact `issuer` from the discovery document, after checking
    /// that `issuer` names the configured one.
    async fn discover(&self, issuer: &str, document: &Url) -> Result<(Url, String), FetchError> {
        let unusable = |reason: String| FetchError::Discovery {
            url: document.clone(),
            reason,
        };
        let (body, _) = self.get(document).await?;
        let metadata: Value =
            serde_json::from_slice(&body).map_err(|e| unusable(format!("not JSON: {e}")))?;
        // The one place where the configured issuer may differ from the real one: by one
        // trailing slash. The discovered value then becomes the issuer, exactly.
        let found = metadata
            .get("issuer")
            .and_then(Value::as_str)
            .filter(|found| issuer_matches(issuer, found))
            .ok_or_else(|| unusable(format!("its issuer is not {issuer:?}")))?
            .to_owned();
        let jwks_uri = metadata
            .get("jwks_uri")
            .and_then(Value::as_str)
            .ok_or_else(|| unusable("no jwks_uri".into()))?;
        let url = discovered_jwks_uri(document, jwks_uri).map_err(unusable)?;
        log::info!("discovered the JWKS at {url}");
        Ok((url, found))
    }

    /// GETs a document (200 only, within the timeout and the size limit), with what its
    /// response says of its lifetime.
    async fn get(&self, url: &Url) -> Result<(Bytes, Advice), FetchError> {
        let request = async {
            let mut response = self
                .client
                .get(url.as_str())
                .insert_header((ACCEPT, "application/json"))
                .send()
                .await
                .map_err(|e| FetchError::Request {
                    url: url.clone(),
                    reason: e.to_string(),
                })?;
            if response.status() != StatusCode::OK {
                return Err(FetchError::Status {
                    url: url.clone(),
                    status: response.status(),
                });
            }
            let advice = advice(response.headers());
            response
                .body()
                .limit(self.config.max_response_bytes)
                .await
                .map(|body| (body, advice))
                .map_err(|e| match e {
                    PayloadError::Overflow => FetchError::TooLarge {
                        url: url.clone(),
                        limit: self.config.max_response_bytes,
                    },
                    other => FetchError::Request {
                        url: url.clone(),
                        reason: other.to_string(),
                    },
                })
        };
        tokio::time::timeout(self.config.fetch_timeout, request)
            .await
            .map_err(|_| FetchError::Timeout {
                url: url.clone(),
                timeout: self.config.fetch_timeout,
            })?
    }
}

/// What a response's headers say of its lifetime.
fn advice(headers: &HeaderMap) -> Advice {
    fn text(value: &HeaderValue) -> Option<&str> {
        value.to_str().ok()
    }
    let cache_control: Vec<&str> = headers.get_all(CACHE_CONTROL).filter_map(text).collect();
    Advice::read(
        &cache_control,
        headers.get(EXPIRES).and_then(text),
        headers.get(DATE).and_then(text),
        std::time::SystemTime::now(),
    )
}

/// A discovered `jwks_uri`: https, or http to a loopback host only when the issuer's own
/// discovery document was loopback http too (tests, the development issuer).
fn discovered_jwks_uri(document: &Url, jwks_uri: &str) -> Result<Url, String> {
    let url = check_url(UrlKind::JwksUri, jwks_uri).map_err(|e| e.to_string())?;
    if url.scheme() != "https" && document.scheme() == "https" {
        return Err(format!(
            "its jwks_uri {jwks_uri:?} is not https, and the issuer is"
        ));
    }
    Ok(url)
}

/// Why a fetch runs.
#[derive(Debug, Clone, Copy)]
enum Refresh {
    /// The keys' `max_age` passed, or a retry after a failure fell due.
    Routine,
    /// A request needs keys: an unknown `kid`, or none loaded.
    Demanded,
}

/// 1 s, 2 s, 4 s, ... capped at `max`, and never below 100 ms.
fn backoff(failures: u32, max: Duration) -> Duration {
    let exponent = failures.saturating_sub(1).min(16);
    FIRST_RETRY
        .saturating_mul(1 << exponent)
        .min(max)
        .max(MIN_RETRY)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_discovered_jwks_uri_is_https_unless_the_issuer_is_loopback_http() {
        let https = Url::parse("https://tenant.example/.well-known/openid-configuration").unwrap();
        let loopback =
            Url::parse("http://127.0.0.1:8080/.well-known/openid-configuration").unwrap();

        assert!(discovered_jwks_uri(&https, "https://keys.example/jwks").is_ok());
        assert!(discovered_jwks_uri(&https, "http://127.0.0.1:8080/jwks").is_err());
        assert!(discovered_jwks_uri(&https, "http://keys.example/jwks").is_err());
        assert!(discovered_jwks_uri(&loopback, "http://127.0.0.1:8080/jwks").is_ok());
        assert!(discovered_jwks_uri(&loopback, "http://keys.example/jwks").is_err());
    }

    #[test]
    fn a_panicking_fetcher_is_restarted_until_it_returns() {
        let mut runs = 0;
        let mut failures = Vec::new();

        supervise(
            || {
                runs += 1;
                assert!(runs > 2, "fetcher fault {runs}");
            },
            |count, reason| failures.push((count, reason.to_owned())),
        );

        assert_eq!(runs, 3);
        assert_eq!(
            failures,
            [
                (1, "fetcher fault 1".to_owned()),
                (2, "fetcher fault 2".to_owned())
            ]
        );
    }

    #[test]
    fn backoff_doubles_up_to_its_maximum() {
        let max = Duration::from_secs(30);

        let delays: Vec<u64> = (1..=7).map(|n| backoff(n, max).as_secs()).collect();

        assert_eq!(delays, [1, 2, 4, 8, 16, 30, 30]);
        assert_eq!(backoff(u32::MAX, max).as_secs(), 30);
        assert_eq!(backoff(3, Duration::ZERO), MIN_RETRY);
        assert_eq!(backoff(1, Duration::from_millis(300)).as_millis(), 300);
    }
}
