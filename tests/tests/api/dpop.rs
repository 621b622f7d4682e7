//! DPoP (RFC 9449) over HTTP: every answer of the scheme gate, the proof checks, the binding,
//! the replay store, and each mode. Each test asserts the status, the challenge and the body.

use auth::testing::SigningKey;
use auth::{Algorithm, DpopMode};
use serde_json::json;
use tests::bodies::{PRIVATE, PRIVATE_SCOPED};
use tests::{PUBLIC_URL, TestApp, TestConfig, spawn_app_in, spawn_app_with};

const PRIVATE_PATH: &str = "/api/private";
const SCOPED_PATH: &str = "/api/private-scoped";
const ALGS: &str = "RS256 RS384 RS512 PS256 PS384 PS512 ES256 ES384 ES512 EdDSA Ed25519";

async fn app() -> TestApp {
    spawn_app_in(DpopMode::Allowed).await
}

/// The `resource_metadata` every challenge names with [`PUBLIC_URL`].
fn metadata() -> String {
    format!("{PUBLIC_URL}/.well-known/oauth-protected-resource")
}

async fn a_bound_token_with_a_fresh_proof_passes_for_every_proof_algorithm() {
    let app = app().await;
    let keys = &app.keys;
    for (client, alg) in [
        (&keys.ec, Algorithm::ES256),
        (&keys.next, Algorithm::RS256),
        (&keys.next, Algorithm::PS256),
        (&keys.ed, Algorithm::EdDSA),
    ] {
        let token = app.bound_token(client, None);
        let proof = client
            .dpop_proof("GET", &format!("{PUBLIC_URL}{PRIVATE_PATH}"), &token)
            .header("alg", alg.as_str())
            .sign()
            .unwrap();

        app.get_dpop(PRIVATE_PATH, &token, &proof)
            .await
            .assert_ok(PRIVATE);
        // The scheme is case-insensitive, with one or more spaces.
        let again = app.proof(client, PRIVATE_PATH, &token);
        app.get_with_proofs(PRIVATE_PATH, Some(&format!("dpop   {token}")), &[&again])
            .await
            .assert_ok(PRIVATE);
    }
}

async fn in_allowed_mode_bearer_answers_keep_their_status_and_body_and_gain_the_dpop_challenge() {
    let app = app().await;

    app.private(&app.valid_token(None)).await.assert_ok(PRIVATE);
    let bare = app.get(PRIVATE_PATH).await;
    assert_eq!(bare.status, 401);
    assert_eq!(
        bare.header("www-authenticate"),
        Some(
            format!(r#"Bearer realm="api", resource_metadata="{}", DPoP algs="{ALGS}", resource_metadata="{}""#, metadata(), metadata())
                .as_str()
        )
    );
    assert_eq!(bare.json(), json!({ "message": "missing bearer token" }));
    let expired = app.token(&app.keys.rsa).expires_in(-60).sign().unwrap();
    let refused = app.private(&expired).await;
    refused.assert_invalid_token("token expired");
    assert_eq!(refused.dpop_challenge().param("algs"), Some(ALGS));
    // A scoped route's 403 is the same as ever, with the DPoP challenge after it.
    let forbidden = app.private_scoped(&app.valid_token(None)).await;
    forbidden.assert_error(
        403,
        "insufficient_scope",
        "insufficient scope, requires read:messages",
    );
    assert_eq!(forbidden.challenge().param("scope"), Some("read:messages"));
}

async fn malformed_dpop_requests_are_400s_on_the_dpop_challenge() {
    let app = app().await;
    let client = &app.keys.ec;
    let token = app.bound_token(client, None);
    let proof = app.proof(client, PRIVATE_PATH, &token);

    let cases = [
        (
            app.get_with_proofs(PRIVATE_PATH, None, &[&proof]).await,
            "invalid_request",
            "a DPoP proof was sent without an Authorization header",
        ),
        (
            app.get_with_proofs(PRIVATE_PATH, Some(&format!("DPoP {token}")), &[])
                .await,
            "invalid_request",
            "the DPoP scheme requires a DPoP proof header",
        ),
        (
            app.get_with_proofs(
                PRIVATE_PATH,
                Some(&format!("DPoP {token}")),
                &[&proof, &proof],
            )
            .await,
            "invalid_dpop_proof",
            "more than one DPoP proof",
        ),
        (
            app.get_with_proofs(
                PRIVATE_PATH,
                Some(&format!("DPoP {token}")),
                &[&format!("{proof},{proof}")],
            )
            .await,
            "invalid_dpop_proof",
            "more than one DPoP proof",
        ),
    ];
    for (reply, error, description) in cases {
        reply.assert_dpop_error(400, error, description);
    }
}

async fn a_dpop_header_with_a_bearer_token_that_is_not_bound_is_a_400_on_the_bearer_challenge() {
    let app = app().await;
    let token = app.valid_token(None);
    let proof = app.proof(&app.keys.ec, PRIVATE_PATH, &token);

    let reply = app
        .get_with_proofs(PRIVATE_PATH, Some(&format!("Bearer {token}")), &[&proof])
        .await;

    reply.assert_error(
        400,
        "invalid_request",
        "a DPoP proof was sent with a Bearer token; send a DPoP-bound token with the DPoP scheme",
    );
}

// One case per check of the proof, in a table: long, but one idea.
#[allow(clippy::too_many_lines)]
async fn a_proof_that_fails_any_check_is_a_400_invalid_dpop_proof() {
    let app = app().await;
    let client = &app.keys.ec;
    let token = app.bound_token(client, None);
    let url = format!("{PUBLIC_URL}{PRIVATE_PATH}");
    let proof = || client.dpop_proof("GET", &url, &token);
    let now = auth::testing::now_secs();
    let private = {
        let mut jwk = client.jwk();
        jwk["d"] = json!("c2VjcmV0");
        jwk
    };
    let signed_by_another = {
        let genuine = proof().sign().unwrap();
        let other = app.proof(&app.keys.ed, PRIVATE_PATH, &token);
        let (input, _) = genuine.rsplit_once('.').unwrap();
        format!("{input}.{}", other.rsplit_once('.').unwrap().1)
    };

    for (fault, sent, description) in [
        ("not a JWS", "abc".to_owned(), "malformed DPoP proof"),
        (
            "typ JWT",
            proof().header("typ", "JWT").sign().unwrap(),
            "DPoP proof typ must be dpop+jwt",
        ),
        (
            "alg none",
            proof().header("alg", "none").sign().unwrap(),
            "unsupported DPoP proof algorithm",
        ),
        (
            "a private key in jwk",
            proof().header("jwk", private.clone()).sign().unwrap(),
            "DPoP proof jwk must be a public key that fits its alg",
        ),
        (
            "another key's signature",
            signed_by_another,
            "DPoP proof signature verification failed",
        ),
        (
            "iat too old",
            proof().claim("iat", now - 310).sign().unwrap(),
            "DPoP proof iat is outside the accepted window",
        ),
        (
            "iat too far ahead",
            proof().claim("iat", now + 45).sign().unwrap(),
            "DPoP proof iat is outside the accepted window",
        ),
        (
            "htm POST",
            proof().claim("htm", "POST").sign().unwrap(),
            "DPoP proof htm does not match the request method",
        ),
        (
            "htu of another route",
            proof()
                .claim("htu", format!("{PUBLIC_URL}/api/public"))
                .sign()
                .unwrap(),
            "DPoP proof htu does not match the request URL",
        ),
        (
            "htu of another host",
            proof()
                .claim("htu", format!("https://evil.example.com{PRIVATE_PATH}"))
                .sign()
                .unwrap(),
            "DPoP proof htu does not match the request URL",
        ),
        (
            "jti of 257 bytes",
            proof().claim("jti", "j".repeat(257)).sign().unwrap(),
            "DPoP proof jti is missing or invalid",
        ),
        (
            "no jti",
            proof().without_claim("jti").sign().unwrap(),
            "DPoP proof jti is missing or invalid",
        ),
        (
            "ath of another token",
            proof()
                .claim("ath", auth::dpop::access_token_hash("another"))
                .sign()
                .unwrap(),
            "DPoP proof ath does not match the access token",
        ),
        (
            "over 8 KiB",
            "a".repeat(8 * 1024 + 1),
            "DPoP proof too large",
        ),
    ] {
        let reply = app.get_dpop(PRIVATE_PATH, &token, &sent).await;
        assert_eq!(reply.status, 400, "{fault}: {reply:?}");
        reply.assert_invalid_proof(description);
    }
    // None of them used anything up: a good proof still passes.
    app.dpop(client, PRIVATE_PATH, &token)
        .await
        .assert_ok(PRIVATE);
}

async fn iat_is_accepted_inside_its_window_and_refused_just_outside() {
    let app = app().await;
    let client = &app.keys.ec;
    let token = app.bound_token(client, None);
    let url = format!("{PUBLIC_URL}{PRIVATE_PATH}");
    let at = |offset: i64| {
        client
            .dpop_proof("GET", &url, &token)
            .claim("iat", auth::testing::now_secs() + offset)
            .sign()
            .unwrap()
    };

    // max_age 300 s and leeway 30 s; a few seconds' margin for the clock's whole seconds.
    for offset in [-297, 27] {
        app.get_dpop(PRIVATE_PATH, &token, &at(offset))
            .await
            .assert_ok(PRIVATE);
    }
    for offset in [-303, 33] {
        app.get_dpop(PRIVATE_PATH, &token, &at(offset))
            .await
            .assert_invalid_proof("DPoP proof iat is outside the accepted window");
    }
}

async fn htu_is_compared_in_normal_form() {
    let app = app().await;
    let client = &app.keys.ec;
    let token = app.bound_token(client, None);

    for htu in [
        "HTTPS://API.EXAMPLE.COM/api/private",
        "https://api.example.com:443/api/private",
        "https://api.example.com/api/%70rivate",
        "https://api.example.com/api/private?page=2#top",
    ] {
        let proof = client.dpop_proof("GET", htu, &token).sign().unwrap();
        app.get_dpop(PRIVATE_PATH, &token, &proof)
            .await
            .assert_ok(PRIVATE);
    }
    // The request's own query is dropped too.
    let proof = app.proof(client, PRIVATE_PATH, &token);
    app.get_dpop("/api/private?x=1", &token, &proof)
        .await
        .assert_ok(PRIVATE);
}

async fn a_bound_token_sent_as_bearer_is_refused_on_the_bearer_challenge_cache_hits_included() {
    let app = app().await;
    let client = &app.keys.ec;
    let token = app.bound_token(client, None);
    let description =
        "the token is DPoP-bound (cnf.jkt); send it with the DPoP scheme and a DPoP proof";

    // The first refusal checks the token in full; the DPoP request caches it; the last is a
    // cache hit.
    app.private(&token).await.assert_invalid_token(description);
    app.dpop(client, PRIVATE_PATH, &token)
        .await
        .assert_ok(PRIVATE);
    app.private(&token).await.assert_invalid_token(description);
    // With its proof beside it, but the Bearer scheme: still refused.
    let proof = app.proof(client, PRIVATE_PATH, &token);
    app.get_with_proofs(PRIVATE_PATH, Some(&format!("Bearer {token}")), &[&proof])
        .await
        .assert_invalid_token(description);
}

async fn the_dpop_scheme_needs_a_token_bound_to_the_proofs_key() {
    let app = app().await;
    let client = &app.keys.ec;

    let unbound = app.valid_token(None);
    app.dpop(client, PRIVATE_PATH, &unbound)
        .await
        .assert_dpop_error(
            401,
            "invalid_token",
            "the token is not DPoP-bound (no cnf.jkt), so it cannot be sent with the DPoP scheme",
        );
    let bound_to_another = app.bound_token(&app.keys.ed, None);
    app.dpop(client, PRIVATE_PATH, &bound_to_another)
        .await
        .assert_dpop_error(
            401,
            "invalid_token",
            "the DPoP proof key does not match the token's cnf.jkt",
        );
    // Members of cnf that RFC 7800 does not define are ignored (its own methods, such as kid,
    // are refused: tests/edges.rs).
    let with_extras = app
        .token(&app.keys.rsa)
        .claim(
            "cnf",
            json!({ "jkt": client.jkt(), "x-vendor": "k-1", "x5u": 5 }),
        )
        .sign()
        .unwrap();
    app.dpop(client, PRIVATE_PATH, &with_extras)
        .await
        .assert_ok(PRIVATE);
    // An invalid token is refused as ever, on the DPoP challenge.
    let expired = app
        .token(&app.keys.rsa)
        .claim("cnf", json!({ "jkt": client.jkt() }))
        .expires_in(-60)
        .sign()
        .unwrap();
    app.dpop(client, PRIVATE_PATH, &expired)
        .await
        .assert_dpop_error(401, "invalid_token", "token expired");
}

async fn a_replayed_proof_is_refused_and_a_refused_request_uses_nothing_up() {
    let app = app().await;
    let client = &app.keys.ec;
    let token = app.bound_token(client, None);
    let proof = app.proof(client, PRIVATE_PATH, &token);

    app.get_dpop(PRIVATE_PATH, &token, &proof)
        .await
        .assert_ok(PRIVATE);
    app.get_dpop(PRIVATE_PATH, &token, &proof)
        .await
        .assert_invalid_proof("DPoP proof has already been used");

    // A 403 records nothing: the same proof gets the same 403 again, not a replay.
    let proof = app.proof(client, SCOPED_PATH, &token);
    for _ in 0..2 {
        let reply = app.get_dpop(SCOPED_PATH, &token, &proof).await;
        reply.assert_dpop_error(
            403,
            "insufficient_scope",
            "insufficient scope, requires read:messages",
        );
        assert_eq!(reply.dpop_challenge().param("scope"), Some("read:messages"));
    }
    // Another client's proof with the same jti is its own.
    let other = &app.keys.ed;
    let other_token = app.bound_token(other, Some("read:messages"));
    let jti_of = |proof: &str| {
        let payload = proof.split('.').nth(1).unwrap();
        let bytes =
            base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, payload)
                .unwrap();
        serde_json::from_slice::<serde_json::Value>(&bytes).unwrap()["jti"].clone()
    };
    let first_proof = app.proof(
        client,
        SCOPED_PATH,
        &app.bound_token(client, Some("read:messages")),
    );
    let same_jti = other
        .dpop_proof("GET", &format!("{PUBLIC_URL}{SCOPED_PATH}"), &other_token)
        .claim("jti", jti_of(&first_proof))
        .sign()
        .unwrap();
    app.get_dpop(SCOPED_PATH, &other_token, &same_jti)
        .await
        .assert_ok(PRIVATE_SCOPED);
}

async fn in_required_mode_only_dpop_is_offered_and_bearer_gets_the_bare_challenge() {
    let app = spawn_app_in(DpopMode::Required).await;
    let client = &app.keys.ec;

    let bearer = app.private(&app.valid_token(None)).await;
    assert_eq!(bearer.status, 401);
    assert_eq!(
        bearer.header("www-authenticate"),
        Some(
            format!(
                r#"DPoP realm="api", algs="{ALGS}", resource_metadata="{}""#,
                metadata()
            )
            .as_str()
        )
    );
    assert!(bearer.json().get("error").is_none(), "{bearer:?}");
    // Even an invalid Bearer token gets the same answer: the gate comes first.
    let expired = app.token(&app.keys.rsa).expires_in(-60).sign().unwrap();
    assert_eq!(app.private(&expired).await.body, bearer.body);

    let token = app.bound_token(client, None);
    app.dpop(client, PRIVATE_PATH, &token)
        .await
        .assert_ok(PRIVATE);
    app.dpop(client, PRIVATE_PATH, &app.valid_token(None))
        .await
        .assert_dpop_error(
            401,
            "invalid_token",
            "the token is not DPoP-bound (no cnf.jkt), so it cannot be sent with the DPoP scheme",
        );
    let document = app
        .get("/.well-known/oauth-protected-resource")
        .await
        .json();
    assert_eq!(document["dpop_bound_access_tokens_required"], json!(true));
    assert_eq!(
        document["dpop_signing_alg_values_supported"],
        json!(ALGS.split(' ').collect::<Vec<_>>())
    );
}

async fn in_disabled_mode_the_server_is_unaware_of_dpop() {
    let app = spawn_app_in(DpopMode::Disabled).await;
    let client = &app.keys.ec;
    let token = app.bound_token(client, None);

    // The DPoP scheme is another scheme: the bare Bearer challenge, no DPoP one.
    let reply = app.dpop(client, PRIVATE_PATH, &token).await;
    assert_eq!(reply.status, 401);
    assert_eq!(
        reply.header("www-authenticate"),
        Some(format!(r#"Bearer realm="api", resource_metadata="{}""#, metadata()).as_str())
    );
    // cnf.jkt and the DPoP header are ignored: a bound token passes as a bearer token.
    app.private(&token).await.assert_ok(PRIVATE);
    let proof = app.proof(client, PRIVATE_PATH, &token);
    app.get_with_proofs(PRIVATE_PATH, Some(&format!("Bearer {token}")), &[&proof])
        .await
        .assert_ok(PRIVATE);
    let document = app
        .get("/.well-known/oauth-protected-resource")
        .await
        .json();
    assert!(document.get("dpop_signing_alg_values_supported").is_none());
}

async fn without_a_public_url_dpop_requests_are_refused_naming_the_setting_and_bearer_works() {
    let app = spawn_app_with(TestConfig::default()).await;
    let client = &app.keys.ec;
    let token = app.bound_token(client, None);

    app.dpop(client, PRIVATE_PATH, &token)
        .await
        .assert_invalid_proof(
            "DPoP proofs cannot be checked here: the API's public URL is not configured (public_url)",
        );
    app.private(&app.valid_token(None)).await.assert_ok(PRIVATE);
}

async fn the_memory_store_keeps_each_client_to_its_quota_and_answers_503_past_it() {
    let app = spawn_app_with(TestConfig {
        public_url: Some(PUBLIC_URL.to_owned()),
        customize: |s| s.auth.dpop.replay_per_client = 2,
        ..TestConfig::default()
    })
    .await;
    let greedy = &app.keys.ec;
    let token = app.bound_token(greedy, None);

    for _ in 0..2 {
        app.dpop(greedy, PRIVATE_PATH, &token)
            .await
            .assert_ok(PRIVATE);
    }
    let full = app.dpop(greedy, PRIVATE_PATH, &token).await;
    full.assert_unavailable();
    assert_eq!(
        full.json()["message"],
        "the DPoP replay store is unavailable, retry later"
    );
    // Nor does another key of the same account escape the quota: it is counted per subject too.
    let second_key = &app.keys.ed;
    let same_account = app.bound_token(second_key, None);
    app.dpop(second_key, PRIVATE_PATH, &same_account)
        .await
        .assert_unavailable();
    // Another client is not held back by the first.
    let modest = app
        .token(&app.keys.rsa)
        .claim("sub", "someone-else")
        .claim("cnf", json!({ "jkt": second_key.jkt() }))
        .sign()
        .unwrap();
    app.dpop(second_key, PRIVATE_PATH, &modest)
        .await
        .assert_ok(PRIVATE);
    // One client over its quota is not the store's fault: the instance stays ready.
    assert_eq!(
        app.get("/readyz").await.json()["dpop_replay_store"],
        json!({ "status": "ready" })
    );
    let metrics = app.metrics().await;
    assert_eq!(
        metrics.get(
            "auth_dpop_replay_checks_total",
            &[("result", "client_quota")]
        ),
        Some(2.0)
    );
    assert_eq!(
        metrics.get("auth_dpop_replay_checks_total", &[("result", "new")]),
        Some(3.0)
    );
}

async fn a_full_memory_store_answers_503_and_says_so_in_readyz_and_the_metrics() {
    let app = spawn_app_with(TestConfig {
        public_url: Some(PUBLIC_URL.to_owned()),
        customize: |s| {
            s.auth.dpop.replay_capacity = 1000;
            s.auth.dpop.replay_per_client = 1000;
        },
        ..TestConfig::default()
    })
    .await;
    let client = &app.keys.ec;
    let token = app.bound_token(client, None);
    for _ in 0..1000 {
        app.dpop(client, PRIVATE_PATH, &token)
            .await
            .assert_ok(PRIVATE);
    }

    app.dpop(client, PRIVATE_PATH, &token)
        .await
        .assert_unavailable();
    let ready = app.get("/readyz").await;
    // Allowed mode: Bearer callers are still served, so the instance stays in rotation.
    assert_eq!(ready.status, 200);
    assert_eq!(
        ready.json()["dpop_replay_store"],
        json!({ "status": "unavailable", "reason": "full" })
    );
    app.private(&app.valid_token(None)).await.assert_ok(PRIVATE);
    assert_eq!(
        app.metrics()
            .await
            .get("auth_dpop_replay_checks_total", &[("result", "full")]),
        Some(1.0)
    );
}

async fn dpop_outcomes_are_counted_by_reason() {
    let app = app().await;
    let client = &app.keys.ec;
    let token = app.bound_token(client, None);
    let proof = app.proof(client, PRIVATE_PATH, &token);

    app.get_dpop(PRIVATE_PATH, &token, &proof).await;
    app.get_dpop(PRIVATE_PATH, &token, &proof).await;
    app.private(&app.valid_token(None)).await;

    let metrics = app.metrics().await;
    assert_eq!(
        metrics.get("auth_dpop_requests_total", &[("result", "ok")]),
        Some(1.0)
    );
    assert_eq!(
        metrics.get(
            "auth_dpop_requests_total",
            &[
                ("result", "invalid_dpop_proof"),
                ("reason", "dpop_replayed")
            ]
        ),
        Some(1.0)
    );
    assert_eq!(
        metrics.get("auth_dpop_replay_checks_total", &[("result", "replayed")]),
        Some(1.0)
    );
    // Both answers of the store were timed.
    assert_eq!(
        metrics.get("auth_dpop_replay_check_duration_seconds_count", &[]),
        Some(2.0)
    );
}

// The binary's own middleware, not the adapter: on actix alone.
#[actix_web::test]
async fn cors_lets_browsers_send_the_dpop_header() {
    let app = app().await;

    let reply = app
        .send(
            app.request(actix_web::http::Method::OPTIONS, PRIVATE_PATH)
                .insert_header(("Origin", "http://localhost:3000"))
                .insert_header(("Access-Control-Request-Method", "GET"))
                .insert_header(("Access-Control-Request-Headers", "authorization, dpop")),
        )
        .await;

    assert_eq!(reply.status, 200, "{reply:?}");
    let allowed = reply
        .header("access-control-allow-headers")
        .unwrap_or_default()
        .to_ascii_lowercase();
    assert!(allowed.contains("dpop"), "{allowed}");
}

/// A key that signs DPoP proofs but is in no fixture: any key may be a client's.
async fn a_generated_client_key_works_too() {
    let app = app().await;
    let client = SigningKey::generate_rsa("client").unwrap();
    let token = app.bound_token(&client, None);

    app.dpop(&client, PRIVATE_PATH, &token)
        .await
        .assert_ok(PRIVATE);
}

/// The proof key cache (on by default) keeps a client's header once its proof passed; a proof
/// that reuses that header with another key's payload and signature is still refused, and the
/// client's next honest proofs pass.
async fn a_known_proof_header_with_another_signature_is_refused() {
    let app = app().await;
    let client = &app.keys.ec;
    let token = app.bound_token(client, None);
    let honest = app.proof(client, PRIVATE_PATH, &token);
    app.get_dpop(PRIVATE_PATH, &token, &honest)
        .await
        .assert_ok(PRIVATE);

    let header = honest.split('.').next().unwrap();
    let other = app.proof(&app.keys.ed, PRIVATE_PATH, &token);
    let (_, payload_and_signature) = other.split_once('.').unwrap();
    app.get_dpop(
        PRIVATE_PATH,
        &token,
        &format!("{header}.{payload_and_signature}"),
    )
    .await
    .assert_invalid_proof("DPoP proof signature verification failed");
    app.dpop(client, PRIVATE_PATH, &token)
        .await
        .assert_ok(PRIVATE);
}

tests::on_both_adapters!(
    a_known_proof_header_with_another_signature_is_refused,
    a_bound_token_with_a_fresh_proof_passes_for_every_proof_algorithm,
    in_allowed_mode_bearer_answers_keep_their_status_and_body_and_gain_the_dpop_challenge,
    malformed_dpop_requests_are_400s_on_the_dpop_challenge,
    a_dpop_header_with_a_bearer_token_that_is_not_bound_is_a_400_on_the_bearer_challenge,
    a_proof_that_fails_any_check_is_a_400_invalid_dpop_proof,
    iat_is_accepted_inside_its_window_and_refused_just_outside,
    htu_is_compared_in_normal_form,
    a_bound_token_sent_as_bearer_is_refused_on_the_bearer_challenge_cache_hits_included,
    the_dpop_scheme_needs_a_token_bound_to_the_proofs_key,
    a_replayed_proof_is_refused_and_a_refused_request_uses_nothing_up,
    in_required_mode_only_dpop_is_offered_and_bearer_gets_the_bare_challenge,
    in_disabled_mode_the_server_is_unaware_of_dpop,
    without_a_public_url_dpop_requests_are_refused_naming_the_setting_and_bearer_works,
    the_memory_store_keeps_each_client_to_its_quota_and_answers_503_past_it,
    a_full_memory_store_answers_503_and_says_so_in_readyz_and_the_metrics,
    dpop_outcomes_are_counted_by_reason,
    a_generated_client_key_works_too,
);
