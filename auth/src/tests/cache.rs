//! The verified-token cache never accepts a token that the full validation would reject.

use std::time::Duration;

use wiremock::MockServer;

use super::*;
use crate::error::ConfirmationMethod;
use crate::testing::now_secs;

async fn issuer_with(
    keys: &[&SigningKey],
    jwks_config: JwksConfig,
    capacity: usize,
) -> (MockServer, Authenticator) {
    let server = MockServer::start().await;
    respond_jwks(&server, &jwks(keys)).await;
    let auth = Authenticator::builder()
        .issuer(ISSUER)
        .jwks_uri(format!("{}{JWKS_PATH}", server.uri()))
        .audiences([AUDIENCE])
        .leeway(Duration::ZERO)
        .token_cache_capacity(capacity)
        .jwks(jwks_config)
        .build()
        .unwrap();
    ready(&auth).await;
    (server, auth)
}

/// Serves `body` for every fetch, replacing whatever was served before.
async fn respond_jwks(server: &MockServer, body: &serde_json::Value) {
    server.reset().await;
    wiremock::Mock::given(wiremock::matchers::path(JWKS_PATH))
        .respond_with(wiremock::ResponseTemplate::new(200).set_body_json(body))
        .mount(server)
        .await;
}

#[actix_web::test]
async fn a_cached_token_is_rejected_once_it_expires() {
    let key = rsa(1, "k1");
    let (_server, auth) = issuer_with(&[&key], fast_jwks(), 100).await;
    let exp = now_secs() + 2;
    let token = valid(&key).claim("exp", exp).sign().unwrap();
    assert!(auth.verify_token(&token).await.is_ok());
    assert_eq!(auth.cached_tokens(), 1);

    // Sleep until just past `exp` (the leeway is 0).
    #[allow(clippy::cast_precision_loss)]
    let past_exp = exp as f64 + 0.2 - crate::validation::now();
    actix_web::rt::time::sleep(Duration::from_secs_f64(past_exp.max(0.0))).await;

    assert_eq!(
        token_error(auth.verify_token(&token).await),
        TokenError::Expired
    );
}

/// Verifies (and so caches) a token from `signer` while `before` is published, publishes
/// `after`, waits for the refresh, and returns what the same token gets then.
async fn after_refresh(
    before: &[&SigningKey],
    after: &[&SigningKey],
    signer: &SigningKey,
) -> TokenError {
    let jwks_config = JwksConfig {
        max_age: Duration::from_millis(500),
        ..fast_jwks()
    };
    let (server, auth) = issuer_with(before, jwks_config, 100).await;
    let token = valid(signer).sign().unwrap();
    assert!(auth.verify_token(&token).await.is_ok());

    respond_jwks(&server, &jwks(after)).await;

    eventually_refused(&auth, &token).await
}

#[actix_web::test]
async fn a_cached_token_is_rejected_once_its_key_is_removed() {
    let (kept, removed) = (rsa(1, "k1"), rsa(2, "k2"));

    let error = after_refresh(&[&kept, &removed], &[&kept], &removed).await;

    assert_eq!(error, TokenError::UnknownKid);
}

#[actix_web::test]
async fn a_cached_token_is_rejected_once_its_kid_names_another_key() {
    let (original, replacement) = (rsa(1, "k1"), rsa(2, "k1"));

    let error = after_refresh(&[&original], &[&replacement], &original).await;

    assert_eq!(error, TokenError::BadSignature);
}

#[actix_web::test]
async fn a_tampered_copy_of_a_cached_token_is_rejected() {
    let key = rsa(1, "k1");
    let (_server, auth) = issuer_with(&[&key], fast_jwks(), 100).await;
    let token = valid(&key).sign().unwrap();
    assert!(auth.verify_token(&token).await.is_ok());
    let (input, signature) = token.rsplit_once('.').unwrap();
    let forged_payload = crate::testing::encode_json(&serde_json::json!({
        "iss": ISSUER, "aud": AUDIENCE, "sub": "admin", "exp": now_secs() + 3600,
    }));
    let header = input.split('.').next().unwrap();

    for tampered in [
        format!("{header}.{forged_payload}.{signature}"),
        format!("{token}A"),
        token[..token.len() - 1].to_owned(),
    ] {
        assert!(auth.verify_token(&tampered).await.is_err(), "{tampered}");
    }
    assert!(auth.verify_token(&token).await.is_ok());
}

#[actix_web::test]
async fn a_hit_returns_the_same_claims_as_the_full_validation() {
    let key = rsa(1, "k1");
    let (_server, auth) = issuer_with(&[&key], fast_jwks(), 100).await;
    let token = valid(&key).claim("scope", "read:messages").sign().unwrap();

    let first = auth.verify_token(&token).await.unwrap();
    let second = auth.verify_token(&token).await.unwrap();

    assert_eq!(first, second);
    assert!(second.has_scope("read:messages"));
}

#[actix_web::test]
async fn the_cache_is_bounded_and_can_be_turned_off() {
    let key = rsa(1, "k1");
    let (_server, bounded) = issuer_with(&[&key], fast_jwks(), 16).await;
    let (_server_off, off) = issuer_with(&[&key], fast_jwks(), 0).await;

    for i in 0..64 {
        let token = valid(&key).claim("jti", i).sign().unwrap();
        assert!(bounded.verify_token(&token).await.is_ok());
        assert!(off.verify_token(&token).await.is_ok());
    }

    assert!(bounded.cached_tokens() <= 16, "{}", bounded.cached_tokens());
    assert!(bounded.cached_tokens() > 0);
    assert_eq!(off.cached_tokens(), 0);
}

#[actix_web::test]
async fn rejected_tokens_are_never_cached() {
    let key = rsa(1, "k1");
    let (_server, auth) = issuer_with(&[&key], fast_jwks(), 100).await;

    for token in [
        valid(&rsa(3, "k1")).sign().unwrap(),
        valid(&key).claim("aud", "other").sign().unwrap(),
        valid(&key).expires_in(-60).sign().unwrap(),
    ] {
        assert!(auth.verify_token(&token).await.is_err());
    }

    assert_eq!(auth.cached_tokens(), 0);
}

#[actix_web::test]
async fn large_tokens_keep_within_the_byte_budget_and_the_largest_are_never_cached() {
    let key = rsa(1, "k1");
    let server = MockServer::start().await;
    respond_jwks(&server, &jwks(&[&key])).await;
    let budget = 256 * 1024;
    let auth = Authenticator::builder()
        .issuer(ISSUER)
        .jwks_uri(format!("{}{JWKS_PATH}", server.uri()))
        .audiences([AUDIENCE])
        .token_cache_capacity(100_000)
        .token_cache_max_bytes(budget)
        .jwks(fast_jwks())
        .build()
        .unwrap();
    ready(&auth).await;
    // About 3 KiB each, in many small claims: the claims weigh far more than the token.
    let claims: serde_json::Map<String, serde_json::Value> =
        (0..150).map(|i| (format!("c{i}"), json!(i))).collect();
    let large = |i: usize| {
        let mut token = valid(&key).claim("jti", i);
        for (name, value) in &claims {
            token = token.claim(name, value.clone());
        }
        token.sign().unwrap()
    };
    assert!(
        (2048..=4096).contains(&large(0).len()),
        "{}",
        large(0).len()
    );

    for i in 0..400 {
        assert!(auth.verify_token(&large(i)).await.is_ok());
    }

    let weight = auth.cached_token_bytes();
    assert!(weight <= budget as u64, "{weight} > {budget}");
    assert!(auth.cached_tokens() > 0 && auth.cached_tokens() < 400);
    let huge = valid(&key).claim("pad", "x".repeat(5000)).sign().unwrap();
    let before = auth.cached_tokens();
    assert!(auth.verify_token(&huge).await.is_ok());
    assert!(auth.verify_token(&huge).await.is_ok());
    assert_eq!(auth.cached_tokens(), before);
}

#[actix_web::test]
async fn a_bound_token_is_refused_as_a_bearer_token_on_every_check_cache_hits_included() {
    let key = rsa(1, "k1");
    let (_server, auth) = issuer_with(&[&key], fast_jwks(), 100).await;

    for (cnf, refused) in [
        (
            json!({ "jkt": "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I" }),
            TokenError::DpopBound,
        ),
        (
            json!({ "x5t#S256": "bwcK0esc3ACC3DB2Y5_lESsXE8o9ltc05O89jdN-dg2" }),
            TokenError::CertificateUnchecked,
        ),
        (json!({ "jkt": "a", "extra": 1 }), TokenError::DpopBound),
        (json!("not an object"), TokenError::InvalidConfirmation),
        (json!({ "jkt": 7 }), TokenError::InvalidConfirmation),
        (json!({ "x5t#S256": "" }), TokenError::InvalidConfirmation),
        (
            json!({ "jwk": { "kty": "EC" } }),
            TokenError::UnsupportedConfirmation(ConfirmationMethod::Jwk),
        ),
        (
            json!({ "jwe": "eyJ..." }),
            TokenError::UnsupportedConfirmation(ConfirmationMethod::Jwe),
        ),
        (
            json!({ "kid": "k" }),
            TokenError::UnsupportedConfirmation(ConfirmationMethod::Kid),
        ),
        (
            json!({ "jku": "https://keys.example" }),
            TokenError::UnsupportedConfirmation(ConfirmationMethod::Jku),
        ),
    ] {
        let token = valid(&key).claim("cnf", cnf.clone()).sign().unwrap();
        for _ in 0..2 {
            assert_eq!(
                token_error(auth.verify_token(&token).await),
                refused,
                "{cnf}"
            );
        }
    }
    // The two well-formed bindings are remembered with their claims; the refusal holds on hits.
    assert_eq!(auth.cached_tokens(), 3);
    // A `cnf` member that RFC 7800 does not define binds nothing: the sender is not constrained.
    let unbound = valid(&key)
        .claim("cnf", json!({ "x-vendor": "k" }))
        .sign()
        .unwrap();
    assert!(auth.verify_token(&unbound).await.is_ok());
}
