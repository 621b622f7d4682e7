//! Auth0's Express quickstart on axum: the same three routes, the same messages, the same
//! environment variables as the Express sample, checked by the same pipeline as the actix `api`
//! binary (through the tower layer).
//!
//! ```sh
//! ISSUER_BASE_URL=https://dev-abc123.us.auth0.com AUDIENCE=https://quickstarts/api \
//!   cargo run -p oauth2-jwt-bearer --example axum_quickstart --features tower,axum
//! curl http://127.0.0.1:3010/api/public
//! curl -H "Authorization: Bearer $TOKEN" http://127.0.0.1:3010/api/private
//! ```
//!
//! - `ISSUER_BASE_URL`: the issuer, whose keys OIDC discovery finds (`/.well-known/openid-configuration`).
//! - `AUDIENCE`: the API identifier tokens must name.
//! - `PORT`: the port on 127.0.0.1 (default 3010).
//!
//! Unknown paths answer a JSON 404, HEAD answers as GET does without the body, and other
//! methods a JSON 405, as the `api` binary does.

use axum::Router;
use axum::http::header::{ALLOW, CONTENT_TYPE};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get};
use oauth2_jwt_bearer::RequireAuth;
use oauth2_jwt_bearer::{Authenticator, Policy};
use tower_layer::Layer;

/// A JSON answer `{"message": text}`.
fn message(status: StatusCode, text: &str) -> Response {
    let body = serde_json::json!({ "message": text }).to_string();
    (status, [(CONTENT_TYPE, "application/json")], body).into_response()
}

/// `path` answers `text` to GET (and HEAD) and a JSON 405 to other methods.
fn route(text: &'static str) -> MethodRouter {
    get(move || async move { message(StatusCode::OK, text) }).fallback(|| async {
        let mut answer = message(StatusCode::METHOD_NOT_ALLOWED, "Method Not Allowed");
        answer
            .headers_mut()
            .insert(ALLOW, axum::http::HeaderValue::from_static("GET, HEAD"));
        answer
    })
}

/// The three routes, each protected route behind its guard. The guard wraps the whole route
/// (`route_service`), as actix's `.wrap()` does: `MethodRouter::layer` would also wrap the 405
/// fallback, and axum would then add its own `Allow` header to the guard's refusal of a POST.
pub fn app(authenticator: &Authenticator) -> Router {
    let auth = || RequireAuth::new(authenticator.clone());
    Router::new()
        .route(
            "/api/public",
            route("Hello from a public endpoint! You don't need to be authenticated to see this."),
        )
        .route_service(
            "/api/private",
            auth().layer(route(
                "Hello from a private endpoint! You need to be authenticated to see this.",
            )),
        )
        .route_service(
            "/api/private-scoped",
            auth().policy(Policy::scope("read:messages")).layer(route(
                "Hello from a private endpoint! You need to be authenticated and have a scope of read:messages to see this.",
            )),
        )
        .fallback(|_: Uri| async { message(StatusCode::NOT_FOUND, "Not Found") })
}

fn env(name: &str) -> Result<String, String> {
    std::env::var(name).map_err(|_| format!("set {name}; see the example's docs"))
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    match run().await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    let authenticator = Authenticator::builder()
        .issuer(env("ISSUER_BASE_URL")?)
        .audiences([env("AUDIENCE")?])
        .build()?;
    let port: u16 = match std::env::var("PORT") {
        Ok(port) => port
            .parse()
            .map_err(|_| format!("PORT must be a port number, not {port:?}"))?,
        Err(_) => 3010,
    };
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    println!("listening on http://{}", listener.local_addr()?);
    axum::serve(listener, app(&authenticator)).await?;
    Ok(())
}
