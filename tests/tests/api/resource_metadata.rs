//! RFC 9728 protected resource metadata as MCP clients read it: published where §3.1 puts it
//! for `auth.public_url`, naming exactly that resource, open to any origin, and named by
//! every challenge. Without `auth.public_url` there is no resource identifier to publish.

use actix_web::http::Method;
use serde_json::json;
use tests::{TestApp, TestConfig, spawn_app, spawn_app_with};

const ROOT: &str = "/.well-known/oauth-protected-resource";

async fn app_at(public_url: &str) -> TestApp {
    spawn_app_with(TestConfig {
        public_url: Some(public_url.to_owned()),
        ..TestConfig::default()
    })
    .await
}

async fn the_document_names_the_resource_exactly_its_issuer_scopes_and_methods() {
    let app = app_at("https://api.example.com").await;

    let reply = app.get(ROOT).await;

    assert_eq!(reply.status, 200);
    assert_eq!(reply.header("content-type"), Some("application/json"));
    // No resource_signing_alg_values_supported: RFC 9728 means signed responses by it.
    assert_eq!(
        reply.json(),
        json!({
            "resource": "https://api.example.com",
            "authorization_servers": [app.issuer.issuer()],
            "scopes_supported": ["read:messages"],
            "bearer_methods_supported": ["header"],
            "dpop_signing_alg_values_supported":
                ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA", "Ed25519"],
        })
    );
}

async fn a_resource_with_a_path_has_its_document_under_the_well_known_prefix() {
    let app = app_at("https://api.example.com/mcp").await;

    let document = app.get(&format!("{ROOT}/mcp")).await;
    let root = app.get(ROOT).await;
    let missing = app.get("/api/private").await;

    assert_eq!(document.status, 200);
    assert_eq!(document.json()["resource"], "https://api.example.com/mcp");
    assert_eq!(root.status, 404);
    assert_eq!(root.json()["message"], "Not Found");
    assert_eq!(
        missing.challenge().param("resource_metadata"),
        Some("https://api.example.com/.well-known/oauth-protected-resource/mcp")
    );
}

async fn with_a_public_url_every_challenge_names_the_metadata() {
    let app = app_at("https://api.example.com/").await;
    let expected = "https://api.example.com/.well-known/oauth-protected-resource";

    let missing = app.get("/api/private").await;
    let invalid = app.private("not-a-jwt").await;
    let scope = app.private_scoped(&app.valid_token(None)).await;
    let scoped_missing = app.get("/api/private-scoped").await;

    for reply in [&missing, &invalid, &scope, &scoped_missing] {
        assert_eq!(
            reply.challenge().param("resource_metadata"),
            Some(expected),
            "{reply:?}"
        );
    }
    assert_eq!(missing.status, 401);
    assert_eq!(missing.challenge().param("scope"), None);
    assert_eq!(scoped_missing.status, 401);
    assert_eq!(
        scoped_missing.challenge().param("scope"),
        Some("read:messages")
    );
    assert_eq!(scope.challenge().param("error"), Some("insufficient_scope"));
    // The resource itself keeps its exact form, trailing slash and all.
    assert_eq!(
        app.get(ROOT).await.json()["resource"],
        "https://api.example.com/"
    );
}

async fn without_a_public_url_no_document_is_served_and_challenges_name_none() {
    let app = spawn_app().await;

    let document = app.get(ROOT).await;
    let missing = app.get("/api/private").await;

    assert_eq!(document.status, 404);
    assert_eq!(document.json()["message"], "Not Found");
    missing.assert_bare_401();
}

// The binary's own middleware, not the adapter: on actix alone.
#[actix_web::test]
async fn the_document_answers_any_origin_and_every_answer_exposes_the_challenge() {
    let app = app_at("https://api.example.com").await;
    let from = |origin: &'static str, method: Method, path: &str| {
        app.request(method, path).insert_header(("Origin", origin))
    };

    let document = app
        .send(from("https://client.example", Method::GET, ROOT))
        .await;
    let preflight = app
        .send(
            from("https://client.example", Method::OPTIONS, ROOT)
                .insert_header(("Access-Control-Request-Method", "GET")),
        )
        .await;
    let refused = app
        .send(from("http://localhost:3000", Method::GET, "/api/private"))
        .await;
    let stranger = app
        .send(from("https://client.example", Method::GET, "/api/private"))
        .await;

    assert_eq!(document.status, 200);
    assert_eq!(
        document.header("access-control-allow-origin"),
        Some("https://client.example")
    );
    assert_eq!(preflight.status, 200, "{preflight:?}");
    assert_eq!(refused.status, 401);
    assert_eq!(
        refused.header("access-control-allow-origin"),
        Some("http://localhost:3000")
    );
    // Scripts may read the challenge, and the DPoP server nonce to use next.
    let mut exposed: Vec<String> = refused
        .header("access-control-expose-headers")
        .unwrap_or_default()
        .split(',')
        .map(|name| name.trim().to_ascii_lowercase())
        .collect();
    exposed.sort();
    assert_eq!(exposed, ["dpop-nonce", "www-authenticate"]);
    // The API's own routes stay limited to the configured origins.
    assert_ne!(
        stranger.header("access-control-allow-origin"),
        Some("https://client.example")
    );
}

tests::on_both_adapters!(
    the_document_names_the_resource_exactly_its_issuer_scopes_and_methods,
    a_resource_with_a_path_has_its_document_under_the_well_known_prefix,
    with_a_public_url_every_challenge_names_the_metadata,
    without_a_public_url_no_document_is_served_and_challenges_name_none,
);
