//! What the authenticator counts: each request's answer, and each key fetch's outcome and
//! duration. With the `metrics` feature they are Prometheus metrics (`prometheus.rs`); without
//! it, counting compiles to nothing.

#[cfg(feature = "metrics")]
mod prometheus;

#[cfg(feature = "metrics")]
pub(crate) use prometheus::{FetchRecorder, Metrics};

#[cfg(not(feature = "metrics"))]
pub(crate) use off::{FetchRecorder, Metrics};

/// Which document a fetch was for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Document {
    /// The OIDC discovery document, read for its `jwks_uri`.
    Discovery,
    /// The JWKS itself.
    Jwks,
}

#[cfg_attr(not(feature = "metrics"), allow(dead_code))]
impl Document {
    fn label(self) -> &'static str {
        match self {
            Self::Discovery => "discovery",
            Self::Jwks => "jwks",
        }
    }
}

/// How a fetch ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum FetchOutcome {
    /// A usable document (unchanged ones included).
    Ok,
    /// The request failed before an answer: connection, TLS, or a broken body.
    RequestFailed,
    /// An answer other than 200.
    Status,
    /// No answer within the fetch timeout.
    Timeout,
    /// A body over the size limit.
    TooLarge,
    /// Not a usable discovery document or JWKS.
    ParseError,
    /// A JWKS that parsed but holds no usable key.
    NoUsableKeys,
}

#[cfg_attr(not(feature = "metrics"), allow(dead_code))]
impl FetchOutcome {
    fn label(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::RequestFailed => "request_failed",
            Self::Status => "status",
            Self::Timeout => "timeout",
            Self::TooLarge => "too_large",
            Self::ParseError => "parse_error",
            Self::NoUsableKeys => "no_usable_keys",
        }
    }
}

/// Counting that does nothing, for builds without the `metrics` feature.
#[cfg(not(feature = "metrics"))]
mod off {
    use std::sync::Arc;
    use std::time::Duration;

    use super::{Document, FetchOutcome};
    use crate::error::AuthError;

    /// No counters.
    #[derive(Debug, Default)]
    pub(crate) struct Metrics(());

    // The same methods as the counting `Metrics`, so that callers do not change.
    #[allow(clippy::unused_self)]
    impl Metrics {
        pub(crate) fn checked<T>(&self, _: &Result<Option<T>, AuthError>, _: bool) {}

        pub(crate) fn token_cache_lookup(&self, _: bool) {}

        pub(crate) fn dpop_checked<T>(&self, _: &Result<Option<T>, AuthError>) {}

        pub(crate) fn replay_checked(
            &self,
            _: &Result<crate::dpop::Seen, crate::dpop::ReplayError>,
            _: Duration,
        ) {
        }
    }

    /// Records nothing.
    #[derive(Debug, Clone)]
    pub(crate) struct FetchRecorder;

    #[allow(clippy::unused_self)]
    impl FetchRecorder {
        pub(crate) fn new(_: Arc<Metrics>, _: &str) -> Self {
            Self
        }

        pub(crate) fn set_issuer(&mut self, _: &str) {}

        pub(crate) fn fetched(&self, _: Document, _: FetchOutcome, _: Duration) {}
    }
}
