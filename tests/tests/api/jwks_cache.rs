//! The JWKS cache end to end: each scenario checks the answers and the issuer's fetch counts.

use std::time::Duration;

use futures_util::future::join_all;
use tests::bodies::{PRIVATE, PUBLIC};
use tests::{Mode, TestApp, TestConfig, spawn_app, spawn_app_with};

const UNKNOWN_KID: &str = "no key matches the token's kid";

/// Polls until `/api/private` accepts `token`; recovery is driven by the cache's own backoff.
async fn eventually_accepted(app: &TestApp, token: &str) {
    for _ in 0..100 {
        if app.private(token).await.status == 200 {
            return;
        }
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the token was never accepted");
}

/// Polls until `/api/private` refuses `token`, as it must once a refresh has run; returns the
/// refusal.
async fn eventually_refused(app: &TestApp, token: &str) -> tests::Reply {
    for _ in 0..100 {
        let reply = app.private(token).await;
        if reply.status != 200 {
            return reply;
        }
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the token was never refused");
}

/// Waits until the issuer has served `count` JWKS fetches.
async fn fetches_reach(app: &TestApp, count: usize) {
    for _ in 0..100 {
        if app.issuer.jwks_fetches() >= count {
            return;
        }
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the issuer never saw {count} fetches");
}

/// An app whose keys are refreshed every second, and a token it accepts now.
async fn app_refreshing_every_second_with_a_working_token() -> (TestApp, String) {
    let app = spawn_app_with(TestConfig {
        max_age_secs: 1,
        ..TestConfig::default()
    })
    .await;
    let token = app.valid_token(None);
    app.private(&token).await.assert_ok(PRIVATE);
    (app, token)
}

async fn rotated_key_is_accepted_on_first_use_with_exactly_one_extra_fetch() {
    let app = spawn_app().await;
    assert_eq!(app.issuer.jwks_fetches(), 1);
    assert_eq!(app.issuer.discovery_fetches(), 1);

    app.issuer.publish(&app.keys.next);
    let reply = app
        .private(&app.token(&app.keys.next).sign().unwrap())
        .await;

    reply.assert_ok(PRIVATE);
    assert_eq!(app.issuer.jwks_fetches(), 2);
    assert_eq!(app.issuer.discovery_fetches(), 1);
}

async fn flood_of_random_kids_causes_at_most_one_extra_fetch() {
    let app = spawn_app().await;
    let tokens: Vec<String> = (0..200)
        .map(|i| {
            app.token(&app.keys.rsa)
                .header("kid", format!("random-{i}"))
                .sign()
                .unwrap()
        })
        .collect();

    let replies = join_all(tokens.iter().map(|token| app.private(token))).await;

    for reply in &replies {
        reply.assert_invalid_token(UNKNOWN_KID);
    }
    assert!(
        app.issuer.jwks_fetches() <= 2,
        "{}",
        app.issuer.jwks_fetches()
    );
    app.private(&app.valid_token(None)).await.assert_ok(PRIVATE);
}

async fn cold_start_with_concurrent_requests_causes_exactly_one_fetch() {
    let app = spawn_app_with(TestConfig {
        wait_ready: false,
        initial_mode: Mode::Slow(Duration::from_millis(300)),
        fetch_timeout_secs: 10,
        ..TestConfig::default()
    })
    .await;
    let token = app.valid_token(None);

    let replies = join_all((0..100).map(|_| app.private(&token))).await;

    for reply in &replies {
        reply.assert_ok(PRIVATE);
    }
    assert_eq!(app.issuer.jwks_fetches(), 1);
    assert_eq!(app.issuer.discovery_fetches(), 1);
}

async fn a_cold_start_waits_for_discovery_and_the_jwks_under_one_deadline() {
    // Each document takes 0.7 of the fetch timeout: both in turn take longer than one timeout,
    // yet the issuer is healthy, so the first request must get its answer, not a 503.
    let app = spawn_app_with(TestConfig {
        wait_ready: false,
        initial_mode: Mode::Slow(Duration::from_millis(700)),
        fetch_timeout_secs: 1,
        ..TestConfig::default()
    })
    .await;

    app.private(&app.valid_token(None)).await.assert_ok(PRIVATE);

    assert_eq!(app.issuer.discovery_fetches(), 1);
    assert_eq!(app.issuer.jwks_fetches(), 1);
}

async fn retries_after_failures_are_capped_by_retry_max_not_the_cooldown() {
    let app = spawn_app_with(TestConfig {
        wait_ready: false,
        initial_mode: Mode::Status(500),
        cooldown_secs: 600,
        customize: |settings| settings.auth.jwks.retry_max = std::time::Duration::from_secs(1),
        ..TestConfig::default()
    })
    .await;
    // Past the backoff's doubling: 1 s, then capped at 1 s (the cooldown would allow 8 s).
    for _ in 0..200 {
        if app.issuer.jwks_fetches() >= 5 {
            break;
        }
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(app.issuer.jwks_fetches() >= 5);

    let refused = app.private(&app.valid_token(None)).await;

    refused.assert_unavailable();
    assert_eq!(refused.header("retry-after"), Some("1"), "{refused:?}");
    // Each retry after two failures in a row reads the discovery document again.
    assert!(app.issuer.discovery_fetches() >= 3);
    app.issuer.recover();
    eventually_accepted(&app, &app.valid_token(None)).await;
}

async fn outage_after_warm_up_keeps_cached_keys_and_recovers() {
    for mode in [Mode::Status(500), Mode::Garbage, Mode::Hang] {
        let app = spawn_app().await;
        app.issuer.set_mode(mode);
        app.issuer.publish(&app.keys.next);
        let rotated = app.token(&app.keys.next).sign().unwrap();

        app.private(&app.valid_token(None)).await.assert_ok(PRIVATE);
        app.private(&rotated).await.assert_unavailable();
        app.private(&app.valid_token(None)).await.assert_ok(PRIVATE);

        app.issuer.recover();
        eventually_accepted(&app, &rotated).await;
    }
}

async fn cold_start_during_an_outage_answers_503_then_recovers() {
    let app = spawn_app_with(TestConfig {
        wait_ready: false,
        initial_mode: Mode::Status(500),
        ..TestConfig::default()
    })
    .await;
    let token = app.valid_token(None);

    app.private(&token).await.assert_unavailable();
    assert_eq!(app.get("/readyz").await.status, 503);
    app.public().await.assert_ok(PUBLIC);

    app.issuer.recover();
    eventually_accepted(&app, &token).await;
    assert_eq!(app.get("/readyz").await.status, 200);
}

async fn oversized_jwks_is_refused_and_the_server_stays_up() {
    let app = spawn_app_with(TestConfig {
        wait_ready: false,
        initial_mode: Mode::Oversized,
        ..TestConfig::default()
    })
    .await;

    app.private(&app.valid_token(None))
        .await
        .assert_unavailable();

    assert_eq!(app.get("/healthz").await.status, 200);
    assert_eq!(app.get("/readyz").await.status, 503);
    app.public().await.assert_ok(PUBLIC);
}

async fn removed_key_is_refused_after_the_next_refresh() {
    let (app, token) = app_refreshing_every_second_with_a_working_token().await;

    app.issuer.withdraw("rsa-1");
    fetches_reach(&app, 2).await;

    eventually_refused(&app, &token)
        .await
        .assert_invalid_token(UNKNOWN_KID);
    let ec = app.token(&app.keys.ec).sign().unwrap();
    app.private(&ec).await.assert_ok(PRIVATE);
}

async fn requests_do_not_wait_on_a_background_refresh() {
    // The refresh hangs for a minute and may take that long: a request that waited on it
    // would outlast the client's 30 s timeout.
    let app = spawn_app_with(TestConfig {
        max_age_secs: 1,
        fetch_timeout_secs: 60,
        ..TestConfig::default()
    })
    .await;
    app.issuer.set_mode(Mode::Hang);
    fetches_reach(&app, 2).await;

    let token = app.valid_token(None);
    let replies = join_all((0..20).map(|_| app.private(&token))).await;

    for reply in &replies {
        reply.assert_ok(PRIVATE);
    }
    assert_eq!(app.issuer.jwks_fetches(), 2);
}

async fn a_jwks_without_usable_keys_revokes_them_and_readiness_says_why() {
    let (app, token) = app_refreshing_every_second_with_a_working_token().await;

    for kid in ["rsa-1", "ec-1", "ed-1"] {
        app.issuer.withdraw(kid);
    }
    let refused = eventually_refused(&app, &token).await;
    let ready = app.get("/readyz").await;

    refused.assert_invalid_token(UNKNOWN_KID);
    assert_eq!(ready.status, 503);
    assert_eq!(ready.json()["status"], "no usable keys");
    assert!(ready.json()["age_secs"].is_u64(), "{:?}", ready.json());
}

/// Polls `/readyz` until its body satisfies `done`; returns the reply.
async fn readyz_until(app: &TestApp, done: impl Fn(&serde_json::Value) -> bool) -> tests::Reply {
    for _ in 0..100 {
        let reply = app.get("/readyz").await;
        if done(&reply.json()) {
            return reply;
        }
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("/readyz never reached the expected state");
}

async fn readyz_reports_the_key_count_and_age_when_ready() {
    let app = spawn_app().await;

    let reply = app.get("/readyz").await;

    assert_eq!(reply.status, 200);
    let body = reply.json();
    assert_eq!(body["status"], "ready");
    assert_eq!(body["keys"], 3);
    assert!(body["age_secs"].is_u64(), "{body}");
}

async fn readyz_reports_stale_keys_with_the_last_error_and_stays_200() {
    let (app, token) = app_refreshing_every_second_with_a_working_token().await;

    app.issuer.set_mode(Mode::Status(500));
    let reply = readyz_until(&app, |body| body["status"] == "serving stale keys").await;

    assert_eq!(reply.status, 200);
    let body = reply.json();
    assert_eq!(body["keys"], 3);
    assert_eq!(body["last_error"], "answered 500");
    assert!(body["failing_for_secs"].is_u64(), "{body}");
    app.private(&token).await.assert_ok(PRIVATE);
}

async fn readyz_reports_keys_never_loaded_with_the_last_error() {
    let app = spawn_app_with(TestConfig {
        initial_mode: Mode::Status(503),
        wait_ready: false,
        ..TestConfig::default()
    })
    .await;

    let reply = readyz_until(&app, |body| body["last_error"] == "answered 503").await;

    assert_eq!(reply.status, 503);
    assert_eq!(reply.json()["status"], "keys not loaded");
}

/// The lifetime in use, as `/metrics` reports it, for the issuer of `app`.
async fn key_lifetime(app: &TestApp) -> Option<f64> {
    app.metrics().await.get(
        "auth_jwks_max_age_seconds",
        &[("issuer", app.issuer.issuer())],
    )
}

/// What the issuer's JWKS response says of its lifetime sets when the keys are refreshed,
/// clamped to the shortest lifetime (60 s) and `auth.jwks.max_age_secs` (600 s here); without
/// a readable lifetime, `max_age_secs` holds. Each case is a replica that fetches afresh.
async fn the_issuers_cache_control_sets_the_keys_lifetime_within_its_bounds() {
    let app = spawn_app().await;
    assert_eq!(key_lifetime(&app).await, Some(600.0));
    for (cache_control, lifetime) in [
        (Some("public, max-age=300"), 300.0),
        (Some("max-age=1"), 60.0),
        (Some("max-age=86400000"), 600.0),
        (Some("no-cache"), 60.0),
        (Some("no-store, max-age=300"), 60.0),
        (Some("max-age=banana"), 600.0),
        (None, 600.0),
    ] {
        app.issuer.set_cache_control(cache_control);
        let replica = app.replica(TestConfig::default()).await;
        assert_eq!(
            key_lifetime(&replica).await,
            Some(lifetime),
            "{cache_control:?}"
        );
        replica
            .private(&replica.valid_token(None))
            .await
            .assert_ok(PRIVATE);
    }
}

/// With `auth.jwks.min_max_age_secs = 1`, an issuer that says `max-age=1` or `no-cache` is
/// fetched again each second, while one that says `max-age=86400000` (clamped to
/// `max_age_secs`, an hour here) or something unreadable (`max_age_secs`) is not fetched again
/// in that time. Each app has an issuer of its own, so the fetch counts are each app's.
async fn the_routine_refresh_follows_the_lifetime_the_issuer_sets() {
    let config = |cache_control| TestConfig {
        cache_control: Some(cache_control),
        max_age_secs: 3600,
        max_stale_secs: 7200,
        customize: |settings| settings.auth.jwks.min_max_age = Duration::from_secs(1),
        ..TestConfig::default()
    };
    let short = spawn_app_with(config("max-age=1")).await;
    let uncached = spawn_app_with(config("no-cache")).await;
    let long = spawn_app_with(config("max-age=86400000")).await;
    let garbage = spawn_app_with(config("max-age=soon")).await;

    for app in [&short, &uncached] {
        for _ in 0..100 {
            if app.issuer.jwks_fetches() >= 3 {
                break;
            }
            actix_web::rt::time::sleep(Duration::from_millis(100)).await;
        }
        assert!(app.issuer.jwks_fetches() >= 3, "never refreshed");
        assert_eq!(key_lifetime(app).await, Some(1.0));
    }
    // In the same time, the long-lived keys were not fetched again.
    for app in [&long, &garbage] {
        assert_eq!(app.issuer.jwks_fetches(), 1);
        assert_eq!(key_lifetime(app).await, Some(3600.0));
    }
    for app in [&short, &uncached, &long, &garbage] {
        app.private(&app.valid_token(None)).await.assert_ok(PRIVATE);
    }
}

tests::on_both_adapters!(
    rotated_key_is_accepted_on_first_use_with_exactly_one_extra_fetch,
    flood_of_random_kids_causes_at_most_one_extra_fetch,
    cold_start_with_concurrent_requests_causes_exactly_one_fetch,
    a_cold_start_waits_for_discovery_and_the_jwks_under_one_deadline,
    retries_after_failures_are_capped_by_retry_max_not_the_cooldown,
    outage_after_warm_up_keeps_cached_keys_and_recovers,
    cold_start_during_an_outage_answers_503_then_recovers,
    oversized_jwks_is_refused_and_the_server_stays_up,
    removed_key_is_refused_after_the_next_refresh,
    requests_do_not_wait_on_a_background_refresh,
    a_jwks_without_usable_keys_revokes_them_and_readiness_says_why,
    readyz_reports_the_key_count_and_age_when_ready,
    readyz_reports_stale_keys_with_the_last_error_and_stays_200,
    readyz_reports_keys_never_loaded_with_the_last_error,
    the_issuers_cache_control_sets_the_keys_lifetime_within_its_bounds,
    the_routine_refresh_follows_the_lifetime_the_issuer_sets,
);
