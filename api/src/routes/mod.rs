//! The route table, in one place, and the JSON answers for unknown paths and methods.

mod health;
mod messages;

use actix_web::http::header;
use actix_web::{HttpResponse, Resource, web};
use serde::Serialize;

/// The JSON body of every message answer: `{"message": "..."}`.
#[derive(Debug, Serialize)]
pub struct Message {
    /// The human-readable text.
    pub message: &'static str,
}

/// Registers every route.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(get("/api/public", messages::public))
        .service(get("/healthz", health::healthz));
}

/// A GET-only resource whose other methods answer a JSON 405.
fn get<F, Args>(path: &str, handler: F) -> Resource
where
    F: actix_web::Handler<Args>,
    Args: actix_web::FromRequest + 'static,
    F::Output: actix_web::Responder + 'static,
{
    web::resource(path)
        .route(web::get().to(handler))
        .default_service(web::to(method_not_allowed))
}

/// The answer for a path that no route serves.
pub async fn not_found() -> HttpResponse {
    HttpResponse::NotFound().json(Message {
        message: "Not Found",
    })
}

async fn method_not_allowed() -> HttpResponse {
    HttpResponse::MethodNotAllowed()
        .insert_header((header::ALLOW, "GET"))
        .json(Message {
            message: "Method Not Allowed",
        })
}
