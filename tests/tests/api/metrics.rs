//! `/metrics` after scripted traffic: each outcome's counter, the fetch outcomes, the gauges,
//! the HTTP series by route pattern, and where `/metrics` is served. The exposition text is
//! parsed, never matched as a string.

// Counter values are small integers, which f64 holds exactly.
#![allow(clippy::float_cmp)]

use std::time::Duration;

use actix_web::http::Method;
use tests::bodies::{PRIVATE, PUBLIC};
use tests::{Mode, Scrape, TestApp, TestConfig, send_to, settings_with, spawn_app, spawn_app_with};

const REQUESTS: &str = "auth_requests_total";

fn requests(scrape: &Scrape, result: &str, reason: Option<&str>) -> f64 {
    match reason {
        Some(reason) => scrape.counter(REQUESTS, &[("result", result), ("reason", reason)]),
        None => scrape.counter(REQUESTS, &[("result", result)]),
    }
}

/// Scrapes until `done` holds: gauges and background fetches change on their own time.
async fn scrape_until(app: &TestApp, done: impl Fn(&Scrape) -> bool) -> Scrape {
    for _ in 0..100 {
        let scrape = app.metrics().await;
        if done(&scrape) {
            return scrape;
        }
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the metrics never reached the expected state");
}

async fn every_answer_of_the_check_is_counted_by_result_and_reason() {
    let app = spawn_app().await;
    let valid = app.valid_token(None);
    let expired = app.token(&app.keys.rsa).expires_in(-60).sign().unwrap();
    let forged = app.token(&app.keys.rogue).sign().unwrap();
    let other_audience = app
        .token(&app.keys.rsa)
        .claim("aud", "https://another/api")
        .sign()
        .unwrap();
    let other_issuer = app
        .token(&app.keys.rsa)
        .claim("iss", "https://evil.example/")
        .sign()
        .unwrap();
    let unknown_kid = app.token(&app.keys.next).sign().unwrap();

    app.get("/api/private").await.assert_bare_401();
    app.get_with_authorization("/api/private", "Basic dXNlcjpwYXNz")
        .await
        .assert_bare_401();
    app.get_with_authorization("/api/private", "Bearer")
        .await
        .assert_invalid_request();
    app.get(&format!("/api/private?access_token={valid}"))
        .await
        .assert_invalid_request();
    app.private("not-a-jwt")
        .await
        .assert_invalid_token("malformed token");
    for _ in 0..2 {
        app.private(&expired)
            .await
            .assert_invalid_token("token expired");
    }
    app.private(&forged)
        .await
        .assert_invalid_token("signature verification failed");
    app.private(&other_audience)
        .await
        .assert_invalid_token("unexpected 'aud' value");
    app.private(&other_issuer)
        .await
        .assert_invalid_token("unexpected 'iss' value");
    app.private(&unknown_kid)
        .await
        .assert_invalid_token("no key matches the token's kid");
    // Verified in full once, then answered from the cache twice: once on each route.
    app.private(&valid).await.assert_ok(PRIVATE);
    app.private(&valid).await.assert_ok(PRIVATE);
    app.private_scoped(&valid).await.assert_error(
        403,
        "insufficient_scope",
        "insufficient scope, requires read:messages",
    );

    let scrape = app.metrics().await;
    let expected = [
        ("no_credentials", Some("missing_header"), 1.0),
        ("no_credentials", Some("other_scheme"), 1.0),
        ("invalid_request", Some("missing_token"), 1.0),
        ("invalid_request", Some("token_in_query"), 1.0),
        ("invalid_token", Some("malformed"), 1.0),
        ("invalid_token", Some("expired"), 2.0),
        ("invalid_token", Some("signature"), 1.0),
        ("invalid_token", Some("audience"), 1.0),
        ("invalid_token", Some("issuer"), 1.0),
        ("invalid_token", Some("unknown_kid"), 1.0),
        ("ok", None, 1.0),
        ("cache_hit", None, 1.0),
        ("insufficient_scope", None, 1.0),
        ("unavailable", None, 0.0),
    ];
    for (result, reason, count) in expected {
        assert_eq!(
            requests(&scrape, result, reason),
            count,
            "{result} {reason:?}"
        );
    }
    let total: f64 = expected.iter().map(|(_, _, count)| count).sum();
    assert_eq!(scrape.sum(REQUESTS, &[]), total, "no other series");
    // The token cache was looked up for every candidate token; two lookups found the valid one.
    assert_eq!(scrape.counter("auth_token_cache_hits_total", &[]), 2.0);
    assert_eq!(scrape.get("auth_token_cache_entries", &[]), Some(1.0));
    // One small token weighs its claims and the entry: a few hundred bytes to a few KiB.
    let bytes = scrape
        .get("auth_token_cache_bytes", &[])
        .unwrap_or_default();
    assert!((256.0..=8192.0).contains(&bytes), "{bytes}");
    assert!(scrape.counter("auth_token_cache_misses_total", &[]) >= 8.0);
    assert_eq!(
        scrape.types.get("auth_requests").map(String::as_str),
        Some("counter")
    );
}

// The binary's own middleware, not the adapter: on actix alone.
#[actix_web::test]
async fn http_requests_are_counted_by_route_pattern_method_and_status() {
    let app = spawn_app().await;
    let token = app.valid_token(None);

    app.public().await.assert_ok(PUBLIC);
    app.public().await.assert_ok(PUBLIC);
    app.private(&token).await.assert_ok(PRIVATE);
    app.get("/api/private").await.assert_bare_401();
    app.send(app.request(Method::POST, "/api/public")).await;
    app.get("/no/such/path/12345").await;
    app.send(app.request(Method::from_bytes(b"BREW").unwrap(), "/api/public"))
        .await;

    let scrape = app.metrics().await;
    let http = |method: &str, route: &str, status: &str| {
        scrape.counter(
            "http_requests_total",
            &[("method", method), ("route", route), ("status", status)],
        )
    };
    assert_eq!(http("GET", "/api/public", "200"), 2.0);
    assert_eq!(http("GET", "/api/private", "200"), 1.0);
    assert_eq!(http("GET", "/api/private", "401"), 1.0);
    assert_eq!(http("POST", "/api/public", "405"), 1.0);
    assert_eq!(http("other", "/api/public", "405"), 1.0);
    // Never the raw path: a path no route serves is `unmatched`.
    assert_eq!(http("GET", "unmatched", "404"), 1.0);
    assert!(
        scrape
            .samples
            .iter()
            .all(|s| s.labels.get("route").is_none_or(|r| !r.contains("12345")))
    );
    let latency = |suffix: &str, labels: &[(&str, &str)]| {
        scrape.counter(&format!("http_request_duration_seconds{suffix}"), labels)
    };
    let public = [("method", "GET"), ("route", "/api/public")];
    assert_eq!(latency("_count", &public), 2.0);
    assert!(latency("_sum", &public) > 0.0);
    let mut with_le = public.to_vec();
    with_le.push(("le", "+Inf"));
    assert_eq!(latency("_bucket", &with_le), 2.0);
}

async fn key_fetches_and_gauges_report_a_healthy_issuer() {
    let app = spawn_app().await;
    let issuer = app.issuer.issuer();
    let labels = [("issuer", issuer)];

    let scrape = app.metrics().await;

    let fetches = |document: &str, outcome: &str| {
        scrape.counter(
            "auth_jwks_fetches_total",
            &[
                ("issuer", issuer),
                ("document", document),
                ("outcome", outcome),
            ],
        )
    };
    assert_eq!(fetches("discovery", "ok"), 1.0);
    assert_eq!(fetches("jwks", "ok"), 1.0);
    let duration = [("issuer", issuer), ("document", "jwks")];
    assert_eq!(
        scrape.get("auth_jwks_fetch_duration_seconds_count", &duration),
        Some(1.0)
    );
    assert_eq!(scrape.get("auth_jwks_ready", &labels), Some(1.0));
    assert_eq!(scrape.get("auth_jwks_stale", &labels), Some(0.0));
    assert_eq!(scrape.get("auth_jwks_usable_keys", &labels), Some(3.0));
    let age = scrape.get("auth_jwks_age_seconds", &labels).unwrap();
    assert!((0.0..60.0).contains(&age), "{age}");
}

async fn an_outage_shows_as_unavailable_answers_failed_fetches_and_not_ready() {
    let app = spawn_app_with(TestConfig {
        initial_mode: Mode::Status(503),
        wait_ready: false,
        ..TestConfig::default()
    })
    .await;
    let issuer = app.issuer.issuer();

    app.private(&app.valid_token(None))
        .await
        .assert_unavailable();

    let scrape = app.metrics().await;
    assert_eq!(requests(&scrape, "unavailable", None), 1.0);
    assert!(
        scrape.counter(
            "auth_jwks_fetches_total",
            &[
                ("issuer", issuer),
                ("document", "jwks"),
                ("outcome", "status"),
            ],
        ) >= 1.0
    );
    assert_eq!(
        scrape.get("auth_jwks_ready", &[("issuer", issuer)]),
        Some(0.0)
    );
    assert_eq!(
        scrape.get("auth_jwks_usable_keys", &[("issuer", issuer)]),
        Some(0.0)
    );
}

async fn failed_refreshes_show_as_stale_keys_still_serving() {
    let app = spawn_app_with(TestConfig {
        max_age_secs: 1,
        ..TestConfig::default()
    })
    .await;
    let issuer = app.issuer.issuer();
    let labels = [("issuer", issuer)];
    app.issuer.set_mode(Mode::Garbage);

    let scrape = scrape_until(&app, |s| s.get("auth_jwks_stale", &labels) == Some(1.0)).await;

    assert_eq!(scrape.get("auth_jwks_ready", &labels), Some(1.0));
    assert_eq!(scrape.get("auth_jwks_usable_keys", &labels), Some(3.0));
    assert!(
        scrape.counter(
            "auth_jwks_fetches_total",
            &[
                ("issuer", issuer),
                ("document", "jwks"),
                ("outcome", "parse_error"),
            ],
        ) >= 1.0
    );
    app.private(&app.valid_token(None)).await.assert_ok(PRIVATE);
}

// The binary's own listeners, not the adapter: on actix alone.
#[actix_web::test]
async fn a_metrics_port_keeps_metrics_off_the_public_listener() {
    let issuer =
        tests::TestIssuer::start(&[&tests::Keys::load().rsa]).expect("the test issuer starts");
    let mut settings = settings_with(&[]);
    settings.server.port = 0;
    settings.server.metrics_port = Some(0);
    settings.auth.issuer = Some(issuer.issuer().to_owned());
    settings.auth.audience = vec![tests::AUDIENCE.to_owned()];
    let started = tests::start(&settings);
    let client = awc::Client::default();
    let url = |port: u16, path: &str| format!("http://127.0.0.1:{port}{path}");

    let metrics_port = started.metrics_port().expect("a metrics listener");
    let public = send_to(client.get(url(started.port(), "/metrics"))).await;
    let scrape = tests::scrape(&send_to(client.get(url(metrics_port, "/metrics"))).await);
    let elsewhere = send_to(client.get(url(metrics_port, "/api/public"))).await;

    assert_eq!(public.status, 404);
    assert_eq!(public.json()["message"], "Not Found");
    assert!(scrape.types.contains_key("auth_requests"));
    assert!(scrape.types.contains_key("http_requests"));
    assert_eq!(elsewhere.status, 404, "only /metrics on the metrics port");
}

// The binary's own listeners, not the adapter: on actix alone.
#[actix_web::test]
async fn metrics_can_be_turned_off() {
    let issuer =
        tests::TestIssuer::start(&[&tests::Keys::load().rsa]).expect("the test issuer starts");
    let mut settings = settings_with(&[("APP__SERVER__METRICS_ENABLED", "false")]);
    settings.server.port = 0;
    settings.auth.issuer = Some(issuer.issuer().to_owned());
    settings.auth.audience = vec![tests::AUDIENCE.to_owned()];
    let started = tests::start(&settings);
    let client = awc::Client::default();
    let url = format!("http://127.0.0.1:{}", started.port());

    let metrics = send_to(client.get(format!("{url}/metrics"))).await;
    let public = send_to(client.get(format!("{url}/api/public"))).await;

    assert_eq!(metrics.status, 404);
    public.assert_ok(PUBLIC);
    assert_eq!(started.metrics_port(), None);
}

tests::on_both_adapters!(
    every_answer_of_the_check_is_counted_by_result_and_reason,
    key_fetches_and_gauges_report_a_healthy_issuer,
    an_outage_shows_as_unavailable_answers_failed_fetches_and_not_ready,
    failed_refreshes_show_as_stale_keys_still_serving,
);
