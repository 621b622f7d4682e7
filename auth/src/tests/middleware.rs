//! The actix glue: claims reach handlers, a policy is checked in the same layer, and misuse
//! fails closed.

use actix_web::http::header::{AUTHORIZATION, WWW_AUTHENTICATE};
use actix_web::{App, HttpResponse, test, web};
use wiremock::MockServer;

use super::*;
use crate::{Claims, Policy, RequireAuth};

async fn who(claims: Claims) -> HttpResponse {
    HttpResponse::Ok().body(claims.sub().unwrap_or_default().to_owned())
}

async fn issuer() -> (MockServer, Authenticator) {
    let server = MockServer::start().await;
    serve_jwks(&server, &jwks(&[&rsa(1, "k1")]), 1).await;
    let auth = authenticator(&server, fast_jwks());
    ready(&auth).await;
    (server, auth)
}

#[actix_web::test]
async fn handlers_receive_the_verified_claims() {
    let (_server, auth) = issuer().await;
    let app = test::init_service(
        App::new().service(
            web::resource("/me")
                .route(web::get().to(who))
                .wrap(RequireAuth::new(auth).policy(Policy::scope("read:messages"))),
        ),
    )
    .await;
    let token = valid(&rsa(1, "k1"))
        .claim("sub", "alice")
        .claim("scope", "read:messages")
        .sign()
        .unwrap();

    let request = test::TestRequest::get()
        .uri("/me")
        .insert_header((AUTHORIZATION, format!("Bearer {token}")))
        .to_request();
    let body = test::call_and_read_body(&app, request).await;

    assert_eq!(body, "alice");
}

#[actix_web::test]
async fn claims_extractor_without_authentication_fails_closed() {
    let app = test::init_service(App::new().route("/open", web::get().to(who))).await;

    let response =
        test::call_service(&app, test::TestRequest::get().uri("/open").to_request()).await;

    assert_eq!(response.status(), 401);
}

#[actix_web::test]
async fn a_cached_token_in_a_malformed_header_gets_the_same_answer_as_before() {
    let (_server, auth) = issuer().await;
    let app = test::init_service(
        App::new().service(
            web::resource("/me")
                .route(web::get().to(who))
                .wrap(RequireAuth::new(auth)),
        ),
    )
    .await;
    let token = valid(&rsa(1, "k1")).claim("sub", "alice").sign().unwrap();
    let status = |value: String| {
        let request = test::TestRequest::get()
            .uri("/me")
            .insert_header((AUTHORIZATION, value))
            .to_request();
        let app = &app;
        async move { test::call_service(app, request).await.status().as_u16() }
    };
    assert_eq!(status(format!("Bearer {token}")).await, 200);

    // The token is cached now; the header around it still decides first.
    assert_eq!(status(format!("Bearer\t{token}")).await, 400);
    assert_eq!(status(format!("Bearer \t{token}")).await, 400);
    assert_eq!(status(format!("Bearer {token} x")).await, 400);
    assert_eq!(status(format!("Basic {token}")).await, 401);
    assert_eq!(status(format!("  bearer   {token} \t")).await, 200);
}

#[actix_web::test]
async fn one_layer_checks_the_token_and_the_scope() {
    let (_server, auth) = issuer().await;
    let app = test::init_service(
        App::new().service(
            web::resource("/me")
                .route(web::get().to(who))
                .wrap(RequireAuth::new(auth).policy(Policy::scope("read:messages"))),
        ),
    )
    .await;
    let key = rsa(1, "k1");
    let scoped = valid(&key)
        .claim("sub", "alice")
        .claim("scope", "read:messages")
        .sign()
        .unwrap();
    let unscoped = valid(&key).claim("sub", "bob").sign().unwrap();
    let get = |token: &str| {
        test::TestRequest::get()
            .uri("/me")
            .insert_header((AUTHORIZATION, format!("Bearer {token}")))
            .to_request()
    };

    let body = test::call_and_read_body(&app, get(&scoped)).await;
    let forbidden = test::call_service(&app, get(&unscoped)).await;
    // A second time, from the token cache: the scope is still checked.
    let forbidden_again = test::call_service(&app, get(&unscoped)).await;

    assert_eq!(body, "alice");
    for response in [forbidden, forbidden_again] {
        assert_eq!(response.status(), 403);
        assert_eq!(
            response.headers().get(WWW_AUTHENTICATE).unwrap(),
            r#"Bearer realm="api", error="insufficient_scope", error_description="insufficient scope, requires read:messages", scope="read:messages", DPoP algs="RS256 RS384 RS512 PS256 PS384 PS512 ES256 ES384 ES512 EdDSA Ed25519""#
        );
    }
}
