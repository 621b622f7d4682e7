//! The three message handlers of Auth0's quickstart, with their exact texts.

use actix_web::HttpResponse;

use super::Message;

pub async fn public() -> HttpResponse {
    HttpResponse::Ok().json(Message {
        message: "Hello from a public endpoint! You don't need to be authenticated to see this.",
    })
}
