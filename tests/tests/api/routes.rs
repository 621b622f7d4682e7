use actix_web::http::Method;
use tests::bodies::{PRIVATE, PRIVATE_SCOPED, PUBLIC};
use tests::spawn_app;

async fn public_answers_the_exact_sample_body() {
    let app = spawn_app().await;

    let reply = app.public().await;

    reply.assert_ok(PUBLIC);
    assert_eq!(reply.header("content-type"), Some("application/json"));
}

async fn private_answers_the_exact_sample_body_for_a_valid_token() {
    let app = spawn_app().await;

    let reply = app.private(&app.valid_token(None)).await;

    reply.assert_ok(PRIVATE);
    assert_eq!(reply.header("content-type"), Some("application/json"));
}

async fn private_scoped_answers_the_exact_sample_body_with_read_messages() {
    let app = spawn_app().await;

    let reply = app
        .private_scoped(&app.valid_token(Some("read:messages")))
        .await;

    reply.assert_ok(PRIVATE_SCOPED);
}

async fn public_ignores_any_authorization_header() {
    let app = spawn_app().await;

    let reply = app
        .get_with_authorization("/api/public", "Bearer garbage")
        .await;

    reply.assert_ok(PUBLIC);
}

async fn healthz_and_readyz_answer_200_once_keys_are_loaded() {
    let app = spawn_app().await;

    assert_eq!(app.get("/healthz").await.json()["status"], "ok");
    assert_eq!(app.get("/readyz").await.status, 200);
}

async fn unknown_path_answers_json_404() {
    let app = spawn_app().await;

    let reply = app.get("/api/nope").await;

    assert_eq!(reply.status, 404);
    assert_eq!(reply.body, r#"{"message":"Not Found"}"#);
    assert_eq!(reply.header("content-type"), Some("application/json"));
}

async fn wrong_method_on_known_path_answers_json_405() {
    let app = spawn_app().await;

    let reply = app.send(app.request(Method::POST, "/api/public")).await;

    assert_eq!(reply.status, 405);
    assert_eq!(reply.json()["message"], "Method Not Allowed");
    assert_eq!(reply.header("allow"), Some("GET, HEAD"));
    assert_eq!(reply.header("content-type"), Some("application/json"));
}

async fn wrong_method_on_a_protected_path_is_authenticated_first() {
    let app = spawn_app().await;

    let anonymous = app.send(app.request(Method::DELETE, "/api/private")).await;
    let authenticated = app
        .send(
            app.request(Method::DELETE, "/api/private")
                .insert_header(("Authorization", format!("Bearer {}", app.valid_token(None)))),
        )
        .await;

    anonymous.assert_bare_401();
    // The guard's answer alone: no `Allow` (axum adds one when its guard is on the method router).
    assert_eq!(anonymous.header("allow"), None, "{anonymous:?}");
    assert_eq!(authenticated.status, 405);
    assert_eq!(authenticated.header("allow"), Some("GET, HEAD"));
}

/// HEAD answers as GET does, guard included, with no body (RFC 9110 §9.3.2; Express does too).
async fn head_answers_as_get_without_the_body() {
    let app = spawn_app().await;
    let plain = format!("Bearer {}", app.valid_token(None));
    let scoped = format!("Bearer {}", app.valid_token(Some("read:messages")));
    for (path, authorization, status) in [
        ("/api/public", None, 200),
        ("/api/private", None, 401),
        ("/api/private", Some("Bearer not-a-token"), 401),
        ("/api/private", Some(plain.as_str()), 200),
        ("/api/private-scoped", Some(plain.as_str()), 403),
        ("/api/private-scoped", Some(scoped.as_str()), 200),
    ] {
        let send = |method| {
            let request = app.request(method, path);
            match authorization {
                Some(value) => app.send(request.insert_header(("Authorization", value))),
                None => app.send(request),
            }
        };
        let (get, head) = (send(Method::GET).await, send(Method::HEAD).await);
        assert_eq!(get.status, status, "{path}: {get:?}");
        assert_eq!(head.status, status, "{path}: {head:?}");
        assert!(head.body.is_empty(), "{path}: {head:?}");
        for name in ["content-type", "www-authenticate", "allow"] {
            assert_eq!(head.header(name), get.header(name), "{path}: {name}");
        }
    }
}

// The binary's own middleware, not the adapter: on actix alone.
#[actix_web::test]
async fn cors_preflight_from_allowed_origin_is_granted() {
    let app = spawn_app().await;

    let reply = app
        .send(
            app.request(Method::OPTIONS, "/api/private")
                .insert_header(("Origin", "http://localhost:3000"))
                .insert_header(("Access-Control-Request-Method", "GET"))
                .insert_header(("Access-Control-Request-Headers", "authorization")),
        )
        .await;

    assert_eq!(reply.status, 200);
    assert_eq!(
        reply.header("access-control-allow-origin"),
        Some("http://localhost:3000")
    );
    let allowed_headers = reply
        .header("access-control-allow-headers")
        .unwrap_or_default()
        .to_ascii_lowercase();
    assert!(
        allowed_headers.contains("authorization"),
        "{allowed_headers}"
    );
}

// The binary's own middleware, not the adapter: on actix alone.
#[actix_web::test]
async fn cors_preflight_from_foreign_origin_is_refused() {
    let app = spawn_app().await;

    let reply = app
        .send(
            app.request(Method::OPTIONS, "/api/public")
                .insert_header(("Origin", "https://evil.example"))
                .insert_header(("Access-Control-Request-Method", "GET")),
        )
        .await;

    assert_eq!(reply.status, 400);
    assert_eq!(reply.header("access-control-allow-origin"), None);
}

// The binary's own middleware, not the adapter: on actix alone.
#[actix_web::test]
async fn simple_request_from_allowed_origin_gets_cors_header() {
    let app = spawn_app().await;

    let reply = app
        .send(
            app.request(Method::GET, "/api/public")
                .insert_header(("Origin", "http://localhost:3000")),
        )
        .await;

    assert_eq!(reply.status, 200);
    assert_eq!(
        reply.header("access-control-allow-origin"),
        Some("http://localhost:3000")
    );
}

// The binary's own middleware, not the adapter: on actix alone.
#[actix_web::test]
async fn every_response_carries_a_request_id_the_callers_when_plain() {
    let app = spawn_app().await;
    let with_id = |id: &'static str| {
        app.send(
            app.request(Method::GET, "/api/private")
                .insert_header(("X-Request-Id", id)),
        )
    };

    let echoed = with_id("trace-42:abc.DEF_9").await;
    let forged = with_id("x\" injected=1").await;
    let first = app.public().await;
    let second = app.get("/no/such/path").await;

    assert_eq!(echoed.header("x-request-id"), Some("trace-42:abc.DEF_9"));
    assert_eq!(echoed.status, 401);
    let replaced = forged.header("x-request-id").unwrap();
    assert!(!replaced.contains('"'), "{replaced}");
    let (a, b) = (
        first.header("x-request-id").unwrap(),
        second.header("x-request-id").unwrap(),
    );
    assert!(!a.is_empty() && a != b, "{a} {b}");
}

tests::on_both_adapters!(
    public_answers_the_exact_sample_body,
    private_answers_the_exact_sample_body_for_a_valid_token,
    private_scoped_answers_the_exact_sample_body_with_read_messages,
    public_ignores_any_authorization_header,
    healthz_and_readyz_answer_200_once_keys_are_loaded,
    unknown_path_answers_json_404,
    wrong_method_on_known_path_answers_json_405,
    head_answers_as_get_without_the_body,
    wrong_method_on_a_protected_path_is_authenticated_first,
);
