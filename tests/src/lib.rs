//! The integration-test harness: starts the real server on port 0 against a test issuer (`auth::testing::TestIssuer`), mints
//! tokens with the keys in `auth/fixtures`, and reads answers whole.

// A test harness: its helpers panic on failure by design, like `assert!`.
#![allow(clippy::missing_panics_doc)]

pub mod adapter;
mod challenge;
mod metrics;
mod tls;
mod tower_app;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Once};
use std::time::Duration;

use actix_web::http::Method;
use api::Application;
use auth::testing::{SigningKey, TokenBuilder};
use auth::{Algorithm, ScopeClaim};
use settings::Settings;

pub use adapter::Adapter;
pub use auth::testing::{JWKS_PATH, Mode, TestIssuer};
pub use challenge::Challenge;
pub use metrics::{Sample, Scrape};
pub use tls::{CertifiedName, TestCertificates, TlsIssuer};

/// The audience every test token names.
pub const AUDIENCE: &str = "https://quickstarts/api";

/// The `auth.public_url` of the DPoP tests: the origin their proofs' `htu` names.
pub const PUBLIC_URL: &str = "https://api.example.com";

/// The repository's `config/` directory, found without the current directory.
pub fn config_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../config")
}

/// Starts logging once, and only when `TEST_LOG=1`.
pub fn init_logging() {
    static INIT: Once = Once::new();
    INIT.call_once(|| {
        if std::env::var("TEST_LOG").is_ok_and(|v| v == "1") {
            let _ = env_logger::Builder::from_env(
                env_logger::Env::default().default_filter_or("debug"),
            )
            .is_test(true)
            .try_init();
        }
    });
}

/// Loads the repository's settings with these variables in place of the process environment.
///
/// # Panics
/// When the settings do not load.
pub fn settings_with(vars: &[(&str, &str)]) -> Settings {
    Settings::load_with(&config_dir(), vars.iter().copied()).expect("test settings load")
}

/// The fixture keys. `rogue` is never published.
pub struct Keys {
    /// RSA, kid `rsa-1`, published at start.
    pub rsa: SigningKey,
    /// RSA, kid `rsa-2`, not published at start: the key rotated in.
    pub next: SigningKey,
    /// RSA, kid `rsa-1` too: an attacker's key claiming the issuer's kid.
    pub rogue: SigningKey,
    /// P-256, kid `ec-1`, published at start.
    pub ec: SigningKey,
    /// Ed25519, kid `ed-1`, published at start.
    pub ed: SigningKey,
}

impl Keys {
    /// Loads the fixture keys.
    ///
    /// # Panics
    /// When a fixture does not parse.
    pub fn load() -> Self {
        let rsa = |kid: &str, pem| SigningKey::rsa_from_pem(kid, pem).expect("fixture key");
        Self {
            rsa: rsa("rsa-1", include_str!("../../auth/fixtures/rsa1.pem")),
            next: rsa("rsa-2", include_str!("../../auth/fixtures/rsa2.pem")),
            rogue: rsa("rsa-1", include_str!("../../auth/fixtures/rsa3.pem")),
            ec: SigningKey::p256_from_pem("ec-1", include_str!("../../auth/fixtures/ec-p256.pem"))
                .expect("fixture key"),
            ed: SigningKey::ed25519_from_pem(
                "ed-1",
                include_str!("../../auth/fixtures/ed25519.pem"),
            )
            .expect("fixture key"),
        }
    }
}

/// Settings a test may change; the defaults shorten only the fetch timeout.
#[derive(Debug, Clone)]
pub struct TestConfig {
    /// `auth.jwks.cooldown_secs`.
    pub cooldown_secs: u64,
    /// `auth.jwks.max_age_secs`.
    pub max_age_secs: u64,
    /// `auth.jwks.max_stale_secs`.
    pub max_stale_secs: u64,
    /// `auth.jwks.fetch_timeout_secs`.
    pub fetch_timeout_secs: u64,
    /// `auth.permissions_as_scopes`.
    pub permissions_as_scopes: bool,
    /// `auth.leeway_secs`.
    pub leeway_secs: u64,
    /// Wait for `/readyz` before returning.
    pub wait_ready: bool,
    /// The JWKS mode before the server starts.
    pub initial_mode: Mode,
    /// The `Cache-Control` of the issuer's JWKS answers before the server starts.
    pub cache_control: Option<&'static str>,
    /// `auth.scope_claims`, when not the default.
    pub scope_claims: Option<Vec<ScopeClaim>>,
    /// `auth.public_url`.
    pub public_url: Option<String>,
    /// The Redis server of `auth.dpop.replay = "redis"`, with 200 ms timeouts.
    pub redis_url: Option<String>,
    /// Any other change to the loaded settings, made last.
    pub customize: fn(&mut Settings),
}

impl Default for TestConfig {
    /// The library's own defaults (which `config/default.toml` holds too), but a one-second
    /// fetch timeout, so that no test waits long on an issuer that fails.
    fn default() -> Self {
        let jwks = auth::JwksConfig::default();
        Self {
            cooldown_secs: jwks.cooldown.as_secs(),
            max_age_secs: jwks.max_age.as_secs(),
            max_stale_secs: jwks.max_stale.as_secs(),
            fetch_timeout_secs: 1,
            permissions_as_scopes: true,
            leeway_secs: auth::config::DEFAULT_LEEWAY.as_secs(),
            wait_ready: true,
            initial_mode: Mode::Healthy,
            cache_control: None,
            scope_claims: None,
            public_url: None,
            redis_url: None,
            customize: |_| {},
        }
    }
}

/// A running server, its test issuer (`auth::testing::TestIssuer`), keys, and a client.
pub struct TestApp {
    /// `http://127.0.0.1:{port}`.
    pub address: String,
    /// The port the server bound.
    pub port: u16,
    /// A client for the server.
    pub client: awc::Client,
    /// The issuer the server trusts (shared with its replicas).
    pub issuer: Arc<TestIssuer>,
    /// The fixture keys.
    pub keys: Keys,
}

/// Starts the API against a fresh test issuer (`auth::testing::TestIssuer`), with default test settings, and waits until
/// its keys are loaded.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(TestConfig::default()).await
}

/// Starts the API against a fresh test issuer (`auth::testing::TestIssuer`) with the given settings.
///
/// # Panics
/// When the server cannot start, or (with `wait_ready`) never becomes ready.
pub async fn spawn_app_with(config: TestConfig) -> TestApp {
    init_logging();
    let keys = Keys::load();
    let issuer =
        TestIssuer::start(&[&keys.rsa, &keys.ec, &keys.ed]).expect("the test issuer starts");
    issuer.set_mode(config.initial_mode);
    issuer.set_cache_control(config.cache_control);
    spawn_with_issuer(config, Arc::new(issuer)).await
}

/// The API with `auth.public_url` set to [`PUBLIC_URL`] (so that DPoP proofs can be checked)
/// and this DPoP `mode`.
pub async fn spawn_app_in(mode: auth::DpopMode) -> TestApp {
    let customize: fn(&mut Settings) = match mode {
        auth::DpopMode::Required => |s| s.auth.dpop.mode = auth::DpopMode::Required,
        auth::DpopMode::Disabled => |s| s.auth.dpop.mode = auth::DpopMode::Disabled,
        _ => |_| {},
    };
    spawn_app_with(TestConfig {
        public_url: Some(PUBLIC_URL.to_owned()),
        customize,
        ..TestConfig::default()
    })
    .await
}

impl TestApp {
    /// Another instance of the API that trusts this one's issuer, as a replica behind the
    /// same load balancer would: it shares nothing with this one but what `config` names.
    pub async fn replica(&self, config: TestConfig) -> TestApp {
        spawn_with_issuer(config, Arc::clone(&self.issuer)).await
    }
}

async fn spawn_with_issuer(config: TestConfig, issuer: Arc<TestIssuer>) -> TestApp {
    let keys = Keys::load();
    let mut settings = settings_with(&[]);
    settings.server.port = 0;
    settings.auth.issuer = Some(issuer.issuer().to_owned());
    settings.auth.audience = vec![AUDIENCE.to_owned()];
    settings.auth.algorithms = vec![
        Algorithm::RS256,
        Algorithm::PS256,
        Algorithm::ES256,
        Algorithm::EdDSA,
    ];
    settings.auth.permissions_as_scopes = config.permissions_as_scopes;
    settings.auth.leeway = Duration::from_secs(config.leeway_secs);
    if let Some(claims) = config.scope_claims {
        settings.auth.scope_claims = claims;
    }
    settings.auth.public_url = config.public_url;
    if let Some(url) = config.redis_url {
        let dpop = &mut settings.auth.dpop;
        dpop.replay = auth::config::ReplayKind::Redis;
        dpop.redis_url = Some(url);
        dpop.redis_connect_timeout = Duration::from_millis(200);
        dpop.redis_command_timeout = Duration::from_millis(200);
    }
    let jwks = &mut settings.auth.jwks;
    jwks.cooldown = Duration::from_secs(config.cooldown_secs);
    jwks.max_age = Duration::from_secs(config.max_age_secs);
    jwks.max_stale = Duration::from_secs(config.max_stale_secs);
    jwks.fetch_timeout = Duration::from_secs(config.fetch_timeout_secs);
    (config.customize)(&mut settings);
    let port = serve_api(&settings).await;
    let app = TestApp {
        address: format!("http://127.0.0.1:{port}"),
        port,
        client: awc::Client::builder()
            .timeout(Duration::from_secs(30))
            .finish(),
        issuer,
        keys,
    };
    if config.wait_ready {
        app.wait_ready().await;
    }
    app
}

/// Serves the API for `settings` on the running test's adapter: the `api` binary itself on
/// actix; its request routes on axum with the same settings on tower. Returns the port.
pub async fn serve_api(settings: &Settings) -> u16 {
    match adapter::current() {
        Adapter::Actix => start(settings).port(),
        Adapter::Tower => tower_app::serve_api(settings).await,
    }
}

/// Builds and spawns the application; returns it for its port and development issuer.
///
/// # Panics
/// When the application does not build.
pub fn start(settings: &Settings) -> StartedApp {
    init_logging();
    let app = Application::build(settings).expect("the app builds");
    let started = StartedApp {
        port: app.port(),
        metrics_port: app.metrics_port(),
        dev_token_endpoint: app
            .dev_issuer()
            .map(api::dev_issuer::DevIssuer::token_endpoint),
    };
    actix_web::rt::spawn(app.run_until_stopped());
    started
}

/// What a test needs of a spawned [`Application`].
pub struct StartedApp {
    port: u16,
    metrics_port: Option<u16>,
    dev_token_endpoint: Option<String>,
}

impl StartedApp {
    /// The API's port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The port of `/metrics`, when it has a listener of its own.
    pub fn metrics_port(&self) -> Option<u16> {
        self.metrics_port
    }

    /// The development issuer's token endpoint, when one started.
    pub fn dev_token_endpoint(&self) -> Option<&str> {
        self.dev_token_endpoint.as_deref()
    }
}

/// Serves routes of the caller's own, built with the `auth` crate, on a free loopback port:
/// how an app that is not this API would use the library. Returns `http://127.0.0.1:{port}`.
///
/// # Panics
/// When the server cannot bind.
pub fn serve_routes<F>(configure: F) -> String
where
    F: Fn(&mut actix_web::web::ServiceConfig) + Send + Clone + 'static,
{
    let server =
        actix_web::HttpServer::new(move || actix_web::App::new().configure(configure.clone()))
            .workers(1)
            .bind(("127.0.0.1", 0))
            .expect("binds a free port");
    let port = server.addrs()[0].port();
    actix_web::rt::spawn(server.run());
    format!("http://127.0.0.1:{port}")
}

/// Serves `routes` on the running test's adapter, each path behind its guard, on a free
/// loopback port; returns `http://127.0.0.1:{port}`. Each answers 200 with
/// `{"sub": ..., "path": ...}` (the caller and the raw path), or `{"anonymous": true, ...}`
/// on an optional route. A path ending in `*` serves everything under it.
pub async fn serve_guarded(routes: Vec<(&'static str, auth::RequireAuth)>) -> String {
    match adapter::current() {
        Adapter::Actix => tower_app::actix_guarded(routes),
        Adapter::Tower => tower_app::tower_guarded(routes).await,
    }
}

/// A response read whole: status, headers and body.
#[derive(Debug)]
pub struct Reply {
    /// The status code.
    pub status: u16,
    /// The headers.
    pub headers: actix_web::http::header::HeaderMap,
    /// The body as text.
    pub body: String,
}

impl Reply {
    /// A header as text, if present.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The body parsed as JSON.
    ///
    /// # Panics
    /// When the body is not JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("body is not JSON ({e}): {}", self.body))
    }

    /// The parsed `Bearer` challenge (the first of `WWW-Authenticate`'s challenges).
    ///
    /// # Panics
    /// When there is none, or it does not parse.
    pub fn challenge(&self) -> Challenge {
        self.challenges().remove(0)
    }

    /// Every challenge of the one `WWW-Authenticate` field, in order.
    ///
    /// # Panics
    /// When there is no such field, more than one, or it does not parse.
    pub fn challenges(&self) -> Vec<Challenge> {
        assert_eq!(
            self.headers.get_all("www-authenticate").count(),
            1,
            "one WWW-Authenticate field on {self:?}"
        );
        let value = self
            .header("www-authenticate")
            .unwrap_or_else(|| panic!("no WWW-Authenticate on {self:?}"));
        Challenge::parse_all(value).unwrap_or_else(|| panic!("malformed challenge {value:?}"))
    }

    /// The `DPoP` challenge.
    ///
    /// # Panics
    /// When there is none.
    pub fn dpop_challenge(&self) -> Challenge {
        self.challenges()
            .into_iter()
            .find(|c| c.scheme == "DPoP")
            .unwrap_or_else(|| panic!("no DPoP challenge on {self:?}"))
    }

    /// Asserts a 401 with the bare `Bearer realm="api"` challenge and a JSON body.
    pub fn assert_bare_401(&self) {
        self.assert_401_with(&[]);
    }

    /// Asserts a 401 with no error code whose challenge names only the realm and the scopes
    /// the route requires (`scope="..."`), as MCP clients read it, and a JSON body.
    pub fn assert_scoped_401(&self, scope: &str) {
        self.assert_401_with(&[("scope", scope)]);
    }

    /// Asserts a 401 with no error code whose challenge holds the realm and exactly `params`.
    fn assert_401_with(&self, params: &[(&str, &str)]) {
        assert_eq!(self.status, 401, "{self:?}");
        let challenge = self.challenge();
        assert!(
            challenge.scheme.eq_ignore_ascii_case("bearer"),
            "{challenge:?}"
        );
        assert_eq!(challenge.param("realm"), Some("api"));
        for (name, value) in params {
            assert_eq!(challenge.param(name), Some(*value), "{challenge:?}");
        }
        assert_eq!(challenge.params.len(), 1 + params.len(), "{challenge:?}");
        assert!(self.json()["message"].is_string());
        assert!(self.json().get("error").is_none());
    }

    /// Asserts an RFC 6750 error answer: status, challenge and body all name `error`, and the
    /// description is `description`.
    pub fn assert_error(&self, status: u16, error: &str, description: &str) {
        let bearer = self.assert_error_on("bearer", status, error, description);
        assert_eq!(bearer, self.challenge(), "Bearer comes first: {self:?}");
        assert_eq!(bearer.param("realm"), Some("api"), "{bearer:?}");
    }

    /// Asserts an error answer whose error is on the `DPoP` challenge (RFC 9449 §7.1): status,
    /// challenge and body name `error`, the description is `description`, and the `Bearer`
    /// challenge (when offered) carries no error.
    pub fn assert_dpop_error(&self, status: u16, error: &str, description: &str) {
        let dpop = self.assert_error_on("dpop", status, error, description);
        assert!(dpop.param("algs").is_some(), "{dpop:?}");
    }

    /// The status, the body, and the challenge of `scheme` (any case) name `error` and
    /// `description`, and no other challenge carries an error. Returns that challenge.
    fn assert_error_on(
        &self,
        scheme: &str,
        status: u16,
        error: &str,
        description: &str,
    ) -> Challenge {
        assert_eq!(self.status, status, "{self:?}");
        let challenges = self.challenges();
        let (answered, others): (Vec<_>, Vec<_>) = challenges
            .iter()
            .partition(|c| c.scheme.eq_ignore_ascii_case(scheme));
        let [answered] = answered.as_slice() else {
            panic!("one {scheme} challenge in {challenges:?}");
        };
        assert_eq!(answered.param("error"), Some(error), "{challenges:?}");
        assert_eq!(
            answered.param("error_description"),
            Some(description),
            "{challenges:?}"
        );
        for other in others {
            assert_eq!(other.param("error"), None, "{challenges:?}");
        }
        let body = self.json();
        assert_eq!(body["error"], error);
        assert_eq!(body["message"], description);
        assert_eq!(self.header("content-type"), Some("application/json"));
        (*answered).clone()
    }

    /// Asserts a 400 `invalid_dpop_proof` with this description, on the DPoP challenge.
    pub fn assert_invalid_proof(&self, description: &str) {
        self.assert_dpop_error(400, "invalid_dpop_proof", description);
    }

    /// Asserts a 401 `invalid_token` naming the failed check.
    pub fn assert_invalid_token(&self, description: &str) {
        self.assert_error(401, "invalid_token", description);
    }

    /// Asserts a 400 `invalid_request`.
    pub fn assert_invalid_request(&self) {
        assert_eq!(self.status, 400, "{self:?}");
        let challenge = self.challenge();
        assert_eq!(challenge.param("error"), Some("invalid_request"));
        assert_eq!(self.json()["error"], "invalid_request");
    }

    /// Asserts a 503 with `Retry-After` and a JSON body.
    pub fn assert_unavailable(&self) {
        assert_eq!(self.status, 503, "{self:?}");
        let retry: u64 = self
            .header("retry-after")
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("no numeric Retry-After on {self:?}"));
        assert!(retry >= 1);
        assert_eq!(self.json()["error"], "temporarily_unavailable");
    }

    /// Asserts the exact 200 body.
    pub fn assert_ok(&self, body: &str) {
        assert_eq!(self.status, 200, "{self:?}");
        assert_eq!(self.body, body);
    }
}

/// Sends a request and reads the whole answer.
///
/// # Panics
/// When the request fails at the transport level.
pub async fn send_to(request: awc::ClientRequest) -> Reply {
    let mut response = request.send().await.expect("request reaches the server");
    let body = response
        .body()
        .limit(16 * 1024 * 1024)
        .await
        .expect("body reads");
    Reply {
        status: response.status().as_u16(),
        headers: response.headers().clone(),
        body: String::from_utf8_lossy(&body).into_owned(),
    }
}

/// Checks a `/metrics` answer as a scraper would, and parses it.
///
/// # Panics
/// When the answer is not 200 OpenMetrics text.
pub fn scrape(reply: &Reply) -> Scrape {
    assert_eq!(reply.status, 200, "{reply:?}");
    assert_eq!(
        reply.header("content-type"),
        Some(api::metrics::CONTENT_TYPE),
        "{reply:?}"
    );
    Scrape::parse(&reply.body).unwrap_or_else(|e| panic!("{e}:\n{}", reply.body))
}

/// The exact 200 bodies of Auth0's sample.
pub mod bodies {
    /// `/api/public`.
    pub const PUBLIC: &str = r#"{"message":"Hello from a public endpoint! You don't need to be authenticated to see this."}"#;
    /// `/api/private`.
    pub const PRIVATE: &str =
        r#"{"message":"Hello from a private endpoint! You need to be authenticated to see this."}"#;
    /// `/api/private-scoped`.
    pub const PRIVATE_SCOPED: &str = r#"{"message":"Hello from a private endpoint! You need to be authenticated and have a scope of read:messages to see this."}"#;
}

impl TestApp {
    /// A token builder with valid claims for this app: `iss`, `aud`, `sub`, an hour to live.
    pub fn token<'k>(&self, key: &'k SigningKey) -> TokenBuilder<'k> {
        key.token()
            .claim("iss", self.issuer.issuer())
            .claim("aud", AUDIENCE)
            .claim("sub", "user-1")
            .expires_in(3600)
    }

    /// A signed, valid token from the issuer's main key, with these scopes.
    ///
    /// # Panics
    /// When signing fails.
    pub fn valid_token(&self, scope: Option<&str>) -> String {
        let mut token = self.token(&self.keys.rsa);
        if let Some(scope) = scope {
            token = token.claim("scope", scope);
        }
        token.sign().expect("token signs")
    }

    /// Sends a request and reads the whole answer.
    ///
    /// # Panics
    /// When the request fails at the transport level.
    pub async fn send(&self, request: awc::ClientRequest) -> Reply {
        send_to(request).await
    }

    /// A request builder for a path on this server.
    pub fn request(&self, method: Method, path: &str) -> awc::ClientRequest {
        self.client
            .request(method, format!("{}{path}", self.address))
    }

    /// `GET path`.
    pub async fn get(&self, path: &str) -> Reply {
        self.send(self.request(Method::GET, path)).await
    }

    /// `GET path` with `Authorization: Bearer {token}`.
    pub async fn get_with_token(&self, path: &str, token: &str) -> Reply {
        self.get_with_authorization(path, &format!("Bearer {token}"))
            .await
    }

    /// `GET path` with this exact `Authorization` value.
    pub async fn get_with_authorization(&self, path: &str, value: &str) -> Reply {
        self.send(
            self.request(Method::GET, path)
                .insert_header(("Authorization", value)),
        )
        .await
    }

    /// A valid token bound to `client`'s key (`cnf.jkt`), with these scopes.
    ///
    /// # Panics
    /// When signing fails.
    pub fn bound_token(&self, client: &SigningKey, scope: Option<&str>) -> String {
        let mut token = self
            .token(&self.keys.rsa)
            .claim("cnf", serde_json::json!({ "jkt": client.jkt() }));
        if let Some(scope) = scope {
            token = token.claim("scope", scope);
        }
        token.sign().expect("token signs")
    }

    /// A fresh proof by `client` for `GET {PUBLIC_URL}{path}` with `token`.
    ///
    /// # Panics
    /// When signing fails.
    pub fn proof(&self, client: &SigningKey, path: &str, token: &str) -> String {
        client
            .dpop_proof("GET", &format!("{PUBLIC_URL}{path}"), token)
            .sign()
            .expect("proof signs")
    }

    /// `GET path` with this `Authorization` value (if any) and these `DPoP` headers.
    pub async fn get_with_proofs(
        &self,
        path: &str,
        authorization: Option<&str>,
        proofs: &[&str],
    ) -> Reply {
        let mut request = self.request(Method::GET, path);
        if let Some(value) = authorization {
            request = request.insert_header(("Authorization", value));
        }
        for proof in proofs {
            request = request.append_header(("DPoP", *proof));
        }
        self.send(request).await
    }

    /// `GET path` with `Authorization: DPoP {token}` and `DPoP: {proof}`.
    pub async fn get_dpop(&self, path: &str, token: &str, proof: &str) -> Reply {
        self.get_with_proofs(path, Some(&format!("DPoP {token}")), &[proof])
            .await
    }

    /// `GET path` as a DPoP client does it: a fresh proof by `client` with each request.
    pub async fn dpop(&self, client: &SigningKey, path: &str, token: &str) -> Reply {
        let proof = self.proof(client, path, token);
        self.get_dpop(path, token, &proof).await
    }

    /// `GET /api/public`.
    pub async fn public(&self) -> Reply {
        self.get("/api/public").await
    }

    /// `GET /api/private` with a token.
    pub async fn private(&self, token: &str) -> Reply {
        self.get_with_token("/api/private", token).await
    }

    /// `GET /api/private-scoped` with a token.
    pub async fn private_scoped(&self, token: &str) -> Reply {
        self.get_with_token("/api/private-scoped", token).await
    }

    /// `GET /metrics`, checked as a scraper would and parsed.
    ///
    /// # Panics
    /// When the answer is not 200 OpenMetrics text.
    pub async fn metrics(&self) -> Scrape {
        scrape(&self.get("/metrics").await)
    }

    /// Waits until `/readyz` answers 200.
    ///
    /// # Panics
    /// After 10 seconds.
    pub async fn wait_ready(&self) {
        for _ in 0..200 {
            if self.get("/readyz").await.status == 200 {
                return;
            }
            actix_web::rt::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the app never became ready");
    }
}
