//! The framework-free decision ([`crate::request::Guard`]) without any web framework: each
//! refusal's whole answer, and the claims of an honest request.

use wiremock::MockServer;

use super::*;
use crate::request::{Field, Guard, Request};
use crate::response::Refusal;
use crate::{Claims, Policy};

async fn guard() -> (MockServer, Guard) {
    let server = MockServer::start().await;
    serve_jwks(&server, &jwks(&[&rsa(1, "k1")]), 1).await;
    let auth = authenticator(&server, fast_jwks());
    ready(&auth).await;
    (server, Guard::new(auth))
}

/// `GET /me` with these `Authorization` values, `DPoP` values and query.
fn request<'a>(authorization: &'a [&'a [u8]], dpop: &'a [&'a [u8]], query: &'a str) -> Request<'a> {
    Request {
        method: "GET",
        path: "/me",
        query,
        authorization: Field::new(authorization.iter().copied()),
        dpop: Field::new(dpop.iter().copied()),
        certificate: Field::default(),
    }
}

/// What a case sends: `Authorization` values, `DPoP` values, the query.
type Sent<'a> = (Vec<&'a [u8]>, Vec<&'a [u8]>, &'a str);

fn refused(answer: Result<Option<Claims>, Refusal>) -> (u16, Option<String>, Value) {
    let refusal = answer.expect_err("refused");
    (
        refusal.status,
        refusal.www_authenticate,
        serde_json::from_str(&refusal.body).unwrap(),
    )
}

#[actix_web::test]
async fn an_honest_request_gets_its_claims_and_an_anonymous_one_passes_only_where_optional() {
    let (_server, guard) = guard().await;
    let token = valid(&rsa(1, "k1")).claim("sub", "alice").sign().unwrap();
    let value = format!("Bearer {token}");

    let claims = guard.check(&request(&[value.as_bytes()], &[], "")).await;
    assert_eq!(claims.unwrap().unwrap().sub(), Some("alice"));
    // Again, from the token cache.
    let cached = guard.check(&request(&[value.as_bytes()], &[], "")).await;
    assert_eq!(cached.unwrap().unwrap().sub(), Some("alice"));

    let optional = guard.clone().optional();
    assert_eq!(optional.check(&request(&[], &[], "")).await, Ok(None));
    let scoped = optional.policy(Policy::scope("read:messages"));
    let (status, challenge, _) = refused(scoped.check(&request(&[], &[], "")).await);
    assert_eq!(status, 401);
    assert!(challenge.unwrap().contains(r#"scope="read:messages""#));
}

#[actix_web::test]
async fn every_refusal_is_one_whole_answer() {
    let (_server, guard) = guard().await;
    let token = valid(&rsa(1, "k1")).sign().unwrap();
    let expired = valid(&rsa(1, "k1")).expires_in(-60).sign().unwrap();
    let bearer = format!("Bearer {token}");
    let dpop_scheme = format!("DPoP {token}");
    let stale = format!("Bearer {expired}");
    let cases: [(Sent<'_>, u16, Option<&str>, &str); 9] = [
        ((vec![], vec![], ""), 401, None, "missing bearer token"),
        (
            (vec![b"Basic dXNlcjpwYXNz"], vec![], ""),
            401,
            None,
            "unsupported authorization scheme, expected Bearer or DPoP",
        ),
        (
            (vec![bearer.as_bytes(), bearer.as_bytes()], vec![], ""),
            400,
            Some("invalid_request"),
            "more than one Authorization header",
        ),
        (
            (vec![bearer.as_bytes()], vec![], "access_token=x"),
            400,
            Some("invalid_request"),
            "access tokens are not accepted in the query string; send the token in the \
             Authorization header",
        ),
        (
            (vec![b"Bearer a b"], vec![], ""),
            400,
            Some("invalid_request"),
            "malformed bearer token",
        ),
        (
            (vec![], vec![b"proof"], ""),
            400,
            Some("invalid_request"),
            "a DPoP proof was sent without an Authorization header",
        ),
        (
            (vec![dpop_scheme.as_bytes()], vec![], ""),
            400,
            Some("invalid_request"),
            "the DPoP scheme requires a DPoP proof header",
        ),
        (
            (vec![dpop_scheme.as_bytes()], vec![b"a", b"b"], ""),
            400,
            Some("invalid_dpop_proof"),
            "more than one DPoP proof",
        ),
        (
            (vec![stale.as_bytes()], vec![], ""),
            401,
            Some("invalid_token"),
            "token expired",
        ),
    ];
    for ((authorization, dpop, query), status, error, message) in cases {
        let request = request(&authorization, &dpop, query);
        let (got_status, challenge, body) = refused(guard.check(&request).await);

        assert_eq!(got_status, status, "{message}");
        let challenge = challenge.unwrap_or_default();
        assert!(
            challenge.starts_with(r#"Bearer realm="api""#),
            "{challenge}"
        );
        if let Some(code) = error {
            assert!(
                challenge.contains(&format!(r#"error="{code}""#)),
                "{challenge}"
            );
            assert_eq!(body, json!({ "message": message, "error": code }));
        } else {
            assert!(!challenge.contains("error="), "{challenge}");
            assert_eq!(body, json!({ "message": message }));
        }
    }
}
