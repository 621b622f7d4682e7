//! Probes for process managers and load balancers.

use actix_web::{HttpResponse, web};
use auth::Authenticator;
use serde_json::json;

/// Liveness: 200 while the process serves requests.
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({ "status": "ok" }))
}

/// Readiness: 200 once the issuer's keys are loaded; 503 naming why otherwise (not loaded yet
/// or gone stale, no usable keys, the key fetcher restarting).
pub async fn readyz(authenticator: web::Data<Authenticator>) -> HttpResponse {
    let readiness = authenticator.readiness();
    let body = json!({ "status": readiness.reason() });
    if readiness.is_ready() {
        HttpResponse::Ok().json(body)
    } else {
        HttpResponse::ServiceUnavailable().json(body)
    }
}
