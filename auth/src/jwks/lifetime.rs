//! What a JWKS response says of its own lifetime (RFC 9111): `Cache-Control: max-age`, else
//! `Expires` (less `Date`); `no-store` and `no-cache` ask for none. [`super::JwksConfig`]
//! clamps it to the configured bounds; a response that says nothing readable gets `max_age`.

use std::time::{Duration, SystemTime};

/// What a JWKS response says about its own lifetime.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Advice {
    /// Nothing readable: the configured `max_age` applies.
    Unstated,
    /// `no-store` or `no-cache`: as short as allowed.
    Uncacheable,
    /// Fresh for this long (`max-age`, or `Expires` less `Date`; zero when already expired).
    For(Duration),
}

/// The greatest `delta-seconds` RFC 9111 §1.2.2 asks a cache to keep: 2^31 s.
const GREATEST_DELTA: u64 = 1 << 31;

impl Advice {
    /// Reads the response's `Cache-Control` values (each header line one item), `Expires` and
    /// `Date`, at `now`.
    pub(crate) fn read(
        cache_control: &[&str],
        expires: Option<&str>,
        date: Option<&str>,
        now: SystemTime,
    ) -> Self {
        let mut max_age: Option<u64> = None;
        for directive in cache_control.iter().flat_map(|line| line.split(',')) {
            let (name, value) = match directive.split_once('=') {
                Some((name, value)) => (name.trim(), Some(value.trim())),
                None => (directive.trim(), None),
            };
            if name.eq_ignore_ascii_case("no-store") || name.eq_ignore_ascii_case("no-cache") {
                return Self::Uncacheable;
            }
            if name.eq_ignore_ascii_case("max-age")
                && let Some(seconds) = value.and_then(delta_seconds)
            {
                // Two max-age directives disagree: the shorter keeps keys fresher.
                max_age = Some(max_age.map_or(seconds, |other| other.min(seconds)));
            }
        }
        if let Some(seconds) = max_age {
            return Self::For(Duration::from_secs(seconds));
        }
        let Some(expires) = expires else {
            return Self::Unstated;
        };
        // An Expires that is not a date (such as "0") is in the past (RFC 9111 §5.3).
        let Ok(expires) = httpdate::parse_http_date(expires.trim()) else {
            return Self::For(Duration::ZERO);
        };
        let origin = date
            .and_then(|date| httpdate::parse_http_date(date.trim()).ok())
            .unwrap_or(now);
        Self::For(expires.duration_since(origin).unwrap_or(Duration::ZERO))
    }
}

/// `delta-seconds`: digits (quoted or not), at most [`GREATEST_DELTA`].
fn delta_seconds(value: &str) -> Option<u64> {
    let digits = value
        .strip_prefix('"')
        .and_then(|v| v.strip_suffix('"'))
        .unwrap_or(value);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(
        digits
            .parse::<u64>()
            .map_or(GREATEST_DELTA, |n| n.min(GREATEST_DELTA)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(cache_control: &[&str]) -> Advice {
        Advice::read(cache_control, None, None, SystemTime::UNIX_EPOCH)
    }

    #[test]
    fn cache_control_is_read_by_its_grammar() {
        let secs = |n| Advice::For(Duration::from_secs(n));
        assert_eq!(read(&["max-age=300"]), secs(300));
        assert_eq!(read(&["public, MAX-AGE=300, must-revalidate"]), secs(300));
        assert_eq!(read(&["max-age=\"120\""]), secs(120));
        assert_eq!(read(&["max-age=600", "max-age=60"]), secs(60));
        assert_eq!(
            read(&["max-age=99999999999999999999"]),
            secs(GREATEST_DELTA)
        );
        assert_eq!(read(&["no-cache"]), Advice::Uncacheable);
        assert_eq!(read(&["max-age=600, no-store"]), Advice::Uncacheable);
        for garbage in [
            "max-age=banana",
            "max-age=-1",
            "max-age=",
            "max-age",
            "x=1",
            "",
        ] {
            assert_eq!(read(&[garbage]), Advice::Unstated, "{garbage:?}");
        }
    }

    #[test]
    fn expires_counts_from_date_and_an_unreadable_one_is_past() {
        let date = "Sun, 06 Nov 1994 08:49:37 GMT";
        let later = "Sun, 06 Nov 1994 08:59:37 GMT";
        assert_eq!(
            Advice::read(&[], Some(later), Some(date), SystemTime::UNIX_EPOCH),
            Advice::For(Duration::from_secs(600))
        );
        assert_eq!(
            Advice::read(&[], Some("0"), Some(date), SystemTime::UNIX_EPOCH),
            Advice::For(Duration::ZERO)
        );
        assert_eq!(
            Advice::read(&[], Some(date), Some(later), SystemTime::UNIX_EPOCH),
            Advice::For(Duration::ZERO)
        );
        // max-age wins over Expires.
        assert_eq!(
            Advice::read(
                &["max-age=90"],
                Some(later),
                Some(date),
                SystemTime::UNIX_EPOCH
            ),
            Advice::For(Duration::from_secs(90))
        );
    }
}
