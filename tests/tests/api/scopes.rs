//! `/api/private-scoped`: `read:messages` in `scope` or Auth0's `permissions`.

use serde_json::json;
use tests::bodies::PRIVATE_SCOPED;
use tests::{TestConfig, spawn_app, spawn_app_with};

async fn private_scoped_rejects_token_without_read_messages() {
    let app = spawn_app().await;

    for scope in [
        None,
        Some("openid profile"),
        Some("read:message"),
        Some("READ:MESSAGES"),
        Some("read:messages:all"),
    ] {
        let reply = app.private_scoped(&app.valid_token(scope)).await;
        reply.assert_error(
            403,
            "insufficient_scope",
            "insufficient scope, requires read:messages",
        );
        assert_eq!(reply.challenge().param("scope"), Some("read:messages"));
    }
}

async fn private_scoped_accepts_read_messages_among_other_scopes() {
    let app = spawn_app().await;

    for scope in [
        "read:messages",
        "openid read:messages profile",
        "  read:messages  ",
    ] {
        app.private_scoped(&app.valid_token(Some(scope)))
            .await
            .assert_ok(PRIVATE_SCOPED);
    }
}

async fn auth0_permissions_count_as_scopes() {
    let app = spawn_app().await;
    let token = app
        .token(&app.keys.rsa)
        .claim("permissions", json!(["read:messages"]))
        .sign()
        .unwrap();

    app.private_scoped(&token).await.assert_ok(PRIVATE_SCOPED);
}

async fn permissions_do_not_count_when_turned_off() {
    let app = spawn_app_with(TestConfig {
        permissions_as_scopes: false,
        ..TestConfig::default()
    })
    .await;
    let token = app
        .token(&app.keys.rsa)
        .claim("permissions", json!(["read:messages"]))
        .sign()
        .unwrap();

    let reply = app.private_scoped(&token).await;

    assert_eq!(reply.status, 403);
}

async fn authentication_comes_before_the_scope_check() {
    let app = spawn_app().await;
    let expired = app
        .token(&app.keys.rsa)
        .claim("scope", "openid")
        .expires_in(-3600)
        .sign()
        .unwrap();

    let refused = app.private_scoped(&expired).await;
    refused.assert_invalid_token("token expired");
    assert_eq!(refused.challenge().param("scope"), Some("read:messages"));
    app.get("/api/private-scoped")
        .await
        .assert_scoped_401("read:messages");
}

async fn malformed_scope_claims_are_invalid_tokens() {
    let app = spawn_app().await;

    for (name, value) in [
        ("scope", json!(["read:messages"])),
        ("permissions", json!("read:messages")),
    ] {
        let token = app.token(&app.keys.rsa).claim(name, value).sign().unwrap();
        app.private_scoped(&token)
            .await
            .assert_invalid_token("invalid scope or permissions claim");
    }
}

tests::on_both_adapters!(
    private_scoped_rejects_token_without_read_messages,
    private_scoped_accepts_read_messages_among_other_scopes,
    auth0_permissions_count_as_scopes,
    permissions_do_not_count_when_turned_off,
    authentication_comes_before_the_scope_check,
    malformed_scope_claims_are_invalid_tokens,
);
