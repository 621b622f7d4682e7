//! Probes for process managers and load balancers.

use actix_web::{HttpResponse, web};
use auth::Authenticator;
use serde_json::json;

/// Liveness: 200 while the process serves requests.
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({ "status": "ok" }))
}

/// Readiness: 200 once the issuer's keys are loaded, 503 before (or after they went stale).
pub async fn readyz(authenticator: web::Data<Authenticator>) -> HttpResponse {
    if authenticator.is_ready() {
        HttpResponse::Ok().json(json!({ "status": "ready" }))
    } else {
        HttpResponse::ServiceUnavailable().json(json!({ "status": "keys not loaded" }))
    }
}
