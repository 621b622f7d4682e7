//! Project Wycheproof's signature vectors through the key parsing and the signature check that
//! verify every token and DPoP proof (`keys::Key::from_jwk`, then the key's verifier): every
//! "valid" vector must be accepted and every "invalid" one refused, and each "acceptable" one
//! meets the choice listed in [`ACCEPTABLE`].
//!
//! The vectors are vendored under `auth/tests/wycheproof/` (see its README): each group's own
//! `publicKeyJwk` goes through our JWK parsing exactly as Wycheproof wrote it, which the
//! `wycheproof` crate's typed keys (integers, leading zeros dropped) would not allow.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

use crate::Algorithm;
use crate::keys::Key;

/// One vendored file and the JWS algorithm its vectors are checked as.
struct Suite {
    file: &'static str,
    json: &'static str,
    alg: Algorithm,
}

macro_rules! suite {
    ($file:literal, $alg:ident) => {
        Suite {
            file: $file,
            json: include_str!(concat!("../../tests/wycheproof/", $file, "_test.json")),
            alg: Algorithm::$alg,
        }
    };
}

fn suites() -> [Suite; 13] {
    [
        suite!("ecdsa_secp256r1_sha256_p1363", ES256),
        suite!("ecdsa_secp384r1_sha384_p1363", ES384),
        suite!("ecdsa_secp521r1_sha512_p1363", ES512),
        suite!("ed25519", EdDSA),
        suite!("rsa_signature_2048_sha256", RS256),
        suite!("rsa_signature_2048_sha384", RS384),
        suite!("rsa_signature_2048_sha512", RS512),
        suite!("rsa_signature_3072_sha256", RS256),
        suite!("rsa_signature_4096_sha512", RS512),
        suite!("rsa_pss_2048_sha256_mgf1_32", PS256),
        suite!("rsa_pss_2048_sha384_mgf1_48", PS384),
        suite!("rsa_pss_3072_sha256_mgf1_32", PS256),
        suite!("rsa_pss_4096_sha512_mgf1_64", PS512),
    ]
}

/// The "acceptable" vectors, by file and `tcId`, with our verdict: `true` accepted. All five are
/// PKCS#1 v1.5 signatures whose `DigestInfo` omits the NULL parameters, a legacy encoding that
/// RFC 8017 §9.2 does not allow: refused, as aws-lc refuses them (no issuer signs that way).
const ACCEPTABLE: &[(&str, u64, bool)] = &[
    ("rsa_signature_2048_sha256", 8, false),
    ("rsa_signature_2048_sha384", 8, false),
    ("rsa_signature_2048_sha512", 8, false),
    ("rsa_signature_3072_sha256", 8, false),
    ("rsa_signature_4096_sha512", 8, false),
];

/// The group's public key as a JWK: its own `publicKeyJwk` (or the RSA files' `keyJwk`), else
/// one made from its uncompressed EC point.
fn jwk(group: &Value) -> Value {
    let mut jwk = group
        .get("publicKeyJwk")
        .or_else(|| group.get("keyJwk"))
        .cloned()
        .unwrap_or_else(|| {
            let key = &group["publicKey"];
            let point = hex(key["uncompressed"].as_str().unwrap());
            let half = (point.len() - 1) / 2;
            let crv = match key["curve"].as_str().unwrap() {
                "secp256r1" => "P-256",
                "secp384r1" => "P-384",
                _ => "P-521",
            };
            json!({
                "kty": "EC",
                "crv": crv,
                "x": URL_SAFE_NO_PAD.encode(&point[1..=half]),
                "y": URL_SAFE_NO_PAD.encode(&point[half + 1..]),
            })
        });
    // Wycheproof names the algorithm it means; ours is the suite's.
    jwk.as_object_mut().unwrap().remove("alg");
    jwk
}

fn hex(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
        .collect()
}

/// Every vector's verdict: (file, tcId, Wycheproof's result, whether we accepted it).
fn verdicts() -> Vec<(&'static str, u64, String, bool)> {
    let mut verdicts = Vec::new();
    for suite in suites() {
        let document: Value = serde_json::from_str(suite.json).unwrap();
        for group in document["testGroups"].as_array().unwrap() {
            let key = Key::from_jwk(&jwk(group), &[suite.alg]).ok();
            for test in group["tests"].as_array().unwrap() {
                let accepted = key
                    .as_ref()
                    .and_then(|key| key.verifier(suite.alg))
                    .is_some_and(|verifier| {
                        verifier
                            .verify_sig(
                                &hex(test["msg"].as_str().unwrap()),
                                &hex(test["sig"].as_str().unwrap()),
                            )
                            .is_ok()
                    });
                verdicts.push((
                    suite.file,
                    test["tcId"].as_u64().unwrap(),
                    test["result"].as_str().unwrap().to_owned(),
                    accepted,
                ));
            }
        }
    }
    verdicts
}

#[test]
fn every_valid_vector_is_accepted_every_invalid_one_refused_and_acceptable_ones_as_listed() {
    let verdicts = verdicts();
    let mut wrong = Vec::new();
    let mut acceptable = Vec::new();
    for (file, id, result, accepted) in &verdicts {
        match result.as_str() {
            "valid" if !accepted => wrong.push(format!("{file} #{id}: valid, refused")),
            "invalid" if *accepted => wrong.push(format!("{file} #{id}: invalid, accepted")),
            "acceptable" => acceptable.push((*file, *id, *accepted)),
            _ => {}
        }
    }

    assert!(
        wrong.is_empty(),
        "{} wrong verdicts: {wrong:#?}",
        wrong.len()
    );
    assert_eq!(
        acceptable, ACCEPTABLE,
        "the acceptable vectors and our choices"
    );
    let valid = verdicts.iter().filter(|v| v.2 == "valid").count();
    let invalid = verdicts.iter().filter(|v| v.2 == "invalid").count();
    assert!(
        valid > 500 && invalid > 500,
        "{valid} valid, {invalid} invalid"
    );
}
