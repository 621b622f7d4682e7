//! The mock issuer: OIDC discovery and a JWKS on loopback (wiremock), with fetch counters, key
//! rotation and failure modes switched at run time.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use auth::testing::SigningKey;
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

/// The JWKS path the discovery document names.
pub const JWKS_PATH: &str = "/.well-known/jwks.json";
const DISCOVERY_PATH: &str = "/.well-known/openid-configuration";

/// How the JWKS endpoint answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// 200 with the published keys.
    Healthy,
    /// This status, empty body.
    Status(u16),
    /// 200 with a body that is not JSON.
    Garbage,
    /// Answers only after a minute: past any fetch timeout.
    Hang,
    /// 200 with a valid JWKS padded past 2 MiB.
    Oversized,
    /// 200 with the keys, after this delay; the discovery document comes as slowly.
    Slow(Duration),
}

#[derive(Debug)]
struct State {
    keys: Vec<Value>,
    mode: Mode,
    jwks_fetches: usize,
    discovery_fetches: usize,
}

/// A mock OIDC issuer.
pub struct MockIssuer {
    server: MockServer,
    state: Arc<Mutex<State>>,
}

struct Jwks(Arc<Mutex<State>>);

impl Respond for Jwks {
    fn respond(&self, _: &Request) -> ResponseTemplate {
        let mut state = lock(&self.0);
        state.jwks_fetches += 1;
        let document = json!({ "keys": state.keys });
        match state.mode {
            Mode::Healthy => ResponseTemplate::new(200).set_body_json(document),
            Mode::Status(status) => ResponseTemplate::new(status),
            Mode::Garbage => ResponseTemplate::new(200)
                .insert_header("content-type", "application/json")
                .set_body_string("<html>not a key set</html>"),
            Mode::Hang => ResponseTemplate::new(200)
                .set_body_json(document)
                .set_delay(Duration::from_secs(60)),
            Mode::Oversized => {
                let mut padded = document;
                padded["padding"] = json!("x".repeat(2 * 1024 * 1024 + 1));
                ResponseTemplate::new(200).set_body_json(padded)
            }
            Mode::Slow(delay) => ResponseTemplate::new(200)
                .set_body_json(document)
                .set_delay(delay),
        }
    }
}

struct Discovery {
    state: Arc<Mutex<State>>,
    document: Value,
}

impl Respond for Discovery {
    fn respond(&self, _: &Request) -> ResponseTemplate {
        let mut state = lock(&self.state);
        state.discovery_fetches += 1;
        let answer = ResponseTemplate::new(200).set_body_json(&self.document);
        match state.mode {
            Mode::Slow(delay) => answer.set_delay(delay),
            _ => answer,
        }
    }
}

fn lock(state: &Mutex<State>) -> MutexGuard<'_, State> {
    state.lock().unwrap_or_else(PoisonError::into_inner)
}

impl MockIssuer {
    /// Starts an issuer that publishes `keys`.
    pub async fn start(keys: &[&SigningKey]) -> Self {
        let server = MockServer::start().await;
        let state = Arc::new(Mutex::new(State {
            keys: keys.iter().map(|key| key.jwk()).collect(),
            mode: Mode::Healthy,
            jwks_fetches: 0,
            discovery_fetches: 0,
        }));
        let issuer = format!("{}/", server.uri());
        Mock::given(method("GET"))
            .and(path(DISCOVERY_PATH))
            .respond_with(Discovery {
                state: Arc::clone(&state),
                document: json!({
                    "issuer": issuer,
                    "jwks_uri": format!("{}{JWKS_PATH}", server.uri()),
                }),
            })
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path(JWKS_PATH))
            .respond_with(Jwks(Arc::clone(&state)))
            .mount(&server)
            .await;
        Self { server, state }
    }

    /// The issuer URL, with its trailing slash: what tokens carry in `iss`.
    pub fn issuer(&self) -> String {
        format!("{}/", self.server.uri())
    }

    /// Publishes another key next to the current ones.
    pub fn publish(&self, key: &SigningKey) {
        lock(&self.state).keys.push(key.jwk());
    }

    /// Publishes a raw JWK next to the current ones.
    pub fn publish_jwk(&self, jwk: Value) {
        lock(&self.state).keys.push(jwk);
    }

    /// Stops publishing every key with this `kid`.
    pub fn drop_kid(&self, kid: &str) {
        lock(&self.state)
            .keys
            .retain(|jwk| jwk.get("kid").and_then(Value::as_str) != Some(kid));
    }

    /// Switches how the JWKS endpoint answers.
    pub fn set_mode(&self, mode: Mode) {
        lock(&self.state).mode = mode;
    }

    /// Answers normally again.
    pub fn recover(&self) {
        self.set_mode(Mode::Healthy);
    }

    /// How many times the JWKS was fetched.
    pub fn jwks_fetches(&self) -> usize {
        lock(&self.state).jwks_fetches
    }

    /// How many times the discovery document was fetched.
    pub fn discovery_fetches(&self) -> usize {
        lock(&self.state).discovery_fetches
    }
}
