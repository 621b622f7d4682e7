//! `alg`, the header fields, key selection and signatures: the forgeries an attacker tries.

use aws_lc_rs::hmac;
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE, URL_SAFE_NO_PAD};
use serde_json::json;
use tests::bodies::PRIVATE;
use tests::{JWKS_PATH, spawn_app};

#[actix_web::test]
async fn ps256_es256_and_eddsa_tokens_are_accepted() {
    let app = spawn_app().await;
    let mut ps256 = app.keys.next.jwk();
    ps256["alg"] = json!("PS256");
    app.issuer.publish_jwk(ps256);

    for token in [
        app.token(&app.keys.next)
            .header("alg", "PS256")
            .sign()
            .unwrap(),
        app.token(&app.keys.ec).sign().unwrap(),
        app.token(&app.keys.ed).sign().unwrap(),
    ] {
        app.private(&token).await.assert_ok(PRIVATE);
    }
}

#[actix_web::test]
async fn alg_none_in_any_case_is_rejected() {
    let app = spawn_app().await;

    for alg in ["none", "None", "NONE", "nONe"] {
        let signed = app.token(&app.keys.rsa).header("alg", alg).sign().unwrap();
        let (unsigned_input, _) = signed.rsplit_once('.').unwrap();
        app.private(&signed)
            .await
            .assert_invalid_token("unsupported algorithm");
        app.private(&format!("{unsigned_input}."))
            .await
            .assert_invalid_token("malformed token");
    }
}

#[actix_web::test]
async fn hs256_signed_with_the_public_key_is_rejected() {
    let app = spawn_app().await;
    let unsigned = app
        .token(&app.keys.rsa)
        .header("alg", "HS256")
        .sign()
        .unwrap();
    let (input, _) = unsigned.rsplit_once('.').unwrap();

    for secret in [
        app.keys.rsa.public_key_bytes(),
        app.keys.rsa.jwk().to_string().into_bytes(),
    ] {
        let tag = hmac::sign(
            &hmac::Key::new(hmac::HMAC_SHA256, &secret),
            input.as_bytes(),
        );
        let forged = format!("{input}.{}", URL_SAFE_NO_PAD.encode(tag.as_ref()));
        app.private(&forged)
            .await
            .assert_invalid_token("unsupported algorithm");
    }
}

#[actix_web::test]
async fn algorithms_are_matched_exactly() {
    let app = spawn_app().await;

    for alg in ["rs256", "RS256 ", "HS512", "ES512", "RSA-OAEP", ""] {
        let token = app.token(&app.keys.rsa).header("alg", alg).sign().unwrap();
        app.private(&token)
            .await
            .assert_invalid_token("unsupported algorithm");
    }
    let no_alg = app
        .token(&app.keys.rsa)
        .without_header("alg")
        .sign()
        .unwrap();
    app.private(&no_alg)
        .await
        .assert_invalid_token("malformed token");
}

#[actix_web::test]
async fn right_kid_signed_with_a_rogue_key_is_rejected() {
    let app = spawn_app().await;

    let token = app.token(&app.keys.rogue).sign().unwrap();

    app.private(&token)
        .await
        .assert_invalid_token("signature verification failed");
}

#[actix_web::test]
async fn tampered_header_payload_or_signature_is_rejected() {
    let app = spawn_app().await;
    let token = app.valid_token(None);
    let parts: Vec<&str> = token.split('.').collect();
    let admin = app
        .token(&app.keys.rsa)
        .claim("sub", "admin")
        .claim("scope", "read:messages");
    let admin = admin.sign().unwrap();
    let admin_parts: Vec<&str> = admin.split('.').collect();
    let header = URL_SAFE_NO_PAD
        .encode(json!({ "alg": "RS256", "typ": "at+jwt", "kid": "rsa-1" }).to_string());
    let mut signature = URL_SAFE_NO_PAD.decode(parts[2]).unwrap();
    signature[0] ^= 0x80;

    for tampered in [
        format!("{}.{}.{}", parts[0], admin_parts[1], parts[2]),
        format!("{header}.{}.{}", parts[1], parts[2]),
        format!(
            "{}.{}.{}",
            parts[0],
            parts[1],
            URL_SAFE_NO_PAD.encode(&signature)
        ),
    ] {
        app.private(&tampered)
            .await
            .assert_invalid_token("signature verification failed");
    }
}

#[actix_web::test]
async fn tokens_that_are_not_a_compact_jws_are_malformed() {
    let app = spawn_app().await;
    let token = app.valid_token(None);
    let parts: Vec<&str> = token.split('.').collect();
    let json_array = URL_SAFE_NO_PAD.encode("[\"alg\",\"RS256\"]");
    let not_json = URL_SAFE_NO_PAD.encode("alg=RS256");
    let padded = |s: &str| URL_SAFE.encode(URL_SAFE_NO_PAD.decode(s).unwrap());
    // Standard base64 differs from base64url in '+' and '/': force one into the signature.
    let standard_signature = STANDARD.encode([0xfb_u8; 256]);

    for bad in [
        parts[0].to_owned(),
        format!("{}.{}", parts[0], parts[1]),
        format!(
            "{}.{}.{}.{}.{}",
            parts[0], parts[1], parts[2], parts[1], parts[2]
        ),
        format!("{}.{}.{}.", parts[0], parts[1], parts[2]),
        format!("{}.{}.", parts[0], parts[1]),
        format!("{}.{}.{}", parts[0], parts[1], padded(parts[2])),
        format!("{}.{}.{standard_signature}", parts[0], parts[1]),
        format!("{json_array}.{}.{}", parts[1], parts[2]),
        format!("{not_json}.{}.{}", parts[1], parts[2]),
        signed(&app, parts[0], &json_array),
        signed(&app, parts[0], &not_json),
    ] {
        app.private(&bad)
            .await
            .assert_invalid_token("malformed token");
    }
    // A payload is parsed only once its signature holds: an unsigned one fails on that first.
    for unsigned in [&json_array, &not_json] {
        app.private(&format!("{}.{unsigned}.{}", parts[0], parts[2]))
            .await
            .assert_invalid_token("signature verification failed");
    }
}

/// `header.payload.signature`, validly signed by the issuer's key over any payload text.
fn signed(app: &tests::TestApp, header: &str, payload: &str) -> String {
    let input = format!("{header}.{payload}");
    let signature = app
        .keys
        .rsa
        .sign(auth::Algorithm::RS256, input.as_bytes())
        .unwrap();
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature))
}

#[actix_web::test]
async fn truncated_tokens_are_rejected() {
    let app = spawn_app().await;
    let token = app.valid_token(None);

    for cut in [20, token.len() / 2, token.len() - 10] {
        let reply = app.private(&token[..cut]).await;
        assert_eq!(reply.status, 401, "cut at {cut}: {reply:?}");
        assert_eq!(reply.challenge().param("error"), Some("invalid_token"));
    }
}

#[actix_web::test]
async fn access_token_types_are_accepted_and_others_rejected() {
    let app = spawn_app().await;

    for typ in [
        "JWT",
        "jwt",
        "at+jwt",
        "AT+JWT",
        "application/at+jwt",
        "Application/AT+JWT",
    ] {
        let token = app.token(&app.keys.rsa).header("typ", typ).sign().unwrap();
        app.private(&token).await.assert_ok(PRIVATE);
    }
    let untyped = app
        .token(&app.keys.rsa)
        .without_header("typ")
        .sign()
        .unwrap();
    app.private(&untyped).await.assert_ok(PRIVATE);
    for typ in [
        json!("JOSE"),
        json!("id_token+jwt"),
        json!("logout+jwt"),
        json!(7),
    ] {
        let token = app.token(&app.keys.rsa).header("typ", typ).sign().unwrap();
        app.private(&token)
            .await
            .assert_invalid_token("unsupported token type");
    }
}

#[actix_web::test]
async fn crit_header_is_rejected() {
    let app = spawn_app().await;

    for crit in [json!(["b64"]), json!(["exp"]), json!([]), json!("b64")] {
        let token = app
            .token(&app.keys.rsa)
            .header("crit", crit)
            .sign()
            .unwrap();
        app.private(&token)
            .await
            .assert_invalid_token("unsupported critical header");
    }
}

#[actix_web::test]
async fn key_urls_and_embedded_keys_are_never_followed() {
    let app = spawn_app().await;
    let fetches_before = app.issuer.jwks_fetches();
    let rogue_jwk = app.keys.rogue.jwk();
    let elsewhere = format!("{}{JWKS_PATH}?rogue", app.issuer.issuer());

    let token = app
        .token(&app.keys.rogue)
        .header("jku", elsewhere.as_str())
        .header("x5u", elsewhere.as_str())
        .header("jwk", rogue_jwk)
        .header("x5c", json!(["MIIBIjANBg"]))
        .sign()
        .unwrap();

    app.private(&token)
        .await
        .assert_invalid_token("signature verification failed");
    assert_eq!(app.issuer.jwks_fetches(), fetches_before);
}

#[actix_web::test]
async fn key_published_for_encryption_is_never_used() {
    let app = spawn_app().await;
    let mut enc = app.keys.next.jwk();
    enc["use"] = json!("enc");
    app.issuer.publish_jwk(enc);

    let token = app.token(&app.keys.next).sign().unwrap();

    app.private(&token)
        .await
        .assert_invalid_token("no key matches the token's kid");
}

#[actix_web::test]
async fn key_type_and_jwk_alg_must_fit_the_token_alg() {
    let app = spawn_app().await;

    // An RS256 token naming the EC key's kid; a PS256 token naming an RS256-only JWK.
    let wrong_type = app
        .token(&app.keys.rsa)
        .header("kid", "ec-1")
        .sign()
        .unwrap();
    let wrong_alg = app
        .token(&app.keys.rsa)
        .header("alg", "PS256")
        .sign()
        .unwrap();
    let not_allowed = app
        .token(&app.keys.rsa)
        .header("alg", "PS384")
        .sign()
        .unwrap();

    for token in [wrong_type, wrong_alg] {
        app.private(&token)
            .await
            .assert_invalid_token("no usable key fits the token's kid and alg");
    }
    app.private(&not_allowed)
        .await
        .assert_invalid_token("unsupported algorithm");
}

#[actix_web::test]
async fn token_without_kid_needs_exactly_one_fitting_key() {
    let app = spawn_app().await;
    let kidless = app
        .token(&app.keys.rsa)
        .without_header("kid")
        .sign()
        .unwrap();

    app.private(&kidless).await.assert_ok(PRIVATE);

    app.issuer.publish(&app.keys.next);
    let fresh = app.token(&app.keys.next).sign().unwrap();
    app.private(&fresh).await.assert_ok(PRIVATE);
    app.private(&kidless)
        .await
        .assert_invalid_token("no usable key fits the token's kid and alg");
}

#[actix_web::test]
async fn duplicate_kids_accept_either_published_key_only() {
    let app = spawn_app().await;
    let twin = auth::testing::SigningKey::rsa_from_pem(
        "rsa-1",
        include_str!("../../../auth/fixtures/rsa2.pem"),
    )
    .unwrap();
    app.issuer.publish(&twin);
    // Load the new document through an unknown-kid refetch.
    app.issuer.publish(&app.keys.next);
    let next = app.token(&app.keys.next).sign().unwrap();
    app.private(&next).await.assert_ok(PRIVATE);

    app.private(&app.token(&twin).sign().unwrap())
        .await
        .assert_ok(PRIVATE);
    app.private(&app.valid_token(None)).await.assert_ok(PRIVATE);
    app.private(&app.token(&app.keys.rogue).sign().unwrap())
        .await
        .assert_invalid_token("signature verification failed");
}

#[actix_web::test]
async fn a_token_over_the_size_limit_is_refused_before_any_decoding() {
    let app = spawn_app().await;
    let padded = |bytes: usize| {
        app.token(&app.keys.rsa)
            .claim("pad", "x".repeat(bytes))
            .sign()
            .unwrap()
    };
    let (small, large) = (padded(10_000), padded(16_000));
    assert!(small.len() <= 16_384 && large.len() > 16_384);

    app.private(&small).await.assert_ok(PRIVATE);
    app.private(&large)
        .await
        .assert_invalid_token("token too large");
}

#[actix_web::test]
async fn a_kid_over_256_bytes_is_refused_before_any_lookup() {
    let app = spawn_app().await;
    let fetches = app.issuer.jwks_fetches();

    let token = app
        .token(&app.keys.rsa)
        .header("kid", "k".repeat(257))
        .sign()
        .unwrap();

    app.private(&token)
        .await
        .assert_invalid_token("kid too long");
    assert_eq!(app.issuer.jwks_fetches(), fetches);
}
