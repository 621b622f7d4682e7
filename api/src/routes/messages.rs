//! The three message handlers of Auth0's quickstart, with their exact texts.

use actix_web::HttpResponse;
use auth::Claims;

use super::Message;

pub async fn public() -> HttpResponse {
    HttpResponse::Ok().json(Message {
        message: "Hello from a public endpoint! You don't need to be authenticated to see this.",
    })
}

/// Behind `RequireAuth`: the claims are there for handlers that need them.
pub async fn private(claims: Claims) -> HttpResponse {
    log::debug!("private message for {}", claims.sub().unwrap_or("(no sub)"));
    HttpResponse::Ok().json(Message {
        message: "Hello from a private endpoint! You need to be authenticated to see this.",
    })
}

pub async fn private_scoped() -> HttpResponse {
    HttpResponse::Ok().json(Message {
        message: "Hello from a private endpoint! You need to be authenticated and have a scope of read:messages to see this.",
    })
}
