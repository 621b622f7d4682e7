//! A parsed key set: which JWKs are usable for signature checks, and which key fits a token.

use std::collections::BTreeSet;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::jwk::{
    AlgorithmParameters, EllipticCurve, Jwk, KeyAlgorithm, KeyOperations, PublicKeyUse,
};
use jsonwebtoken::{Algorithm, DecodingKey};
use serde_json::Value;

/// RFC 7518 §3.3: RSA keys of 2048 bits or more.
const MIN_RSA_MODULUS_BYTES: usize = 256;

/// One usable verification key.
#[derive(Clone)]
pub struct Key {
    kid: Option<String>,
    alg: Option<Algorithm>,
    kind: KeyKind,
    decoding: DecodingKey,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum KeyKind {
    Rsa,
    P256,
    P384,
    Ed25519,
}

impl Key {
    /// Whether this key may verify a token signed with `alg`: the key type fits the algorithm,
    /// and the JWK's own `alg`, if any, is the same.
    pub fn fits(&self, alg: Algorithm) -> bool {
        let kind_fits = match alg {
            Algorithm::RS256
            | Algorithm::RS384
            | Algorithm::RS512
            | Algorithm::PS256
            | Algorithm::PS384
            | Algorithm::PS512 => self.kind == KeyKind::Rsa,
            Algorithm::ES256 => self.kind == KeyKind::P256,
            Algorithm::ES384 => self.kind == KeyKind::P384,
            Algorithm::EdDSA => self.kind == KeyKind::Ed25519,
            _ => false,
        };
        kind_fits && self.alg.is_none_or(|own| own == alg)
    }

    /// The key for `jsonwebtoken`'s verifier.
    pub fn decoding(&self) -> &DecodingKey {
        &self.decoding
    }

    /// The key's `kid`, if it has one.
    pub fn kid(&self) -> Option<&str> {
        self.kid.as_deref()
    }
}

/// The usable keys of one JWKS document.
#[derive(Clone, Default)]
pub struct KeySet {
    keys: Vec<Key>,
}

/// What a token's `kid` and `alg` select.
pub enum Selection<'a> {
    /// The keys to try, in order: one, or several that share a `kid`.
    Keys(Vec<&'a Key>),
    /// No key has this `kid`: the issuer may have rotated keys.
    UnknownKid,
    /// Keys exist, but none (or, without a `kid`, not exactly one) fits.
    NoFit,
}

/// Why a JWKS document was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeySetError {
    /// Not JSON, or not an object with a `keys` array.
    #[error("not a JWKS document: {0}")]
    NotJwks(String),
    /// The document holds no key that can verify signatures.
    #[error("no usable signing key among {0}")]
    NoUsableKeys(usize),
}

impl KeySet {
    /// Parses a JWKS document, skipping (with a warning) each key that cannot be used.
    ///
    /// # Errors
    /// When the body is not a JWKS document or no key is usable.
    pub fn from_json(body: &[u8]) -> Result<Self, KeySetError> {
        let document: Value =
            serde_json::from_slice(body).map_err(|e| KeySetError::NotJwks(e.to_string()))?;
        let entries = document
            .get("keys")
            .and_then(Value::as_array)
            .ok_or_else(|| KeySetError::NotJwks("no \"keys\" array".into()))?;
        let keys: Vec<Key> = entries
            .iter()
            .enumerate()
            .filter_map(|(index, entry)| match parse_key(entry) {
                Ok(key) => Some(key),
                Err(reason) => {
                    let kid = entry.get("kid").and_then(Value::as_str).unwrap_or("(none)");
                    log::warn!("skipping JWKS key #{index} (kid {kid}): {reason}");
                    None
                }
            })
            .collect();
        if keys.is_empty() {
            return Err(KeySetError::NoUsableKeys(entries.len()));
        }
        Ok(Self { keys })
    }

    /// The number of usable keys.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// The distinct `kid`s, for logging.
    pub fn kids(&self) -> Vec<&str> {
        let kids: BTreeSet<&str> = self.keys.iter().filter_map(Key::kid).collect();
        kids.into_iter().collect()
    }

    /// Whether some key has this `kid`.
    pub fn has_kid(&self, kid: &str) -> bool {
        self.keys.iter().any(|key| key.kid() == Some(kid))
    }

    /// The keys a token may be verified with. With a `kid`, the keys of that `kid` that fit
    /// `alg`; without one, the only key that fits `alg`, if exactly one does.
    pub fn select(&self, kid: Option<&str>, alg: Algorithm) -> Selection<'_> {
        let Some(kid) = kid else {
            let mut fitting = self.keys.iter().filter(|key| key.fits(alg));
            return match (fitting.next(), fitting.next()) {
                (Some(key), None) => Selection::Keys(vec![key]),
                _ => Selection::NoFit,
            };
        };
        if !self.has_kid(kid) {
            return Selection::UnknownKid;
        }
        let keys: Vec<&Key> = self
            .keys
            .iter()
            .filter(|key| key.kid() == Some(kid) && key.fits(alg))
            .collect();
        if keys.is_empty() {
            Selection::NoFit
        } else {
            Selection::Keys(keys)
        }
    }
}

fn parse_key(entry: &Value) -> Result<Key, String> {
    let jwk: Jwk = serde_json::from_value(entry.clone()).map_err(|e| e.to_string())?;
    match &jwk.common.public_key_use {
        None | Some(PublicKeyUse::Signature) => {}
        Some(other) => return Err(format!("\"use\" is {other:?}, not \"sig\"")),
    }
    if let Some(ops) = &jwk.common.key_operations
        && !ops.contains(&KeyOperations::Verify)
    {
        return Err("\"key_ops\" lacks \"verify\"".into());
    }
    let alg = jwk
        .common
        .key_algorithm
        .map(|alg| {
            signature_algorithm(alg).ok_or(format!(
                "\"alg\" {alg:?} is not a signature algorithm we support"
            ))
        })
        .transpose()?;
    let kind = match &jwk.algorithm {
        AlgorithmParameters::RSA(rsa) => {
            let modulus = URL_SAFE_NO_PAD
                .decode(&rsa.n)
                .map_err(|e| format!("bad \"n\": {e}"))?;
            let bits = modulus.iter().skip_while(|b| **b == 0).count() * 8;
            if bits < MIN_RSA_MODULUS_BYTES * 8 {
                return Err(format!("RSA key of about {bits} bits is below 2048"));
            }
            KeyKind::Rsa
        }
        AlgorithmParameters::EllipticCurve(ec) => match &ec.curve {
            EllipticCurve::P256 => KeyKind::P256,
            EllipticCurve::P384 => KeyKind::P384,
            other => return Err(format!("unsupported curve {other:?}")),
        },
        AlgorithmParameters::OctetKeyPair(okp) => match &okp.curve {
            EllipticCurve::Ed25519 => KeyKind::Ed25519,
            other => return Err(format!("unsupported curve {other:?}")),
        },
        AlgorithmParameters::OctetKey(_) => return Err("symmetric keys are never used".into()),
        _ => return Err("unsupported key type".into()),
    };
    let decoding = DecodingKey::from_jwk(&jwk).map_err(|e| e.to_string())?;
    Ok(Key {
        kid: jwk.common.key_id,
        alg,
        kind,
        decoding,
    })
}

/// The asymmetric signature algorithms; `HS*`, encryption algorithms and unknown names give
/// `None`.
fn signature_algorithm(alg: KeyAlgorithm) -> Option<Algorithm> {
    Some(match alg {
        KeyAlgorithm::RS256 => Algorithm::RS256,
        KeyAlgorithm::RS384 => Algorithm::RS384,
        KeyAlgorithm::RS512 => Algorithm::RS512,
        KeyAlgorithm::PS256 => Algorithm::PS256,
        KeyAlgorithm::PS384 => Algorithm::PS384,
        KeyAlgorithm::PS512 => Algorithm::PS512,
        KeyAlgorithm::ES256 => Algorithm::ES256,
        KeyAlgorithm::ES384 => Algorithm::ES384,
        KeyAlgorithm::EdDSA => Algorithm::EdDSA,
        _ => return None,
    })
}
