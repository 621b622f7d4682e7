//! Several issuers, each with its own JWKS and key cache: the token's `iss` picks one before
//! any fetch, an outage of one leaves the others serving, and `/readyz` reports each.

use std::time::Duration;

use auth::config::IssuerConfig;
use auth::testing::SigningKey;
use awc::Client;
use serde_json::json;
use tests::bodies::PRIVATE;
use tests::{AUDIENCE, Keys, Mode, Reply, TestIssuer, send_to, serve_api, settings_with};

/// The API trusting `a_issuer` and issuer `b` (with `b`'s own audience), and its base URL.
async fn api_trusting(b: &TestIssuer, a_issuer: String) -> String {
    let mut settings = settings_with(&[]);
    settings.server.port = 0;
    settings.auth.public_url = Some("https://api.example.com".to_owned());
    settings.auth.audience = vec![AUDIENCE.to_owned()];
    let entry = |issuer: String, audience: Vec<String>| {
        let mut entry = IssuerConfig::default();
        entry.issuer = Some(issuer);
        entry.audience = audience;
        entry
    };
    settings.auth.issuers = vec![
        entry(a_issuer, Vec::new()),
        entry(b.issuer().to_owned(), vec!["https://b-api".to_owned()]),
    ];
    format!("http://127.0.0.1:{}", serve_api(&settings).await)
}

async fn get(base: &str, path: &str, token: Option<&str>) -> Reply {
    let mut request = Client::default().get(format!("{base}{path}"));
    if let Some(token) = token {
        request = request.insert_header(("Authorization", format!("Bearer {token}")));
    }
    send_to(request).await
}

/// Waits until `/readyz` satisfies `done`.
async fn readyz_until(base: &str, done: impl Fn(&Reply) -> bool) -> Reply {
    for _ in 0..100 {
        let reply = get(base, "/readyz", None).await;
        if done(&reply) {
            return reply;
        }
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("/readyz never reached the expected state");
}

struct Two {
    keys: Keys,
    a: TestIssuer,
    b: TestIssuer,
    base: String,
}

/// Issuer `a` publishes `rsa-1`, issuer `b` publishes `rsa-2`; `b` starts in `b_mode`.
async fn two_issuers(b_mode: Mode) -> Two {
    let keys = Keys::load();
    let a = TestIssuer::start(&[&keys.rsa]).expect("the test issuer starts");
    let b = TestIssuer::start(&[&keys.next]).expect("the test issuer starts");
    b.set_mode(b_mode);
    let base = api_trusting(&b, a.issuer().to_owned()).await;
    Two { keys, a, b, base }
}

/// A token signed by `key`, naming `iss` and `aud`, valid for ten minutes.
fn signed(key: &SigningKey, iss: impl Into<serde_json::Value>, aud: &str) -> String {
    key.token()
        .claim("iss", iss)
        .claim("aud", aud)
        .claim("sub", "user-1")
        .expires_in(600)
        .sign()
        .unwrap()
}

impl Two {
    fn token_a(&self) -> String {
        signed(&self.keys.rsa, self.a.issuer(), AUDIENCE)
    }

    fn token_b(&self) -> String {
        signed(&self.keys.next, self.b.issuer(), "https://b-api")
    }
}

async fn each_issuer_verifies_its_own_tokens_with_its_own_keys_and_audiences() {
    let two = two_issuers(Mode::Healthy).await;
    readyz_until(&two.base, |r| r.json()["status"] == "ready").await;

    get(&two.base, "/api/private", Some(&two.token_a()))
        .await
        .assert_ok(PRIVATE);
    get(&two.base, "/api/private", Some(&two.token_b()))
        .await
        .assert_ok(PRIVATE);

    // b's key does not verify a token that names a: a's JWKS has no such kid.
    let crossed = signed(&two.keys.next, two.a.issuer(), AUDIENCE);
    get(&two.base, "/api/private", Some(&crossed))
        .await
        .assert_invalid_token("no key matches the token's kid");
    // Audiences are per issuer: b's tokens must name b's.
    let wrong_audience = signed(&two.keys.next, two.b.issuer(), AUDIENCE);
    get(&two.base, "/api/private", Some(&wrong_audience))
        .await
        .assert_invalid_token("unexpected 'aud' value");
}

async fn an_outage_of_one_issuer_leaves_the_other_serving_and_readyz_degraded() {
    let two = two_issuers(Mode::Status(503)).await;

    let ready = readyz_until(&two.base, |r| r.json()["status"] == "degraded").await;

    assert_eq!(ready.status, 200);
    let issuers = ready.json()["issuers"].clone();
    assert_eq!(issuers[0]["issuer"], two.a.issuer());
    assert_eq!(issuers[0]["status"], "ready");
    assert_eq!(issuers[1]["issuer"], two.b.issuer());
    assert_eq!(issuers[1]["status"], "keys not loaded");
    get(&two.base, "/api/private", Some(&two.token_a()))
        .await
        .assert_ok(PRIVATE);
    get(&two.base, "/api/private", Some(&two.token_b()))
        .await
        .assert_unavailable();
    // a's tokens never waited on b: still served while b fails.
    get(&two.base, "/api/private", Some(&two.token_a()))
        .await
        .assert_ok(PRIVATE);
}

async fn readyz_is_503_only_when_no_issuer_can_verify() {
    let keys = Keys::load();
    let a = TestIssuer::start(&[&keys.rsa]).expect("the test issuer starts");
    let b = TestIssuer::start(&[&keys.next]).expect("the test issuer starts");
    a.set_mode(Mode::Status(500));
    b.set_mode(Mode::Status(503));
    let base = api_trusting(&b, a.issuer().to_owned()).await;

    let reply = readyz_until(&base, |r| {
        r.json()["issuers"][1]["last_error"] == "answered 503"
            && r.json()["issuers"][0]["last_error"] == "answered 500"
    })
    .await;

    assert_eq!(reply.status, 503);
    assert_eq!(reply.json()["status"], "not ready");
}

async fn an_unlisted_iss_is_refused_with_no_fetch_at_all() {
    let two = two_issuers(Mode::Healthy).await;
    readyz_until(&two.base, |r| r.json()["status"] == "ready").await;
    let before = (
        two.a.jwks_fetches() + two.a.discovery_fetches(),
        two.b.jwks_fetches() + two.b.discovery_fetches(),
    );

    // An unknown kid too, which would force a refetch if the token reached a key cache.
    let rogue = Keys::load().rogue.with_kid("never-published");
    for iss in [
        json!("https://evil.example/"),
        json!(format!("{}x/", two.a.issuer())),
        json!(["https://evil.example/"]),
        json!(null),
    ] {
        let token = signed(&rogue, iss.clone(), AUDIENCE);
        get(&two.base, "/api/private", Some(&token))
            .await
            .assert_invalid_token("unexpected 'iss' value");
    }
    let missing_iss = two
        .keys
        .rsa
        .token()
        .claim("aud", AUDIENCE)
        .expires_in(600)
        .sign()
        .unwrap();
    get(&two.base, "/api/private", Some(&missing_iss))
        .await
        .assert_invalid_token("unexpected 'iss' value");

    let after = (
        two.a.jwks_fetches() + two.a.discovery_fetches(),
        two.b.jwks_fetches() + two.b.discovery_fetches(),
    );
    assert_eq!(after, before, "no fetch for an unlisted iss");
}

async fn with_one_issuer_too_an_unlisted_iss_never_causes_a_fetch() {
    let app = tests::spawn_app().await;
    let fetches = || (app.issuer.jwks_fetches(), app.issuer.discovery_fetches());
    let (jwks, discovery) = fetches();
    // An unknown kid, which would refetch the JWKS if the token named the issuer.
    let rogue = Keys::load().rogue.with_kid("never-published");

    for iss in ["https://evil.example/", "http://169.254.169.254/"] {
        get(
            &app.address,
            "/api/private",
            Some(&signed(&rogue, iss, AUDIENCE)),
        )
        .await
        .assert_invalid_token("unexpected 'iss' value");
    }

    assert_eq!(fetches(), (jwks, discovery));
    // The same unknown kid naming the issuer does refetch, once.
    get(
        &app.address,
        "/api/private",
        Some(&signed(&rogue, app.issuer.issuer(), AUDIENCE)),
    )
    .await
    .assert_invalid_token("no key matches the token's kid");
    assert_eq!(fetches(), (jwks + 1, discovery));
}

async fn an_issuer_configured_without_its_slash_becomes_exactly_the_discovered_one() {
    let keys = Keys::load();
    let a = TestIssuer::start(&[&keys.rsa]).expect("the test issuer starts");
    let b = TestIssuer::start(&[&keys.next]).expect("the test issuer starts");
    // Configured without the slash; the mock's discovery document carries it.
    let unslashed = a.issuer().trim_end_matches('/').to_owned();
    let base = api_trusting(&b, unslashed.clone()).await;
    let ready = readyz_until(&base, |r| r.json()["status"] == "ready").await;

    let token = signed(&keys.rsa, a.issuer(), AUDIENCE);
    let who = get(&base, "/api/whoami", Some(&token)).await;
    assert_eq!(who.status, 200, "{who:?}");
    assert_eq!(who.json()["iss"], a.issuer());
    for iss in [unslashed.clone(), format!("{unslashed}//")] {
        get(
            &base,
            "/api/private",
            Some(&signed(&keys.rsa, iss, AUDIENCE)),
        )
        .await
        .assert_invalid_token("unexpected 'iss' value");
    }
    // Everything that names the issuer names that one exact value.
    assert_eq!(ready.json()["issuers"][0]["issuer"], a.issuer());
    let metadata = get(&base, "/.well-known/oauth-protected-resource", None).await;
    assert_eq!(metadata.json()["authorization_servers"][0], a.issuer());
    let scrape = tests::scrape(&get(&base, "/metrics", None).await);
    let issuer = ("issuer", a.issuer());
    assert_eq!(scrape.get("auth_jwks_ready", &[issuer]), Some(1.0));
    let fetched = [issuer, ("document", "jwks"), ("outcome", "ok")];
    assert_eq!(scrape.get("auth_jwks_fetches_total", &fetched), Some(1.0));
}

async fn metrics_and_the_metadata_name_every_issuer() {
    let two = two_issuers(Mode::Healthy).await;
    readyz_until(&two.base, |r| r.json()["status"] == "ready").await;

    let scrape = tests::scrape(&get(&two.base, "/metrics", None).await);
    let metadata = get(&two.base, "/.well-known/oauth-protected-resource", None)
        .await
        .json();

    for issuer in [two.a.issuer(), two.b.issuer()] {
        assert_eq!(
            scrape.get("auth_jwks_ready", &[("issuer", issuer)]),
            Some(1.0),
            "{issuer}"
        );
    }
    assert_eq!(
        metadata["authorization_servers"],
        json!([two.a.issuer(), two.b.issuer()])
    );
}

tests::on_both_adapters!(
    each_issuer_verifies_its_own_tokens_with_its_own_keys_and_audiences,
    an_outage_of_one_issuer_leaves_the_other_serving_and_readyz_degraded,
    readyz_is_503_only_when_no_issuer_can_verify,
    an_unlisted_iss_is_refused_with_no_fetch_at_all,
    with_one_issuer_too_an_unlisted_iss_never_causes_a_fetch,
    an_issuer_configured_without_its_slash_becomes_exactly_the_discovered_one,
    metrics_and_the_metadata_name_every_issuer,
);
