//! A loopback OIDC issuer for tests and local development: OIDC discovery and a JWKS over plain
//! HTTP on `127.0.0.1`, keys published and withdrawn at run time, failure modes, fetch counters,
//! and optionally a token endpoint. The authenticator under test fetches from it through its
//! real path (discovery, JWKS fetch, every check), as it would from Auth0.

use std::net::TcpListener;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use actix_web::dev::ServerHandle;
use actix_web::http::StatusCode;
use actix_web::http::header::HOST;
use actix_web::{App, HttpResponse, HttpServer, guard, web};
use serde_json::{Value, json};

use super::{MintError, SigningKey, now_secs};

/// The JWKS path that the discovery document names.
pub const JWKS_PATH: &str = "/.well-known/jwks.json";
/// The discovery document's path.
pub const DISCOVERY_PATH: &str = "/.well-known/openid-configuration";
/// The longest lifetime the token endpoint grants, in seconds.
const MAX_EXPIRES_IN: i64 = 24 * 3600;

/// How the issuer answers its discovery document and JWKS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Mode {
    /// 200 with the published keys.
    Healthy,
    /// The JWKS answers this status with an empty body.
    Status(u16),
    /// The JWKS answers 200 with a body that is not JSON.
    Garbage,
    /// The JWKS answers only after a minute: past any fetch timeout.
    Hang,
    /// The JWKS answers 200 with a valid key set padded past 2 MiB.
    Oversized,
    /// Both documents answer 200, after this delay: a slow but healthy issuer.
    Slow(Duration),
}

/// A running test issuer. Cheap to share by reference; its server runs on the actix runtime it
/// was started in, and stops with it.
#[derive(Debug)]
pub struct TestIssuer {
    shared: Arc<Shared>,
    _server: ServerHandle,
}

/// What the handlers and the handle share.
#[derive(Debug)]
struct Shared {
    issuer: String,
    state: Mutex<State>,
    minter: Option<Minter>,
}

#[derive(Debug)]
struct State {
    keys: Vec<Value>,
    mode: Mode,
    /// The JWKS answer's `Cache-Control`, when set.
    cache_control: Option<String>,
    jwks_fetches: usize,
    discovery_fetches: usize,
}

/// The token endpoint's key and audience.
#[derive(Debug)]
struct Minter {
    key: SigningKey,
    audience: String,
}

/// Builds a [`TestIssuer`].
#[derive(Debug)]
pub struct TestIssuerBuilder {
    keys: Vec<Value>,
    minter: Option<Minter>,
    mode: Mode,
}

impl TestIssuer {
    /// Starts an issuer that publishes `keys`, on a free loopback port.
    ///
    /// # Errors
    /// When no port can be bound.
    ///
    /// # Panics
    /// Outside an actix runtime (`#[actix_web::test]`, `#[actix_web::main]`).
    pub fn start(keys: &[&SigningKey]) -> std::io::Result<Self> {
        keys.iter()
            .fold(Self::builder(), |builder, key| builder.publish(key))
            .start()
    }

    /// Starts building an issuer: which keys it publishes, its token endpoint, its first mode.
    pub fn builder() -> TestIssuerBuilder {
        TestIssuerBuilder {
            keys: Vec::new(),
            minter: None,
            mode: Mode::Healthy,
        }
    }

    /// The issuer URL, `http://127.0.0.1:{port}/`: what its tokens carry in `iss`.
    pub fn issuer(&self) -> &str {
        &self.shared.issuer
    }

    /// The JWKS URL, which the discovery document names.
    pub fn jwks_uri(&self) -> String {
        format!("{}{}", self.shared.issuer.trim_end_matches('/'), JWKS_PATH)
    }

    /// The token endpoint, `http://127.0.0.1:{port}/token`, when it has one.
    pub fn token_endpoint(&self) -> Option<String> {
        self.shared
            .minter
            .as_ref()
            .map(|_| format!("{}token", self.shared.issuer))
    }

    /// The audience of the token endpoint's tokens, when it has one.
    pub fn audience(&self) -> Option<&str> {
        self.shared.minter.as_ref().map(|m| m.audience.as_str())
    }

    /// A token from the token endpoint's key, as `GET /token` gives it: for `sub`, with
    /// `scope` if given, valid for `expires_in` seconds.
    ///
    /// # Errors
    /// When the issuer has no token endpoint, or signing fails.
    pub fn mint(
        &self,
        sub: &str,
        scope: Option<&str>,
        expires_in: i64,
    ) -> Result<String, MintError> {
        let minter = self
            .shared
            .minter
            .as_ref()
            .ok_or(MintError::NoTokenEndpoint)?;
        self.shared.mint(minter, sub, scope, expires_in)
    }

    /// A token builder for `key` with this issuer's `iss`, `sub` `test-user`, `iat` now and an
    /// hour to live; set the audience, scopes and anything else on it.
    pub fn token<'k>(&self, key: &'k SigningKey) -> super::TokenBuilder<'k> {
        key.token()
            .claim("iss", self.shared.issuer.as_str())
            .claim("sub", "test-user")
            .claim("iat", now_secs())
            .expires_in(3600)
    }

    /// Publishes another key next to the current ones: with [`TestIssuer::withdraw`], a key
    /// rotation.
    pub fn publish(&self, key: &SigningKey) {
        self.publish_jwk(key.jwk());
    }

    /// Publishes a raw JWK next to the current ones, such as a deliberately broken one.
    pub fn publish_jwk(&self, jwk: Value) {
        self.shared.lock().keys.push(jwk);
    }

    /// Stops publishing every key with this `kid`.
    pub fn withdraw(&self, kid: &str) {
        self.shared
            .lock()
            .keys
            .retain(|jwk| jwk.get("kid").and_then(Value::as_str) != Some(kid));
    }

    /// Switches how the documents are answered.
    pub fn set_mode(&self, mode: Mode) {
        self.shared.lock().mode = mode;
    }

    /// Sends `Cache-Control: value` with each JWKS answer from now on (`None`: no such header),
    /// as an issuer that sets the lifetime of its keys does.
    pub fn set_cache_control(&self, value: Option<&str>) {
        self.shared.lock().cache_control = value.map(str::to_owned);
    }

    /// Answers normally again.
    pub fn recover(&self) {
        self.set_mode(Mode::Healthy);
    }

    /// How many times the JWKS was fetched.
    pub fn jwks_fetches(&self) -> usize {
        self.shared.lock().jwks_fetches
    }

    /// How many times the discovery document was fetched.
    pub fn discovery_fetches(&self) -> usize {
        self.shared.lock().discovery_fetches
    }
}

impl TestIssuerBuilder {
    /// Publishes `key`'s public JWK.
    #[must_use]
    pub fn publish(mut self, key: &SigningKey) -> Self {
        self.keys.push(key.jwk());
        self
    }

    /// Serves `GET /token?sub=..&scope=..&expires_in=..`, which signs with `key` (published
    /// too) for `audience`: for a development issuer that a person uses with curl.
    #[must_use]
    pub fn token_endpoint(mut self, key: SigningKey, audience: impl Into<String>) -> Self {
        self.keys.push(key.jwk());
        self.minter = Some(Minter {
            key,
            audience: audience.into(),
        });
        self
    }

    /// How the documents are answered from the start (default [`Mode::Healthy`]).
    #[must_use]
    pub fn mode(mut self, mode: Mode) -> Self {
        self.mode = mode;
        self
    }

    /// Binds `127.0.0.1` on a free port and serves, on the current actix runtime. It answers
    /// only requests addressed to that address (`Host: 127.0.0.1:{port}` or
    /// `localhost:{port}`), so that a web page whose name resolves to 127.0.0.1 (DNS
    /// rebinding) cannot use it.
    ///
    /// # Errors
    /// When no port can be bound.
    ///
    /// # Panics
    /// Outside an actix runtime.
    pub fn start(self) -> std::io::Result<TestIssuer> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let port = listener.local_addr()?.port();
        let shared = Arc::new(Shared {
            issuer: format!("http://127.0.0.1:{port}/"),
            state: Mutex::new(State {
                keys: self.keys,
                mode: self.mode,
                cache_control: None,
                jwks_fetches: 0,
                discovery_fetches: 0,
            }),
            minter: self.minter,
        });
        let data = web::Data::from(Arc::clone(&shared));
        let own_hosts = [format!("127.0.0.1:{port}"), format!("localhost:{port}")];
        let server = HttpServer::new(move || {
            let own_hosts = own_hosts.clone();
            let addressed_to_us = guard::fn_guard(move |ctx| {
                ctx.head()
                    .headers()
                    .get(HOST)
                    .is_some_and(|host| own_hosts.iter().any(|own| host == own.as_str()))
            });
            App::new()
                .app_data(data.clone())
                .service(
                    web::scope("")
                        .guard(addressed_to_us)
                        .route(DISCOVERY_PATH, web::get().to(discovery))
                        .route(JWKS_PATH, web::get().to(jwks))
                        .route("/token", web::get().to(token)),
                )
                .default_service(web::to(misdirected))
        })
        .workers(1)
        .disable_signals()
        .listen(listener)?
        .run();
        let handle = server.handle();
        actix_web::rt::spawn(server);
        Ok(TestIssuer {
            shared,
            _server: handle,
        })
    }
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn mint(
        &self,
        minter: &Minter,
        sub: &str,
        scope: Option<&str>,
        expires_in: i64,
    ) -> Result<String, MintError> {
        let mut token = minter
            .key
            .token()
            .claim("iss", self.issuer.as_str())
            .claim("aud", minter.audience.as_str())
            .claim("sub", sub)
            .claim("iat", now_secs())
            .expires_in(expires_in);
        if let Some(scope) = scope {
            token = token.claim("scope", scope);
        }
        token.sign()
    }
}

/// The delay a slow issuer adds, or an hour-long one for a hanging JWKS.
async fn delayed(delay: Option<Duration>) {
    if let Some(delay) = delay {
        actix_web::rt::time::sleep(delay).await;
    }
}

async fn discovery(shared: web::Data<Shared>) -> HttpResponse {
    let mode = {
        let mut state = shared.lock();
        state.discovery_fetches += 1;
        state.mode
    };
    if let Mode::Slow(delay) = mode {
        delayed(Some(delay)).await;
    }
    let mut document = json!({
        "issuer": shared.issuer,
        "jwks_uri": format!("{}{}", shared.issuer.trim_end_matches('/'), JWKS_PATH),
        "id_token_signing_alg_values_supported": ["RS256"],
    });
    if shared.minter.is_some() {
        document["token_endpoint"] = json!(format!("{}token", shared.issuer));
    }
    HttpResponse::Ok().json(document)
}

async fn jwks(shared: web::Data<Shared>) -> HttpResponse {
    let (mode, document, cache_control) = {
        let mut state = shared.lock();
        state.jwks_fetches += 1;
        (
            state.mode,
            json!({ "keys": state.keys }),
            state.cache_control.clone(),
        )
    };
    match mode {
        Mode::Healthy => {
            let mut answer = HttpResponse::Ok();
            if let Some(value) = cache_control {
                answer.insert_header((actix_web::http::header::CACHE_CONTROL, value));
            }
            answer.json(document)
        }
        Mode::Status(status) => {
            HttpResponse::build(StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_GATEWAY))
                .finish()
        }
        Mode::Garbage => HttpResponse::Ok()
            .content_type("application/json")
            .body("<html>not a key set</html>"),
        Mode::Hang => {
            delayed(Some(Duration::from_secs(60))).await;
            HttpResponse::Ok().json(document)
        }
        Mode::Oversized => {
            let mut padded = document;
            padded["padding"] = json!("x".repeat(2 * 1024 * 1024 + 1));
            HttpResponse::Ok().json(padded)
        }
        Mode::Slow(delay) => {
            delayed(Some(delay)).await;
            HttpResponse::Ok().json(document)
        }
    }
}

/// The token endpoint's query.
#[derive(serde::Deserialize)]
struct TokenQuery {
    sub: Option<String>,
    scope: Option<String>,
    expires_in: Option<i64>,
}

async fn token(shared: web::Data<Shared>, query: web::Query<TokenQuery>) -> HttpResponse {
    let Some(minter) = &shared.minter else {
        return HttpResponse::NotFound()
            .json(json!({ "message": "this issuer has no token endpoint" }));
    };
    let expires_in = query.expires_in.unwrap_or(3600);
    if !(1..=MAX_EXPIRES_IN).contains(&expires_in) {
        return HttpResponse::BadRequest().json(json!({
            "message": format!("expires_in must be between 1 and {MAX_EXPIRES_IN} seconds"),
        }));
    }
    let sub = query.sub.as_deref().unwrap_or("dev-user");
    match shared.mint(minter, sub, query.scope.as_deref(), expires_in) {
        Ok(access_token) => HttpResponse::Ok().json(json!({
            "access_token": access_token,
            "token_type": "Bearer",
            "expires_in": expires_in,
        })),
        Err(error) => {
            log::error!("the test issuer cannot sign: {error}");
            HttpResponse::InternalServerError().json(json!({ "message": "signing failed" }))
        }
    }
}

/// The answer to a request whose `Host` is not this issuer's own loopback address.
async fn misdirected() -> HttpResponse {
    HttpResponse::MisdirectedRequest().json(json!({
        "message": "the development issuer answers only requests to its own loopback address",
    }))
}
