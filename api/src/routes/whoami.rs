//! `GET /api/whoami`: optional authentication. Anonymous callers are welcome; a caller who sends
//! a token must send a good one.

use actix_web::HttpResponse;
use auth::Claims;
use serde_json::json;

/// `{"iss": ..., "sub": ..., "scopes": [...]}` for an authenticated caller (with several
/// issuers, `(iss, sub)` names the user: `sub` alone may repeat across tenants),
/// `{"anonymous": true}` for one who sent no `Authorization` header. Bad tokens and key outages never reach here: the route's
/// `RequireAuth::optional` answers them 401 and 503.
pub async fn whoami(claims: Option<Claims>) -> HttpResponse {
    HttpResponse::Ok().json(body(claims.as_ref()))
}

/// What [`whoami`] answers for these claims.
pub fn body(claims: Option<&Claims>) -> serde_json::Value {
    match claims {
        Some(claims) => json!({
            "iss": claims.issuer(),
            "sub": claims.sub(),
            "scopes": claims.granted_scopes(),
        }),
        None => json!({ "anonymous": true }),
    }
}
