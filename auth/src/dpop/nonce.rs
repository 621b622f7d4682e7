//! Resource-server DPoP nonces (RFC 9449 §9), stateless: a nonce is the number of a time window
//! and an HMAC-SHA-256 tag over that number and the proof key's thumbprint, under a secret that
//! replicas share. A nonce is good in its window and the next one, for that key alone, so a
//! stolen proof lives at most two windows, whatever the client's clock says.

use std::time::Duration;

use aws_lc_rs::constant_time::verify_slices_are_equal;
use aws_lc_rs::hmac;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// The bytes of a window number, then of the tag kept from the MAC.
const WINDOW_BYTES: usize = 8;
const TAG_BYTES: usize = 16;
/// A nonce's length, base64url: 24 bytes.
const NONCE_CHARS: usize = 32;
/// What the MAC covers first, so that the secret serves nothing else by accident.
const CONTEXT: &[u8] = b"oauth2-jwt-bearer dpop-nonce v1";

/// Whether a proof's nonce is one we issued for its key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Freshness {
    /// Issued in the current window.
    Current,
    /// Issued in the previous window: good, but the answer carries the next nonce.
    Previous,
    /// None, another key's, older, from the future, or not ours.
    Stale,
}

/// Issues and checks the nonces of one secret.
pub(crate) struct Nonces {
    key: hmac::Key,
    window_secs: u64,
}

impl std::fmt::Debug for Nonces {
    /// Never the key.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Nonces")
            .field("window_secs", &self.window_secs)
            .finish_non_exhaustive()
    }
}

impl Nonces {
    /// Nonces under `secret`, each window `window` long (whole seconds, at least one).
    pub(crate) fn new(secret: &[u8], window: Duration) -> Self {
        Self {
            key: hmac::Key::new(hmac::HMAC_SHA256, secret),
            window_secs: window.as_secs().max(1),
        }
    }

    /// The window `now` (a NumericDate) falls in; a clock before 1970 is window 0.
    fn window(&self, now: f64) -> u64 {
        // Whole seconds since 1970 fit a u64 for the next 584 billion years; NaN reads as 0.
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let secs = now.max(0.0) as u64;
        secs / self.window_secs
    }

    fn tag(&self, window: u64, jkt: &str) -> hmac::Tag {
        let mut context = hmac::Context::with_key(&self.key);
        context.update(CONTEXT);
        context.update(&window.to_be_bytes());
        context.update(jkt.as_bytes());
        context.sign()
    }

    /// A nonce for the key `jkt`, good now and through the next window.
    pub(crate) fn issue(&self, jkt: &str, now: f64) -> String {
        let window = self.window(now);
        let mut bytes = [0_u8; WINDOW_BYTES + TAG_BYTES];
        bytes[..WINDOW_BYTES].copy_from_slice(&window.to_be_bytes());
        bytes[WINDOW_BYTES..].copy_from_slice(&self.tag(window, jkt).as_ref()[..TAG_BYTES]);
        URL_SAFE_NO_PAD.encode(bytes)
    }

    /// Whether `nonce` was issued for `jkt` in this window or the previous one.
    pub(crate) fn check(&self, nonce: Option<&str>, jkt: &str, now: f64) -> Freshness {
        let Some(nonce) = nonce.filter(|nonce| nonce.len() == NONCE_CHARS) else {
            return Freshness::Stale;
        };
        let Ok(bytes) = URL_SAFE_NO_PAD.decode(nonce) else {
            return Freshness::Stale;
        };
        let Ok(window) = <[u8; WINDOW_BYTES]>::try_from(&bytes[..WINDOW_BYTES]) else {
            return Freshness::Stale;
        };
        let window = u64::from_be_bytes(window);
        let current = self.window(now);
        let freshness = if window == current {
            Freshness::Current
        } else if window.checked_add(1) == Some(current) {
            Freshness::Previous
        } else {
            return Freshness::Stale;
        };
        let expected = self.tag(window, jkt);
        match verify_slices_are_equal(&bytes[WINDOW_BYTES..], &expected.as_ref()[..TAG_BYTES]) {
            Ok(()) => freshness,
            Err(_) => Freshness::Stale,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";

    #[test]
    fn a_nonce_is_good_for_its_key_in_its_window_and_the_next() {
        let nonces = Nonces::new(SECRET, Duration::from_secs(60));
        let now = 1_800_000_000.0;
        let nonce = nonces.issue("key-a", now);

        assert_eq!(nonce.len(), NONCE_CHARS);
        assert_eq!(nonces.check(Some(&nonce), "key-a", now), Freshness::Current);
        assert_eq!(
            nonces.check(Some(&nonce), "key-a", now + 60.0),
            Freshness::Previous
        );
        assert_eq!(
            nonces.check(Some(&nonce), "key-a", now + 120.0),
            Freshness::Stale
        );
        assert_eq!(
            nonces.check(Some(&nonce), "key-a", now - 60.0),
            Freshness::Stale
        );
        assert_eq!(nonces.check(Some(&nonce), "key-b", now), Freshness::Stale);
        assert_eq!(nonces.check(None, "key-a", now), Freshness::Stale);
        assert_eq!(nonces.check(Some("x"), "key-a", now), Freshness::Stale);
        // Another secret (another deployment) never accepts it; the same secret (a replica) does.
        let other = Nonces::new(
            b"another secret of thirty-two bytes!",
            Duration::from_secs(60),
        );
        assert_eq!(other.check(Some(&nonce), "key-a", now), Freshness::Stale);
        let replica = Nonces::new(SECRET, Duration::from_secs(60));
        assert_eq!(
            replica.check(Some(&nonce), "key-a", now),
            Freshness::Current
        );
    }

    #[test]
    fn a_nonce_with_a_changed_byte_is_not_ours() {
        let nonces = Nonces::new(SECRET, Duration::from_secs(60));
        let now = 1_800_000_000.0;
        let nonce = nonces.issue("key-a", now);
        for i in 0..nonce.len() {
            let mut forged = nonce.clone().into_bytes();
            forged[i] = if forged[i] == b'A' { b'B' } else { b'A' };
            let forged = String::from_utf8(forged).unwrap();
            assert_eq!(
                nonces.check(Some(&forged), "key-a", now),
                Freshness::Stale,
                "{forged}"
            );
        }
    }
}
