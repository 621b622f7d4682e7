//! `GET /api/whoami`: optional authentication. No token is anonymous; a bad token is 401 and a
//! key outage 503, never anonymous.

use serde_json::json;
use tests::{Mode, TestConfig, spawn_app, spawn_app_with};

async fn no_authorization_header_is_anonymous() {
    let app = spawn_app().await;

    let reply = app.get("/api/whoami").await;

    assert_eq!(reply.status, 200);
    assert_eq!(reply.json(), json!({ "anonymous": true }));
}

async fn a_valid_token_shows_its_subject_and_scopes() {
    let app = spawn_app().await;
    let token = app
        .token(&app.keys.rsa)
        .claim("scope", "openid read:messages")
        .claim("permissions", serde_json::json!(["write:messages"]))
        .sign()
        .unwrap();

    let reply = app.get_with_token("/api/whoami", &token).await;

    assert_eq!(reply.status, 200);
    assert_eq!(
        reply.json(),
        json!({
            "iss": app.issuer.issuer(),
            "sub": "user-1",
            "scopes": ["openid", "read:messages", "write:messages"],
        })
    );
}

async fn a_bad_token_is_refused_never_anonymous() {
    let app = spawn_app().await;
    let expired = app.token(&app.keys.rsa).expires_in(-60).sign().unwrap();
    let forged = app.token(&app.keys.rogue).sign().unwrap();

    app.get_with_token("/api/whoami", &expired)
        .await
        .assert_invalid_token("token expired");
    app.get_with_token("/api/whoami", &forged)
        .await
        .assert_invalid_token("signature verification failed");
    app.get_with_token("/api/whoami", "not-a-jwt")
        .await
        .assert_invalid_token("malformed token");
    app.get_with_authorization("/api/whoami", "Bearer")
        .await
        .assert_invalid_request();
    // Credentials of another scheme are an attempt to authenticate: refused, not ignored.
    app.get_with_authorization("/api/whoami", "Basic dXNlcjpwYXNz")
        .await
        .assert_bare_401();
    let in_query = app
        .get(&format!(
            "/api/whoami?access_token={}",
            app.valid_token(None)
        ))
        .await;
    in_query.assert_invalid_request();
}

async fn a_key_outage_is_503_never_anonymous() {
    let app = spawn_app_with(TestConfig {
        initial_mode: Mode::Status(503),
        wait_ready: false,
        ..TestConfig::default()
    })
    .await;

    app.get_with_token("/api/whoami", &app.valid_token(None))
        .await
        .assert_unavailable();
    // Without a token the caller is still anonymous: no key is needed for that.
    assert_eq!(
        app.get("/api/whoami").await.json(),
        json!({ "anonymous": true })
    );
}

async fn anonymous_callers_are_counted() {
    let app = spawn_app().await;

    app.get("/api/whoami").await;
    app.get("/api/whoami").await;

    let scrape = app.metrics().await;
    assert!(
        (scrape.counter("auth_requests_total", &[("result", "anonymous")]) - 2.0).abs()
            < f64::EPSILON
    );
}

tests::on_both_adapters!(
    no_authorization_header_is_anonymous,
    a_valid_token_shows_its_subject_and_scopes,
    a_bad_token_is_refused_never_anonymous,
    a_key_outage_is_503_never_anonymous,
    anonymous_callers_are_counted,
);
