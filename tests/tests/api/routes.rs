use actix_web::http::Method;
use tests::spawn_app;

const PUBLIC: &str = r#"{"message":"Hello from a public endpoint! You don't need to be authenticated to see this."}"#;

#[actix_web::test]
async fn public_answers_the_exact_sample_body() {
    let app = spawn_app();

    let reply = app.public().await;

    assert_eq!(reply.status, 200);
    assert_eq!(reply.body, PUBLIC);
    assert_eq!(reply.header("content-type"), Some("application/json"));
}

#[actix_web::test]
async fn healthz_answers_200() {
    let app = spawn_app();

    let reply = app.get("/healthz").await;

    assert_eq!(reply.status, 200);
    assert_eq!(reply.json()["status"], "ok");
}

#[actix_web::test]
async fn unknown_path_answers_json_404() {
    let app = spawn_app();

    let reply = app.get("/api/nope").await;

    assert_eq!(reply.status, 404);
    assert_eq!(reply.body, r#"{"message":"Not Found"}"#);
    assert_eq!(reply.header("content-type"), Some("application/json"));
}

#[actix_web::test]
async fn wrong_method_on_known_path_answers_json_405() {
    let app = spawn_app();

    let reply = app.send(app.request(Method::POST, "/api/public")).await;

    assert_eq!(reply.status, 405);
    assert_eq!(reply.json()["message"], "Method Not Allowed");
    assert_eq!(reply.header("allow"), Some("GET"));
    assert_eq!(reply.header("content-type"), Some("application/json"));
}

#[actix_web::test]
async fn cors_preflight_from_allowed_origin_is_granted() {
    let app = spawn_app();

    let reply = app
        .send(
            app.request(Method::OPTIONS, "/api/public")
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

#[actix_web::test]
async fn cors_preflight_from_foreign_origin_is_refused() {
    let app = spawn_app();

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

#[actix_web::test]
async fn simple_request_from_allowed_origin_gets_cors_header() {
    let app = spawn_app();

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
