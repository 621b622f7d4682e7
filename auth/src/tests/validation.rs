//! Sections 1–3 of the rules: shape, `alg`, header fields, key choice, signature and claims.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde_json::json;
use wiremock::MockServer;

use super::*;
use crate::testing::now_secs;

/// An issuer publishing RSA `k1` (RS256), RSA `ps1` (PS256), P-256 `ec1` and Ed25519 `ed1`,
/// already loaded.
async fn issuer() -> (MockServer, Authenticator) {
    let server = MockServer::start().await;
    let mut document = jwks(&[&rsa(1, "k1"), &p256("ec1"), &ed25519("ed1")]);
    let mut ps = rsa(2, "ps1").jwk();
    ps["alg"] = json!("PS256");
    document["keys"].as_array_mut().unwrap().push(ps);
    serve_jwks(&server, &document, 1).await;
    let auth = authenticator(&server, fast_jwks());
    ready(&auth).await;
    (server, auth)
}

async fn check(auth: &Authenticator, token: &str) -> Result<crate::Claims, AuthError> {
    auth.verify_token(token).await
}

#[actix_web::test]
async fn valid_rs256_token_is_accepted_with_its_claims() {
    let (_server, auth) = issuer().await;
    let key = rsa(1, "k1");
    let token = valid(&key)
        .claim("scope", "read:messages openid")
        .sign()
        .unwrap();

    let claims = check(&auth, &token).await.unwrap();

    assert_eq!(claims.sub(), Some("user-1"));
    assert!(claims.has_scope("read:messages"));
    assert_eq!(claims.all()["iss"], ISSUER);
}

#[actix_web::test]
async fn ps256_es256_and_eddsa_tokens_are_accepted_when_allowed() {
    let (_server, auth) = issuer().await;
    let (rsa_key, ec_key, ed_key) = (rsa(2, "ps1"), p256("ec1"), ed25519("ed1"));

    for token in [
        valid(&rsa_key).header("alg", "PS256").sign().unwrap(),
        valid(&ec_key).sign().unwrap(),
        valid(&ed_key).sign().unwrap(),
    ] {
        assert!(check(&auth, &token).await.is_ok(), "{token}");
    }
}

#[actix_web::test]
async fn alg_outside_the_allow_list_is_rejected() {
    let server = MockServer::start().await;
    serve_jwks(&server, &jwks(&[&rsa(1, "k1"), &p256("ec1")]), 1).await;
    let auth = Authenticator::builder()
        .issuer(ISSUER)
        .jwks_uri(format!("{}{JWKS_PATH}", server.uri()))
        .audiences([AUDIENCE])
        .jwks(fast_jwks())
        .build()
        .unwrap();
    ready(&auth).await;
    let ec_token = valid(&p256("ec1")).sign().unwrap();
    let ps_token = valid(&rsa(1, "k1")).header("alg", "PS256").sign().unwrap();

    assert_eq!(
        token_error(check(&auth, &ec_token).await),
        TokenError::UnsupportedAlgorithm
    );
    assert_eq!(
        token_error(check(&auth, &ps_token).await),
        TokenError::UnsupportedAlgorithm
    );
}

/// The attack corpus that the integration tests run over HTTP too.
#[actix_web::test]
async fn every_attack_in_the_corpus_meets_its_refusal() {
    let (_server, auth) = issuer().await;
    let (key, rogue) = (rsa(1, "k1"), rsa(3, "k1"));

    for attack in crate::testing::attacks(valid, &key, &rogue).unwrap() {
        assert_eq!(
            token_error(check(&auth, &attack.token).await),
            attack.refused,
            "{}",
            attack.name
        );
    }
}

#[actix_web::test]
async fn tokens_that_are_not_a_compact_jws_are_malformed() {
    let (_server, auth) = issuer().await;
    let token = valid(&rsa(1, "k1")).sign().unwrap();
    let parts: Vec<&str> = token.split('.').collect();
    let std_b64 = |s: &str| STANDARD.encode(URL_SAFE_NO_PAD.decode(s).unwrap());
    let array = URL_SAFE_NO_PAD.encode("[1,2]");
    let not_json = URL_SAFE_NO_PAD.encode("not json");

    for bad in [
        String::new(),
        "abc".to_owned(),
        format!("{}.{}", parts[0], parts[1]),
        format!("{}.{}.{}.", parts[0], parts[1], parts[2]),
        format!("{token}.{}.{}", parts[1], parts[2]),
        token[..token.len() - 20].to_owned() + "!",
        format!("{}.{}.{}==", parts[0], parts[1], parts[2]),
        format!("{}=.{}.{}", parts[0], parts[1], parts[2]),
        format!(
            "{}.{}.{}",
            std_b64(parts[0]),
            std_b64(parts[1]),
            std_b64(parts[2])
        ),
        format!("{array}.{}.{}", parts[1], parts[2]),
        format!("{}.{array}.{}", parts[0], parts[2]),
        format!("{not_json}.{}.{}", parts[1], parts[2]),
        format!("{}.{not_json}.{}", parts[0], parts[2]),
        format!("{}..{}", parts[0], parts[2]),
        format!("{}.{}.", parts[0], parts[1]),
    ] {
        // Standard base64 of these segments happens to differ from base64url only when it
        // contains '+' or '/'; either way the token must not verify.
        let error = token_error(check(&auth, &bad).await);
        assert!(
            matches!(error, TokenError::Malformed | TokenError::BadSignature),
            "{bad:?} gave {error:?}"
        );
    }
    assert_eq!(
        token_error(check(&auth, &format!("{token}.x.y")).await),
        TokenError::Malformed
    );
}

#[actix_web::test]
async fn truncated_token_is_rejected() {
    let (_server, auth) = issuer().await;
    let token = valid(&rsa(1, "k1")).sign().unwrap();

    for cut in [10, token.len() / 2, token.len() - 1] {
        assert!(check(&auth, &token[..cut]).await.is_err(), "cut at {cut}");
    }
}

#[actix_web::test]
async fn access_token_and_jwt_types_are_accepted_case_insensitively() {
    let (_server, auth) = issuer().await;
    let key = rsa(1, "k1");

    for typ in ["JWT", "jwt", "at+jwt", "AT+JWT", "application/at+jwt"] {
        let token = valid(&key).header("typ", typ).sign().unwrap();
        assert!(check(&auth, &token).await.is_ok(), "{typ}");
    }
    let no_typ = valid(&key).without_header("typ").sign().unwrap();
    assert!(check(&auth, &no_typ).await.is_ok());
}

#[actix_web::test]
async fn other_token_types_are_rejected() {
    let (_server, auth) = issuer().await;
    let key = rsa(1, "k1");

    for typ in [
        json!("JOSE"),
        json!("id_token+jwt"),
        json!("secevent+jwt"),
        json!(1),
        json!(""),
    ] {
        let token = valid(&key).header("typ", typ.clone()).sign().unwrap();
        assert_eq!(
            token_error(check(&auth, &token).await),
            TokenError::UnsupportedType,
            "{typ}"
        );
    }
}

#[actix_web::test]
async fn key_urls_and_embedded_keys_in_the_header_are_never_used() {
    let (server, auth) = issuer().await;
    let rogue = rsa(3, "k1");
    let token = valid(&rogue)
        .header("jku", format!("{}/rogue.json", server.uri()))
        .header("x5u", format!("{}/rogue.pem", server.uri()))
        .header("jwk", rogue.jwk())
        .header("x5c", json!(["MIIB"]))
        .sign()
        .unwrap();

    assert_eq!(
        token_error(check(&auth, &token).await),
        TokenError::BadSignature
    );
    let requests = server.received_requests().await.unwrap();
    assert!(requests.iter().all(|r| r.url.path() == JWKS_PATH));
}

#[actix_web::test]
async fn token_without_kid_uses_the_only_key_that_fits() {
    let (_server, auth) = issuer().await;

    let token = valid(&rsa(1, "k1")).without_header("kid").sign().unwrap();

    assert!(check(&auth, &token).await.is_ok());
}

#[actix_web::test]
async fn token_without_kid_is_rejected_when_several_keys_fit() {
    let server = MockServer::start().await;
    serve_jwks(&server, &jwks(&[&rsa(1, "k1"), &rsa(2, "k2")]), 1).await;
    let auth = authenticator(&server, fast_jwks());
    ready(&auth).await;

    let token = valid(&rsa(1, "k1")).without_header("kid").sign().unwrap();

    assert_eq!(
        token_error(check(&auth, &token).await),
        TokenError::NoFittingKey
    );
}

#[actix_web::test]
async fn key_type_must_fit_the_alg() {
    let (_server, auth) = issuer().await;
    // An RS256 token whose kid names the EC key: the EC key can never verify RS256.
    let token = valid(&rsa(1, "ec1")).sign().unwrap();

    assert_eq!(
        token_error(check(&auth, &token).await),
        TokenError::NoFittingKey
    );
}

#[actix_web::test]
async fn jwk_alg_must_equal_the_token_alg() {
    let (_server, auth) = issuer().await;
    // k1 is published with alg RS256; a PS256 token from the same key must not use it.
    let token = valid(&rsa(1, "k1")).header("alg", "PS256").sign().unwrap();

    assert_eq!(
        token_error(check(&auth, &token).await),
        TokenError::NoFittingKey
    );
}

#[actix_web::test]
async fn unusable_keys_are_skipped_and_never_used() {
    let server = MockServer::start().await;
    let mut enc = rsa(2, "enc").jwk();
    enc["use"] = json!("enc");
    let mut verify_less = rsa(3, "ops").jwk();
    verify_less["key_ops"] = json!(["encrypt"]);
    let document = json!({ "keys": [
        rsa(1, "k1").jwk(),
        enc,
        verify_less,
        { "kty": "oct", "kid": "hmac", "k": "c2VjcmV0" },
        { "kty": "RSA", "kid": "short", "n": "AQAB", "e": "AQAB" },
        { "kty": "EC", "kid": "p521", "crv": "P-521", "x": "AA", "y": "AA" },
        { "kty": "XYZ", "kid": "odd" },
        "not an object",
    ]});
    // The first unknown kid causes one refetch; the cooldown holds back the second.
    serve_jwks(&server, &document, 2).await;
    let auth = authenticator(&server, fast_jwks());
    ready(&auth).await;

    let enc_token = valid(&rsa(2, "enc")).sign().unwrap();
    let ops_token = valid(&rsa(3, "ops")).sign().unwrap();
    let good = valid(&rsa(1, "k1")).sign().unwrap();

    assert_eq!(
        token_error(check(&auth, &enc_token).await),
        TokenError::UnknownKid
    );
    assert_eq!(
        token_error(check(&auth, &ops_token).await),
        TokenError::UnknownKid
    );
    assert!(check(&auth, &good).await.is_ok());
}

#[actix_web::test]
async fn duplicate_kids_accept_a_token_signed_by_either_key() {
    let server = MockServer::start().await;
    serve_jwks(&server, &jwks(&[&rsa(1, "dup"), &rsa(2, "dup")]), 1).await;
    let auth = authenticator(&server, fast_jwks());
    ready(&auth).await;

    for n in [1, 2] {
        let token = valid(&rsa(n, "dup")).sign().unwrap();
        assert!(check(&auth, &token).await.is_ok(), "key {n}");
    }
    let rogue = valid(&rsa(3, "dup")).sign().unwrap();
    assert_eq!(
        token_error(check(&auth, &rogue).await),
        TokenError::BadSignature
    );
}

#[actix_web::test]
async fn issuer_must_match_exactly() {
    let (_server, auth) = issuer().await;
    let key = rsa(1, "k1");

    // RFC 9068 §4: byte for byte. The trailing slash is forgiven only between the
    // configuration and a discovery document, never in a token (issue #17 reversed #13 here).
    for iss in [
        json!("https://issuer.example"),
        json!("https://issuer.example//"),
        json!("https://ISSUER.example/"),
        json!("http://issuer.example/"),
        json!("https://evil.example/"),
        json!(["https://issuer.example/"]),
        json!(null),
    ] {
        let token = valid(&key).claim("iss", iss.clone()).sign().unwrap();
        assert_eq!(
            token_error(check(&auth, &token).await),
            TokenError::Issuer,
            "{iss}"
        );
    }
    let missing = valid(&key).without_claim("iss").sign().unwrap();
    assert_eq!(
        token_error(check(&auth, &missing).await),
        TokenError::Issuer
    );
}

#[actix_web::test]
async fn audience_is_a_string_or_an_array_naming_a_configured_one() {
    let (_server, auth) = issuer().await;
    let key = rsa(1, "k1");

    for aud in [json!(AUDIENCE), json!(["https://other", AUDIENCE])] {
        let token = valid(&key).claim("aud", aud.clone()).sign().unwrap();
        assert!(check(&auth, &token).await.is_ok(), "{aud}");
    }
    for aud in [
        json!("https://other"),
        json!(["https://other"]),
        json!([]),
        json!("https://api.example/"),
        json!("HTTPS://API.EXAMPLE"),
        json!(1),
        json!([AUDIENCE, 1]),
        json!({ "aud": AUDIENCE }),
    ] {
        let token = valid(&key).claim("aud", aud.clone()).sign().unwrap();
        assert_eq!(
            token_error(check(&auth, &token).await),
            TokenError::Audience,
            "{aud}"
        );
    }
    let missing = valid(&key).without_claim("aud").sign().unwrap();
    assert_eq!(
        token_error(check(&auth, &missing).await),
        TokenError::Audience
    );
}

#[actix_web::test]
async fn exp_is_required_numeric_and_allows_the_leeway() {
    let (_server, auth) = issuer().await;
    let key = rsa(1, "k1");
    let now = now_secs();

    let missing = valid(&key).without_claim("exp").sign().unwrap();
    assert_eq!(
        token_error(check(&auth, &missing).await),
        TokenError::MissingExpiry
    );
    for exp in [
        json!((now + 3600).to_string()),
        json!(null),
        json!(true),
        json!([now + 60]),
    ] {
        let token = valid(&key).claim("exp", exp.clone()).sign().unwrap();
        assert_eq!(
            token_error(check(&auth, &token).await),
            TokenError::InvalidDate(crate::DateClaim::Exp),
            "{exp}"
        );
    }
    let within_leeway = valid(&key).claim("exp", now - 2).sign().unwrap();
    assert!(check(&auth, &within_leeway).await.is_ok());
    let fractional = valid(&key)
        .claim("exp", json!(60.5 + f64::from(u32::try_from(now).unwrap())))
        .sign()
        .unwrap();
    assert!(check(&auth, &fractional).await.is_ok());
    for exp in [now - 10, now - 3600, 0] {
        let token = valid(&key).claim("exp", exp).sign().unwrap();
        assert_eq!(
            token_error(check(&auth, &token).await),
            TokenError::Expired,
            "{exp}"
        );
    }
}

#[actix_web::test]
async fn nbf_is_numeric_and_allows_the_leeway() {
    let (_server, auth) = issuer().await;
    let key = rsa(1, "k1");
    let now = now_secs();

    for nbf in [now - 60, now + 2] {
        let token = valid(&key).claim("nbf", nbf).sign().unwrap();
        assert!(check(&auth, &token).await.is_ok(), "{nbf}");
    }
    for nbf in [now + 10, now + 3600] {
        let token = valid(&key).claim("nbf", nbf).sign().unwrap();
        assert_eq!(
            token_error(check(&auth, &token).await),
            TokenError::NotYetValid,
            "{nbf}"
        );
    }
    let text = valid(&key).claim("nbf", "yesterday").sign().unwrap();
    assert_eq!(
        token_error(check(&auth, &text).await),
        TokenError::InvalidDate(crate::DateClaim::Nbf)
    );
}

#[actix_web::test]
async fn iat_when_present_must_be_numeric() {
    let (_server, auth) = issuer().await;
    let key = rsa(1, "k1");

    let numeric = valid(&key).claim("iat", now_secs()).sign().unwrap();
    let text = valid(&key).claim("iat", "now").sign().unwrap();

    assert!(check(&auth, &numeric).await.is_ok());
    assert_eq!(
        token_error(check(&auth, &text).await),
        TokenError::InvalidDate(crate::DateClaim::Iat)
    );
}

#[actix_web::test]
async fn signature_is_checked_before_claims() {
    let (_server, auth) = issuer().await;
    let token = valid(&rsa(3, "k1"))
        .claim("exp", 0)
        .claim("iss", "x")
        .sign()
        .unwrap();

    assert_eq!(
        token_error(check(&auth, &token).await),
        TokenError::BadSignature
    );
}

#[actix_web::test]
async fn building_needs_issuer_audience_and_safe_urls() {
    use crate::ConfigError;
    let build = |b: crate::AuthenticatorBuilder| b.build().err();

    assert_eq!(
        build(Authenticator::builder().audiences(["a"])),
        Some(ConfigError::MissingIssuer)
    );
    assert_eq!(
        build(Authenticator::builder().issuer(ISSUER)),
        Some(ConfigError::MissingAudience)
    );
    assert_eq!(
        build(
            Authenticator::builder()
                .issuer(ISSUER)
                .audiences(["a"])
                .algorithms([])
        )
        .map(|error| error.to_string()),
        Some(
            "algorithms: list at least one of RS256, RS384, RS512, PS256, PS384, PS512, ES256, \
             ES384, ES512, EdDSA, Ed25519"
                .to_owned()
        )
    );
    for insecure in ["http://issuer.example/jwks", "ftp://x/jwks", "not a url"] {
        let error = build(
            Authenticator::builder()
                .issuer(ISSUER)
                .audiences(["a"])
                .jwks_uri(insecure),
        );
        // Named as the configuration names it.
        assert!(
            matches!(&error, Some(ConfigError::Invalid { path, .. }) if path == "jwks_uri"),
            "{insecure}: {error:?}"
        );
    }
    let discovery_over_http = build(
        Authenticator::builder()
            .issuer("http://issuer.example/")
            .audiences(["a"]),
    );
    assert!(
        matches!(
            &discovery_over_http,
            Some(ConfigError::Invalid { path, reason })
                if path == "issuer" && reason.contains("https")
        ),
        "{discovery_over_http:?}"
    );
    for loopback in [
        "http://localhost:1/jwks",
        "http://127.0.0.2:1/jwks",
        "http://[::1]:1/jwks",
    ] {
        assert_eq!(
            build(
                Authenticator::builder()
                    .issuer(ISSUER)
                    .audiences(["a"])
                    .jwks_uri(loopback)
            ),
            None,
            "{loopback}"
        );
    }
}

#[actix_web::test]
async fn every_algorithm_verifies_with_a_jwk_that_names_it() {
    let server = MockServer::start().await;
    let rsa_key = rsa(1, "k1");
    let p384 =
        SigningKey::p384_from_pem("p384", include_str!("../../fixtures/ec-p384.pem")).unwrap();
    let mut keys = vec![p256("ec1").jwk(), p384.jwk(), ed25519("ed1").jwk()];
    for alg in ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512"] {
        let mut jwk = rsa_key.jwk();
        jwk["alg"] = json!(alg);
        jwk["kid"] = json!(alg);
        keys.push(jwk);
    }
    serve_jwks(&server, &json!({ "keys": keys }), 1).await;
    let auth = Authenticator::builder()
        .issuer(ISSUER)
        .jwks_uri(format!("{}{JWKS_PATH}", server.uri()))
        .audiences([AUDIENCE])
        .algorithms(Algorithm::ALL)
        .jwks(fast_jwks())
        .build()
        .unwrap();
    ready(&auth).await;

    for alg in ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512"] {
        let token = valid(&rsa_key)
            .header("alg", alg)
            .header("kid", alg)
            .sign()
            .unwrap();
        assert!(check(&auth, &token).await.is_ok(), "{alg}");
    }
    for key in [p256("ec1"), p384, ed25519("ed1")] {
        let token = valid(&key).sign().unwrap();
        assert!(check(&auth, &token).await.is_ok(), "{}", key.default_alg());
    }
}

#[actix_web::test]
async fn rsa_keys_under_2048_bits_are_never_loaded() {
    let server = MockServer::start().await;
    let key = rsa(1, "k1");
    let mut short = key.jwk();
    let modulus = URL_SAFE_NO_PAD
        .decode(short["n"].as_str().unwrap())
        .unwrap();
    short["n"] = json!(URL_SAFE_NO_PAD.encode(&modulus[..128]));
    short["kid"] = json!("short");
    serve_jwks(&server, &json!({ "keys": [key.jwk(), short] }), 1..=2).await;
    let auth = authenticator(&server, fast_jwks());
    ready(&auth).await;

    let token = valid(&key).header("kid", "short").sign().unwrap();

    assert_eq!(
        token_error(check(&auth, &token).await),
        TokenError::UnknownKid
    );
}

#[actix_web::test]
async fn every_rsa_algorithm_verifies_with_a_jwk_that_names_none() {
    let server = MockServer::start().await;
    let key = rsa(1, "k1");
    let mut jwk = key.jwk();
    jwk.as_object_mut().unwrap().remove("alg");
    serve_jwks(&server, &json!({ "keys": [jwk] }), 1).await;
    let auth = Authenticator::builder()
        .issuer(ISSUER)
        .jwks_uri(format!("{}{JWKS_PATH}", server.uri()))
        .audiences([AUDIENCE])
        .algorithms([
            Algorithm::RS256,
            Algorithm::RS384,
            Algorithm::RS512,
            Algorithm::PS256,
            Algorithm::PS384,
            Algorithm::PS512,
        ])
        .jwks(fast_jwks())
        .build()
        .unwrap();
    ready(&auth).await;

    for alg in ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512"] {
        let token = valid(&key).header("alg", alg).sign().unwrap();
        assert!(check(&auth, &token).await.is_ok(), "{alg}");
    }
    // A PKCS#1 signature relabelled as PSS (same hash) must not verify.
    let pkcs1 = valid(&key).sign().unwrap();
    let (_, signature) = pkcs1.rsplit_once('.').unwrap();
    let pss = valid(&key).header("alg", "PS256").sign().unwrap();
    let (pss_input, _) = pss.rsplit_once('.').unwrap();
    assert_eq!(
        token_error(check(&auth, &format!("{pss_input}.{signature}")).await),
        TokenError::BadSignature
    );
}

#[actix_web::test]
async fn claims_name_the_exact_issuer_that_verified_them() {
    let (_server, auth) = issuer().await;

    let claims = check(&auth, &valid(&rsa(1, "k1")).sign().unwrap())
        .await
        .unwrap();

    assert_eq!(claims.issuer(), ISSUER);
    assert_eq!(auth.issuers(), [ISSUER]);
}

#[actix_web::test]
async fn require_at_jwt_accepts_only_rfc_9068_access_tokens() {
    let server = MockServer::start().await;
    serve_jwks(&server, &jwks(&[&rsa(1, "k1")]), 1).await;
    let auth = Authenticator::builder()
        .issuer(ISSUER)
        .jwks_uri(format!("{}{JWKS_PATH}", server.uri()))
        .audiences([AUDIENCE])
        .require_at_jwt(true)
        .build()
        .unwrap();
    ready(&auth).await;
    let key = rsa(1, "k1");

    for typ in ["at+jwt", "application/at+JWT"] {
        let token = valid(&key).header("typ", typ).sign().unwrap();
        assert!(check(&auth, &token).await.is_ok(), "{typ}");
    }
    for typ in [Some("JWT"), Some("jwt"), None] {
        let mut token = valid(&key);
        token = match typ {
            Some(typ) => token.header("typ", typ),
            None => token.without_header("typ"),
        };
        assert_eq!(
            token_error(check(&auth, &token.sign().unwrap()).await),
            TokenError::UnsupportedType,
            "{typ:?}"
        );
    }
}

#[test]
fn the_builder_keeps_every_setting_within_its_range() {
    let build = |change: fn(crate::AuthenticatorBuilder) -> crate::AuthenticatorBuilder| {
        change(
            Authenticator::builder()
                .issuer(ISSUER)
                .jwks_uri("https://issuer.example/jwks.json")
                .audiences([AUDIENCE]),
        )
        .build()
        .map(|_| ())
    };
    let path = |result: Result<(), crate::ConfigError>| match result {
        Err(crate::ConfigError::Invalid { path, .. }) => path,
        other => panic!("expected a setting out of range, got {other:?}"),
    };

    assert_eq!(
        path(build(|b| b.leeway(Duration::from_secs(365 * 86_400)))),
        // The builder names a setting as the configuration does: one model, one rule.
        "leeway_secs"
    );
    assert_eq!(
        path(build(|b| b.jwks(JwksConfig {
            cooldown: Duration::ZERO,
            ..JwksConfig::default()
        }))),
        "jwks.cooldown_secs"
    );
    assert_eq!(
        path(build(|b| b.jwks(JwksConfig {
            max_stale: Duration::from_secs(1),
            ..JwksConfig::default()
        }))),
        "jwks.max_stale_secs"
    );
    assert_eq!(path(build(|b| b.max_token_bytes(10))), "max_token_bytes");
    assert_eq!(
        path(build(|b| b.token_cache_max_bytes(1))),
        "token_cache_max_bytes"
    );
}
