//! A parsed key set: which JWKs are usable for signature checks, and which key fits a token.

use std::collections::BTreeSet;

use aws_lc_rs::signature::{self, ParsedPublicKey, RsaPublicKeyComponents};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::jwk::{
    AlgorithmParameters, EllipticCurve, Jwk, KeyAlgorithm, KeyOperations, PublicKeyUse,
};
use serde_json::Value;

use crate::algorithm::Algorithm;

/// RFC 7518 §3.3: RSA keys of 2048 bits or more.
const MIN_RSA_MODULUS_BYTES: usize = 256;

/// One usable verification key, parsed once per allowed algorithm it fits, so that verifying
/// never rebuilds the key.
pub struct Key {
    kid: Option<String>,
    verifiers: Vec<(Algorithm, ParsedPublicKey)>,
}

impl Key {
    /// The parsed key for `alg`, if this key may verify such tokens: the key type fits the
    /// algorithm, the JWK's own `alg` (if any) is the same, and the algorithm is allowed.
    pub fn verifier(&self, alg: Algorithm) -> Option<&ParsedPublicKey> {
        self.verifiers
            .iter()
            .find_map(|(own, parsed)| (*own == alg).then_some(parsed))
    }

    /// Whether this key may verify a token signed with `alg`.
    pub fn fits(&self, alg: Algorithm) -> bool {
        self.verifier(alg).is_some()
    }

    /// The key's `kid`, if it has one.
    pub fn kid(&self) -> Option<&str> {
        self.kid.as_deref()
    }
}

/// The usable keys of one JWKS document.
#[derive(Default)]
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
    /// Parses a JWKS document for the `allowed` algorithms, skipping (with a warning) each key
    /// that cannot be used.
    ///
    /// # Errors
    /// When the body is not a JWKS document or no key is usable.
    pub fn from_json(body: &[u8], allowed: &[Algorithm]) -> Result<Self, KeySetError> {
        let document: Value =
            serde_json::from_slice(body).map_err(|e| KeySetError::NotJwks(e.to_string()))?;
        let entries = document
            .get("keys")
            .and_then(Value::as_array)
            .ok_or_else(|| KeySetError::NotJwks("no \"keys\" array".into()))?;
        let keys: Vec<Key> = entries
            .iter()
            .enumerate()
            .filter_map(|(index, entry)| match parse_key(entry, allowed) {
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

fn parse_key(entry: &Value, allowed: &[Algorithm]) -> Result<Key, String> {
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
    let own_alg = jwk
        .common
        .key_algorithm
        .map(|alg| {
            signature_algorithm(alg).ok_or(format!(
                "\"alg\" {alg:?} is not a signature algorithm we support"
            ))
        })
        .transpose()?;
    let decode = |field: &str, value: &str| {
        URL_SAFE_NO_PAD
            .decode(value)
            .map_err(|e| format!("bad \"{field}\": {e}"))
    };
    let candidates: Vec<Algorithm> = allowed
        .iter()
        .copied()
        .filter(|alg| own_alg.is_none_or(|own| own == *alg))
        .collect();
    let verifiers = match &jwk.algorithm {
        AlgorithmParameters::RSA(rsa) => {
            let components = RsaPublicKeyComponents {
                n: decode("n", &rsa.n)?,
                e: decode("e", &rsa.e)?,
            };
            let bits = components.n.iter().skip_while(|b| **b == 0).count() * 8;
            if bits < MIN_RSA_MODULUS_BYTES * 8 {
                return Err(format!("RSA key of about {bits} bits is below 2048"));
            }
            parse_all(&candidates, |alg| {
                let params: &'static signature::RsaParameters = match alg {
                    Algorithm::RS256 => &signature::RSA_PKCS1_2048_8192_SHA256,
                    Algorithm::RS384 => &signature::RSA_PKCS1_2048_8192_SHA384,
                    Algorithm::RS512 => &signature::RSA_PKCS1_2048_8192_SHA512,
                    Algorithm::PS256 => &signature::RSA_PSS_2048_8192_SHA256,
                    Algorithm::PS384 => &signature::RSA_PSS_2048_8192_SHA384,
                    Algorithm::PS512 => &signature::RSA_PSS_2048_8192_SHA512,
                    _ => return None,
                };
                Some(
                    components
                        .to_parsed_public_key(params)
                        .map_err(|e| e.to_string()),
                )
            })?
        }
        AlgorithmParameters::EllipticCurve(ec) => {
            let (fits, verification): (Algorithm, &'static signature::EcdsaVerificationAlgorithm) =
                match &ec.curve {
                    EllipticCurve::P256 => (Algorithm::ES256, &signature::ECDSA_P256_SHA256_FIXED),
                    EllipticCurve::P384 => (Algorithm::ES384, &signature::ECDSA_P384_SHA384_FIXED),
                    other => return Err(format!("unsupported curve {other:?}")),
                };
            let mut point = vec![0x04];
            point.extend(decode("x", &ec.x)?);
            point.extend(decode("y", &ec.y)?);
            parse_all(&candidates, |alg| {
                (alg == fits)
                    .then(|| ParsedPublicKey::new(verification, &point).map_err(|e| e.to_string()))
            })?
        }
        AlgorithmParameters::OctetKeyPair(okp) => {
            if okp.curve != EllipticCurve::Ed25519 {
                return Err(format!("unsupported curve {:?}", okp.curve));
            }
            let x = decode("x", &okp.x)?;
            parse_all(&candidates, |alg| {
                (alg == Algorithm::EdDSA).then(|| {
                    ParsedPublicKey::new(&signature::ED25519, &x).map_err(|e| e.to_string())
                })
            })?
        }
        // Symmetric ("oct") keys fall here too: they are never used.
        _ => return Err("not an RSA, EC or OKP public key".into()),
    };
    Ok(Key {
        kid: jwk.common.key_id,
        verifiers,
    })
}

/// Parses the key once for each candidate algorithm it supports (`parse` gives `None` for an
/// algorithm that does not fit the key type).
fn parse_all(
    candidates: &[Algorithm],
    parse: impl Fn(Algorithm) -> Option<Result<ParsedPublicKey, String>>,
) -> Result<Vec<(Algorithm, ParsedPublicKey)>, String> {
    candidates
        .iter()
        .filter_map(|alg| parse(*alg).map(|parsed| parsed.map(|key| (*alg, key))))
        .collect()
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

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::mint::SigningKey;

    #[test]
    fn counts_keys_and_lists_distinct_kids_for_the_log() {
        let key =
            SigningKey::p256_from_pem("b", include_str!("../../../tests/fixtures/ec-p256.pem"))
                .unwrap();
        let mut twin = key.jwk();
        twin["kid"] = json!("a");
        let document = json!({ "keys": [key.jwk(), twin.clone(), twin] });

        let set = KeySet::from_json(document.to_string().as_bytes(), &[Algorithm::ES256]).unwrap();

        assert_eq!(set.len(), 3);
        assert_eq!(set.kids(), ["a", "b"]);
    }
}
