//! The axum example (`examples/axum_quickstart.rs`) serves the quickstart's three routes with
//! their exact answers: the example's own router, over HTTP, against a test issuer.

// Its `main` is the example's; this test serves its router.
#[allow(dead_code)]
#[path = "../examples/axum_quickstart.rs"]
mod quickstart;

use oauth2_jwt_bearer::Authenticator;
use oauth2_jwt_bearer::testing::{SigningKey, TestIssuer};

const AUDIENCE: &str = "https://quickstarts/api";

/// Status, `WWW-Authenticate` and body of `GET path` with this token.
async fn get(base: &str, path: &str, token: Option<&str>) -> (u16, Option<String>, String) {
    let client = awc::Client::default();
    let mut request = client.get(format!("{base}{path}"));
    if let Some(token) = token {
        request = request.insert_header(("Authorization", format!("Bearer {token}")));
    }
    let mut response = request.send().await.expect("the example answers");
    let body = response.body().await.expect("a body");
    let challenge = response
        .headers()
        .get("www-authenticate")
        .map(|value| value.to_str().expect("ASCII").to_owned());
    (
        response.status().as_u16(),
        challenge,
        String::from_utf8_lossy(&body).into_owned(),
    )
}

#[actix_web::test]
async fn the_example_serves_the_three_routes_with_the_quickstarts_answers() {
    let key = SigningKey::rsa_from_pem("rsa-1", include_str!("../fixtures/rsa1.pem")).unwrap();
    let issuer = TestIssuer::start(&[&key]).unwrap();
    // ISSUER_BASE_URL as the Express sample takes it: no trailing slash, keys by discovery.
    let authenticator = Authenticator::builder()
        .issuer(issuer.issuer().trim_end_matches('/'))
        .audiences([AUDIENCE])
        .build()
        .unwrap();
    authenticator
        .wait_ready(std::time::Duration::from_secs(5))
        .await
        .unwrap();
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
        .await
        .unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let router = quickstart::app(&authenticator);
    actix_web::rt::spawn(async move { axum::serve(listener, router).await });
    let token = |scope: &str| {
        key.token()
            .claim("iss", issuer.issuer())
            .claim("aud", AUDIENCE)
            .claim("sub", "user-1")
            .claim("scope", scope)
            .expires_in(600)
            .sign()
            .unwrap()
    };
    let (plain, scoped) = (token("openid"), token("read:messages"));

    let public = r#"{"message":"Hello from a public endpoint! You don't need to be authenticated to see this."}"#;
    let private =
        r#"{"message":"Hello from a private endpoint! You need to be authenticated to see this."}"#;
    let private_scoped = r#"{"message":"Hello from a private endpoint! You need to be authenticated and have a scope of read:messages to see this."}"#;
    assert_eq!(
        get(&base, "/api/public", None).await,
        (200, None, public.into())
    );
    assert_eq!(
        get(&base, "/api/private", Some(&plain)).await,
        (200, None, private.into())
    );
    assert_eq!(
        get(&base, "/api/private-scoped", Some(&scoped)).await,
        (200, None, private_scoped.into())
    );

    // DPoP is allowed by default, as in the `api` binary: both schemes are offered.
    let (status, challenge, body) = get(&base, "/api/private", None).await;
    assert_eq!(status, 401);
    let challenge = challenge.unwrap();
    assert!(
        challenge.starts_with(r#"Bearer realm="api", DPoP algs="RS256 "#),
        "{challenge}"
    );
    assert!(body.contains("missing bearer token"), "{body}");
    let (status, challenge, body) = get(&base, "/api/private-scoped", Some(&plain)).await;
    assert_eq!(status, 403, "{body}");
    assert!(
        challenge.unwrap().contains(r#"error="insufficient_scope""#),
        "{body}"
    );
    let (status, _, body) = get(&base, "/nowhere", None).await;
    assert_eq!((status, body.as_str()), (404, r#"{"message":"Not Found"}"#));
}
