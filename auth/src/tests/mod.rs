//! Unit tests of the whole check, driven through [`Authenticator::verify`] against a wiremock
//! JWKS server.

mod cache;
mod differential;
mod fuzz;
mod jwks;
mod middleware;
mod request;
mod validation;
mod wycheproof;

use std::time::Duration;

use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::testing::{SigningKey, TokenBuilder};
use crate::{Algorithm, AuthError, Authenticator, JwksConfig, TokenError};

pub(crate) const ISSUER: &str = "https://issuer.example/";
pub(crate) const AUDIENCE: &str = "https://api.example";
pub(crate) const JWKS_PATH: &str = "/.well-known/jwks.json";

pub(crate) fn rsa(n: u8, kid: &str) -> SigningKey {
    let pem = match n {
        1 => include_str!("../../fixtures/rsa1.pem"),
        2 => include_str!("../../fixtures/rsa2.pem"),
        _ => include_str!("../../fixtures/rsa3.pem"),
    };
    SigningKey::rsa_from_pem(kid, pem).unwrap()
}

pub(crate) fn p256(kid: &str) -> SigningKey {
    SigningKey::p256_from_pem(kid, include_str!("../../fixtures/ec-p256.pem")).unwrap()
}

pub(crate) fn ed25519(kid: &str) -> SigningKey {
    SigningKey::ed25519_from_pem(kid, include_str!("../../fixtures/ed25519.pem")).unwrap()
}

pub(crate) fn jwks(keys: &[&SigningKey]) -> Value {
    json!({ "keys": keys.iter().map(|k| k.jwk()).collect::<Vec<_>>() })
}

/// A token with valid claims for [`ISSUER`] and [`AUDIENCE`], an hour to live.
pub(crate) fn valid(key: &SigningKey) -> TokenBuilder<'_> {
    key.token()
        .claim("iss", ISSUER)
        .claim("aud", AUDIENCE)
        .claim("sub", "user-1")
        .expires_in(3600)
}

/// How many cases each generated-input test runs: `FUZZ_CASES`, or a CI-sized default.
pub(crate) fn fuzz_cases(default: usize) -> usize {
    std::env::var("FUZZ_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(default)
}

/// `count` values drawn from `strategy` (proptest's generators, with a random seed). The tests
/// that use them are async, which proptest's runner is not, so they loop over the samples and
/// name the failing input in their assertion.
pub(crate) fn samples<S: proptest::strategy::Strategy>(
    strategy: &S,
    count: usize,
) -> Vec<S::Value> {
    use proptest::strategy::ValueTree;
    let mut runner = proptest::test_runner::TestRunner::default();
    (0..count)
        .map(|_| {
            strategy
                .new_tree(&mut runner)
                .expect("the strategy generates values")
                .current()
        })
        .collect()
}

/// Fast cache timings, so that no test waits long.
pub(crate) fn fast_jwks() -> JwksConfig {
    JwksConfig {
        fetch_timeout: Duration::from_millis(500),
        max_response_bytes: 64 * 1024,
        max_age: Duration::from_secs(600),
        cooldown: Duration::from_secs(600),
        retry_max: Duration::from_secs(600),
        max_stale: Duration::from_secs(3600),
        ..JwksConfig::default()
    }
}

pub(crate) async fn serve_jwks(
    server: &MockServer,
    body: &Value,
    times: impl Into<wiremock::Times>,
) {
    Mock::given(method("GET"))
        .and(path(JWKS_PATH))
        .respond_with(ResponseTemplate::new(200).set_body_json(body))
        .expect(times)
        .mount(server)
        .await;
}

pub(crate) fn authenticator(server: &MockServer, jwks: JwksConfig) -> Authenticator {
    Authenticator::builder()
        .issuer(ISSUER)
        .jwks_uri(format!("{}{JWKS_PATH}", server.uri()))
        .audiences([AUDIENCE])
        .algorithms([
            Algorithm::RS256,
            Algorithm::PS256,
            Algorithm::ES256,
            Algorithm::EdDSA,
        ])
        .jwks(jwks)
        .build()
        .unwrap()
}

/// Waits until the first fetch has loaded keys.
pub(crate) async fn ready(auth: &Authenticator) {
    auth.wait_ready(Duration::from_secs(2))
        .await
        .expect("keys never loaded");
}

pub(crate) fn token_error(result: Result<crate::Claims, AuthError>) -> TokenError {
    match result {
        Err(AuthError::InvalidToken(error)) => error,
        other => panic!("expected an invalid token, got {other:?}"),
    }
}

/// Verifies `token` until it is refused, as it must be once a background refresh has run, and
/// returns why. Polling keeps the test independent of how fast the machine is.
pub(crate) async fn eventually_refused(auth: &Authenticator, token: &str) -> TokenError {
    for _ in 0..250 {
        if let Err(error) = auth.verify_token(token).await {
            return token_error(Err(error));
        }
        actix_web::rt::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("the token was never refused");
}
