//! The allowed range of every bounded setting: one home for each, enforced by
//! [`crate::config::AuthConfig::validate`]. A duration out of range is reported in the unit its
//! setting is written in (`*_secs`, `*_ms`), with the range rounded inward to that unit.

use std::ops::RangeInclusive;
use std::time::Duration;

const fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

const fn millis(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// The clock skew allowed: at most five minutes; more would quietly disable `exp`.
pub const LEEWAY: RangeInclusive<Duration> = Duration::ZERO..=secs(300);
/// The time limit of one fetch.
pub const FETCH_TIMEOUT: RangeInclusive<Duration> = millis(100)..=secs(60);
/// How long a key set is fresh: up to a week.
pub const MAX_AGE: RangeInclusive<Duration> = millis(100)..=secs(7 * 86_400);
/// The least time between two unknown-`kid` refetches: never zero, so that an unknown `kid`
/// cannot drive every request to the issuer; up to a day.
pub const COOLDOWN: RangeInclusive<Duration> = millis(100)..=secs(86_400);
/// The longest wait between two attempts while fetches fail: never zero, so that failures
/// never spin; at most an hour, so that recovery never lags long.
pub const RETRY_MAX: RangeInclusive<Duration> = millis(100)..=secs(3600);
/// How long known keys keep serving while refreshes fail: up to a week, and at least the
/// fresh age.
pub const MAX_STALE: RangeInclusive<Duration> = millis(100)..=secs(7 * 86_400);
/// The largest discovery document or JWKS accepted: 1 KiB to 4 MiB.
pub const MAX_RESPONSE_BYTES: RangeInclusive<usize> = 1024..=4 * 1024 * 1024;
/// How many verified tokens are remembered; 0 turns the cache off.
pub const TOKEN_CACHE_CAPACITY: RangeInclusive<usize> = 0..=1_000_000;
/// The token cache's memory budget: 64 KiB to 1 GiB.
pub const TOKEN_CACHE_MAX_BYTES: RangeInclusive<usize> = 64 * 1024..=1024 * 1024 * 1024;
/// The longest token accepted: 1 KiB to 64 KiB (actix refuses larger headers anyway).
pub const MAX_TOKEN_BYTES: RangeInclusive<usize> = 1024..=64 * 1024;
/// How old a DPoP proof's `iat` may be: 1 s to an hour.
pub const DPOP_MAX_AGE: RangeInclusive<Duration> = secs(1)..=secs(3600);
/// How far in the future a DPoP proof's `iat` may be: at most five minutes.
pub const DPOP_LEEWAY: RangeInclusive<Duration> = Duration::ZERO..=secs(300);
/// How many live DPoP proofs the in-memory replay store remembers.
pub const REPLAY_CAPACITY: RangeInclusive<usize> = 1000..=10_000_000;
/// The memory the in-memory replay store may hold: 1 MiB to 4 GiB.
pub const REPLAY_MAX_BYTES: RangeInclusive<usize> = 1024 * 1024..=4 * 1024 * 1024 * 1024;
/// The memory of the DPoP proof key cache: off (0) to 1 GiB.
pub const PROOF_KEY_CACHE_MAX_BYTES: RangeInclusive<usize> = 0..=1024 * 1024 * 1024;
/// The window of a DPoP server nonce: 1 s to an hour.
pub const NONCE_WINDOW: RangeInclusive<Duration> = secs(1)..=secs(3600);
/// The connect and command timeouts of a Redis replay store: 10 ms to 10 s.
pub const REDIS_TIMEOUT: RangeInclusive<Duration> = millis(10)..=secs(10);

/// The realm every challenge names: 1 to 64 printable ASCII characters, without the `"` and
/// `\` that a quoted challenge value cannot carry.
pub(crate) fn realm(realm: &str) -> Result<(), crate::ConfigError> {
    let printable = |c: char| matches!(c, ' '..='~') && !matches!(c, '"' | '\\');
    if (1..=64).contains(&realm.len()) && realm.chars().all(printable) {
        return Ok(());
    }
    Err(crate::ConfigError::invalid(
        "realm",
        format!("{realm:?} must be 1 to 64 printable ASCII characters, without \" or \\"),
    ))
}

/// The sizes both the builder and the configuration hold: the token cache's capacity and
/// budget, and the longest token.
pub(crate) fn sizes(
    token_cache_capacity: usize,
    token_cache_max_bytes: usize,
    max_token_bytes: usize,
) -> Result<(), crate::ConfigError> {
    within(
        "token_cache_capacity",
        token_cache_capacity,
        &TOKEN_CACHE_CAPACITY,
    )?;
    within(
        "token_cache_max_bytes",
        token_cache_max_bytes,
        &TOKEN_CACHE_MAX_BYTES,
    )?;
    within("max_token_bytes", max_token_bytes, &MAX_TOKEN_BYTES)
}

/// `range` in whole seconds, rounded inward: what a `*_secs` setting may hold.
fn whole_secs(range: &RangeInclusive<Duration>) -> RangeInclusive<u64> {
    let start = range.start();
    let lowest = start.as_secs() + u64::from(start.subsec_nanos() > 0);
    lowest..=range.end().as_secs()
}

/// `range` in whole milliseconds, rounded inward: what a `*_ms` setting may hold.
fn whole_millis(range: &RangeInclusive<Duration>) -> RangeInclusive<u64> {
    let millis = |d: &Duration, up: bool| {
        let whole = d.as_millis() + u128::from(up && !d.subsec_nanos().is_multiple_of(1_000_000));
        u64::try_from(whole).unwrap_or(u64::MAX)
    };
    millis(range.start(), true)..=millis(range.end(), false)
}

/// Checks `value` against `range`, naming `path` and the range on failure.
pub(crate) fn within<T: Copy + PartialOrd + std::fmt::Display>(
    path: &str,
    value: T,
    range: &RangeInclusive<T>,
) -> Result<(), crate::ConfigError> {
    within_shown(path, value, range, |v| v.to_string())
}

/// Checks a duration written in seconds (`*_secs`) against `range`.
pub(crate) fn within_secs(
    path: &str,
    value: Duration,
    range: &RangeInclusive<Duration>,
) -> Result<(), crate::ConfigError> {
    let whole = whole_secs(range);
    within_unit(path, value, range, &show_secs(value), &whole)
}

/// Checks a duration written in milliseconds (`*_ms`) against `range`.
pub(crate) fn within_millis(
    path: &str,
    value: Duration,
    range: &RangeInclusive<Duration>,
) -> Result<(), crate::ConfigError> {
    let shown = if value.subsec_nanos().is_multiple_of(1_000_000) {
        value.as_millis().to_string()
    } else {
        format!("{value:?}")
    };
    within_unit(path, value, range, &shown, &whole_millis(range))
}

/// A duration in seconds: whole ones as a number, fractions as `1.5s`.
pub(crate) fn show_secs(value: Duration) -> String {
    if value.subsec_nanos() == 0 {
        value.as_secs().to_string()
    } else {
        format!("{value:?}")
    }
}

/// Checks `value` against `range`; out of it, the error shows `shown` and `whole`, the range in
/// the setting's unit.
fn within_unit(
    path: &str,
    value: Duration,
    range: &RangeInclusive<Duration>,
    shown: &str,
    whole: &RangeInclusive<u64>,
) -> Result<(), crate::ConfigError> {
    if range.contains(&value) {
        return Ok(());
    }
    Err(out_of_range(path, shown, whole.start(), whole.end()))
}

/// Checks `value` against `range`, writing the values with `show` on failure.
fn within_shown<T: Copy + PartialOrd>(
    path: &str,
    value: T,
    range: &RangeInclusive<T>,
    show: impl Fn(T) -> String,
) -> Result<(), crate::ConfigError> {
    if range.contains(&value) {
        return Ok(());
    }
    Err(out_of_range(
        path,
        show(value),
        show(*range.start()),
        show(*range.end()),
    ))
}

/// The error of a setting out of its range, each value shown in the setting's unit.
fn out_of_range(
    path: &str,
    value: impl std::fmt::Display,
    start: impl std::fmt::Display,
    end: impl std::fmt::Display,
) -> crate::ConfigError {
    crate::ConfigError::invalid(
        path,
        format!("{value} is out of range; allowed {start} to {end}"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_seconds_round_inward() {
        assert_eq!(whole_secs(&COOLDOWN), 1..=86_400);
        assert_eq!(whole_secs(&LEEWAY), 0..=300);
        assert_eq!(whole_secs(&FETCH_TIMEOUT), 1..=60);
        assert_eq!(whole_secs(&(secs(2)..=secs(3))), 2..=3);
    }
}
