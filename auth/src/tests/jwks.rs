//! Section 5: the JWKS cache's refresh rules, counting the issuer's fetches with `.expect(n)`.

use std::time::Duration;

use futures_util::future::join_all;
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::*;

fn retry_after(result: Result<crate::Claims, AuthError>) -> Duration {
    match result {
        Err(AuthError::KeysUnavailable { retry_after }) => retry_after,
        other => panic!("expected 503, got {other:?}"),
    }
}

async fn respond(
    server: &MockServer,
    response: ResponseTemplate,
    times: impl Into<wiremock::Times>,
) {
    Mock::given(method("GET"))
        .and(path(JWKS_PATH))
        .respond_with(response)
        .expect(times)
        .mount(server)
        .await;
}

/// Serves `body` for the first `first` fetches only (higher priority than later mocks).
async fn serve_first(server: &MockServer, response: ResponseTemplate, first: u64) {
    Mock::given(method("GET"))
        .and(path(JWKS_PATH))
        .respond_with(response)
        .up_to_n_times(first)
        .expect(first)
        .with_priority(1)
        .mount(server)
        .await;
}

/// A fetch timeout long enough that a slow (delayed) first fetch never times out, even on a
/// loaded machine.
fn patient_jwks() -> JwksConfig {
    JwksConfig {
        fetch_timeout: Duration::from_secs(10),
        ..fast_jwks()
    }
}

/// Waits until the server has received `count` requests.
async fn fetches_reach(server: &MockServer, count: usize) {
    for _ in 0..500 {
        if server.received_requests().await.unwrap_or_default().len() >= count {
            return;
        }
        actix_web::rt::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("the issuer never saw {count} fetches");
}

/// A discovery document at `at` on `server`, naming `issuer` and the JWKS at `jwks_path`.
fn discovery(server: &MockServer, at: &str, issuer: impl AsRef<str>, jwks_path: &str) -> Mock {
    Mock::given(method("GET"))
        .and(path(at))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "issuer": issuer.as_ref(),
            "jwks_uri": format!("{}{jwks_path}", server.uri()),
        })))
}

fn ok(body: &serde_json::Value) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(body)
}

#[actix_web::test]
async fn concurrent_requests_on_a_cold_cache_share_one_fetch() {
    let server = MockServer::start().await;
    let key = rsa(1, "k1");
    respond(
        &server,
        ok(&jwks(&[&key])).set_delay(Duration::from_millis(200)),
        1,
    )
    .await;
    let auth = authenticator(&server, patient_jwks());
    let token = valid(&key).sign().unwrap();

    let results = join_all((0..100).map(|_| auth.verify_token(&token))).await;

    assert!(results.iter().all(Result::is_ok));
    server.verify().await;
}

#[actix_web::test]
async fn readiness_follows_the_first_successful_fetch() {
    let server = MockServer::start().await;
    respond(
        &server,
        ok(&jwks(&[&rsa(1, "k1")])).set_delay(Duration::from_millis(300)),
        1,
    )
    .await;

    let auth = authenticator(&server, patient_jwks());

    assert!(!auth.is_ready());
    ready(&auth).await;
    assert!(auth.is_ready());
}

#[actix_web::test]
async fn rotated_key_is_accepted_on_first_use_with_one_refetch() {
    let server = MockServer::start().await;
    let (old, new) = (rsa(1, "k1"), rsa(2, "k2"));
    serve_first(&server, ok(&jwks(&[&old])), 1).await;
    respond(&server, ok(&jwks(&[&old, &new])), 1).await;
    let auth = authenticator(&server, fast_jwks());
    ready(&auth).await;

    let claims = auth.verify_token(&valid(&new).sign().unwrap()).await;

    assert!(claims.is_ok(), "{claims:?}");
    assert!(
        auth.verify_token(&valid(&old).sign().unwrap())
            .await
            .is_ok()
    );
    server.verify().await;
}

#[actix_web::test]
async fn flood_of_unknown_kids_causes_at_most_one_refetch_per_cooldown() {
    let server = MockServer::start().await;
    let key = rsa(1, "k1");
    respond(&server, ok(&jwks(&[&key])), 2).await;
    let auth = authenticator(&server, fast_jwks());
    ready(&auth).await;
    let tokens: Vec<String> = (0..200)
        .map(|i| {
            valid(&key)
                .header("kid", format!("random-{i}"))
                .sign()
                .unwrap()
        })
        .collect();

    let results = join_all(tokens.iter().map(|t| auth.verify_token(t))).await;

    for result in results {
        assert_eq!(token_error(result), TokenError::UnknownKid);
    }
    assert!(
        auth.verify_token(&valid(&key).sign().unwrap())
            .await
            .is_ok()
    );
    server.verify().await;
}

#[actix_web::test]
async fn unknown_kid_refetches_again_once_the_cooldown_has_passed() {
    let server = MockServer::start().await;
    let key = rsa(1, "k1");
    respond(&server, ok(&jwks(&[&key])), 3).await;
    let jwks_config = JwksConfig {
        cooldown: Duration::from_millis(300),
        ..fast_jwks()
    };
    let auth = authenticator(&server, jwks_config);
    ready(&auth).await;
    let stranger = valid(&key).header("kid", "stranger").sign().unwrap();

    assert_eq!(
        token_error(auth.verify_token(&stranger).await),
        TokenError::UnknownKid
    );
    assert_eq!(
        token_error(auth.verify_token(&stranger).await),
        TokenError::UnknownKid
    );
    actix_web::rt::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(
        token_error(auth.verify_token(&stranger).await),
        TokenError::UnknownKid
    );
    server.verify().await;
}

#[actix_web::test]
async fn rotation_just_after_a_routine_refresh_is_still_accepted() {
    // Express counts its cooldown from any fetch; ours counts only unknown-kid refetches.
    let server = MockServer::start().await;
    let (old, new) = (rsa(1, "k1"), rsa(2, "k2"));
    serve_first(&server, ok(&jwks(&[&old])), 2).await;
    respond(&server, ok(&jwks(&[&old, &new])), 1..=2).await;
    let jwks_config = JwksConfig {
        max_age: Duration::from_millis(500),
        ..fast_jwks()
    };
    let auth = authenticator(&server, jwks_config);
    ready(&auth).await;
    // Let the routine refresh happen (fetch #2), then rotate well before the next one.
    fetches_reach(&server, 2).await;
    actix_web::rt::time::sleep(Duration::from_millis(50)).await;

    assert!(
        auth.verify_token(&valid(&new).sign().unwrap())
            .await
            .is_ok()
    );
}

#[actix_web::test]
async fn outage_after_warm_up_keeps_known_keys_and_answers_503_for_unknown_kids() {
    let server = MockServer::start().await;
    let key = rsa(1, "k1");
    serve_first(&server, ok(&jwks(&[&key])), 1).await;
    respond(&server, ResponseTemplate::new(500), 1).await;
    let auth = authenticator(&server, fast_jwks());
    ready(&auth).await;
    let stranger = valid(&key).header("kid", "k2").sign().unwrap();

    assert!(
        auth.verify_token(&valid(&key).sign().unwrap())
            .await
            .is_ok()
    );
    assert!(retry_after(auth.verify_token(&stranger).await) > Duration::ZERO);
    // Within the backoff, no further fetch: still 503, known keys still work.
    retry_after(auth.verify_token(&stranger).await);
    assert!(
        auth.verify_token(&valid(&key).sign().unwrap())
            .await
            .is_ok()
    );
    server.verify().await;
}

#[actix_web::test]
async fn garbage_and_hanging_issuers_are_failed_fetches() {
    for response in [
        ResponseTemplate::new(200).set_body_string("<html>"),
        ResponseTemplate::new(200).set_body_json(json!({ "nokeys": 1 })),
        ResponseTemplate::new(302).insert_header("location", "https://evil.example/jwks"),
        ResponseTemplate::new(200)
            .set_body_json(jwks(&[&rsa(1, "k1")]))
            .set_delay(Duration::from_secs(3)),
    ] {
        let server = MockServer::start().await;
        respond(&server, response, 1).await;
        let auth = authenticator(&server, fast_jwks());
        let token = valid(&rsa(1, "k1")).sign().unwrap();

        retry_after(auth.verify_token(&token).await);

        assert!(!auth.is_ready());
    }
}

#[actix_web::test]
async fn oversized_jwks_is_refused() {
    let server = MockServer::start().await;
    let mut document = jwks(&[&rsa(1, "k1")]);
    document["padding"] = json!("x".repeat(100 * 1024));
    respond(&server, ok(&document), 1).await;
    let auth = authenticator(&server, fast_jwks());

    retry_after(
        auth.verify_token(&valid(&rsa(1, "k1")).sign().unwrap())
            .await,
    );
    server.verify().await;
}

#[actix_web::test]
async fn cold_start_during_an_outage_answers_503_then_recovers() {
    let server = MockServer::start().await;
    let key = rsa(1, "k1");
    serve_first(&server, ResponseTemplate::new(503), 1).await;
    respond(&server, ok(&jwks(&[&key])), 1).await;
    let auth = authenticator(
        &server,
        JwksConfig {
            cooldown: Duration::from_millis(200),
            ..fast_jwks()
        },
    );
    let token = valid(&key).sign().unwrap();

    let wait = retry_after(auth.verify_token(&token).await);
    actix_web::rt::time::sleep(wait + Duration::from_millis(100)).await;

    assert!(auth.verify_token(&token).await.is_ok());
    server.verify().await;
}

#[actix_web::test]
async fn removed_key_is_refused_after_the_next_refresh() {
    let server = MockServer::start().await;
    let (kept, removed) = (rsa(1, "k1"), rsa(2, "k2"));
    serve_first(&server, ok(&jwks(&[&kept, &removed])), 1).await;
    respond(&server, ok(&jwks(&[&kept])), 1..).await;
    let auth = authenticator(
        &server,
        JwksConfig {
            max_age: Duration::from_millis(500),
            ..fast_jwks()
        },
    );
    ready(&auth).await;
    let token = valid(&removed).sign().unwrap();
    assert!(auth.verify_token(&token).await.is_ok());

    assert_eq!(
        eventually_refused(&auth, &token).await,
        TokenError::UnknownKid
    );
    assert!(
        auth.verify_token(&valid(&kept).sign().unwrap())
            .await
            .is_ok()
    );
}

#[actix_web::test]
async fn background_refresh_does_not_hold_requests() {
    // The refresh takes a minute and may (the fetch timeout allows it): a request that waited
    // on it would outlast the 10 s liveness bound below by far.
    let server = MockServer::start().await;
    let key = rsa(1, "k1");
    serve_first(&server, ok(&jwks(&[&key])), 1).await;
    respond(
        &server,
        ok(&jwks(&[&key])).set_delay(Duration::from_secs(30)),
        1,
    )
    .await;
    let auth = authenticator(
        &server,
        JwksConfig {
            max_age: Duration::from_millis(100),
            fetch_timeout: Duration::from_secs(60),
            ..fast_jwks()
        },
    );
    ready(&auth).await;
    while server.received_requests().await.unwrap().len() < 2 {
        actix_web::rt::time::sleep(Duration::from_millis(20)).await;
    }

    let token = valid(&key).sign().unwrap();
    let outcome =
        actix_web::rt::time::timeout(Duration::from_secs(10), auth.verify_token(&token)).await;

    assert!(matches!(outcome, Ok(Ok(_))), "{outcome:?}");
}

#[actix_web::test]
async fn keys_older_than_the_maximum_stale_age_stop_serving() {
    let server = MockServer::start().await;
    let key = rsa(1, "k1");
    serve_first(&server, ok(&jwks(&[&key])), 1).await;
    respond(&server, ResponseTemplate::new(500), 1..).await;
    let auth = authenticator(
        &server,
        JwksConfig {
            max_age: Duration::from_millis(100),
            max_stale: Duration::from_millis(300),
            cooldown: Duration::from_millis(100),
            ..fast_jwks()
        },
    );
    ready(&auth).await;
    let token = valid(&key).sign().unwrap();
    assert!(auth.verify_token(&token).await.is_ok());

    actix_web::rt::time::sleep(Duration::from_millis(450)).await;

    retry_after(auth.verify_token(&token).await);
    assert!(!auth.is_ready());
}

#[actix_web::test]
async fn discovery_finds_the_jwks_and_checks_the_issuer() {
    let server = MockServer::start().await;
    let key = rsa(1, "k1");
    let issuer = format!("{}/tenant/", server.uri());
    discovery(
        &server,
        "/tenant/.well-known/openid-configuration",
        &issuer,
        JWKS_PATH,
    )
    .expect(1)
    .mount(&server)
    .await;
    respond(&server, ok(&jwks(&[&key])), 1).await;
    let auth = Authenticator::builder()
        .issuer(&issuer)
        .audiences([AUDIENCE])
        .jwks(fast_jwks())
        .build()
        .unwrap();
    ready(&auth).await;

    let token = valid(&key).claim("iss", issuer.as_str()).sign().unwrap();

    assert!(auth.verify_token(&token).await.is_ok());
    server.verify().await;
}

#[actix_web::test]
async fn discovery_with_another_issuer_is_refused() {
    let server = MockServer::start().await;
    discovery(
        &server,
        "/.well-known/openid-configuration",
        "https://evil.example/",
        JWKS_PATH,
    )
    .expect(1)
    .mount(&server)
    .await;
    respond(&server, ok(&jwks(&[&rsa(1, "k1")])), 0).await;
    let issuer = format!("{}/", server.uri());
    let auth = Authenticator::builder()
        .issuer(&issuer)
        .audiences([AUDIENCE])
        .jwks(fast_jwks())
        .build()
        .unwrap();
    let token = valid(&rsa(1, "k1"))
        .claim("iss", issuer.as_str())
        .sign()
        .unwrap();

    retry_after(auth.verify_token(&token).await);
    server.verify().await;
}

#[actix_web::test]
async fn the_discovered_issuer_is_the_one_exact_value_tokens_must_name() {
    let server = MockServer::start().await;
    let key = rsa(1, "k1");
    let slashed = format!("{}/", server.uri());
    discovery(
        &server,
        "/.well-known/openid-configuration",
        &slashed,
        JWKS_PATH,
    )
    .mount(&server)
    .await;
    respond(&server, ok(&jwks(&[&key])), 1..).await;
    let auth = Authenticator::builder()
        .issuer(server.uri())
        .audiences([AUDIENCE])
        .jwks(fast_jwks())
        .build()
        .unwrap();
    ready(&auth).await;

    let with_slash = valid(&key).claim("iss", slashed.as_str()).sign().unwrap();
    let without = valid(&key).claim("iss", server.uri()).sign().unwrap();

    assert_eq!(
        auth.verify_token(&with_slash).await.unwrap().issuer(),
        slashed
    );
    assert_eq!(
        token_error(auth.verify_token(&without).await),
        TokenError::Issuer
    );
    assert_eq!(auth.issuers(), [slashed.as_str()]);
    assert_eq!(auth.issuer_states()[0].0, slashed);
}

#[actix_web::test]
async fn a_moved_jwks_uri_is_discovered_again_once_fetches_keep_failing() {
    let server = MockServer::start().await;
    let (old, new) = (rsa(1, "old"), rsa(2, "new"));
    let issuer = format!("{}/", server.uri());
    let at = "/.well-known/openid-configuration";
    discovery(&server, at, &issuer, JWKS_PATH)
        .mount(&server)
        .await;
    respond(&server, ok(&jwks(&[&old])), 1..).await;
    let auth = Authenticator::builder()
        .issuer(&issuer)
        .audiences([AUDIENCE])
        .jwks(JwksConfig {
            cooldown: Duration::from_secs(1),
            ..fast_jwks()
        })
        .build()
        .unwrap();
    ready(&auth).await;
    // The issuer moves its keys: the old URL is gone, and discovery names the new one.
    server.reset().await;
    discovery(&server, at, &issuer, "/keys/v2")
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/keys/v2"))
        .respond_with(ok(&jwks(&[&new])))
        .mount(&server)
        .await;
    let token = valid(&new).claim("iss", issuer.as_str()).sign().unwrap();

    let mut answer = auth.verify_token(&token).await;
    for _ in 0..150 {
        if answer.is_ok() {
            break;
        }
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
        answer = auth.verify_token(&token).await;
    }

    assert!(answer.is_ok(), "{answer:?}");
}

/// JWKS documents that parse but hold no usable key: the issuer's word that no key is valid.
fn unusable_documents() -> Vec<Value> {
    let mut enc = rsa(2, "k1").jwk();
    enc["use"] = json!("enc");
    let mut small = rsa(2, "k1").jwk();
    small["n"] = json!("AQAB");
    let mut p521 = p256("k1").jwk();
    p521["crv"] = json!("P-521");
    vec![
        json!({ "keys": [] }),
        json!({ "keys": [enc] }),
        json!({ "keys": [{ "kty": "oct", "kid": "k1", "k": "c2VjcmV0" }] }),
        json!({ "keys": [small] }),
        json!({ "keys": [p521] }),
    ]
}

#[actix_web::test]
async fn a_jwks_without_usable_keys_revokes_every_key_cache_hits_included() {
    for document in unusable_documents() {
        let server = MockServer::start().await;
        let key = rsa(1, "k1");
        serve_first(&server, ok(&jwks(&[&key])), 1).await;
        respond(&server, ok(&document), 1..).await;
        let auth = authenticator(
            &server,
            JwksConfig {
                max_age: Duration::from_millis(300),
                ..fast_jwks()
            },
        );
        ready(&auth).await;
        let token = valid(&key).sign().unwrap();
        assert!(auth.verify_token(&token).await.is_ok(), "{document}");

        let refused = eventually_refused(&auth, &token).await;

        assert_eq!(refused, TokenError::UnknownKid, "{document}");
        assert!(
            matches!(
                auth.issuer_states()[0].1,
                crate::Readiness::NoUsableKeys { .. }
            ),
            "{document}"
        );
    }
}

#[actix_web::test]
async fn a_cold_start_against_a_jwks_without_usable_keys_is_401_not_503() {
    for document in unusable_documents() {
        let server = MockServer::start().await;
        respond(&server, ok(&document), 1..).await;
        let auth = authenticator(&server, fast_jwks());
        let token = valid(&rsa(1, "k1")).sign().unwrap();

        let result = auth.verify_token(&token).await;

        assert_eq!(token_error(result), TokenError::UnknownKid, "{document}");
        assert!(!auth.is_ready());
        assert_eq!(auth.issuer_states()[0].1.reason(), "no usable keys");
    }
}

#[actix_web::test]
async fn an_unknown_kid_during_a_refetch_waits_for_its_answer() {
    let server = MockServer::start().await;
    let (old, new) = (rsa(1, "k1"), rsa(2, "k2"));
    serve_first(&server, ok(&jwks(&[&old])), 1).await;
    respond(
        &server,
        ok(&jwks(&[&old, &new])).set_delay(Duration::from_secs(2)),
        1,
    )
    .await;
    let auth = authenticator(&server, patient_jwks());
    ready(&auth).await;
    let token = valid(&new).sign().unwrap();

    // The second request arrives while the first one's refetch is in flight, inside the
    // cooldown: it must get that fetch's answer, not an immediate 401.
    let (first, second) = futures_util::join!(auth.verify_token(&token), async {
        fetches_reach(&server, 2).await;
        auth.verify_token(&token).await
    });

    assert!(first.is_ok(), "{first:?}");
    assert!(second.is_ok(), "{second:?}");
    server.verify().await;
}

#[actix_web::test]
async fn a_requester_that_has_gone_away_causes_no_fetch() {
    let server = MockServer::start().await;
    // Every fetch is slow; the first two are the initial fetch and the one for `k3` below. A
    // fetch for the abandoned `k2` would make three.
    respond(
        &server,
        ok(&jwks(&[&rsa(1, "k1")])).set_delay(Duration::from_millis(800)),
        2,
    )
    .await;
    // The shortest cooldown allowed, so that only the fix, not the cooldown, spares the third
    // fetch.
    let auth = authenticator(
        &server,
        JwksConfig {
            cooldown: *crate::limits::COOLDOWN.start(),
            ..patient_jwks()
        },
    );
    fetches_reach(&server, 1).await;
    let abandoned = valid(&rsa(2, "k2")).sign().unwrap();
    let later = valid(&rsa(3, "k3")).sign().unwrap();

    let gave_up =
        actix_web::rt::time::timeout(Duration::from_millis(100), auth.verify_token(&abandoned))
            .await;
    let answered = auth.verify_token(&later).await;

    assert!(gave_up.is_err(), "the first requester should have given up");
    assert_eq!(token_error(answered), TokenError::UnknownKid);
    server.verify().await;
}

#[actix_web::test]
async fn a_flood_of_unknown_kids_during_a_slow_fetch_is_answered_without_more_fetches() {
    let server = MockServer::start().await;
    let key = rsa(1, "k1");
    respond(
        &server,
        ok(&jwks(&[&key])).set_delay(Duration::from_millis(500)),
        1..=2,
    )
    .await;
    let auth = authenticator(&server, patient_jwks());
    let tokens: Vec<String> = (0..300)
        .map(|n| {
            valid(&key)
                .header("kid", format!("kid-{n}"))
                .sign()
                .unwrap()
        })
        .collect();

    // More requests than the demand queue holds: the rest wait for the fetch in flight.
    let results = join_all(tokens.iter().map(|token| auth.verify_token(token))).await;

    for result in results {
        assert_eq!(token_error(result), TokenError::UnknownKid);
    }
    server.verify().await;
}
