//! Token checks, in the order RFC 8725 asks for: shape, `alg`, other header fields, key,
//! signature, claims. Every check fails closed.
//!
//! Why ours and not `jsonwebtoken::decode`: it rebuilds the public key on every call (our keys
//! are parsed once per JWKS, a full check costs about 0.7 of its time), it decodes the payload
//! before the key is found, and it cannot express our rules (`typ`, `crit`, the key fitting
//! `kid` and `alg`, `iss`/`aud` always required, `exp == now` expired). What keeps these checks
//! honest: the unit and integration tests of each rule, the mutation property tests in
//! `tests/fuzz.rs`, and the differential test in `tests/differential.rs`, which must agree with
//! `jsonwebtoken::decode` on generated tokens over every algorithm except for the listed
//! differences where we are stricter.

use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value};

use crate::algorithm::Algorithm;
use crate::claims::{Claims, ScopeClaim};
use crate::error::{ConfirmationMethod, DateClaim, TokenError};
use crate::keys::Key;

/// The `typ` values of an access token (RFC 9068) or a plain JWT; compared case-insensitively.
const ACCEPTED_TYPES: [&str; 3] = ["jwt", "at+jwt", "application/at+jwt"];
/// The `typ` values of an RFC 9068 access token alone, for issuers that always send one.
const ACCESS_TOKEN_TYPES: [&str; 2] = ["at+jwt", "application/at+jwt"];

/// The members of `cnf` that bind a token to a key its sender must prove: DPoP (RFC 9449 §6.1)
/// and mTLS (RFC 8705 §3.1).
const BINDING_MEMBERS: [&str; 2] = ["jkt", "x5t#S256"];

/// The longest `kid` looked up; longer ones are refused before any lookup.
pub(crate) const MAX_KID_BYTES: usize = 256;

/// A token whose shape and header passed, ready for the key lookup. Only the header is decoded:
/// the payload and signature stay borrowed base64url text until a key is found, so a request
/// waiting on a JWKS fetch holds nothing request-sized beyond the token itself.
#[derive(Debug)]
pub(crate) struct Unverified<'a> {
    /// The header's `alg`, already in the allow-list.
    pub alg: Algorithm,
    /// The header's `kid`.
    pub kid: Option<String>,
    signing_input: &'a str,
    payload: &'a str,
    signature: &'a str,
}

impl Unverified<'_> {
    /// The payload's `iss`, read before any signature check only to pick which issuer's keys
    /// to try; the full claim check later compares it again. `None` when the payload is not
    /// JSON or `iss` is missing or not a string.
    pub(crate) fn issuer(&self) -> Option<String> {
        #[derive(serde::Deserialize)]
        struct Peek {
            iss: Option<String>,
        }
        let payload = URL_SAFE_NO_PAD.decode(self.payload).ok()?;
        serde_json::from_slice::<Peek>(&payload).ok()?.iss
    }
}

/// A verified token's time window.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Validity {
    exp: f64,
    nbf: Option<f64>,
}

/// The rules every token meets before any issuer is picked: its shape, the `alg` allow-list,
/// `crit` and `typ`. One for the authenticator, shared by every issuer.
#[derive(Debug, Clone)]
pub(crate) struct HeaderRules {
    pub(crate) algorithms: Vec<Algorithm>,
    /// Whether `typ` must name an RFC 9068 access token (`at+jwt`).
    pub(crate) require_at_jwt: bool,
}

/// The claim rules of one issuer's tokens: audiences, leeway and how scopes are read. The
/// issuer is passed to each check, since discovery may settle its exact form after the
/// validator is built.
#[derive(Debug, Clone)]
pub(crate) struct Validator {
    pub(crate) audiences: Vec<String>,
    /// The clock skew allowed, in seconds (fractions kept).
    pub(crate) leeway: f64,
    /// The claims that grant scopes.
    pub(crate) scope_claims: Vec<ScopeClaim>,
}

impl HeaderRules {
    /// Steps 1–3: the compact-JWS shape, `alg` against the allow-list, then `crit` and `typ`.
    ///
    /// # Errors
    /// The first check that fails.
    pub(crate) fn parse<'a>(&self, token: &'a str) -> Result<Unverified<'a>, TokenError> {
        let mut segments = token.split('.');
        let (Some(header), Some(payload), Some(signature), None) = (
            segments.next(),
            segments.next(),
            segments.next(),
            segments.next(),
        ) else {
            return Err(TokenError::Malformed);
        };
        if !is_base64url(payload) || !is_base64url(signature) || signature.is_empty() {
            return Err(TokenError::Malformed);
        }
        let header = json_object(header)?;
        let signing_input = &token[..token.len() - signature.len() - 1];

        let alg = match header.get("alg") {
            Some(Value::String(alg)) => alg
                .parse()
                .ok()
                .filter(|alg| self.algorithms.contains(alg))
                .ok_or(TokenError::UnsupportedAlgorithm)?,
            _ => return Err(TokenError::Malformed),
        };
        if header.contains_key("crit") {
            return Err(TokenError::UnsupportedCritical);
        }
        let accepted: &[&str] = if self.require_at_jwt {
            &ACCESS_TOKEN_TYPES
        } else {
            &ACCEPTED_TYPES
        };
        match header.get("typ") {
            None if !self.require_at_jwt => {}
            Some(Value::String(typ)) if accepted.iter().any(|t| typ.eq_ignore_ascii_case(t)) => {}
            _ => return Err(TokenError::UnsupportedType),
        }
        let kid = match header.get("kid") {
            None => None,
            Some(Value::String(kid)) if kid.len() > MAX_KID_BYTES => {
                return Err(TokenError::OversizedKid);
            }
            Some(Value::String(kid)) => Some(kid.clone()),
            Some(_) => return Err(TokenError::Malformed),
        };
        Ok(Unverified {
            alg,
            kid,
            signing_input,
            payload,
            signature,
        })
    }
}

impl Validator {
    /// Steps 5–6: the signature against one of `keys`, then the claims at time `now`, with `iss`
    /// compared exactly to `issuer`. The payload is parsed only once the signature holds, so no
    /// unauthenticated JSON is built.
    ///
    /// # Errors
    /// [`TokenError::BadSignature`] when no key verifies, [`TokenError::Malformed`] when the
    /// signed payload is not a JSON object, else the first claim check that fails.
    pub(crate) fn verify(
        &self,
        token: &Unverified<'_>,
        keys: &[&Key],
        issuer: &str,
        now: f64,
    ) -> Result<(Claims, Validity), TokenError> {
        let signature = URL_SAFE_NO_PAD
            .decode(token.signature)
            .map_err(|_| TokenError::Malformed)?;
        let verified = keys.iter().any(|key| {
            key.verifier(token.alg).is_some_and(|verifier| {
                verifier
                    .verify_sig(token.signing_input.as_bytes(), &signature)
                    .is_ok()
            })
        });
        if !verified {
            return Err(TokenError::BadSignature);
        }
        self.check_claims(json_object(token.payload)?, issuer, now)
    }

    fn check_claims(
        &self,
        payload: Map<String, Value>,
        issuer: &str,
        now: f64,
    ) -> Result<(Claims, Validity), TokenError> {
        // RFC 9068 §4: exactly, byte for byte. Discovery alone may settle the trailing slash.
        if payload.get("iss").and_then(Value::as_str) != Some(issuer) {
            return Err(TokenError::Issuer);
        }
        let audience_matches = match payload.get("aud") {
            Some(Value::String(aud)) => self.audiences.contains(aud),
            Some(Value::Array(auds)) => {
                auds.iter().all(Value::is_string)
                    && auds
                        .iter()
                        .filter_map(Value::as_str)
                        .any(|aud| self.audiences.iter().any(|a| a == aud))
            }
            _ => false,
        };
        if !audience_matches {
            return Err(TokenError::Audience);
        }

        let validity = Validity {
            exp: date(&payload, "exp", DateClaim::Exp)?.ok_or(TokenError::MissingExpiry)?,
            nbf: date(&payload, "nbf", DateClaim::Nbf)?,
        };
        date(&payload, "iat", DateClaim::Iat)?;
        self.check_time(validity, now)?;
        check_confirmation(&payload)?;
        Ok((Claims::from_payload(payload, &self.scope_claims)?, validity))
    }

    /// The time checks, with the leeway: run on every full validation and every cache hit.
    /// RFC 7519 §4.1.4: the current time must be *before* `exp`, so `exp == now` is expired.
    ///
    /// # Errors
    /// [`TokenError::Expired`] when `now >= exp + leeway`, [`TokenError::NotYetValid`] when
    /// `now + leeway < nbf`.
    #[allow(clippy::neg_cmp_op_on_partial_ord)]
    pub(crate) fn check_time(&self, validity: Validity, now: f64) -> Result<(), TokenError> {
        let leeway = self.leeway;
        // `!(now < ..)` rather than `now >= ..`, so that a NaN clock counts as expired too.
        if !(now < validity.exp + leeway) {
            return Err(TokenError::Expired);
        }
        if validity.nbf.is_some_and(|nbf| now + leeway < nbf) {
            return Err(TokenError::NotYetValid);
        }
        Ok(())
    }
}

/// The token's binding, if any (RFC 7800 `cnf`), must be one we check: an object whose DPoP
/// `jkt` and mTLS `x5t#S256`, where present, are non-empty strings, and which binds by no other
/// RFC 7800 method (`jwk`, `jwe`, `kid`, `jku`). A binding that cannot be read or checked is
/// refused, never taken for a bearer token: fail closed. Members RFC 7800 does not define bind
/// nothing we know of and are ignored (RFC 7800 §3.1).
///
/// # Errors
/// [`TokenError::InvalidConfirmation`] or [`TokenError::UnsupportedConfirmation`].
fn check_confirmation(payload: &Map<String, Value>) -> Result<(), TokenError> {
    let cnf = match payload.get("cnf") {
        None => return Ok(()),
        Some(Value::Object(cnf)) => cnf,
        Some(_) => return Err(TokenError::InvalidConfirmation),
    };
    let readable = BINDING_MEMBERS.iter().all(|member| match cnf.get(*member) {
        None => true,
        Some(Value::String(value)) => !value.is_empty(),
        Some(_) => false,
    });
    if !readable {
        return Err(TokenError::InvalidConfirmation);
    }
    match ConfirmationMethod::ALL
        .into_iter()
        .find(|method| cnf.contains_key(method.as_str()))
    {
        Some(method) => Err(TokenError::UnsupportedConfirmation(method)),
        None => Ok(()),
    }
}

/// Whether two configured issuer URLs name the same issuer: exactly, or but for one trailing
/// slash on either side (`https://tenant.example.com` and `https://tenant.example.com/`).
/// Nothing else is forgiven: not case, not scheme, not a second slash. This compares
/// configuration with configuration or with a discovery document, never with a token's `iss`,
/// which must equal the issuer exactly.
pub(crate) fn issuer_matches(configured: &str, iss: &str) -> bool {
    iss == configured || trim_slash(iss) == trim_slash(configured)
}

fn trim_slash(s: &str) -> &str {
    s.strip_suffix('/').unwrap_or(s)
}

/// The current time as a NumericDate.
pub(crate) fn now() -> f64 {
    numeric_date(SystemTime::now())
}

/// A time as a NumericDate. A time before 1970 is a clock fault: it reads as the end of time,
/// so that every token is expired (fail closed), never as 0, which would pass every `exp`.
fn numeric_date(time: SystemTime) -> f64 {
    time.duration_since(UNIX_EPOCH)
        .map_or(f64::INFINITY, |d| d.as_secs_f64())
}

/// Whether `segment` uses only the base64url alphabet (no padding): a shape check that
/// allocates nothing, one table lookup per byte.
fn is_base64url(segment: &str) -> bool {
    static ALPHABET: [bool; 256] = {
        let mut table = [false; 256];
        let mut byte = 0;
        while byte < 256 {
            #[allow(clippy::cast_possible_truncation)] // byte < 256
            let b = byte as u8;
            table[byte] = b.is_ascii_alphanumeric() || b == b'-' || b == b'_';
            byte += 1;
        }
        table
    };
    segment.bytes().all(|b| ALPHABET[usize::from(b)])
}

fn json_object(segment: &str) -> Result<Map<String, Value>, TokenError> {
    let bytes = URL_SAFE_NO_PAD
        .decode(segment)
        .map_err(|_| TokenError::Malformed)?;
    match serde_json::from_slice(&bytes) {
        Ok(Value::Object(object)) => Ok(object),
        _ => Err(TokenError::Malformed),
    }
}

/// A NumericDate claim: absent, or a finite JSON number.
fn date(
    payload: &Map<String, Value>,
    name: &str,
    claim: DateClaim,
) -> Result<Option<f64>, TokenError> {
    match payload.get(name) {
        None => Ok(None),
        Some(Value::Number(n)) => n
            .as_f64()
            .filter(|v| v.is_finite())
            .map(Some)
            .ok_or(TokenError::InvalidDate(claim)),
        Some(_) => Err(TokenError::InvalidDate(claim)),
    }
}

#[cfg(test)]
mod tests {
    use super::issuer_matches;

    #[test]
    fn issuers_match_exactly_or_but_for_one_trailing_slash() {
        let configured = "https://tenant.example.com/";
        for iss in ["https://tenant.example.com/", "https://tenant.example.com"] {
            assert!(issuer_matches(configured, iss), "{iss}");
            assert!(issuer_matches(iss, configured), "{iss}");
        }
        for iss in [
            "https://tenant.example.com//",
            "https://TENANT.example.com/",
            "http://tenant.example.com/",
            "https://tenant.example.com/x",
            "https://tenant.example.co",
            "",
        ] {
            assert!(!issuer_matches(configured, iss), "{iss}");
        }
    }

    use super::*;

    fn validator(leeway: f64) -> Validator {
        Validator {
            audiences: vec!["https://api".into()],
            leeway,
            scope_claims: vec![ScopeClaim::Scope, ScopeClaim::Permissions],
        }
    }

    #[test]
    fn expiry_is_exclusive_at_the_leeway_boundary() {
        let validity = Validity {
            exp: 100.0,
            nbf: None,
        };

        assert_eq!(validator(5.0).check_time(validity, 104.5), Ok(()));
        assert_eq!(
            validator(5.0).check_time(validity, 105.0),
            Err(TokenError::Expired)
        );
        assert_eq!(validator(0.0).check_time(validity, 99.5), Ok(()));
        assert_eq!(
            validator(0.0).check_time(validity, 100.0),
            Err(TokenError::Expired)
        );
    }

    #[test]
    fn a_leeway_keeps_its_fractions_of_a_second() {
        let validity = Validity {
            exp: 100.0,
            nbf: None,
        };

        assert_eq!(validator(0.5).check_time(validity, 100.4), Ok(()));
        assert_eq!(
            validator(0.5).check_time(validity, 100.5),
            Err(TokenError::Expired)
        );
    }

    #[test]
    fn a_clock_before_1970_makes_every_token_expired() {
        let before_epoch = UNIX_EPOCH - std::time::Duration::from_secs(1);
        let validity = Validity {
            exp: f64::MAX,
            nbf: None,
        };

        let now = numeric_date(before_epoch);

        assert_eq!(
            validator(300.0).check_time(validity, now),
            Err(TokenError::Expired)
        );
        assert_eq!(
            validator(0.0).check_time(validity, f64::NAN),
            Err(TokenError::Expired)
        );
    }

    #[test]
    fn not_before_is_inclusive_of_the_leeway_boundary() {
        let validity = Validity {
            exp: 1000.0,
            nbf: Some(110.0),
        };

        assert_eq!(validator(5.0).check_time(validity, 105.0), Ok(()));
        assert_eq!(
            validator(5.0).check_time(validity, 104.5),
            Err(TokenError::NotYetValid)
        );
        assert_eq!(validator(0.0).check_time(validity, 110.0), Ok(()));
    }
}
