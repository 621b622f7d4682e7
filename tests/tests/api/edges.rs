//! The edges the independent review and the interop runs found, each over HTTP (the forwarded
//! certificate's are in `mtls.rs`, the replay stores' in `dpop.rs` and `redis_replay.rs`): the refusal
//! (status, challenge, body) and the honest request beside it, which still passes.

use auth::RequireAuth;
use auth::testing::SigningKey;
use auth::{Algorithm, Authenticator, DpopMode};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};
use tests::bodies::PRIVATE;
use tests::{
    PUBLIC_URL, TestApp, TestConfig, send_to, serve_guarded, spawn_app_in, spawn_app_with,
};

const PRIVATE_PATH: &str = "/api/private";

async fn app() -> TestApp {
    spawn_app_in(DpopMode::Allowed).await
}

async fn a_proof_typ_is_accepted_with_or_without_its_application_prefix_and_nothing_else() {
    let app = app().await;
    let client = &app.keys.ec;
    let token = app.bound_token(client, None);
    let url = format!("{PUBLIC_URL}{PRIVATE_PATH}");
    let typed = |typ: &str| {
        client
            .dpop_proof("GET", &url, &token)
            .header("typ", typ)
            .sign()
            .unwrap()
    };

    for typ in ["dpop+jwt", "application/dpop+jwt", "APPLICATION/DPoP+JWT"] {
        app.get_dpop(PRIVATE_PATH, &token, &typed(typ))
            .await
            .assert_ok(PRIVATE);
    }
    for typ in ["application/jwt", "jwt", "application/dpop+jwt; x=1"] {
        app.get_dpop(PRIVATE_PATH, &token, &typed(typ))
            .await
            .assert_invalid_proof("DPoP proof typ must be dpop+jwt");
    }
}

async fn a_proof_with_crit_or_b64_false_is_refused() {
    let app = app().await;
    let client = &app.keys.ec;
    let token = app.bound_token(client, None);
    let url = format!("{PUBLIC_URL}{PRIVATE_PATH}");

    for (name, value) in [
        ("crit", json!(["urn:example:unknown"])),
        ("crit", json!(["absent"])),
        ("b64", json!(false)),
    ] {
        let mut proof = client.dpop_proof("GET", &url, &token).header(name, value);
        if name == "b64" {
            proof = proof.header("crit", json!(["b64"]));
        }
        app.get_dpop(PRIVATE_PATH, &token, &proof.sign().unwrap())
            .await
            .assert_invalid_proof(
                "DPoP proof header has a critical extension (crit or b64) that is not supported",
            );
    }
    app.dpop(client, PRIVATE_PATH, &token)
        .await
        .assert_ok(PRIVATE);
}

/// A library user's catch-all route (`/files/...`) behind a guard, with DPoP: the
/// router matches `/files/x/../b` as the tail `x/../b`, not as `/files/b`.
async fn catch_all(app: &TestApp) -> String {
    let authenticator = Authenticator::builder()
        .issuer(app.issuer.issuer())
        .audiences([tests::AUDIENCE])
        .public_url(PUBLIC_URL)
        .build()
        .unwrap();
    authenticator
        .wait_ready(std::time::Duration::from_secs(5))
        .await
        .expect("the keys load");
    serve_guarded(vec![("/files/*", RequireAuth::new(authenticator))]).await
}

async fn a_dpop_request_whose_path_has_dot_segments_is_refused() {
    let app = app().await;
    let files = catch_all(&app).await;
    let client = &app.keys.ec;
    let token = app.bound_token(client, None);
    let get = |path: &str| {
        // The proof names the path the dot segments resolve to: /files/b.
        let proof = app.proof(client, "/files/b", &token);
        send_to(
            app.client
                .get(format!("{files}{path}"))
                .insert_header(("Authorization", format!("DPoP {token}")))
                .insert_header(("DPoP", proof)),
        )
    };

    for path in [
        "/files/x/../b",
        "/files/./b",
        "/files/x/%2e%2E/b",
        "/files/x/.%2e/b",
    ] {
        get(path).await.assert_invalid_proof(
            "the request path has dot segments (. or ..), which a DPoP proof cannot cover",
        );
    }
    let honest = get("/files/b").await;
    assert_eq!(honest.status, 200, "{honest:?}");
    assert_eq!(honest.json()["path"], "/files/b");
}

/// `{header}.{claims}.{signature}`, each base64url, with a signature given as bytes.
fn jws(header: &Value, claims: &Value, signature: &[u8]) -> String {
    let b64 = |bytes: &[u8]| URL_SAFE_NO_PAD.encode(bytes);
    format!(
        "{}.{}.{}",
        b64(header.to_string().as_bytes()),
        b64(claims.to_string().as_bytes()),
        b64(signature)
    )
}

async fn an_ed25519_key_of_small_order_is_never_a_key_in_a_proof_or_a_jwks() {
    let app = app().await;
    let mut identity = [0u8; 32];
    identity[0] = 1;
    let jwk = json!({ "kty": "OKP", "crv": "Ed25519", "x": URL_SAFE_NO_PAD.encode(identity) });
    let jkt = auth::dpop::thumbprint(jwk.as_object().unwrap()).unwrap();
    let token = app
        .token(&app.keys.rsa)
        .claim("cnf", json!({ "jkt": jkt }))
        .sign()
        .unwrap();
    // R = the identity and S = 0: a signature nobody made, which verifies under the identity.
    let mut forged_signature = [0u8; 64];
    forged_signature[0] = 1;
    let proof = jws(
        &json!({ "typ": "dpop+jwt", "alg": "EdDSA", "jwk": jwk }),
        &json!({
            "jti": "small-order",
            "htm": "GET",
            "htu": format!("{PUBLIC_URL}{PRIVATE_PATH}"),
            "iat": auth::testing::now_secs(),
            "ath": auth::dpop::access_token_hash(&token),
        }),
        &forged_signature,
    );

    app.get_dpop(PRIVATE_PATH, &token, &proof)
        .await
        .assert_invalid_proof("DPoP proof jwk must be a public key that fits its alg");

    // The same point published by the issuer verifies no token either.
    let mut published = jwk.clone();
    published["kid"] = json!("small-order");
    app.issuer.publish_jwk(published);
    let forged = jws(
        &json!({ "alg": "EdDSA", "kid": "small-order", "typ": "JWT" }),
        &json!({
            "iss": app.issuer.issuer(),
            "aud": tests::AUDIENCE,
            "sub": "attacker",
            "exp": auth::testing::now_secs() + 300,
        }),
        &forged_signature,
    );
    let refused = app.private(&forged).await;
    assert_eq!(refused.status, 401, "{refused:?}");
    assert_eq!(refused.challenge().param("error"), Some("invalid_token"));
    app.dpop(
        &app.keys.ed,
        PRIVATE_PATH,
        &app.bound_token(&app.keys.ed, None),
    )
    .await
    .assert_ok(PRIVATE);
}

async fn a_token_bound_by_a_confirmation_method_we_do_not_check_is_refused() {
    let app = app().await;
    for (method, value) in [
        ("jwk", app.keys.ec.jwk()),
        ("jwe", json!("eyJhbGciOiJSU0EtT0FFUCJ9.a.b.c.d")),
        ("kid", json!("client-key-1")),
        ("jku", json!("https://client.example.com/keys")),
    ] {
        let token = app
            .token(&app.keys.rsa)
            .claim("cnf", json!({ method: value }))
            .sign()
            .unwrap();

        app.private(&token).await.assert_invalid_token(&format!(
            "the token is bound by cnf.{method}, a confirmation method this API does not check"
        ));
    }
    // A member RFC 7800 does not define binds nothing: the token is a bearer token.
    let unbound = app
        .token(&app.keys.rsa)
        .claim("cnf", json!({ "x-vendor": "anything" }))
        .sign()
        .unwrap();
    app.private(&unbound).await.assert_ok(PRIVATE);
}

async fn another_scheme_is_told_which_schemes_the_challenge_offers() {
    let required = spawn_app_in(DpopMode::Required).await;
    let allowed = app().await;

    for (app, expected, scheme) in [
        (&required, "DPoP", "DPoP"),
        (&allowed, "Bearer or DPoP", "Bearer"),
    ] {
        let value = format!("Bearer {}", app.valid_token(None));
        let bearer = app.get_with_authorization(PRIVATE_PATH, &value).await;
        let basic = app
            .get_with_authorization(PRIVATE_PATH, "Basic dXNlcjpwYXNz")
            .await;
        // In allowed mode a Bearer token is welcome: only Basic is another scheme.
        for reply in [basic, bearer]
            .iter()
            .take(if scheme == "Bearer" { 1 } else { 2 })
        {
            assert_eq!(reply.status, 401, "{reply:?}");
            assert_eq!(reply.challenge().scheme, scheme);
            assert_eq!(reply.challenge().param("error"), None);
            assert_eq!(
                reply.json(),
                json!({ "message": format!("unsupported authorization scheme, expected {expected}") })
            );
        }
    }
    let client = &required.keys.ec;
    let token = required.bound_token(client, None);
    required
        .dpop(client, PRIVATE_PATH, &token)
        .await
        .assert_ok(PRIVATE);
}

/// The fixture P-521 key, for ES512.
fn p521() -> SigningKey {
    SigningKey::p521_from_pem("p521", include_str!("../../../auth/fixtures/ec-p521.pem")).unwrap()
}

async fn es512_and_the_ed25519_name_are_accepted_for_tokens_and_proofs() {
    let app = spawn_app_with(TestConfig {
        public_url: Some(PUBLIC_URL.to_owned()),
        customize: |s| {
            s.auth
                .algorithms
                .extend([Algorithm::ES512, Algorithm::Ed25519]);
        },
        ..TestConfig::default()
    })
    .await;
    let p521 = p521();
    app.issuer.publish(&p521);
    // The Ed25519 key again, under a kid whose JWK names the fully specified algorithm.
    let ed = SigningKey::ed25519_from_pem(
        "ed-named",
        include_str!("../../../auth/fixtures/ed25519.pem"),
    )
    .unwrap();
    let mut named = ed.jwk();
    named["alg"] = json!("Ed25519");
    app.issuer.publish_jwk(named);

    let es512 = app.token(&p521).sign().unwrap();
    app.private(&es512).await.assert_ok(PRIVATE);
    let ed25519 = app.token(&ed).header("alg", "Ed25519").sign().unwrap();
    app.private(&ed25519).await.assert_ok(PRIVATE);
    // The fixture Ed25519 key as published first names EdDSA: it does not verify the other name.
    let misnamed = app
        .token(&app.keys.ed)
        .header("alg", "Ed25519")
        .sign()
        .unwrap();
    app.private(&misnamed)
        .await
        .assert_invalid_token("no usable key fits the token's kid and alg");

    let url = format!("{PUBLIC_URL}{PRIVATE_PATH}");
    for (client, alg) in [(&p521, "ES512"), (&app.keys.ed, "Ed25519")] {
        let token = app.bound_token(client, None);
        let proof = client
            .dpop_proof("GET", &url, &token)
            .header("alg", alg)
            .sign()
            .unwrap();
        app.get_dpop(PRIVATE_PATH, &token, &proof)
            .await
            .assert_ok(PRIVATE);
    }
    // An ES512 proof whose jwk is a P-256 key (no kit signs that: the signature is made up).
    let client = &app.keys.ec;
    let token = app.bound_token(client, None);
    let mut jwk = client.jwk();
    jwk.as_object_mut()
        .unwrap()
        .retain(|member, _| ["kty", "crv", "x", "y"].contains(&member.as_str()));
    let header = json!({ "typ": "dpop+jwt", "alg": "ES512", "jwk": jwk });
    let mismatched = jws(&header, &json!({ "htm": "GET" }), &[1; 132]);
    app.get_dpop(PRIVATE_PATH, &token, &mismatched)
        .await
        .assert_invalid_proof("DPoP proof jwk must be a public key that fits its alg");
}

tests::on_both_adapters!(
    a_proof_typ_is_accepted_with_or_without_its_application_prefix_and_nothing_else,
    a_proof_with_crit_or_b64_false_is_refused,
    a_dpop_request_whose_path_has_dot_segments_is_refused,
    an_ed25519_key_of_small_order_is_never_a_key_in_a_proof_or_a_jwks,
    a_token_bound_by_a_confirmation_method_we_do_not_check_is_refused,
    another_scheme_is_told_which_schemes_the_challenge_offers,
    es512_and_the_ed25519_name_are_accepted_for_tokens_and_proofs,
);
