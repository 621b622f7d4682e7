//! The framework-free decision ([`crate::RequireAuth`]) without any web framework: each
//! refusal's whole answer, and the claims of an honest request.

use wiremock::MockServer;

use super::*;
use crate::request::{Field, Request, RequireAuth};
use crate::response::Refusal;
use crate::{AuthenticatorBuilder, Passed, Policy};

async fn guard() -> (MockServer, RequireAuth) {
    let server = MockServer::start().await;
    serve_jwks(&server, &jwks(&[&rsa(1, "k1")]), 1).await;
    let auth = authenticator(&server, fast_jwks());
    ready(&auth).await;
    (server, RequireAuth::new(auth))
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

/// `GET /me` with one `Authorization` value, and a `DPoP` value and a certificate if given.
fn one<'a>(
    authorization: &'a str,
    dpop: Option<&'a str>,
    certificate: Option<&'a str>,
) -> Request<'a> {
    Request {
        method: "GET",
        path: "/me",
        query: "",
        authorization: Field::new([authorization.as_bytes()]),
        dpop: Field::new(dpop.map(str::as_bytes)),
        certificate: Field::new(certificate.map(str::as_bytes)),
    }
}

/// The API's public URL, which DPoP proofs name.
const URL: &str = "https://api.example.com";

/// A ready authenticator that can check DPoP proofs (its public URL is [`URL`]), with `more`
/// settings.
async fn dpop_ready(
    more: impl FnOnce(AuthenticatorBuilder) -> AuthenticatorBuilder,
) -> (MockServer, Authenticator) {
    let server = MockServer::start().await;
    serve_jwks(&server, &jwks(&[&rsa(1, "k1")]), 1).await;
    let builder = Authenticator::builder()
        .issuer(ISSUER)
        .jwks_uri(format!("{}{JWKS_PATH}", server.uri()))
        .audiences([AUDIENCE])
        .jwks(fast_jwks())
        .public_url(URL);
    let auth = more(builder).build().unwrap();
    ready(&auth).await;
    (server, auth)
}

/// A DPoP client's key and a token bound to it (`cnf.jkt`).
fn bound_client() -> (SigningKey, String) {
    let client = p256("client");
    let bound = valid(&rsa(1, "k1"))
        .claim("cnf", json!({ "jkt": client.jkt() }))
        .sign()
        .unwrap();
    (client, bound)
}

/// What a case sends: `Authorization` values, `DPoP` values, the query.
type Sent<'a> = (Vec<&'a [u8]>, Vec<&'a [u8]>, &'a str);

fn refused(answer: Result<Passed, Refusal>) -> (u16, Option<String>, Value) {
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
    assert_eq!(claims.unwrap().claims.unwrap().sub(), Some("alice"));
    // Again, from the token cache.
    let cached = guard.check(&request(&[value.as_bytes()], &[], "")).await;
    assert_eq!(cached.unwrap().claims.unwrap().sub(), Some("alice"));

    let optional = guard.clone().optional();
    let anonymous = optional.check(&request(&[], &[], "")).await.unwrap();
    assert_eq!((anonymous.claims, anonymous.dpop_nonce), (None, None));
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

/// `Authenticator::verify` is the whole pipeline for any framework: a DPoP-bound token passes
/// with its proof, once; a certificate-bound token passes with its certificate only.
#[actix_web::test]
async fn authenticator_verify_checks_dpop_proofs_and_certificate_bindings() {
    const PEM: &str = include_str!("../../fixtures/client-cert.pem");
    // Computed by OpenSSL (see `fixtures/README.md`).
    const THUMBPRINT: &str = "vRLo11FhkZFyt-FTOCydvLuSyP8qipnf5rCLatzttUI";
    let (_server, auth) =
        dpop_ready(|builder| builder.mtls_certificate_header("x-client-cert")).await;
    let (client, bound) = bound_client();
    let proof = client
        .dpop_proof("GET", &format!("{URL}/me"), &bound)
        .sign()
        .unwrap();
    let scheme = format!("DPoP {bound}");
    let dpop = |proof| one(&scheme, Some(proof), None);
    assert!(auth.verify(&dpop(&proof)).await.is_ok());
    let replayed = auth.verify(&dpop(&proof)).await.unwrap_err();
    assert_eq!(replayed.status, 400);
    assert!(replayed.body.contains("invalid_dpop_proof"), "{replayed:?}");
    let as_bearer = format!("Bearer {bound}");
    let unproven = auth.verify(&one(&as_bearer, None, None)).await.unwrap_err();
    assert_eq!(unproven.status, 401, "{unproven:?}");

    let pinned = valid(&rsa(1, "k1"))
        .claim("cnf", json!({ "x5t#S256": THUMBPRINT }))
        .sign()
        .unwrap();
    let pinned = format!("Bearer {pinned}");
    let escaped: String = PEM
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    let with_certificate = one(&pinned, None, Some(&escaped));
    assert!(auth.verify(&with_certificate).await.is_ok());
    let without = auth.verify(&one(&pinned, None, None)).await.unwrap_err();
    assert_eq!(without.status, 401);
    assert!(
        without.www_authenticate.unwrap().contains("invalid_token"),
        "{:?}",
        without.body
    );
}

/// The policy's refusal (403 naming the scope that would do) and the outage's (503 with
/// `Retry-After`, never a 401 that blames the token), framework aside.
#[actix_web::test]
async fn a_policy_refusal_is_403_and_an_outage_is_503_with_retry_after() {
    let (_server, guard) = guard().await;
    let scoped = guard.policy(Policy::scope("read:messages"));
    let token = valid(&rsa(1, "k1"))
        .claim("scope", "openid")
        .sign()
        .unwrap();
    let bearer = format!("Bearer {token}");
    let refusal = scoped
        .check(&request(&[bearer.as_bytes()], &[], ""))
        .await
        .unwrap_err();
    assert_eq!(refusal.status, 403);
    let challenge = refusal.www_authenticate.unwrap_or_default();
    assert!(
        challenge.contains(r#"error="insufficient_scope""#)
            && challenge.contains(r#"scope="read:messages""#),
        "{challenge}"
    );
    assert_eq!(refusal.retry_after, None);

    // An issuer whose JWKS answers 404: no key can decide.
    let down = MockServer::start().await;
    let auth = authenticator(&down, fast_jwks());
    let refusal = RequireAuth::new(auth)
        .check(&request(&[bearer.as_bytes()], &[], ""))
        .await
        .unwrap_err();
    assert_eq!(refusal.status, 503, "{refusal:?}");
    assert!(refusal.retry_after.is_some_and(|secs| secs >= 1));
    let body: Value = serde_json::from_str(&refusal.body).unwrap();
    assert_eq!(body["error"], "temporarily_unavailable", "{body}");
    assert!(
        refusal
            .headers()
            .any(|(name, value)| name == "retry-after" && value.parse::<u64>().is_ok())
    );
}

/// With server nonces required, a proof without one of ours is 401 `use_dpop_nonce` on the
/// DPoP challenge, handing out a nonce; a fresh proof with that nonce passes, from the current
/// window with no next nonce to carry; one with the nonce changed is refused again.
#[actix_web::test]
async fn a_proof_without_a_server_nonce_is_401_use_dpop_nonce_with_a_nonce_to_retry_with() {
    let (_server, auth) = dpop_ready(|builder| {
        builder
            .dpop_nonce(crate::config::NonceMode::Required)
            .dpop_nonce_secret("a nonce secret of thirty-two bytes or more")
    })
    .await;
    let guard = RequireAuth::new(auth);
    let (client, bound) = bound_client();
    let scheme = format!("DPoP {bound}");
    let proof = |nonce: Option<&str>| {
        let proof = client.dpop_proof("GET", &format!("{URL}/me"), &bound);
        match nonce {
            Some(nonce) => proof.claim("nonce", nonce),
            None => proof,
        }
        .sign()
        .unwrap()
    };

    let refusal = guard
        .check(&one(&scheme, Some(&proof(None)), None))
        .await
        .unwrap_err();
    assert_eq!(refusal.status, 401, "{refusal:?}");
    let challenge = refusal.www_authenticate.clone().unwrap_or_default();
    // In `allowed` mode both schemes are offered; the error is the DPoP challenge's.
    let (bearer, dpop) = challenge.split_once(", DPoP ").expect("a DPoP challenge");
    assert_eq!(bearer, r#"Bearer realm="api""#);
    assert!(
        dpop.contains(r#"error="use_dpop_nonce", error_description="#),
        "{challenge}"
    );
    let body: Value = serde_json::from_str(&refusal.body).unwrap();
    assert_eq!(body["error"], "use_dpop_nonce", "{body}");
    let nonce = refusal.dpop_nonce.clone().expect("a nonce to retry with");
    assert!(
        refusal
            .headers()
            .any(|(name, value)| name == "dpop-nonce" && value == nonce)
    );

    let passed = guard
        .check(&one(&scheme, Some(&proof(Some(&nonce))), None))
        .await
        .expect("the retry with the nonce passes");
    let claims = passed.claims.as_ref().expect("claims");
    assert_eq!(claims.sub(), Some("user-1"));
    assert_eq!(passed.dpop_nonce, None);

    let mut forged = nonce.into_bytes();
    forged[0] = if forged[0] == b'A' { b'B' } else { b'A' };
    let forged = String::from_utf8(forged).unwrap();
    let again = guard
        .check(&one(&scheme, Some(&proof(Some(&forged))), None))
        .await
        .unwrap_err();
    assert_eq!(again.status, 401);
    assert!(again.dpop_nonce.is_some());
}
