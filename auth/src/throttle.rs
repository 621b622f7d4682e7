//! A log throttle: one line per interval, with a count of those left out, so that a flood of
//! failing requests (say, during an issuer outage) cannot flood the log.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Lets one event through per interval and counts the rest. Shared by every worker.
pub(crate) struct Throttle {
    origin: Instant,
    interval_ms: u64,
    /// Milliseconds after `origin` before which no event is let through.
    next_ms: AtomicU64,
    suppressed: AtomicU64,
}

impl Throttle {
    pub(crate) fn new(interval: Duration) -> Self {
        Self {
            origin: Instant::now(),
            interval_ms: u64::try_from(interval.as_millis()).unwrap_or(u64::MAX),
            next_ms: AtomicU64::new(0),
            suppressed: AtomicU64::new(0),
        }
    }

    /// `Some(n)` when an event at `now` may be logged, `n` being how many were left out since
    /// the last one; `None` (and counted) otherwise.
    pub(crate) fn permit(&self, now: Instant) -> Option<u64> {
        let at = u64::try_from(now.saturating_duration_since(self.origin).as_millis())
            .unwrap_or(u64::MAX);
        let next = self.next_ms.load(Ordering::Relaxed);
        let ours = at >= next
            && self
                .next_ms
                .compare_exchange(
                    next,
                    at.saturating_add(self.interval_ms),
                    Ordering::Relaxed,
                    Ordering::Relaxed,
                )
                .is_ok();
        if ours {
            Some(self.suppressed.swap(0, Ordering::Relaxed))
        } else {
            self.suppressed.fetch_add(1, Ordering::Relaxed);
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_event_per_interval_passes_with_the_count_left_out() {
        let throttle = Throttle::new(Duration::from_secs(5));
        let start = throttle.origin;

        let first = throttle.permit(start);
        let flood: Vec<_> = (0..1000)
            .map(|ms| throttle.permit(start + Duration::from_millis(ms)))
            .collect();
        let later = throttle.permit(start + Duration::from_secs(5));

        assert_eq!(first, Some(0));
        assert!(flood.iter().all(Option::is_none));
        assert_eq!(later, Some(1000));
        assert_eq!(throttle.permit(start + Duration::from_secs(6)), None);
    }
}
