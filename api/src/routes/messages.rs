//! The three message handlers of Auth0's quickstart, with their exact texts.

use actix_web::HttpResponse;

use super::Message;

/// `/api/public`'s text.
pub const PUBLIC: &str =
    "Hello from a public endpoint! You don't need to be authenticated to see this.";
/// `/api/private`'s text.
pub const PRIVATE: &str =
    "Hello from a private endpoint! You need to be authenticated to see this.";
/// `/api/private-scoped`'s text.
pub const PRIVATE_SCOPED: &str = "Hello from a private endpoint! You need to be authenticated and have a scope of read:messages to see this.";

pub async fn public() -> HttpResponse {
    HttpResponse::Ok().json(Message { message: PUBLIC })
}

/// Behind `RequireAuth`, a handler may take the verified [`auth::Claims`] as an argument; these
/// answer the sample's fixed texts and need none.
pub async fn private() -> HttpResponse {
    HttpResponse::Ok().json(Message { message: PRIVATE })
}

pub async fn private_scoped() -> HttpResponse {
    HttpResponse::Ok().json(Message {
        message: PRIVATE_SCOPED,
    })
}
