//! The route table, in one place, and the JSON answers for unknown paths and methods.

pub mod health;
pub mod messages;
pub mod metadata;
pub mod whoami;

use actix_web::http::header;
use actix_web::{HttpResponse, Resource, guard, web};
use auth::{Authenticator, Policy, RequireAuth};

use crate::metrics::RouteSeries;
use serde::Serialize;

/// The scope `/api/private-scoped` requires.
pub const READ_MESSAGES: &str = "read:messages";

/// The JSON body of every message answer: `{"message": "..."}`.
#[derive(Debug, Serialize)]
pub struct Message {
    /// The human-readable text.
    pub message: &'static str,
}

/// The policy of `/api/private-scoped`.
pub fn read_messages() -> Policy {
    Policy::scope(READ_MESSAGES)
}

/// Every scope a route requires, for the metadata's `scopes_supported`. `offline_access` is
/// never listed: it asks for a refresh token, and is no permission on this resource.
pub fn scopes_supported() -> Vec<String> {
    let mut scopes: Vec<String> = Vec::new();
    for policy in [read_messages()] {
        for scope in policy.scopes() {
            if scope != "offline_access" && !scopes.iter().any(|known| known == scope) {
                scopes.push(scope.to_owned());
            }
        }
    }
    scopes
}

/// Registers every route. Each protected route declares its policy in one `wrap`. The RFC 9728
/// document is served at `metadata`'s path, when there is one.
pub fn configure(
    cfg: &mut web::ServiceConfig,
    authenticator: &Authenticator,
    metadata: Option<&(String, web::Data<metadata::ResourceMetadata>)>,
) {
    let auth = || RequireAuth::new(authenticator.clone());
    cfg.app_data(web::Data::new(authenticator.clone()));
    if let Some((path, document)) = metadata {
        cfg.app_data(document.clone())
            .service(get(path, metadata::serve));
    }
    cfg.service(get("/api/public", messages::public))
        .service(get("/api/private", messages::private).wrap(auth()))
        .service(
            get("/api/private-scoped", messages::private_scoped)
                .wrap(auth().policy(read_messages())),
        )
        .service(get("/api/whoami", whoami::whoami).wrap(auth().optional()))
        .service(get("/healthz", health::healthz))
        .service(get("/readyz", health::readyz));
}

/// A resource read by GET (and HEAD, its head alone, as RFC 9110 §9.3.2 and Express do) whose
/// other methods answer a JSON 405. It is named by its path, which the request log and the
/// metrics read as the route, and keeps its own metric series.
pub fn get<F, Args>(path: &str, handler: F) -> Resource
where
    F: actix_web::Handler<Args>,
    Args: actix_web::FromRequest + 'static,
    F::Output: actix_web::Responder + 'static,
{
    web::resource(path)
        .name(path)
        .app_data(RouteSeries::default())
        .route(
            web::route()
                .guard(guard::Any(guard::Get()).or(guard::Head()))
                .to(handler),
        )
        .default_service(web::to(method_not_allowed))
}

/// The answer for a path that no route serves.
pub async fn not_found() -> HttpResponse {
    HttpResponse::NotFound().json(Message {
        message: "Not Found",
    })
}

/// The methods every route answers, as its 405 names them.
pub const ALLOWED: &str = "GET, HEAD";

async fn method_not_allowed() -> HttpResponse {
    HttpResponse::MethodNotAllowed()
        .insert_header((header::ALLOW, ALLOWED))
        .json(Message {
            message: "Method Not Allowed",
        })
}
