//! Resource-server DPoP nonces (RFC 9449 §9) over HTTP: a proof without a nonce of ours gets
//! 401 `use_dpop_nonce` and one to retry with; a nonce is its key's alone, good in its window and
//! the next, and the answer to a proof whose nonce is about to go stale carries the next one.

use std::time::Duration;

use auth::config::{NonceMode, Secret};
use auth::testing::{DpopClient, SigningKey};
use settings::Settings;
use tests::bodies::PRIVATE;
use tests::{PUBLIC_URL, Reply, TestApp, TestConfig, spawn_app_with};

const PRIVATE_PATH: &str = "/api/private";
const USE_NONCE: &str = "this API requires a DPoP server nonce: send the proof again with the \
                         nonce in the DPoP-Nonce header";
/// The replicas' shared nonce secret in these tests.
const SECRET: &str = "a nonce secret of at least 32 bytes, for tests";

fn nonces_required(settings: &mut Settings, window_secs: u64) {
    let dpop = &mut settings.auth.dpop;
    dpop.nonce = NonceMode::Required;
    dpop.nonce_secret = Some(Secret::new(SECRET));
    dpop.nonce_window = Duration::from_secs(window_secs);
}

async fn app(customize: fn(&mut Settings)) -> TestApp {
    spawn_app_with(TestConfig {
        public_url: Some(PUBLIC_URL.to_owned()),
        customize,
        ..TestConfig::default()
    })
    .await
}

/// `GET /api/private` with a fresh proof by `client`, carrying `nonce` if given.
async fn with_nonce(app: &TestApp, client: &SigningKey, token: &str, nonce: Option<&str>) -> Reply {
    let mut proof = client.dpop_proof("GET", &format!("{PUBLIC_URL}{PRIVATE_PATH}"), token);
    if let Some(nonce) = nonce {
        proof = proof.claim("nonce", nonce);
    }
    app.get_dpop(PRIVATE_PATH, token, &proof.sign().unwrap())
        .await
}

/// The nonce a `use_dpop_nonce` answer hands out, after checking the answer whole.
fn handed_out(reply: &Reply) -> String {
    reply.assert_dpop_error(401, "use_dpop_nonce", USE_NONCE);
    let nonce = reply.header("dpop-nonce").expect("a DPoP-Nonce header");
    assert_eq!(nonce.len(), 32, "{nonce}");
    nonce.to_owned()
}

async fn a_proof_without_our_nonce_gets_use_dpop_nonce_and_one_to_retry_with() {
    let app = app(|s| nonces_required(s, 60)).await;
    let client = &app.keys.ec;
    let token = app.bound_token(client, None);

    let nonce = handed_out(&with_nonce(&app, client, &token, None).await);
    let retried = with_nonce(&app, client, &token, Some(&nonce)).await;
    retried.assert_ok(PRIVATE);
    assert_eq!(
        retried.header("dpop-nonce"),
        None,
        "a current nonce needs no next one"
    );

    // Another key's nonce, a forged one, and one of another secret are not ours for this key.
    let other = &app.keys.ed;
    let others = handed_out(&with_nonce(&app, other, &app.bound_token(other, None), None).await);
    for wrong in [others.as_str(), "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "x"] {
        let again = handed_out(&with_nonce(&app, client, &token, Some(wrong)).await);
        assert_ne!(again, wrong);
    }
    // Bearer tokens are not asked for nonces.
    app.private(&app.valid_token(None)).await.assert_ok(PRIVATE);
}

/// With one-second windows: a nonce keeps working into the next window, and that answer hands
/// out the next nonce, which then works too.
async fn a_nonce_from_the_previous_window_passes_and_the_answer_carries_the_next() {
    let app = app(|s| nonces_required(s, 1)).await;
    let client = &app.keys.ec;
    let token = app.bound_token(client, None);
    let nonce = handed_out(&with_nonce(&app, client, &token, None).await);

    // Until the window turns, the answer carries no next nonce; then it does.
    let mut next = None;
    for _ in 0..40 {
        let reply = with_nonce(&app, client, &token, Some(&nonce)).await;
        reply.assert_ok(PRIVATE);
        if let Some(fresh) = reply.header("dpop-nonce") {
            next = Some(fresh.to_owned());
            break;
        }
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    }
    let next = next.expect("the window turned and the answer carried the next nonce");
    assert_ne!(next, nonce);
    with_nonce(&app, client, &token, Some(&next))
        .await
        .assert_ok(PRIVATE);
}

/// Two replicas with the same secret accept each other's nonces; one with another secret
/// does not.
async fn replicas_sharing_the_secret_accept_each_others_nonces() {
    let app = app(|s| nonces_required(s, 60)).await;
    let client = &app.keys.ec;
    let token = app.bound_token(client, None);
    let nonce = handed_out(&with_nonce(&app, client, &token, None).await);

    let replica = app
        .replica(TestConfig {
            public_url: Some(PUBLIC_URL.to_owned()),
            customize: |s| nonces_required(s, 60),
            ..TestConfig::default()
        })
        .await;
    with_nonce(&replica, client, &token, Some(&nonce))
        .await
        .assert_ok(PRIVATE);
    let stranger = app
        .replica(TestConfig {
            public_url: Some(PUBLIC_URL.to_owned()),
            customize: |s| {
                nonces_required(s, 60);
                s.auth.dpop.nonce_secret = Some(Secret::new("another secret, also 32 bytes long"));
            },
            ..TestConfig::default()
        })
        .await;
    handed_out(&with_nonce(&stranger, client, &token, Some(&nonce)).await);
}

/// The testing kit's DPoP client answers `use_dpop_nonce` once, as clients do, and keeps the
/// nonce for its next requests.
async fn the_testing_kits_client_retries_once_with_the_nonce_it_is_handed() {
    let app = app(|s| nonces_required(s, 60)).await;
    let client = DpopClient::new(&app.keys.ec);
    let token = app.bound_token(&app.keys.ec, None);
    let url = format!("{}{PRIVATE_PATH}", app.address);
    let htu = format!("{PUBLIC_URL}{PRIVATE_PATH}");

    assert_eq!(client.nonce(), None);
    let first = client.get(&url, &htu, &token).await.unwrap();
    assert_eq!(first.status, 200);
    assert_eq!(first.body, PRIVATE.as_bytes());
    let nonce = client.nonce().expect("the nonce it was handed");
    let second = client.get(&url, &htu, &token).await.unwrap();
    assert_eq!(second.status, 200);
    assert_eq!(client.nonce(), Some(nonce));
}

tests::on_both_adapters!(
    the_testing_kits_client_retries_once_with_the_nonce_it_is_handed,
    a_proof_without_our_nonce_gets_use_dpop_nonce_and_one_to_retry_with,
    a_nonce_from_the_previous_window_passes_and_the_answer_carries_the_next,
    replicas_sharing_the_secret_accept_each_others_nonces,
);
