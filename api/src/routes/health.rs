//! Probes for process managers and load balancers.

use actix_web::HttpResponse;
use serde_json::json;

/// Liveness: 200 while the process serves requests.
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({ "status": "ok" }))
}
