//! RFC 9728 protected resource metadata, and `resource_metadata=` in every challenge when
//! `server.public_url` is set.

use serde_json::json;
use tests::{AUDIENCE, TestConfig, spawn_app, spawn_app_with};

const PATH: &str = "/.well-known/oauth-protected-resource";

#[actix_web::test]
async fn the_document_names_the_resource_its_issuer_scopes_methods_and_algorithms() {
    let app = spawn_app_with(TestConfig {
        public_url: Some("https://api.example.com".to_owned()),
        ..TestConfig::default()
    })
    .await;

    let reply = app.get(PATH).await;

    assert_eq!(reply.status, 200);
    assert_eq!(reply.header("content-type"), Some("application/json"));
    assert_eq!(
        reply.json(),
        json!({
            "resource": "https://api.example.com",
            "authorization_servers": [app.issuer.issuer()],
            "scopes_supported": ["read:messages"],
            "bearer_methods_supported": ["header"],
            "resource_signing_alg_values_supported": ["RS256", "PS256", "ES256", "EdDSA"],
        })
    );
}

#[actix_web::test]
async fn with_a_public_url_every_challenge_names_the_metadata() {
    let app = spawn_app_with(TestConfig {
        public_url: Some("https://api.example.com/".to_owned()),
        ..TestConfig::default()
    })
    .await;
    let expected = "https://api.example.com/.well-known/oauth-protected-resource";

    let missing = app.get("/api/private").await;
    let invalid = app.private("not-a-jwt").await;
    let scope = app.private_scoped(&app.valid_token(None)).await;

    for reply in [&missing, &invalid, &scope] {
        assert_eq!(
            reply.challenge().param("resource_metadata"),
            Some(expected),
            "{reply:?}"
        );
    }
    assert_eq!(missing.status, 401);
    assert_eq!(scope.challenge().param("error"), Some("insufficient_scope"));
}

#[actix_web::test]
async fn without_a_public_url_the_resource_is_the_audience_and_challenges_stay_as_they_were() {
    let app = spawn_app().await;

    let document = app.get(PATH).await.json();
    let missing = app.get("/api/private").await;

    assert_eq!(document["resource"], AUDIENCE);
    missing.assert_bare_401();
}
