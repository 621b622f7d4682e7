//! Prometheus exposition: [`Authenticator::register_metrics`] registers the counters of
//! `metrics/` and the gauges read at scrape time (key-set state, the token cache). It sits
//! above both the authenticator and the counters, so that neither imports the other's layer.

use std::time::Duration;

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::counter::{ConstCounter, Counter};
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::registry::{Registry, Unit};

use crate::authenticator::Authenticator;
use crate::jwks::Readiness;

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
    /// | `auth_jwks_max_age_seconds` | `issuer` | how long the current set stays fresh: the lifetime its JWKS response set, clamped, or the configured `max_age` |
    /// | `auth_dpop_requests_total` | `result`, `reason` | the answers of requests that used DPoP (its scheme or header) |
    /// | `auth_dpop_replay_checks_total` | `result` | the replay store's answers: `new`, `replayed`, `full`, `unavailable` |
    /// | `auth_dpop_replay_check_duration_seconds` | | how long the replay store took |
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
        registry.register(
            "auth_dpop_requests",
            "Answers of requests that used DPoP, by result and the check that decided it",
            metrics.dpop_checks.clone(),
        );
        registry.register(
            "auth_dpop_replay_checks",
            "Answers of the DPoP replay store",
            metrics.replay_checks.clone(),
        );
        registry.register_with_unit(
            "auth_dpop_replay_check_duration",
            "How long the DPoP replay store took to answer",
            Unit::Seconds,
            metrics.replay_seconds.clone(),
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
        let mut family = encoder.encode_descriptor(
            "auth_jwks_max_age",
            "How long the issuer's current key set stays fresh before its routine refresh: \
             the lifetime its JWKS response set (Cache-Control max-age, Expires), clamped, or \
             the configured max_age",
            Some(&Unit::Seconds),
            age.metric_type(),
        )?;
        for (issuer, lifetime) in self.0.key_lifetimes() {
            ConstGauge::new(lifetime.as_secs_f64())
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
