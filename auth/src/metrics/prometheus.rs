//! The counters in the Prometheus model (the `prometheus-client` crate): the answer to each
//! request's check, and each key fetch's outcome and duration.
//! Counting is an atomic add per request. `exposition.rs` puts them, and the gauges read at
//! scrape time, in a registry.

use std::sync::Arc;
use std::time::Duration;

use prometheus_client::encoding::{EncodeLabel, EncodeLabelSet, LabelSetEncoder};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::Histogram;

use super::{Document, FetchOutcome};
use crate::dpop::{ReplayError, Seen};
use crate::error::AuthError;

/// The counters one authenticator and its fetchers share.
#[derive(Debug)]
pub(crate) struct Metrics {
    pub(crate) checks: Family<CheckLabels, Counter>,
    /// The same answers, for requests that used DPoP alone.
    pub(crate) dpop_checks: Family<CheckLabels, Counter>,
    /// Its answer of nearly every DPoP request, looked up once.
    dpop_ok: Counter,
    /// The two answers of nearly every request, looked up once.
    verified: Counter,
    cache_hit: Counter,
    anonymous: Counter,
    pub(crate) token_cache_hits: Counter,
    pub(crate) token_cache_misses: Counter,
    pub(crate) fetches: Family<FetchLabels, Counter>,
    pub(crate) fetch_seconds: Family<DocumentLabels, Histogram>,
    /// DPoP replay-store answers, by result, and how long they took.
    pub(crate) replay_checks: Family<ReplayLabels, Counter>,
    /// The store's answer for nearly every proof, looked up once.
    replay_new: Counter,
    pub(crate) replay_seconds: Histogram,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct ReplayLabels {
    result: &'static str,
    /// For `unavailable`: why ([`ReplayError::reason`]).
    reason: Option<&'static str>,
}

impl EncodeLabelSet for ReplayLabels {
    fn encode(&self, encoder: &mut LabelSetEncoder) -> Result<(), std::fmt::Error> {
        ("result", self.result).encode(encoder.encode_label())?;
        match self.reason {
            Some(reason) => ("reason", reason).encode(encoder.encode_label()),
            None => Ok(()),
        }
    }
}

/// Replay-store latency buckets, in seconds: 50 µs (memory) to 1 s (a struggling Redis).
const REPLAY_BUCKETS: [f64; 10] = [
    0.000_05, 0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.025, 0.1, 1.0,
];

/// Where a request came out: `result` is the answer, `reason` the check that decided it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct CheckLabels {
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
pub(crate) struct FetchLabels {
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
pub(crate) struct DocumentLabels {
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
        let dpop_checks = Family::<CheckLabels, Counter>::default();
        let dpop_ok = dpop_checks.get_or_create_owned(&CheckLabels {
            result: "ok",
            reason: None,
        });
        let replay_checks = Family::<ReplayLabels, Counter>::default();
        let replay_new = replay_checks.get_or_create_owned(&ReplayLabels {
            result: "new",
            reason: None,
        });
        Self {
            checks,
            dpop_checks,
            dpop_ok,
            verified,
            cache_hit,
            anonymous,
            token_cache_hits: Counter::default(),
            token_cache_misses: Counter::default(),
            fetches: Family::default(),
            fetch_seconds: Family::new_with_constructor(|| Histogram::new(FETCH_BUCKETS)),
            replay_checks,
            replay_new,
            replay_seconds: Histogram::new(REPLAY_BUCKETS),
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

    /// Counts the answer of a request that used DPoP (its scheme or its header).
    pub(crate) fn dpop_checked<T>(&self, answer: &Result<Option<T>, AuthError>) {
        match answer {
            Ok(_) => self.dpop_ok.inc(),
            Err(error) => self.dpop_checks.get_or_create(&refused(error)).inc(),
        };
    }

    /// Counts one answer of the DPoP replay store, and how long it took.
    pub(crate) fn replay_checked(&self, seen: &Result<Seen, ReplayError>, took: Duration) {
        let labels = match seen {
            Ok(Seen::New) => None,
            Ok(Seen::Replayed) => Some(("replayed", None)),
            Err(ReplayError::Full) => Some(("full", None)),
            Err(ReplayError::ClientQuota) => Some(("client_quota", None)),
            Err(error) => Some(("unavailable", Some(error.reason()))),
        };
        match labels {
            None => self.replay_new.inc(),
            Some((result, reason)) => self
                .replay_checks
                .get_or_create(&ReplayLabels { result, reason })
                .inc(),
        };
        self.replay_seconds.observe(took.as_secs_f64());
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
        AuthError::OtherScheme(_) => ("no_credentials", Some("other_scheme")),
        AuthError::InvalidRequest(why) => ("invalid_request", Some(why.reason())),
        AuthError::InvalidToken(why) => ("invalid_token", Some(why.reason())),
        AuthError::InsufficientScope { .. } => ("insufficient_scope", None),
        AuthError::InsufficientUserAuthentication { .. } => {
            ("insufficient_user_authentication", None)
        }
        AuthError::Forbidden { .. } => ("forbidden", None),
        AuthError::KeysUnavailable { .. } => ("unavailable", None),
        AuthError::InvalidDpopProof(why) => ("invalid_dpop_proof", Some(why.reason())),
        AuthError::UseDpopNonce { .. } => ("use_dpop_nonce", None),
        AuthError::ReplayUnavailable { .. } => ("unavailable", Some("dpop_replay_store")),
    };
    CheckLabels { result, reason }
}
