//! `alg`, the header fields, key selection and signatures: the forgeries an attacker tries.

use serde_json::json;
use tests::bodies::PRIVATE;
use tests::{JWKS_PATH, spawn_app};

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

/// The library's attack corpus over HTTP: each forgery gets 401 `invalid_token` naming the
/// check that refused it.
async fn every_attack_in_the_corpus_is_refused_with_its_description() {
    let app = spawn_app().await;

    let corpus = auth::testing::attacks(|key| app.token(key), &app.keys.rsa, &app.keys.rogue)
        .expect("the corpus signs");

    assert!(corpus.len() > 30, "{}", corpus.len());
    for attack in corpus {
        let reply = app.private(&attack.token).await;
        assert_eq!(reply.status, 401, "{}: {reply:?}", attack.name);
        reply.assert_invalid_token(&attack.refused.to_string());
    }
}

async fn truncated_tokens_are_rejected() {
    let app = spawn_app().await;
    let token = app.valid_token(None);

    for cut in [20, token.len() / 2, token.len() - 10] {
        let reply = app.private(&token[..cut]).await;
        assert_eq!(reply.status, 401, "cut at {cut}: {reply:?}");
        assert_eq!(reply.challenge().param("error"), Some("invalid_token"));
    }
}

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

tests::on_both_adapters!(
    ps256_es256_and_eddsa_tokens_are_accepted,
    every_attack_in_the_corpus_is_refused_with_its_description,
    truncated_tokens_are_rejected,
    access_token_types_are_accepted_and_others_rejected,
    key_urls_and_embedded_keys_are_never_followed,
    key_published_for_encryption_is_never_used,
    key_type_and_jwk_alg_must_fit_the_token_alg,
    token_without_kid_needs_exactly_one_fitting_key,
    duplicate_kids_accept_either_published_key_only,
    a_token_over_the_size_limit_is_refused_before_any_decoding,
    a_kid_over_256_bytes_is_refused_before_any_lookup,
);
