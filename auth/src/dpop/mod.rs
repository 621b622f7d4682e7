//! DPoP proofs (RFC 9449 §4.3): the checks of one proof JWT against the request it came with
//! and the access token it accompanies, the JWK thumbprint that binds them (RFC 7638), and the
//! request URL in the normal form both sides compare (RFC 3986 §6.2.2 and §6.2.3).
//!
//! This is the framework-free core, with replay detection (`replay.rs`). The scheme gate in the
//! middleware comes on top of it.

use std::sync::Arc;
use std::time::Duration;

use aws_lc_rs::digest::{SHA256, digest};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value};

use crate::algorithm::Algorithm;
use crate::keys::Key;

mod key_cache;
mod nonce;
#[cfg(feature = "redis")]
mod redis;
mod replay;

#[cfg(feature = "redis")]
pub use redis::{RedisOptions, RedisReplayStore};
pub use replay::{MemoryReplayStore, ProofSender, ReplayError, ReplayStore, Seen, replay_key};

/// The largest proof looked at: anything longer is refused before any parsing.
pub const MAX_PROOF_BYTES: usize = 8 * 1024;
/// The longest `jti` accepted.
pub const MAX_JTI_BYTES: usize = 256;
/// The longest `nonce` kept from a proof: ours are 32 characters.
const MAX_NONCE_BYTES: usize = 64;

/// The default prefix of the keys a Redis replay store writes.
pub const DEFAULT_REDIS_KEY_PREFIX: &str = "dpop:jti:";
/// How long connecting to a Redis replay store may take, by default.
pub const DEFAULT_REDIS_CONNECT_TIMEOUT: Duration = Duration::from_secs(1);
/// How long one Redis command may take, by default.
pub const DEFAULT_REDIS_COMMAND_TIMEOUT: Duration = Duration::from_millis(250);

pub use crate::error::ProofError;
use key_cache::ProofKey;
pub(crate) use key_cache::ProofKeys;
pub(crate) use nonce::{Freshness, Nonces};

/// A proof's `typ`: the media type `application/dpop+jwt`, with or without its `application/`
/// prefix (RFC 7515 §4.1.9), compared case-insensitively.
const PROOF_TYPES: [&str; 2] = ["dpop+jwt", "application/dpop+jwt"];

/// JWK members that only a private key has: a proof carrying any of them is refused.
const PRIVATE_MEMBERS: [&str; 8] = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"];

/// A proof that passed every check: what a replay store and the token binding need.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Proof {
    /// The RFC 7638 SHA-256 thumbprint of the proof's key, base64url: compared with the
    /// access token's `cnf.jkt`.
    pub jkt: String,
    /// The proof's unique id, for the replay store.
    pub jti: String,
    /// When the proof was made (a NumericDate).
    pub iat: f64,
    /// The server nonce the proof carries (RFC 9449 §9), if any.
    pub nonce: Option<String>,
}

/// The rules a proof must meet.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ProofRules {
    /// The accepted proof algorithms (every asymmetric one by default).
    pub algorithms: Vec<Algorithm>,
    /// How old `iat` may be (default 300 s).
    pub max_age: Duration,
    /// How far in the future `iat` may be (default 30 s).
    pub leeway: Duration,
}

impl Default for ProofRules {
    fn default() -> Self {
        Self {
            algorithms: Algorithm::ALL.to_vec(),
            max_age: Duration::from_secs(300),
            leeway: Duration::from_secs(30),
        }
    }
}

/// The request a proof is checked against.
#[derive(Debug, Clone, Copy)]
pub struct ProofRequest<'a> {
    /// The HTTP method, such as `GET`.
    pub method: &'a str,
    /// The request's URL as the server knows it (its public URL and the raw path); normalised
    /// before the comparison.
    pub url: &'a str,
    /// The access token sent with the proof, exactly as sent.
    pub access_token: &'a str,
}

impl ProofRules {
    /// Checks `proof` against `request` at time `now`: shape, `typ`, `alg`, the public `jwk`,
    /// the signature, `iat`, `htm`, `htu`, `jti` and `ath`, in that order.
    ///
    /// # Errors
    /// The first check that fails.
    pub fn verify(
        &self,
        proof: &str,
        request: &ProofRequest<'_>,
        now: f64,
    ) -> Result<Proof, ProofError> {
        self.verify_with(None, proof, request, now)
    }

    /// [`ProofRules::verify`], taking the header's parsed key from `keys` when a proof with
    /// this exact header passed before, and keeping it there once this one's signature passes.
    pub(crate) fn verify_with(
        &self,
        keys: Option<&ProofKeys>,
        proof: &str,
        request: &ProofRequest<'_>,
        now: f64,
    ) -> Result<Proof, ProofError> {
        if proof.len() > MAX_PROOF_BYTES {
            return Err(ProofError::TooLarge);
        }
        let (header_b64, payload_b64, signature_b64) = split(proof)?;
        let cached = keys
            .and_then(|keys| keys.get(header_b64))
            .filter(|known| self.algorithms.contains(&known.alg));
        let (known, fresh) = match cached {
            Some(known) => (known, false),
            None => (Arc::new(self.header_key(header_b64)?), true),
        };
        let verifier = known.key.verifier(known.alg).ok_or(ProofError::Key)?;
        let signature = URL_SAFE_NO_PAD
            .decode(signature_b64)
            .map_err(|_| ProofError::Malformed)?;
        let signing_input = &proof[..header_b64.len() + 1 + payload_b64.len()];
        verifier
            .verify_sig(signing_input.as_bytes(), &signature)
            .map_err(|_| ProofError::Signature)?;
        // Only a header whose proof is signed by its own key is kept.
        if fresh && let Some(keys) = keys {
            keys.insert(header_b64, Arc::clone(&known));
        }

        let claims = object(payload_b64)?;
        let iat = claims
            .get("iat")
            .and_then(Value::as_f64)
            .filter(|iat| iat.is_finite())
            .ok_or(ProofError::IssuedAt)?;
        let (max_age, leeway) = (self.max_age.as_secs_f64(), self.leeway.as_secs_f64());
        // `!(..)` so that a NaN clock fails too.
        if !(now - iat <= max_age && iat - now <= leeway) {
            return Err(ProofError::IssuedAt);
        }
        if claims.get("htm").and_then(Value::as_str) != Some(request.method) {
            return Err(ProofError::Method);
        }
        let htu = claims
            .get("htu")
            .and_then(Value::as_str)
            .and_then(normalize_htu);
        if htu.is_none() || htu != normalize_htu(request.url) {
            return Err(ProofError::Url);
        }
        let jti = match claims.get("jti") {
            Some(Value::String(jti)) if !jti.is_empty() && jti.len() <= MAX_JTI_BYTES => {
                jti.clone()
            }
            _ => return Err(ProofError::Jti),
        };
        if claims.get("ath").and_then(Value::as_str)
            != Some(&access_token_hash(request.access_token))
        {
            return Err(ProofError::AccessTokenHash);
        }
        // Ours are 32 characters; anything longer is no nonce of ours, and is not kept.
        let nonce = claims
            .get("nonce")
            .and_then(Value::as_str)
            .filter(|nonce| nonce.len() <= MAX_NONCE_BYTES)
            .map(str::to_owned);
        Ok(Proof {
            jkt: known.jkt.clone(),
            jti,
            iat,
            nonce,
        })
    }
}

impl ProofRules {
    /// The checks of a proof's protected header (`typ`, no `crit`, `alg`, a public `jwk` that
    /// fits it) and the key it names, with its thumbprint.
    fn header_key(&self, header_b64: &str) -> Result<ProofKey, ProofError> {
        let header = object(header_b64)?;
        if !header
            .get("typ")
            .and_then(Value::as_str)
            .is_some_and(|typ| PROOF_TYPES.iter().any(|t| typ.eq_ignore_ascii_case(t)))
        {
            return Err(ProofError::Type);
        }
        if header.contains_key("crit") || header.get("b64") == Some(&Value::Bool(false)) {
            return Err(ProofError::Critical);
        }
        let alg: Algorithm = header
            .get("alg")
            .and_then(Value::as_str)
            .and_then(|alg| alg.parse().ok())
            .filter(|alg| self.algorithms.contains(alg))
            .ok_or(ProofError::Algorithm)?;
        let Some(jwk_value @ Value::Object(jwk)) = header.get("jwk") else {
            return Err(ProofError::Key);
        };
        if PRIVATE_MEMBERS
            .iter()
            .any(|member| jwk.contains_key(*member))
        {
            return Err(ProofError::Key);
        }
        let key = Key::from_jwk(jwk_value, &[alg]).map_err(|_| ProofError::Key)?;
        let jkt = thumbprint(jwk).ok_or(ProofError::Key)?;
        Ok(ProofKey { key, alg, jkt })
    }
}

/// base64url(SHA-256(token)): the `ath` a proof must carry for `token` (RFC 9449 §4.2).
pub fn access_token_hash(token: &str) -> String {
    URL_SAFE_NO_PAD.encode(digest(&SHA256, token.as_bytes()))
}

/// The RFC 7638 SHA-256 thumbprint of a public JWK, base64url: its required members, in
/// lexicographic order, as compact JSON. `None` for a key type without a thumbprint form here.
pub fn thumbprint(jwk: &Map<String, Value>) -> Option<String> {
    let members: &[&str] = match jwk.get("kty").and_then(Value::as_str)? {
        "RSA" => &["e", "kty", "n"],
        "EC" => &["crv", "kty", "x", "y"],
        "OKP" => &["crv", "kty", "x"],
        _ => return None,
    };
    let mut canonical = String::from("{");
    for (i, name) in members.iter().enumerate() {
        let value = jwk.get(*name)?.as_str()?;
        if i > 0 {
            canonical.push(',');
        }
        canonical.push_str(&Value::from(*name).to_string());
        canonical.push(':');
        canonical.push_str(&Value::from(value).to_string());
    }
    canonical.push('}');
    Some(URL_SAFE_NO_PAD.encode(digest(&SHA256, canonical.as_bytes())))
}

/// Whether a raw request path has a `.` or `..` segment, plain or percent-encoded (`%2e`, as
/// URL parsers decode it), with `\\` a separator too, as URL parsers take it. Removing them is what makes a proof for `/a/b` cover `/a/x/../b`, a
/// path the router does not treat as `/a/b`; such a request is refused instead.
pub fn has_dot_segments(path: &str) -> bool {
    path.split(['/', '\\'])
        .any(|segment| matches!(dots(segment), Some(1 | 2)))
}

/// How many dots a segment spells, each `.` or `%2e` (any case), when that is all it holds.
fn dots(mut segment: &str) -> Option<usize> {
    let mut count = 0;
    while !segment.is_empty() {
        let dot = if segment.starts_with('.') {
            1
        } else if segment
            .get(..3)
            .is_some_and(|s| s.eq_ignore_ascii_case("%2e"))
        {
            3
        } else {
            return None;
        };
        segment = &segment[dot..];
        count += 1;
    }
    Some(count)
}

/// `url` in the normal form RFC 9449 §4.3 compares: scheme and host in lower case, the
/// default port dropped, percent-encodings of unreserved characters decoded and the others in
/// upper case, and no query or fragment. `None` when it is not an absolute http(s) URL.
pub fn normalize_htu(url: &str) -> Option<String> {
    let parsed = url::Url::parse(url).ok()?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return None;
    }
    let host = parsed.host_str()?;
    let port = parsed
        .port()
        .map(|port| format!(":{port}"))
        .unwrap_or_default();
    let path = normalize_percent_encoding(parsed.path())?;
    Some(format!("{}://{host}{port}{path}", parsed.scheme()))
}

/// Decodes `%XX` of unreserved characters and writes the rest in upper-case hex.
fn normalize_percent_encoding(path: &str) -> Option<String> {
    let bytes = path.as_bytes();
    let mut out = String::with_capacity(path.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = path.get(i + 1..i + 3)?;
            let byte = u8::from_str_radix(hex, 16).ok()?;
            if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
                out.push(char::from(byte));
            } else {
                out.push('%');
                out.push_str(&hex.to_ascii_uppercase());
            }
            i += 3;
        } else {
            out.push(char::from(bytes[i]));
            i += 1;
        }
    }
    Some(out)
}

fn split(proof: &str) -> Result<(&str, &str, &str), ProofError> {
    let mut parts = proof.split('.');
    match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some(header), Some(payload), Some(signature), None)
            if !signature.is_empty() && !payload.is_empty() =>
        {
            Ok((header, payload, signature))
        }
        _ => Err(ProofError::Malformed),
    }
}

fn object(segment: &str) -> Result<Map<String, Value>, ProofError> {
    let bytes = URL_SAFE_NO_PAD
        .decode(segment)
        .map_err(|_| ProofError::Malformed)?;
    match serde_json::from_slice(&bytes) {
        Ok(Value::Object(object)) => Ok(object),
        _ => Err(ProofError::Malformed),
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde_json::json;

    use super::*;
    use crate::testing::{SigningKey, TokenBuilder, now_secs};

    const URL: &str = "https://api.example.com/api/private";
    const TOKEN: &str = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ1In0.c2ln";

    fn keys() -> Vec<SigningKey> {
        vec![
            SigningKey::p256_from_pem("ec", include_str!("../../fixtures/ec-p256.pem")).unwrap(),
            SigningKey::rsa_from_pem("rsa", include_str!("../../fixtures/rsa1.pem")).unwrap(),
            SigningKey::ed25519_from_pem("ed", include_str!("../../fixtures/ed25519.pem")).unwrap(),
        ]
    }

    /// A valid proof for a GET of [`URL`] with [`TOKEN`], signed by `key`, made now.
    fn proof(key: &SigningKey) -> TokenBuilder<'_> {
        let mut jwk = key.jwk();
        // As clients send it: the public key alone, with no `kid`, `use` or `alg`.
        if let Some(jwk) = jwk.as_object_mut() {
            for member in ["kid", "use", "alg"] {
                jwk.remove(member);
            }
        }
        key.token()
            .without_header("kid")
            .header("typ", "dpop+jwt")
            .header("jwk", jwk)
            .without_claim("exp")
            .claim("jti", "e1j3V_bKic8-LAEB")
            .claim("htm", "GET")
            .claim("htu", URL)
            .claim("iat", now_secs())
            .claim("ath", access_token_hash(TOKEN))
    }

    fn check(proof: &str) -> Result<Proof, ProofError> {
        let request = ProofRequest {
            method: "GET",
            url: URL,
            access_token: TOKEN,
        };
        ProofRules::default().verify(proof, &request, crate::validation::now())
    }

    /// The key cache keeps a header's key only once its proof's signature passed, answers the
    /// same as the full parse for every later proof with that header, and never lets a proof
    /// with a known header but a bad signature through.
    #[test]
    fn the_proof_key_cache_keeps_only_headers_whose_signature_passed() {
        let request = ProofRequest {
            method: "GET",
            url: URL,
            access_token: TOKEN,
        };
        let now = crate::validation::now();
        let rules = ProofRules::default();
        let cache = ProofKeys::new(1024 * 1024).unwrap();
        let key = &keys()[0];
        let good = proof(key).sign().unwrap();
        let header = good.split('.').next().unwrap();
        let forged = format!("{}.AAAA", good.rsplit_once('.').unwrap().0);

        // A forged signature under a new header: refused, and the header is not kept.
        assert_eq!(
            rules.verify_with(Some(&cache), &forged, &request, now),
            Err(ProofError::Signature)
        );
        assert!(cache.get(header).is_none());
        // The honest proof: accepted and kept, with the same answer as without the cache.
        let first = rules
            .verify_with(Some(&cache), &good, &request, now)
            .unwrap();
        assert_eq!(Ok(first.clone()), rules.verify(&good, &request, now));
        assert_eq!(cache.get(header).unwrap().jkt, first.jkt);
        // The known header with a forged signature, or another key's signature: refused.
        assert_eq!(
            rules.verify_with(Some(&cache), &forged, &request, now),
            Err(ProofError::Signature)
        );
        let other = &keys()[1];
        let body_and_sig = proof(other).sign().unwrap();
        let (_, rest) = body_and_sig.split_once('.').unwrap();
        let spliced = format!("{header}.{rest}");
        assert_eq!(
            rules.verify_with(Some(&cache), &spliced, &request, now),
            Err(ProofError::Signature)
        );
        // Another proof of the same client (a new jti) takes the cached key.
        let second = proof(key).claim("jti", "another-jti").sign().unwrap();
        let again = rules
            .verify_with(Some(&cache), &second, &request, now)
            .unwrap();
        assert_eq!((again.jkt, again.jti.as_str()), (first.jkt, "another-jti"));
    }

    #[test]
    fn typ_is_the_media_type_with_or_without_its_prefix_in_any_case() {
        let key = &keys()[0];
        for typ in ["dpop+jwt", "application/dpop+jwt", "Application/DPoP+JWT"] {
            assert!(
                check(&proof(key).header("typ", typ).sign().unwrap()).is_ok(),
                "{typ}"
            );
        }
    }

    #[test]
    fn dot_segments_are_found_plain_encoded_and_behind_backslashes() {
        for path in [
            "/a/x/../b",
            "/a/./b",
            "/a/%2e%2E/b",
            "/a/.%2e/b",
            "/a/%2E/b",
            "/a/x\\..\\b",
            "/..",
            "/a/b/.",
        ] {
            assert!(has_dot_segments(path), "{path}");
        }
        for path in [
            "/a/b",
            "/a/..b/c",
            "/a/.well-known/x",
            "/a/%2e%2e%2e/b",
            "/",
        ] {
            assert!(!has_dot_segments(path), "{path}");
        }
    }

    #[test]
    fn a_ps256_proof_is_accepted() {
        let key = &keys()[1];

        assert_eq!(
            check(&proof(key).header("alg", "PS256").sign().unwrap()).map(|p| p.jti),
            Ok("e1j3V_bKic8-LAEB".to_owned())
        );
    }

    #[test]
    fn a_valid_proof_names_its_key_thumbprint_and_jti() {
        for key in keys() {
            let accepted = check(&proof(&key).sign().unwrap()).unwrap();

            let jwk = key.jwk();
            assert_eq!(
                Some(accepted.jkt),
                thumbprint(jwk.as_object().unwrap()),
                "{key:?}"
            );
            assert_eq!(accepted.jti, "e1j3V_bKic8-LAEB");
        }
    }

    #[test]
    fn rfc_7638_gives_its_own_example_thumbprint() {
        let jwk = json!({
            "kty": "RSA",
            "n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw",
            "e": "AQAB",
            "alg": "RS256",
            "kid": "2011-04-29"
        });

        assert_eq!(
            thumbprint(jwk.as_object().unwrap()).as_deref(),
            Some("NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs")
        );
    }

    // One table of every fault, each a line or two: longer than a function usually is.
    #[allow(clippy::too_many_lines)]
    #[test]
    fn every_check_refuses_its_own_fault() {
        let key = &keys()[0];
        let private = {
            let mut jwk = key.jwk();
            jwk["d"] = json!("c2VjcmV0");
            jwk
        };
        let other = &keys()[1];
        let now = now_secs();
        for (fault, token, refused) in [
            ("not a JWS", "abc".to_owned(), ProofError::Malformed),
            (
                "typ JWT",
                proof(key).header("typ", "JWT").sign().unwrap(),
                ProofError::Type,
            ),
            (
                "typ application/jwt",
                proof(key).header("typ", "application/jwt").sign().unwrap(),
                ProofError::Type,
            ),
            (
                "typ dpop+jwt+x",
                proof(key)
                    .header("typ", "application/dpop+jwt+x")
                    .sign()
                    .unwrap(),
                ProofError::Type,
            ),
            (
                "crit naming an unknown extension",
                proof(key)
                    .header("crit", json!(["exp"]))
                    .header("exp", 1)
                    .sign()
                    .unwrap(),
                ProofError::Critical,
            ),
            (
                "crit naming an absent member",
                proof(key).header("crit", json!(["absent"])).sign().unwrap(),
                ProofError::Critical,
            ),
            (
                "b64 false",
                proof(key)
                    .header("crit", json!(["b64"]))
                    .header("b64", false)
                    .sign()
                    .unwrap(),
                ProofError::Critical,
            ),
            (
                "b64 false without crit",
                proof(key).header("b64", false).sign().unwrap(),
                ProofError::Critical,
            ),
            (
                "alg none",
                proof(key).header("alg", "none").sign().unwrap(),
                ProofError::Algorithm,
            ),
            (
                "alg HS256",
                proof(key).header("alg", "HS256").sign().unwrap(),
                ProofError::Algorithm,
            ),
            (
                "no jwk",
                proof(key).without_header("jwk").sign().unwrap(),
                ProofError::Key,
            ),
            (
                "a private jwk",
                proof(key).header("jwk", private).sign().unwrap(),
                ProofError::Key,
            ),
            (
                "a jwk whose own alg is another",
                proof(key)
                    .header("jwk", {
                        let mut jwk = key.jwk();
                        jwk["alg"] = json!("ES384");
                        jwk
                    })
                    .sign()
                    .unwrap(),
                ProofError::Key,
            ),
            (
                "a jwk of another key type",
                proof(key).header("jwk", other.jwk()).sign().unwrap(),
                ProofError::Key,
            ),
            (
                "a signature of another token",
                {
                    let mut forged = proof(&keys()[0]).sign().unwrap();
                    let (input, _) = forged.rsplit_once('.').unwrap();
                    let again = keys()[0].token().sign().unwrap();
                    forged = format!("{input}.{}", again.rsplit_once('.').unwrap().1);
                    forged
                },
                ProofError::Signature,
            ),
            (
                "an old iat",
                proof(key).claim("iat", now - 301).sign().unwrap(),
                ProofError::IssuedAt,
            ),
            (
                "a future iat",
                proof(key).claim("iat", now + 60).sign().unwrap(),
                ProofError::IssuedAt,
            ),
            (
                "no iat",
                proof(key).without_claim("iat").sign().unwrap(),
                ProofError::IssuedAt,
            ),
            (
                "htm POST",
                proof(key).claim("htm", "POST").sign().unwrap(),
                ProofError::Method,
            ),
            (
                "another path",
                proof(key)
                    .claim("htu", "https://api.example.com/api/public")
                    .sign()
                    .unwrap(),
                ProofError::Url,
            ),
            (
                "another host",
                proof(key)
                    .claim("htu", "https://evil.example.com/api/private")
                    .sign()
                    .unwrap(),
                ProofError::Url,
            ),
            (
                "no jti",
                proof(key).without_claim("jti").sign().unwrap(),
                ProofError::Jti,
            ),
            (
                "a long jti",
                proof(key).claim("jti", "x".repeat(257)).sign().unwrap(),
                ProofError::Jti,
            ),
            (
                "ath of another token",
                proof(key)
                    .claim("ath", access_token_hash("another"))
                    .sign()
                    .unwrap(),
                ProofError::AccessTokenHash,
            ),
            (
                "too large",
                "a".repeat(MAX_PROOF_BYTES + 1),
                ProofError::TooLarge,
            ),
        ] {
            assert_eq!(check(&token), Err(refused), "{fault}");
        }
    }

    #[test]
    fn iat_is_accepted_at_both_edges_of_its_window() {
        let key = &keys()[0];
        let request = ProofRequest {
            method: "GET",
            url: URL,
            access_token: TOKEN,
        };
        let rules = ProofRules::default();
        let at = |iat: i64| proof(key).claim("iat", iat).sign().unwrap();
        let now = 1_000_000;

        #[allow(clippy::cast_precision_loss)]
        let verify = |iat| rules.verify(&at(iat), &request, now as f64);
        assert!(verify(now - 300).is_ok());
        assert!(verify(now + 30).is_ok());
        assert_eq!(verify(now - 301), Err(ProofError::IssuedAt));
        assert_eq!(verify(now + 31), Err(ProofError::IssuedAt));
    }

    #[test]
    fn htu_is_compared_in_normal_form_without_query_or_fragment() {
        let same = [
            "https://api.example.com/api/private",
            "HTTPS://API.EXAMPLE.COM/api/private",
            "https://api.example.com:443/api/private",
            "https://api.example.com/api/%70rivate",
            "https://api.example.com/api/private?x=1",
            "https://api.example.com/api/private#top",
        ];
        for url in same {
            assert_eq!(normalize_htu(url), normalize_htu(URL), "{url}");
        }
        assert_eq!(
            normalize_htu("https://a.example/x%2fy"),
            normalize_htu("https://a.example/x%2Fy")
        );
        for url in [
            "http://api.example.com/api/private",
            "https://api.example.com:8443/api/private",
            "https://api.example.com/api/Private",
            "https://api.example.com/api/private/",
        ] {
            assert_ne!(normalize_htu(url), normalize_htu(URL), "{url}");
        }
        assert_eq!(normalize_htu("ftp://api.example.com/x"), None);
        assert_eq!(normalize_htu("/api/private"), None);
    }

    /// An unreserved character, percent-encoded in either case or written as is.
    fn spelled(c: char) -> impl Strategy<Value = String> {
        let byte = u32::from(c);
        prop_oneof![
            Just(c.to_string()),
            Just(format!("%{byte:02X}")),
            Just(format!("%{byte:02x}")),
        ]
    }

    proptest! {
        #[test]
        fn equivalent_spellings_match_and_other_paths_never_do(
            path in "[a-z0-9._~-]{1,12}",
            other in "[a-z0-9._~-]{1,12}",
            upper_host in any::<bool>(),
            explicit_port in any::<bool>(),
        ) {
            let spellings: Vec<BoxedStrategy<String>> =
                path.chars().map(|c| spelled(c).boxed()).collect();
            let mut runner = proptest::test_runner::TestRunner::default();
            let respelled: String = spellings
                .iter()
                .map(|s| s.new_tree(&mut runner).unwrap().current())
                .collect();
            let host = if upper_host { "API.Example.COM" } else { "api.example.com" };
            let port = if explicit_port { ":443" } else { "" };
            let canonical = format!("https://api.example.com/v1/{path}");
            let variant = format!("https://{host}{port}/v1/{respelled}");

            prop_assert_eq!(normalize_htu(&variant), normalize_htu(&canonical));
            if other != path {
                prop_assert_ne!(
                    normalize_htu(&format!("https://api.example.com/v1/{other}")),
                    normalize_htu(&canonical)
                );
                prop_assert_ne!(
                    normalize_htu(&format!("https://evil.example.com/v1/{path}")),
                    normalize_htu(&canonical)
                );
            }
        }
    }
}
