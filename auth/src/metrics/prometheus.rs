//! The counters in the Prometheus model (the `prometheus-client` crate): the answer to each
//! request's check, each key fetch's outcome and duration, and gauges read at scrape time.
//! Counting is an atomic add per request; the gauges cost nothing until a scrape.
//! [`Authenticator::register_metrics`] puts them in a registry.

use std::sync::Arc;
use std::time::Duration;

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{
    DescriptorEncoder, EncodeLabel, EncodeLabelSet, EncodeMetric, LabelSetEncoder,
};
use prometheus_client::metrics::counter::{ConstCounter, Counter};
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::{Registry, Unit};

use super::{Document, FetchOutcome};
use crate::authenticator::Authenticator;
use crate::error::{AuthError, InvalidRequest, TokenError};
use crate::jwks::Readiness;

/// The counters one authenticator and its fetchers share.
#[derive(Debug)]
pub(crate) struct Metrics {
    checks: Family<CheckLabels, Counter>,
    /// The two answers of nearly every request, looked up once.
    verified: Counter,
    cache_hit: Counter,
    anonymous: Counter,
    token_cache_hits: Counter,
    token_cache_misses: Counter,
    fetches: Family<FetchLabels, Counter>,
    fetch_seconds: Family<DocumentLabels, Histogram>,
}

/// Where a request came out: `result` is the answer, `reason` the check that decided it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct CheckLabels {
    result: &'static str,
    reason: Option<&'static str>,
}

impl EncodeLabelSet for CheckLabels {
    fn encode(&self, encoder: &mut LabelSetEncoder) -> Result<(), std::fmt::Error> {
        ("result", self.result).encode(encoder.encode_label())?;
        if let Some(reason) = self.reason {
            ("reason", reason).encode(encoder.encode_label())?;
        }
        Ok(())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct FetchLabels {
    issuer: String,
    document: &'static str,
    outcome: &'static str,
}

impl EncodeLabelSet for FetchLabels {
    fn encode(&self, encoder: &mut LabelSetEncoder) -> Result<(), std::fmt::Error> {
        ("issuer", self.issuer.as_str()).encode(encoder.encode_label())?;
        ("document", self.document).encode(encoder.encode_label())?;
        ("outcome", self.outcome).encode(encoder.encode_label())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct DocumentLabels {
    issuer: String,
    document: &'static str,
}

impl EncodeLabelSet for DocumentLabels {
    fn encode(&self, encoder: &mut LabelSetEncoder) -> Result<(), std::fmt::Error> {
        ("issuer", self.issuer.as_str()).encode(encoder.encode_label())?;
        ("document", self.document).encode(encoder.encode_label())
    }
}

/// Fetch-duration buckets, in seconds: 5 ms to 10 s (the longest fetch timeout is 60 s).
const FETCH_BUCKETS: [f64; 11] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

impl Default for Metrics {
    fn default() -> Self {
        let checks = Family::<CheckLabels, Counter>::default();
        let verified = checks.get_or_create_owned(&CheckLabels {
            result: "ok",
            reason: None,
        });
        let cache_hit = checks.get_or_create_owned(&CheckLabels {
            result: "cache_hit",
            reason: None,
        });
        let anonymous = checks.get_or_create_owned(&CheckLabels {
            result: "anonymous",
            reason: None,
        });
        Self {
            checks,
            verified,
            cache_hit,
            anonymous,
            token_cache_hits: Counter::default(),
            token_cache_misses: Counter::default(),
            fetches: Family::default(),
            fetch_seconds: Family::new_with_constructor(|| Histogram::new(FETCH_BUCKETS)),
        }
    }
}

impl Metrics {
    /// Counts one request's answer; `cached` when it came from the verified-token cache.
    /// `Ok(None)` is an anonymous caller on an optional route.
    pub(crate) fn checked<T>(&self, answer: &Result<Option<T>, AuthError>, cached: bool) {
        match answer {
            Ok(None) => self.anonymous.inc(),
            Ok(Some(_)) if cached => self.cache_hit.inc(),
            Ok(Some(_)) => self.verified.inc(),
            Err(error) => self.checks.get_or_create(&refused(error)).inc(),
        };
    }

    /// Counts one lookup in the verified-token cache.
    pub(crate) fn token_cache_lookup(&self, hit: bool) {
        if hit {
            self.token_cache_hits.inc();
        } else {
            self.token_cache_misses.inc();
        }
    }
}

/// Records one issuer's fetches, under its `issuer` label.
#[derive(Debug, Clone)]
pub(crate) struct FetchRecorder {
    metrics: Arc<Metrics>,
    issuer: String,
}

impl FetchRecorder {
    pub(crate) fn new(metrics: Arc<Metrics>, issuer: &str) -> Self {
        Self {
            metrics,
            issuer: issuer.to_owned(),
        }
    }

    /// Labels the fetches from now on with `issuer`: the exact form discovery found.
    pub(crate) fn set_issuer(&mut self, issuer: &str) {
        if self.issuer != issuer {
            issuer.clone_into(&mut self.issuer);
        }
    }

    /// Counts one fetch of `document` and its duration.
    pub(crate) fn fetched(&self, document: Document, outcome: FetchOutcome, took: Duration) {
        self.metrics
            .fetches
            .get_or_create(&FetchLabels {
                issuer: self.issuer.clone(),
                document: document.label(),
                outcome: outcome.label(),
            })
            .inc();
        self.metrics
            .fetch_seconds
            .get_or_create(&DocumentLabels {
                issuer: self.issuer.clone(),
                document: document.label(),
            })
            .observe(took.as_secs_f64());
    }
}

/// The labels of a refusal: the answer's `error` code (or `no_credentials` and `unavailable`)
/// and the check that failed, in snake case.
fn refused(error: &AuthError) -> CheckLabels {
    let (result, reason) = match error {
        AuthError::MissingToken => ("no_credentials", Some("missing_header")),
        AuthError::OtherScheme => ("no_credentials", Some("other_scheme")),
        AuthError::InvalidRequest(why) => ("invalid_request", Some(request_reason(*why))),
        AuthError::InvalidToken(why) => ("invalid_token", Some(token_reason(*why))),
        AuthError::InsufficientScope { .. } => ("insufficient_scope", None),
        AuthError::InsufficientUserAuthentication { .. } => {
            ("insufficient_user_authentication", None)
        }
        AuthError::Forbidden { .. } => ("forbidden", None),
        AuthError::KeysUnavailable { .. } => ("unavailable", None),
    };
    CheckLabels { result, reason }
}

fn request_reason(why: InvalidRequest) -> &'static str {
    match why {
        InvalidRequest::SeveralHeaders => "several_headers",
        InvalidRequest::MalformedHeader => "malformed_header",
        InvalidRequest::MissingToken => "missing_token",
        InvalidRequest::MalformedToken => "malformed_token",
        InvalidRequest::TokenInQuery => "token_in_query",
    }
}

fn token_reason(why: TokenError) -> &'static str {
    match why {
        TokenError::TooLarge => "too_large",
        TokenError::Malformed => "malformed",
        TokenError::OversizedKid => "kid_too_long",
        TokenError::UnsupportedAlgorithm => "algorithm",
        TokenError::UnsupportedType => "type",
        TokenError::UnsupportedCritical => "critical_header",
        TokenError::UnknownKid => "unknown_kid",
        TokenError::NoFittingKey => "no_fitting_key",
        TokenError::BadSignature => "signature",
        TokenError::Issuer => "issuer",
        TokenError::Audience => "audience",
        TokenError::MissingExpiry => "missing_exp",
        TokenError::InvalidDate(_) => "invalid_date",
        TokenError::InvalidScopes => "invalid_scopes",
        TokenError::Expired => "expired",
        TokenError::NotYetValid => "not_yet_valid",
        TokenError::SenderConstrained => "sender_constrained",
    }
}

impl Authenticator {
    /// Registers this authenticator's metrics in `registry`:
    ///
    /// | metric | labels | meaning |
    /// |---|---|---|
    /// | `auth_requests_total` | `result`, `reason` | each answer of [`RequireAuth`](crate::RequireAuth) |
    /// | `auth_token_cache_hits_total`, `auth_token_cache_misses_total` | | verified-token cache lookups |
    /// | `auth_token_cache_entries` | | tokens remembered now |
    /// | `auth_token_cache_bytes` | | what they weigh against the cache's memory budget |
    /// | `auth_jwks_fetches_total` | `issuer`, `document`, `outcome` | each discovery and JWKS fetch |
    /// | `auth_jwks_fetch_duration_seconds` | `issuer`, `document` | how long fetches took |
    /// | `auth_jwks_ready` | `issuer` | 1 while tokens can be verified |
    /// | `auth_jwks_stale` | `issuer` | 1 while keys serve past failed refreshes |
    /// | `auth_jwks_usable_keys` | `issuer` | usable keys in the current set |
    /// | `auth_jwks_age_seconds` | `issuer` | since the current set was fetched |
    pub fn register_metrics(&self, registry: &mut Registry) {
        let metrics = self.metrics();
        registry.register(
            "auth_requests",
            "Answers of the bearer-token check, by result and the check that decided it",
            metrics.checks.clone(),
        );
        registry.register(
            "auth_jwks_fetches",
            "Discovery and JWKS fetches, by document and outcome",
            metrics.fetches.clone(),
        );
        registry.register_with_unit(
            "auth_jwks_fetch_duration",
            "How long discovery and JWKS fetches took",
            Unit::Seconds,
            metrics.fetch_seconds.clone(),
        );
        registry.register_collector(Box::new(Gauges(self.clone())));
    }
}

/// The values read at scrape time: key-set state and the token cache.
struct Gauges(Authenticator);

impl std::fmt::Debug for Gauges {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Gauges")
    }
}

impl Collector for Gauges {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let metrics = self.0.metrics();
        counter(
            &mut encoder,
            "auth_token_cache_hits",
            "Lookups that found a verified token",
            &metrics.token_cache_hits,
        )?;
        counter(
            &mut encoder,
            "auth_token_cache_misses",
            "Lookups that found nothing, so the token was checked in full",
            &metrics.token_cache_misses,
        )?;
        let entries = i64::try_from(self.0.cached_tokens()).unwrap_or(i64::MAX);
        let entries = ConstGauge::new(entries);
        entries.encode(encoder.encode_descriptor(
            "auth_token_cache_entries",
            "Verified tokens remembered now",
            None,
            entries.metric_type(),
        )?)?;
        let bytes = ConstGauge::new(i64::try_from(self.0.cached_token_bytes()).unwrap_or(i64::MAX));
        bytes.encode(encoder.encode_descriptor(
            "auth_token_cache",
            "What the remembered tokens weigh in memory",
            Some(&Unit::Bytes),
            bytes.metric_type(),
        )?)?;

        let states = self.0.issuer_states();
        let per_issuer = |encoder: &mut DescriptorEncoder,
                          name: &str,
                          help: &str,
                          value: &dyn Fn(&Readiness) -> i64|
         -> Result<(), std::fmt::Error> {
            let kind = ConstGauge::new(0_i64).metric_type();
            let mut family = encoder.encode_descriptor(name, help, None, kind)?;
            for (issuer, readiness) in &states {
                let labels = [("issuer", issuer.as_str())];
                ConstGauge::new(value(readiness)).encode(family.encode_family(&labels)?)?;
            }
            Ok(())
        };
        per_issuer(
            &mut encoder,
            "auth_jwks_ready",
            "1 while the issuer's keys can verify tokens (fresh or stale), else 0",
            &|readiness| i64::from(readiness.is_ready()),
        )?;
        per_issuer(
            &mut encoder,
            "auth_jwks_stale",
            "1 while the issuer's keys serve past failed refreshes (stale-if-error), else 0",
            &|readiness| i64::from(matches!(readiness, Readiness::Stale { .. })),
        )?;
        per_issuer(
            &mut encoder,
            "auth_jwks_usable_keys",
            "Usable keys in the issuer's current key set",
            &|readiness| match readiness {
                Readiness::Ready { keys, .. } | Readiness::Stale { keys, .. } => {
                    i64::try_from(*keys).unwrap_or(i64::MAX)
                }
                _ => 0,
            },
        )?;
        let age = ConstGauge::new(0.0_f64);
        let mut family = encoder.encode_descriptor(
            "auth_jwks_age",
            "Since the issuer's current key set was fetched (0 when none is loaded)",
            Some(&Unit::Seconds),
            age.metric_type(),
        )?;
        for (issuer, readiness) in &states {
            let age = match readiness {
                Readiness::Ready { age, .. }
                | Readiness::Stale { age, .. }
                | Readiness::NoUsableKeys { age } => *age,
                Readiness::NotLoaded { .. } | Readiness::FetcherDown => Duration::ZERO,
            };
            ConstGauge::new(age.as_secs_f64())
                .encode(family.encode_family(&[("issuer", issuer.as_str())])?)?;
        }
        Ok(())
    }
}

/// Encodes one counter's current value.
fn counter(
    encoder: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    counter: &Counter,
) -> Result<(), std::fmt::Error> {
    let value = ConstCounter::new(counter.get());
    value.encode(encoder.encode_descriptor(name, help, None, value.metric_type())?)
}
