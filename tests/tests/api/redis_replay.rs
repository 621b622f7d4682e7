//! The Redis replay store against a real `redis-server` (Debian's package), started on a free
//! loopback port for each test that needs one: one use of a proof across replicas, the keys it
//! writes and how long they live, an outage mid-run and the recovery after it. Without the
//! binary these tests say they are skipped; CI sets `OAUTH2_JWT_BEARER_REQUIRE_REDIS=1`, which
//! makes them fail instead.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use auth::testing::{RedisServer, now_secs};
use serde_json::json;
use tests::bodies::PRIVATE;
use tests::{CertifiedName, PUBLIC_URL, TestApp, TestCertificates, TestConfig, spawn_app_with};

const PATH: &str = "/api/private";

fn config(redis: &RedisServer) -> TestConfig {
    TestConfig {
        public_url: Some(PUBLIC_URL.to_owned()),
        redis_url: Some(redis.url()),
        ..TestConfig::default()
    }
}

/// Sends one inline command to the server and reads its reply.
fn command(redis: &RedisServer, line: &str) -> String {
    let address = redis
        .url()
        .trim_start_matches("redis://")
        .trim_end_matches("/0")
        .to_owned();
    let mut stream = TcpStream::connect(address).unwrap();
    stream.write_all(format!("{line}\r\n").as_bytes()).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(2)))
        .unwrap();
    let mut reply = vec![0; 4096];
    let read = stream.read(&mut reply).unwrap();
    String::from_utf8_lossy(&reply[..read]).into_owned()
}

async fn a_proof_is_accepted_once_across_replicas_that_share_redis() {
    let Some(redis) = RedisServer::start_or_skip("redis_replay::across_replicas") else {
        return;
    };
    let one = spawn_app_with(config(&redis)).await;
    let two = one.replica(config(&redis)).await;
    let client = &one.keys.ec;
    let token = one.bound_token(client, None);
    let proof = one.proof(client, PATH, &token);

    one.get_dpop(PATH, &token, &proof).await.assert_ok(PRIVATE);
    two.get_dpop(PATH, &token, &proof)
        .await
        .assert_invalid_proof("DPoP proof has already been used");
    // Each replica takes fresh proofs.
    two.dpop(client, PATH, &token).await.assert_ok(PRIVATE);
}

async fn each_proof_is_one_prefixed_key_that_lives_until_its_iat_is_too_old() {
    let Some(redis) = RedisServer::start_or_skip("redis_replay::keys") else {
        return;
    };
    let app = spawn_app_with(config(&redis)).await;
    let client = &app.keys.ec;
    let token = app.bound_token(client, None);
    // Made 200 s ago: it may be accepted for 300 + 30 - 200 = 130 s more.
    let proof = client
        .dpop_proof("GET", &format!("{PUBLIC_URL}{PATH}"), &token)
        .claim("iat", now_secs() - 200)
        .sign()
        .unwrap();

    app.get_dpop(PATH, &token, &proof).await.assert_ok(PRIVATE);

    let keys = command(&redis, "KEYS *");
    let key = keys
        .lines()
        .find(|line| line.starts_with("dpop:jti:"))
        .unwrap_or_else(|| panic!("no dpop:jti: key in {keys:?}"))
        .to_owned();
    assert_eq!(key.len(), "dpop:jti:".len() + 64, "{key}");
    let ttl: i64 = command(&redis, &format!("PTTL {key}"))
        .trim()
        .trim_start_matches(':')
        .parse()
        .unwrap();
    assert!((120_000..=131_000).contains(&ttl), "PTTL {ttl}");
}

async fn redis_stopped_mid_run_is_a_503_for_dpop_alone_and_it_recovers_without_a_restart() {
    let Some(mut redis) = RedisServer::start_or_skip("redis_replay::outage") else {
        return;
    };
    let app: TestApp = spawn_app_with(config(&redis)).await;
    let client = &app.keys.ec;
    let token = app.bound_token(client, None);
    app.dpop(client, PATH, &token).await.assert_ok(PRIVATE);
    assert_eq!(
        app.get("/readyz").await.json()["dpop_replay_store"]["status"],
        "ready"
    );

    redis.stop();
    let refused = app.dpop(client, PATH, &token).await;
    refused.assert_unavailable();
    assert_eq!(
        refused.json()["message"],
        "the DPoP replay store is unavailable, retry later"
    );
    // Bearer callers are still served, and the instance stays ready in allowed mode.
    app.private(&app.valid_token(None)).await.assert_ok(PRIVATE);
    let ready = app.get("/readyz").await;
    assert_eq!(ready.status, 200);
    assert_eq!(
        ready.json()["dpop_replay_store"],
        json!({ "status": "unavailable", "reason": "unreachable" })
    );
    // The probe is public: it names no address and quotes no client library.
    let address = redis.url().replace("redis://", "").replace("/0", "");
    assert!(!ready.body.contains(&address), "{ready:?}");

    redis.restart().unwrap();
    let mut recovered = None;
    for _ in 0..100 {
        let reply = app.dpop(client, PATH, &token).await;
        if reply.status == 200 {
            recovered = Some(reply);
            break;
        }
        reply.assert_unavailable();
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    }
    recovered
        .expect("DPoP requests pass again within 10 s of Redis coming back")
        .assert_ok(PRIVATE);
    let metrics = app.metrics().await;
    assert!(
        metrics.counter(
            "auth_dpop_replay_checks_total",
            &[("result", "unavailable"), ("reason", "unreachable")]
        ) >= 1.0
    );
}

async fn in_required_mode_a_replay_store_outage_makes_the_instance_unready() {
    let Some(mut redis) = RedisServer::start_or_skip("redis_replay::required_readiness") else {
        return;
    };
    let app = spawn_app_with(TestConfig {
        customize: |s| s.auth.dpop.mode = auth::DpopMode::Required,
        ..config(&redis)
    })
    .await;

    redis.stop();
    let ready = app.get("/readyz").await;

    assert_eq!(ready.status, 503, "{ready:?}");
    assert_eq!(ready.json()["dpop_replay_store"]["status"], "unavailable");
}

/// The CA file of the TLS test: one per adapter, since both adapters' runs share this process.
fn ca_path() -> std::path::PathBuf {
    std::env::temp_dir().join(format!(
        "redis-ca-{}-{:?}.pem",
        std::process::id(),
        tests::adapter::current()
    ))
}

async fn a_redis_behind_tls_is_reached_over_rustls_trusting_the_configured_ca_alone() {
    let made = TestCertificates::make(CertifiedName::Loopback);
    let redis = match RedisServer::start_tls(&made.certificate_pem, &made.key_pem) {
        Ok(Some(redis)) => redis,
        Ok(None) => {
            let _ = RedisServer::start_or_skip("redis_replay::tls");
            return;
        }
        Err(error) => panic!("redis-server does not start with TLS: {error}"),
    };
    assert!(redis.url().starts_with("rediss://"));
    let ca_file = ca_path();
    std::fs::write(&ca_file, &made.ca_pem).unwrap();
    let trusted = TestConfig {
        customize: |s| {
            let dpop = &mut s.auth.dpop;
            dpop.redis_ca_file = Some(ca_path().to_string_lossy().into_owned());
            // A TLS handshake and the eviction-policy check on a busy test machine: more than
            // the other tests' 200 ms, so that only a refused certificate fails here.
            dpop.redis_connect_timeout = std::time::Duration::from_secs(3);
            dpop.redis_command_timeout = std::time::Duration::from_secs(2);
        },
        ..config(&redis)
    };
    let app = spawn_app_with(trusted).await;
    let client = &app.keys.ec;
    let token = app.bound_token(client, None);
    let proof = app.proof(client, PATH, &token);

    app.get_dpop(PATH, &token, &proof).await.assert_ok(PRIVATE);
    app.get_dpop(PATH, &token, &proof)
        .await
        .assert_invalid_proof("DPoP proof has already been used");

    // Without the CA (the built-in roots alone), the server's certificate is not trusted: no
    // proof is accepted unchecked, every DPoP request is a 503.
    let untrusting = app.replica(config(&redis)).await;
    untrusting
        .dpop(client, PATH, &token)
        .await
        .assert_unavailable();
    let _ = std::fs::remove_file(ca_file);
}

/// Arguments of a `redis-server` that evicts keys under memory pressure.
const EVICTING: [&str; 4] = ["--maxmemory", "4mb", "--maxmemory-policy", "volatile-lru"];

/// Sends DPoP requests until one gets `status` (10 s at most), and returns it.
async fn dpop_until(app: &TestApp, token: &str, status: u16) -> tests::Reply {
    let client = &app.keys.ec;
    for _ in 0..100 {
        let reply = app.dpop(client, PATH, token).await;
        if reply.status == status {
            return reply;
        }
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("no {status} within 10 s");
}

async fn a_redis_that_may_evict_gets_no_proofs_on_connect_and_on_every_reconnect() {
    let Some(mut redis) = RedisServer::start_or_skip("redis_replay::eviction_policy") else {
        return;
    };
    redis.restart_with(&EVICTING).unwrap();
    let app = spawn_app_with(config(&redis)).await;
    let required = app
        .replica(TestConfig {
            customize: |s| s.auth.dpop.mode = auth::DpopMode::Required,
            // Never ready: that is the point.
            wait_ready: false,
            ..config(&redis)
        })
        .await;
    let client = &app.keys.ec;
    let token = app.bound_token(client, None);

    let refused = app.dpop(client, PATH, &token).await;
    refused.assert_unavailable();
    assert_eq!(
        refused.json()["message"],
        "the DPoP replay store is unavailable, retry later"
    );
    app.private(&app.valid_token(None)).await.assert_ok(PRIVATE);
    let unavailable = json!({ "status": "unavailable", "reason": "eviction_policy" });
    let ready = app.get("/readyz").await;
    assert_eq!(
        (ready.status, &ready.json()["dpop_replay_store"]),
        (200, &unavailable)
    );
    let unready = required.get("/readyz").await;
    assert_eq!(
        (unready.status, &unready.json()["dpop_replay_store"]),
        (503, &unavailable)
    );
    let metrics = app.metrics().await;
    assert!(
        metrics.counter(
            "auth_dpop_replay_checks_total",
            &[("result", "unavailable"), ("reason", "eviction_policy")]
        ) >= 1.0
    );

    // The same server behind the same address, now with noeviction: the reconnect reads the
    // policy again, and proofs pass.
    redis
        .restart_with(&["--maxmemory", "4mb", "--maxmemory-policy", "noeviction"])
        .unwrap();
    dpop_until(&app, &token, 200).await.assert_ok(PRIVATE);
    // And back to an evicting one: refused again after the reconnect.
    redis.restart_with(&EVICTING).unwrap();
    dpop_until(&app, &token, 503).await.assert_unavailable();
}

async fn allowing_eviction_is_the_one_way_to_use_an_evicting_redis() {
    let Some(mut redis) = RedisServer::start_or_skip("redis_replay::allow_eviction") else {
        return;
    };
    redis.restart_with(&EVICTING).unwrap();
    let app = spawn_app_with(TestConfig {
        customize: |s| s.auth.dpop.redis_allow_eviction = true,
        ..config(&redis)
    })
    .await;
    let client = &app.keys.ec;
    let token = app.bound_token(client, None);
    let proof = app.proof(client, PATH, &token);

    app.get_dpop(PATH, &token, &proof).await.assert_ok(PRIVATE);
    app.get_dpop(PATH, &token, &proof)
        .await
        .assert_invalid_proof("DPoP proof has already been used");
    assert_eq!(
        app.get("/readyz").await.json()["dpop_replay_store"],
        json!({ "status": "ready" })
    );
}

tests::on_both_adapters!(
    a_proof_is_accepted_once_across_replicas_that_share_redis,
    each_proof_is_one_prefixed_key_that_lives_until_its_iat_is_too_old,
    redis_stopped_mid_run_is_a_503_for_dpop_alone_and_it_recovers_without_a_restart,
    in_required_mode_a_replay_store_outage_makes_the_instance_unready,
    a_redis_behind_tls_is_reached_over_rustls_trusting_the_configured_ca_alone,
    a_redis_that_may_evict_gets_no_proofs_on_connect_and_on_every_reconnect,
    allowing_eviction_is_the_one_way_to_use_an_evicting_redis,
);
