//! A parsed key set: which JWKs are usable for signature checks, and which key fits a token.

use std::collections::BTreeSet;

use aws_lc_rs::signature::{self, ParsedPublicKey, RsaPublicKeyComponents};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;
use serde_json::Value;

use crate::algorithm::Algorithm;

/// RFC 7518 §3.3: RSA keys of 2048 bits or more; aws-lc-rs verifies up to 8192 bits, so a
/// longer key could never verify and must not count as usable.
const RSA_MODULUS_BITS: std::ops::RangeInclusive<usize> = 2048..=8192;
/// The largest RSA public exponent accepted, 2^32 - 1: real keys use 65537, and larger
/// exponents only make verification slow.
const MAX_RSA_EXPONENT_BYTES: usize = 4;

/// One usable verification key, parsed once per allowed algorithm it fits, so that verifying
/// never rebuilds the key.
pub(crate) struct Key {
    kid: Option<String>,
    verifiers: Vec<(Algorithm, ParsedPublicKey)>,
}

impl Key {
    /// One JWK parsed for the `allowed` algorithms, as a JWKS's keys are: for a DPoP proof's
    /// own `jwk`.
    pub(crate) fn from_jwk(jwk: &Value, allowed: &[Algorithm]) -> Result<Self, String> {
        parse_key(jwk, allowed)
    }

    /// The parsed key for `alg`, if this key may verify such tokens: the key type fits the
    /// algorithm, the JWK's own `alg` (if any) is the same, and the algorithm is allowed.
    pub(crate) fn verifier(&self, alg: Algorithm) -> Option<&ParsedPublicKey> {
        self.verifiers
            .iter()
            .find_map(|(own, parsed)| (*own == alg).then_some(parsed))
    }

    /// Whether this key may verify a token signed with `alg`.
    pub(crate) fn fits(&self, alg: Algorithm) -> bool {
        self.verifier(alg).is_some()
    }

    /// The key's `kid`, if it has one.
    pub(crate) fn kid(&self) -> Option<&str> {
        self.kid.as_deref()
    }
}

/// The usable keys of one JWKS document.
#[derive(Default)]
pub(crate) struct KeySet {
    keys: Vec<Key>,
    published: usize,
}

/// What a token's `kid` and `alg` select.
pub(crate) enum Selection<'a> {
    /// The keys to try, in order: one, or several that share a `kid`.
    Keys(Vec<&'a Key>),
    /// No key has this `kid`: the issuer may have rotated keys.
    UnknownKid,
    /// Keys exist, but none (or, without a `kid`, not exactly one) fits.
    NoFit,
}

/// Why a JWKS document was refused: it is not one. (A JWKS whose keys are all unusable is not
/// refused: it is the issuer's word that no key is valid, and it replaces the key set.)
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum KeySetError {
    /// Not JSON, or not an object with a `keys` array.
    #[error("not a JWKS document: {0}")]
    NotJwks(String),
}

impl KeySet {
    /// Parses a JWKS document for the `allowed` algorithms, skipping (with a warning) each key
    /// that cannot be used. The result may hold no key at all.
    ///
    /// # Errors
    /// When the body is not a JWKS document.
    pub(crate) fn from_json(body: &[u8], allowed: &[Algorithm]) -> Result<Self, KeySetError> {
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
                    // Both are the issuer's text: escaped, so they cannot forge log lines.
                    let kid = entry.get("kid").and_then(Value::as_str);
                    log::warn!("skipping JWKS key #{index} (kid {kid:?}): {reason:?}");
                    None
                }
            })
            .collect();
        Ok(Self {
            keys,
            published: entries.len(),
        })
    }

    /// The number of usable keys.
    pub(crate) fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether no key is usable.
    pub(crate) fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// How many keys the document listed, usable or not.
    pub(crate) fn published(&self) -> usize {
        self.published
    }

    /// The distinct `kid`s, for logging.
    pub(crate) fn kids(&self) -> Vec<&str> {
        let kids: BTreeSet<&str> = self.keys.iter().filter_map(Key::kid).collect();
        kids.into_iter().collect()
    }

    /// Whether some key has this `kid`.
    pub(crate) fn has_kid(&self, kid: &str) -> bool {
        self.keys.iter().any(|key| key.kid() == Some(kid))
    }

    /// The keys a token may be verified with. With a `kid`, the keys of that `kid` that fit
    /// `alg`; without one, the only key that fits `alg`, if exactly one does.
    pub(crate) fn select(&self, kid: Option<&str>, alg: Algorithm) -> Selection<'_> {
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

type Verifiers = Vec<(Algorithm, ParsedPublicKey)>;

/// The members of a JWK (RFC 7517 §4) that decide whether and how it verifies; read here rather
/// than through a JOSE library, so that every algorithm we verify (ES512, the fully specified
/// `Ed25519`) can be named in a key's `alg`.
#[derive(serde::Deserialize)]
struct Jwk<'a> {
    kty: &'a str,
    #[serde(rename = "use")]
    public_key_use: Option<&'a str>,
    #[serde(borrow)]
    key_ops: Option<Vec<&'a str>>,
    alg: Option<&'a str>,
    kid: Option<&'a str>,
    crv: Option<&'a str>,
    n: Option<&'a str>,
    e: Option<&'a str>,
    x: Option<&'a str>,
    y: Option<&'a str>,
}

fn parse_key(entry: &Value, allowed: &[Algorithm]) -> Result<Key, String> {
    // Borrowed from the parsed JSON: no member is copied, a DPoP proof's `jwk` included.
    let jwk = Jwk::deserialize(entry).map_err(|e| e.to_string())?;
    if let Some(other) = jwk.public_key_use.filter(|u| *u != "sig") {
        return Err(format!("\"use\" is {other:?}, not \"sig\""));
    }
    if let Some(ops) = &jwk.key_ops
        && !ops.contains(&"verify")
    {
        return Err("\"key_ops\" lacks \"verify\"".into());
    }
    let own_alg = jwk
        .alg
        .map(|alg| {
            alg.parse::<Algorithm>()
                .map_err(|_| format!("\"alg\" {alg:?} is not a signature algorithm we support"))
        })
        .transpose()?;
    let candidates: Vec<Algorithm> = allowed
        .iter()
        .copied()
        .filter(|alg| own_alg.is_none_or(|own| own == *alg))
        .collect();
    let member = |name: &str, value: Option<_>| {
        value.ok_or_else(|| format!("{} key without \"{name}\"", jwk.kty))
    };
    let verifiers = match jwk.kty {
        "RSA" => rsa_verifiers(member("n", jwk.n)?, member("e", jwk.e)?, &candidates)?,
        "EC" => ec_verifiers(
            member("crv", jwk.crv)?,
            member("x", jwk.x)?,
            member("y", jwk.y)?,
            &candidates,
        )?,
        "OKP" => {
            let curve = member("crv", jwk.crv)?;
            if curve != "Ed25519" {
                return Err(format!("unsupported curve {curve:?}"));
            }
            let x = decode("x", member("x", jwk.x)?)?;
            if x.len() != 32 {
                return Err("\"x\" must be 32 bytes for Ed25519".into());
            }
            if has_small_order(&x) {
                return Err("\"x\" is an Ed25519 point of small order".into());
            }
            parse_all(&candidates, |alg| {
                matches!(alg, Algorithm::EdDSA | Algorithm::Ed25519).then(|| {
                    ParsedPublicKey::new(&signature::ED25519, &x).map_err(|e| e.to_string())
                })
            })?
        }
        // Symmetric ("oct") keys fall here too: they are never used.
        _ => return Err("not an RSA, EC or OKP public key".into()),
    };
    if verifiers.is_empty() {
        return Err(format!(
            "fits none of the allowed algorithms {}",
            allowed
                .iter()
                .map(|alg| alg.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    Ok(Key {
        kid: jwk.kid.map(str::to_owned),
        verifiers,
    })
}

fn decode(field: &str, value: &str) -> Result<Vec<u8>, String> {
    URL_SAFE_NO_PAD
        .decode(value)
        .map_err(|e| format!("bad \"{field}\": {e}"))
}

fn rsa_verifiers(n: &str, e: &str, candidates: &[Algorithm]) -> Result<Verifiers, String> {
    let (n, e) = (decode("n", n)?, decode("e", e)?);
    let components = RsaPublicKeyComponents {
        n: without_leading_zeros(&n),
        e: without_leading_zeros(&e),
    };
    let bits = bit_length(&components.n);
    if !RSA_MODULUS_BITS.contains(&bits) {
        return Err(format!(
            "RSA modulus of {bits} bits is outside 2048 to 8192"
        ));
    }
    if components.n.len() != n.len() || components.e.len() != e.len() {
        warn_leading_zeros_once();
    }
    check_rsa_exponent(&components.e)?;
    parse_all(candidates, |alg| {
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
    })
}

fn ec_verifiers(
    curve: &str,
    x: &str,
    y: &str,
    candidates: &[Algorithm],
) -> Result<Verifiers, String> {
    let (fits, verification, length): (_, &'static signature::EcdsaVerificationAlgorithm, _) =
        match curve {
            "P-256" => (Algorithm::ES256, &signature::ECDSA_P256_SHA256_FIXED, 32),
            "P-384" => (Algorithm::ES384, &signature::ECDSA_P384_SHA384_FIXED, 48),
            "P-521" => (Algorithm::ES512, &signature::ECDSA_P521_SHA512_FIXED, 66),
            other => return Err(format!("unsupported curve {other:?}")),
        };
    // RFC 7518 §6.2.1.2: x and y are exactly the curve's coordinate length.
    let (x, y) = (decode("x", x)?, decode("y", y)?);
    if x.len() != length || y.len() != length {
        return Err(format!(
            "\"x\" and \"y\" must be {length} bytes for {curve}"
        ));
    }
    let mut point = Vec::with_capacity(1 + 2 * length);
    point.push(0x04);
    point.extend(x);
    point.extend(y);
    parse_all(candidates, |alg| {
        (alg == fits).then(|| ParsedPublicKey::new(verification, &point).map_err(|e| e.to_string()))
    })
}

/// Whether an encoded Ed25519 point has small order (the identity, and the points of order 2, 4
/// and 8), in any spelling: either sign of x, and the non-canonical y = p, p + 1 (libsodium's
/// `has_small_order` list). Such a public key verifies signatures that nobody made, so it is
/// never a key: RFC 8032 verifiers differ on whether they catch it, and aws-lc does not.
fn has_small_order(encoded: &[u8]) -> bool {
    /// The y coordinates, little-endian, sign bit clear: 0 and 1, the two of order 8, then
    /// p - 1, p and p + 1 (the last two are non-canonical 0 and 1).
    const SMALL_ORDER_Y: [[u8; 32]; 7] = {
        let zero = [0; 32];
        let mut one = [0; 32];
        one[0] = 1;
        let order_8_a = [
            0x26, 0xe8, 0x95, 0x8f, 0xc2, 0xb2, 0x27, 0xb0, 0x45, 0xc3, 0xf4, 0x89, 0xf2, 0xef,
            0x98, 0xf0, 0xd5, 0xdf, 0xac, 0x05, 0xd3, 0xc6, 0x33, 0x39, 0xb1, 0x38, 0x02, 0x88,
            0x6d, 0x53, 0xfc, 0x05,
        ];
        let order_8_b = [
            0xc7, 0x17, 0x6a, 0x70, 0x3d, 0x4d, 0xd8, 0x4f, 0xba, 0x3c, 0x0b, 0x76, 0x0d, 0x10,
            0x67, 0x0f, 0x2a, 0x20, 0x53, 0xfa, 0x2c, 0x39, 0xcc, 0xc6, 0x4e, 0xc7, 0xfd, 0x77,
            0x92, 0xac, 0x03, 0x7a,
        ];
        let mut near_p = [[0xff; 32]; 3];
        let mut i = 0;
        while i < 3 {
            #[allow(clippy::cast_possible_truncation)] // i < 3
            let low = 0xec + i as u8;
            near_p[i][0] = low;
            near_p[i][31] = 0x7f;
            i += 1;
        }
        [
            zero, one, order_8_a, order_8_b, near_p[0], near_p[1], near_p[2],
        ]
    };
    let Ok(mut y) = <[u8; 32]>::try_from(encoded) else {
        return false;
    };
    y[31] &= 0x7f;
    SMALL_ORDER_Y.contains(&y)
}

/// An unsigned big-endian integer without its leading zero octets. RFC 7518 §6.3.1.1 forbids
/// them, yet Java's `BigInteger.toByteArray()` adds one whenever the top bit is set, and real
/// issuers publish such keys; aws-lc-rs would refuse them.
fn without_leading_zeros(bytes: &[u8]) -> Vec<u8> {
    bytes[bytes.iter().take_while(|b| **b == 0).count()..].to_vec()
}

/// The exact bit length of an unsigned big-endian integer without leading zero octets.
fn bit_length(bytes: &[u8]) -> usize {
    bytes.first().map_or(0, |first| {
        (bytes.len() - 1) * 8 + (8 - first.leading_zeros() as usize)
    })
}

/// Warns, once per process, that an issuer publishes RSA keys with leading zero octets.
fn warn_leading_zeros_once() {
    static WARNED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
    if !WARNED.swap(true, std::sync::atomic::Ordering::Relaxed) {
        log::warn!(
            "the JWKS has an RSA key whose \"n\" or \"e\" starts with a zero octet (RFC 7518 \
             §6.3.1.1 forbids it); accepted with the zeros stripped"
        );
    }
}

/// RSA public exponents: odd, at least 3, at most [`MAX_RSA_EXPONENT_BYTES`] bytes.
fn check_rsa_exponent(e: &[u8]) -> Result<(), String> {
    let e = &e[e.iter().take_while(|b| **b == 0).count()..];
    let odd = e.last().is_some_and(|last| last & 1 == 1);
    let at_least_3 = e.len() > 1 || e.first().is_some_and(|b| *b >= 3);
    if odd && at_least_3 && e.len() <= MAX_RSA_EXPONENT_BYTES {
        Ok(())
    } else {
        Err("RSA exponent must be odd, at least 3 and below 2^32".into())
    }
}

/// Parses the key once for each candidate algorithm it supports (`parse` gives `None` for an
/// algorithm that does not fit the key type).
fn parse_all(
    candidates: &[Algorithm],
    parse: impl Fn(Algorithm) -> Option<Result<ParsedPublicKey, String>>,
) -> Result<Verifiers, String> {
    candidates
        .iter()
        .filter_map(|alg| parse(*alg).map(|parsed| parsed.map(|key| (*alg, key))))
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::testing::SigningKey;

    fn p256() -> SigningKey {
        SigningKey::p256_from_pem("ec", include_str!("../fixtures/ec-p256.pem")).unwrap()
    }

    fn rsa() -> SigningKey {
        SigningKey::rsa_from_pem("rsa", include_str!("../fixtures/rsa1.pem")).unwrap()
    }

    fn usable(jwk: &Value, allowed: &[Algorithm]) -> usize {
        let document = json!({ "keys": [jwk] });
        KeySet::from_json(document.to_string().as_bytes(), allowed)
            .unwrap()
            .len()
    }

    /// `jwk` with a zero octet put before the value of `field`.
    fn with_leading_zero(jwk: &Value, field: &str) -> Value {
        let mut jwk = jwk.clone();
        let mut bytes = URL_SAFE_NO_PAD
            .decode(jwk[field].as_str().unwrap())
            .unwrap();
        bytes.insert(0, 0);
        jwk[field] = json!(URL_SAFE_NO_PAD.encode(bytes));
        jwk
    }

    #[test]
    fn ed25519_keys_of_small_order_are_never_usable_in_any_spelling() {
        let okp =
            |x: &[u8]| json!({ "kty": "OKP", "crv": "Ed25519", "x": URL_SAFE_NO_PAD.encode(x) });
        let mut identity = [0u8; 32];
        identity[0] = 1;
        let mut order_8 = hex32("26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05");
        let mut p_minus_1 = [0xffu8; 32];
        p_minus_1[0] = 0xec;
        p_minus_1[31] = 0x7f;
        let mut p_plus_1 = p_minus_1;
        p_plus_1[0] = 0xee;
        for point in [identity, [0; 32], order_8, p_minus_1, p_plus_1] {
            assert_eq!(usable(&okp(&point), &[Algorithm::EdDSA]), 0, "{point:02x?}");
            let mut negative = point;
            negative[31] |= 0x80;
            assert_eq!(
                usable(&okp(&negative), &[Algorithm::EdDSA]),
                0,
                "{negative:02x?}"
            );
        }
        order_8[0] ^= 1;
        let ed25519 =
            SigningKey::ed25519_from_pem("ed", include_str!("../fixtures/ed25519.pem")).unwrap();
        assert_eq!(usable(&ed25519.jwk(), &[Algorithm::EdDSA]), 1);
        assert!(!has_small_order(&order_8));
    }

    fn hex32(hex: &str) -> [u8; 32] {
        let mut bytes = [0; 32];
        for (i, byte) in bytes.iter_mut().enumerate() {
            *byte = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).unwrap();
        }
        bytes
    }

    #[test]
    fn ec_coordinates_must_have_the_curve_length() {
        let good = p256().jwk();
        let pad = |field: &str| with_leading_zero(&good, field);

        assert_eq!(usable(&good, &[Algorithm::ES256]), 1);
        assert_eq!(usable(&pad("x"), &[Algorithm::ES256]), 0);
        assert_eq!(usable(&pad("y"), &[Algorithm::ES256]), 0);
    }

    #[test]
    fn rsa_exponents_must_be_odd_at_least_3_and_bounded() {
        for (e, ok) in [
            (vec![1, 0, 1], true),
            (vec![3], true),
            (vec![0, 0, 3], true),
            (vec![0xff, 0xff, 0xff, 0xff], true),
            (vec![1], false),
            (vec![2], false),
            (vec![1, 0, 0], false),
            (vec![], false),
            (vec![1, 0, 0, 0, 1], false),
        ] {
            let mut jwk = rsa().jwk();
            jwk["e"] = json!(URL_SAFE_NO_PAD.encode(&e));

            assert_eq!(check_rsa_exponent(&e).is_ok(), ok, "{e:?}");
            if !ok {
                assert_eq!(usable(&jwk, &[Algorithm::RS256]), 0, "{e:?}");
            }
        }
    }

    #[test]
    fn rsa_components_with_leading_zero_octets_are_accepted_stripped() {
        let good = rsa().jwk();
        for field in ["n", "e"] {
            let jwk = with_leading_zero(&good, field);

            assert_eq!(usable(&jwk, &[Algorithm::RS256]), 1, "{field}");
        }
    }

    #[test]
    fn rsa_moduli_are_counted_in_bits_and_kept_within_2048_to_8192() {
        let mut short = rsa().jwk();
        let mut n = URL_SAFE_NO_PAD
            .decode(short["n"].as_str().unwrap())
            .unwrap();
        n[0] = 0x7f;
        short["n"] = json!(URL_SAFE_NO_PAD.encode(&n));
        let mut long = rsa().jwk();
        long["n"] = json!(URL_SAFE_NO_PAD.encode([vec![1], vec![0xff; 1024]].concat()));

        assert_eq!(bit_length(&n), 2047);
        assert_eq!(usable(&short, &[Algorithm::RS256]), 0);
        assert_eq!(bit_length(&[vec![1], vec![0xff; 1024]].concat()), 8193);
        assert_eq!(usable(&long, &[Algorithm::RS256]), 0);
        assert_eq!(bit_length(&[0x80; 256]), 2048);
        assert_eq!(bit_length(&[0xff; 1024]), 8192);
        assert_eq!(bit_length(&[]), 0);
    }

    #[test]
    fn a_key_that_fits_no_allowed_algorithm_is_not_usable() {
        assert_eq!(usable(&p256().jwk(), &[Algorithm::RS256]), 0);
        assert_eq!(
            usable(&rsa().jwk(), &[Algorithm::ES256, Algorithm::EdDSA]),
            0
        );
    }

    #[test]
    fn counts_keys_and_lists_distinct_kids_for_the_log() {
        let key = SigningKey::p256_from_pem("b", include_str!("../fixtures/ec-p256.pem")).unwrap();
        let mut twin = key.jwk();
        twin["kid"] = json!("a");
        let document = json!({ "keys": [key.jwk(), twin.clone(), twin] });

        let set = KeySet::from_json(document.to_string().as_bytes(), &[Algorithm::ES256]).unwrap();

        assert_eq!(set.len(), 3);
        assert_eq!(set.kids(), ["a", "b"]);
    }
}
