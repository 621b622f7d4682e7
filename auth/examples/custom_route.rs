//! Protects a route of your own with a policy, and reads the token's claims into your own type.
//!
//! ```sh
//! ISSUER=https://dev-abc123.us.auth0.com/ AUDIENCE=https://my-api ORG_ID=org_123 \
//!   cargo run -p oauth2-jwt-bearer --example custom_route
//! curl -H "Authorization: Bearer $TOKEN" http://127.0.0.1:8080/reports
//! ```
//!
//! `GET /reports` needs a valid token that grants `read:reports` or `admin`, and whose `org_id`
//! claim is `ORG_ID`. It answers with the caller's subject and organization, read through
//! `Claims::deserialize`.

use actix_web::{App, HttpResponse, HttpServer, web};
use oauth2_jwt_bearer::{Authenticator, Claims, Policy, RequireAuth};
use serde::Deserialize;
use serde_json::json;

/// The claims this app reads, typed.
#[derive(Deserialize)]
struct OrgClaims {
    sub: String,
    org_id: String,
    #[serde(default)]
    email: Option<String>,
}

async fn reports(claims: Claims) -> HttpResponse {
    // The policy let the request through, so `org_id` is the expected string; a token whose
    // other claims do not fit the type still gets a clear answer, not a panic.
    match claims.deserialize::<OrgClaims>() {
        Ok(caller) => HttpResponse::Ok().json(json!({
            "sub": caller.sub,
            "org_id": caller.org_id,
            "email": caller.email,
        })),
        Err(error) => HttpResponse::Forbidden().json(json!({
            "message": format!("unexpected claims: {error}"),
        })),
    }
}

fn env(name: &str) -> std::io::Result<String> {
    std::env::var(name)
        .map_err(|_| std::io::Error::other(format!("set {name}; see the example's docs")))
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let authenticator = Authenticator::builder()
        .issuer(env("ISSUER")?)
        .audiences([env("AUDIENCE")?])
        .build()
        .map_err(std::io::Error::other)?;
    let policy = Policy::any_scope(["read:reports", "admin"])
        .and(Policy::claim_equals("org_id", env("ORG_ID")?));

    println!("listening on http://127.0.0.1:8080/reports");
    HttpServer::new(move || {
        App::new().service(
            web::resource("/reports")
                .route(web::get().to(reports))
                // One line declares the route's policy.
                .wrap(RequireAuth::new(authenticator.clone()).policy(policy.clone())),
        )
    })
    .bind(("127.0.0.1", 8080))?
    .run()
    .await
}
