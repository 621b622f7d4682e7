//! Probes for process managers and load balancers.

use actix_web::{HttpResponse, web};
use auth::{Authenticator, Readiness};
use serde_json::json;

/// Liveness: 200 while the process serves requests.
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({ "status": "ok" }))
}

/// Readiness: 200 while the issuer's keys can verify tokens (fresh, or stale within the maximum
/// stale age); 503 otherwise. The body says why, for a person: key count and age, since when
/// refreshes fail and what they met, or that no key is loaded or usable.
pub async fn readyz(authenticator: web::Data<Authenticator>) -> HttpResponse {
    let readiness = authenticator.readiness();
    let status = readiness.reason();
    let body = match &readiness {
        Readiness::Ready { keys, age } => {
            json!({ "status": status, "keys": keys, "age_secs": age.as_secs() })
        }
        Readiness::Stale {
            keys,
            age,
            failing_for,
            last_error,
        } => json!({
            "status": status,
            "keys": keys,
            "age_secs": age.as_secs(),
            "failing_for_secs": failing_for.as_secs(),
            "last_error": &**last_error,
        }),
        Readiness::NoUsableKeys { age } => json!({ "status": status, "age_secs": age.as_secs() }),
        Readiness::NotLoaded { last_error } => {
            json!({ "status": status, "last_error": last_error.as_deref() })
        }
        Readiness::FetcherDown => json!({ "status": status }),
    };
    if readiness.is_ready() {
        HttpResponse::Ok().json(body)
    } else {
        HttpResponse::ServiceUnavailable().json(body)
    }
}
