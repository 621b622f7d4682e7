//! One corpus of the forgeries an attacker tries (RFC 8725's list and more), each with the
//! refusal it must meet: the crate's unit tests and our integration tests both run it, and an
//! app can run it against its own routes.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE, URL_SAFE_NO_PAD};
use serde_json::json;

use super::{MintError, SigningKey, TokenBuilder, encode_json};
use crate::algorithm::Algorithm;
use crate::error::TokenError;

/// One token an attacker would try, and the check that must refuse it.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Attack {
    /// What it tries, for a failing assertion's message.
    pub name: String,
    /// The token.
    pub token: String,
    /// The refusal it meets: its `error_description` is this error's text.
    pub refused: TokenError,
}

/// The corpus, made from `valid`, which builds a token that the verifier under test accepts
/// when signed by `key` (RS256, the key its issuer publishes), and `rogue`, another RSA key
/// with the same `kid` that the issuer never publishes.
///
/// # Errors
/// When signing fails.
pub fn attacks<'k>(
    valid: impl Fn(&'k SigningKey) -> TokenBuilder<'k>,
    key: &'k SigningKey,
    rogue: &'k SigningKey,
) -> Result<Vec<Attack>, MintError> {
    let mut corpus = Vec::new();
    let mut add = |name: String, token: String, refused: TokenError| {
        corpus.push(Attack {
            name,
            token,
            refused,
        });
    };
    algorithms(&valid, key, &mut add)?;
    signatures(&valid, key, rogue, &mut add)?;
    shapes(&valid, key, &mut add)?;
    header_fields(&valid, key, &mut add)?;
    Ok(corpus)
}

/// Adds one attack to the corpus: its name, its token, its refusal.
type Add<'a> = dyn FnMut(String, String, TokenError) + 'a;

/// `alg`: none in any case, signed or not; HMAC keyed with the public key; near misses.
fn algorithms<'k>(
    valid: &impl Fn(&'k SigningKey) -> TokenBuilder<'k>,
    key: &'k SigningKey,
    add: &mut Add<'_>,
) -> Result<(), MintError> {
    for alg in ["none", "None", "NONE", "nONe"] {
        let signed = valid(key).header("alg", alg).sign()?;
        let input = signed.rsplit_once('.').map_or("", |(input, _)| input);
        add(
            format!("alg {alg}"),
            signed.clone(),
            TokenError::UnsupportedAlgorithm,
        );
        add(
            format!("alg {alg}, no signature"),
            format!("{input}."),
            TokenError::Malformed,
        );
    }
    let hs256 = valid(key).header("alg", "HS256").sign()?;
    let input = hs256.rsplit_once('.').map_or("", |(input, _)| input);
    for (what, secret) in [
        ("the public key", key.public_key_bytes()),
        ("the JWK text", key.jwk().to_string().into_bytes()),
    ] {
        let tag = aws_lc_rs::hmac::sign(
            &aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, &secret),
            input.as_bytes(),
        );
        add(
            format!("HS256 keyed with {what}"),
            format!("{input}.{}", URL_SAFE_NO_PAD.encode(tag.as_ref())),
            TokenError::UnsupportedAlgorithm,
        );
    }
    for alg in [
        "HS384", "HS512", "hs256", "rs256", "RS256 ", "ES512", "RSA-OAEP", "",
    ] {
        add(
            format!("alg {alg:?}"),
            valid(key).header("alg", alg).sign()?,
            TokenError::UnsupportedAlgorithm,
        );
    }
    add(
        "no alg".into(),
        valid(key).without_header("alg").sign()?,
        TokenError::Malformed,
    );
    Ok(())
}

/// Signatures: the right `kid` with another key, and tampering with each part.
fn signatures<'k>(
    valid: &impl Fn(&'k SigningKey) -> TokenBuilder<'k>,
    key: &'k SigningKey,
    rogue: &'k SigningKey,
    add: &mut Add<'_>,
) -> Result<(), MintError> {
    let token = valid(key).sign()?;
    let parts: Vec<&str> = token.split('.').collect();
    let (header, payload, signature) = (parts[0], parts[1], parts[2]);
    add(
        "the published kid signed by a rogue key".into(),
        valid(rogue).sign()?,
        TokenError::BadSignature,
    );
    add(
        "header URLs and an embedded key, signed by a rogue key".into(),
        valid(rogue)
            .header("jku", "http://127.0.0.1:9/rogue.json")
            .header("x5u", "http://127.0.0.1:9/rogue.pem")
            .header("jwk", rogue.jwk())
            .header("x5c", json!(["MIIB"]))
            .sign()?,
        TokenError::BadSignature,
    );
    let admin = valid(key)
        .claim("sub", "admin")
        .claim("scope", "read:messages")
        .sign()?;
    let admin: Vec<&str> = admin.split('.').collect();
    let mut kid_header = json!({ "alg": "RS256", "typ": "at+jwt" });
    if let Some(kid) = key.jwk().get("kid") {
        kid_header["kid"] = kid.clone();
    }
    let swapped_header = encode_json(&kid_header);
    let mut flipped = URL_SAFE_NO_PAD.decode(signature).unwrap_or_default();
    if let Some(first) = flipped.first_mut() {
        *first ^= 0x80;
    }
    for (name, tampered) in [
        (
            "another payload",
            format!("{header}.{}.{signature}", admin[1]),
        ),
        (
            "another header",
            format!("{swapped_header}.{payload}.{signature}"),
        ),
        (
            "a flipped signature bit",
            format!("{header}.{payload}.{}", URL_SAFE_NO_PAD.encode(&flipped)),
        ),
        (
            "another token's signature",
            format!("{header}.{payload}.{}", admin[2]),
        ),
    ] {
        add(name.into(), tampered, TokenError::BadSignature);
    }
    Ok(())
}

/// Shapes that are not a compact JWS of base64url JSON objects.
fn shapes<'k>(
    valid: &impl Fn(&'k SigningKey) -> TokenBuilder<'k>,
    key: &'k SigningKey,
    add: &mut Add<'_>,
) -> Result<(), MintError> {
    let token = valid(key).sign()?;
    let parts: Vec<&str> = token.split('.').collect();
    let (header, payload, signature) = (parts[0], parts[1], parts[2]);
    let json_array = URL_SAFE_NO_PAD.encode("[\"alg\",\"RS256\"]");
    let not_json = URL_SAFE_NO_PAD.encode("alg=RS256");
    let padded = URL_SAFE.encode(URL_SAFE_NO_PAD.decode(signature).unwrap_or_default());
    // Standard base64 differs from base64url in '+' and '/': force them into the signature.
    let standard = STANDARD.encode([0xfb_u8; 256]);
    let signed_over = |header: &str, payload: &str| -> Result<String, MintError> {
        let input = format!("{header}.{payload}");
        let signature = key.sign(Algorithm::RS256, input.as_bytes())?;
        Ok(format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature)))
    };
    for (name, bad) in [
        ("one segment", header.to_owned()),
        ("two segments", format!("{header}.{payload}")),
        ("five segments", format!("{token}.{payload}.{signature}")),
        ("a trailing dot", format!("{token}.")),
        ("an empty signature", format!("{header}.{payload}.")),
        ("a padded signature", format!("{header}.{payload}.{padded}")),
        ("standard base64", format!("{header}.{payload}.{standard}")),
        (
            "a JSON array header",
            format!("{json_array}.{payload}.{signature}"),
        ),
        (
            "a header that is not JSON",
            format!("{not_json}.{payload}.{signature}"),
        ),
        (
            "a signed JSON array payload",
            signed_over(header, &json_array)?,
        ),
        (
            "a signed payload that is not JSON",
            signed_over(header, &not_json)?,
        ),
    ] {
        add(name.into(), bad, TokenError::Malformed);
    }
    // A payload is parsed only once its signature holds: an unsigned one fails on that first.
    for (name, unsigned) in [("JSON array", &json_array), ("not JSON", &not_json)] {
        add(
            format!("an unsigned {name} payload"),
            format!("{header}.{unsigned}.{signature}"),
            TokenError::BadSignature,
        );
    }
    Ok(())
}

/// Header fields we refuse to honour.
fn header_fields<'k>(
    valid: &impl Fn(&'k SigningKey) -> TokenBuilder<'k>,
    key: &'k SigningKey,
    add: &mut Add<'_>,
) -> Result<(), MintError> {
    add(
        "a crit header".into(),
        valid(key)
            .header("crit", json!(["exp"]))
            .header("exp", 1)
            .sign()?,
        TokenError::UnsupportedCritical,
    );
    for typ in ["dpop+jwt", "logout+jwt", "JWS"] {
        add(
            format!("typ {typ}"),
            valid(key).header("typ", typ).sign()?,
            TokenError::UnsupportedType,
        );
    }
    Ok(())
}
