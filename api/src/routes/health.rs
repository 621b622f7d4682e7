//! Probes for process managers and load balancers.

use actix_web::{HttpResponse, web};
use auth::{Authenticator, DpopMode, Readiness};
use serde_json::{Map, Value, json};

/// Liveness: 200 while the process serves requests.
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({ "status": "ok" }))
}

/// Readiness: 200 while some issuer's keys can verify tokens (fresh, or stale within the
/// maximum stale age); 503 when none can. The body says why, for a person. Each issuer's state
/// is in `issuers`: key count and age, since when refreshes fail and what they met, or that no
/// key is loaded or usable. With one issuer, its state's fields are also at the top, and
/// `status` is its state. With several, `status` is `ready` (all are), `degraded` (some are:
/// still 200, since an issuer's outage is shared by every instance and pulling them all would
/// refuse the other issuers' callers too) or `not ready`.
///
/// `dpop_replay_store` says whether the DPoP replay store answers (`ready`, or `unavailable`
/// with a `reason` code; the details, which may name the server, go to the log only, since
/// this probe is public). It makes the answer 503 only in DPoP `required` mode, where no
/// request can pass without it; otherwise Bearer callers are still served.
pub async fn readyz(authenticator: web::Data<Authenticator>) -> HttpResponse {
    let (ready, body) = readiness(&authenticator).await;
    if ready {
        HttpResponse::Ok().json(body)
    } else {
        HttpResponse::ServiceUnavailable().json(body)
    }
}

/// Whether the API is ready, and the body [`readyz`] answers: what it answers with whatever
/// framework serves it.
pub async fn readiness(authenticator: &Authenticator) -> (bool, Value) {
    let states = authenticator.issuer_states();
    let ready = states.iter().filter(|(_, state)| state.is_ready()).count();
    let issuers: Vec<Value> = states
        .iter()
        .map(|(issuer, state)| {
            let mut fields = state_fields(state);
            fields.insert("issuer".to_owned(), json!(issuer));
            Value::Object(fields)
        })
        .collect();
    let mut body = if let [(_, only)] = states.as_slice() {
        state_fields(only)
    } else {
        let overall = match ready {
            0 => "not ready",
            n if n == states.len() => "ready",
            _ => "degraded",
        };
        Map::from_iter([("status".to_owned(), json!(overall))])
    };
    body.insert("issuers".to_owned(), Value::Array(issuers));
    let mut replay_ready = true;
    if authenticator.dpop_mode() != DpopMode::Disabled {
        let store = match authenticator.replay_store_ready().await {
            Ok(()) => json!({ "status": "ready" }),
            Err(error) => {
                replay_ready = authenticator.dpop_mode() != DpopMode::Required;
                log::warn!("readiness: {error}");
                json!({ "status": "unavailable", "reason": error.reason() })
            }
        };
        body.insert("dpop_replay_store".to_owned(), store);
    }
    (ready > 0 && replay_ready, Value::Object(body))
}

/// One issuer's state: `status` and what explains it.
fn state_fields(readiness: &Readiness) -> Map<String, Value> {
    let mut fields = Map::new();
    let mut field = |name: &str, value: Value| fields.insert(name.to_owned(), value);
    field("status", json!(readiness.reason()));
    match readiness {
        Readiness::Ready { keys, age } => {
            field("keys", json!(keys));
            field("age_secs", json!(age.as_secs()));
        }
        Readiness::Stale {
            keys,
            age,
            failing_for,
            last_error,
        } => {
            field("keys", json!(keys));
            field("age_secs", json!(age.as_secs()));
            field("failing_for_secs", json!(failing_for.as_secs()));
            field("last_error", json!(&**last_error));
        }
        Readiness::NoUsableKeys { age } => {
            field("age_secs", json!(age.as_secs()));
        }
        Readiness::NotLoaded { last_error } => {
            field("last_error", json!(last_error.as_deref()));
        }
        // A key fetcher restarting, or a state a later `auth` adds: its `status` says it.
        _ => {}
    }
    fields
}
