//! The development issuer: a tiny OIDC issuer on loopback, started in `development` when no real
//! issuer is configured, so that `cargo run` shows every route on a fresh clone with no network.
//!
//! The API validates its tokens through the real path (discovery, JWKS fetch over HTTP, the same
//! checks as for Auth0); nothing in `auth` knows this issuer exists. Built only with the
//! `dev-issuer` feature, started only in development on a loopback host, and it answers only
//! requests addressed to its own loopback address. The benchmark issuer reuses it.

use std::net::TcpListener;
use std::sync::Arc;

use actix_web::dev::Server;
use actix_web::http::header::HOST;
use actix_web::{App, HttpResponse, HttpServer, guard, web};
use anyhow::Context;
use auth::testing::SigningKey;
use serde::Deserialize;
use serde_json::json;

/// The audience of development tokens when `auth.audience` is not set; Auth0's samples use it.
pub const DEFAULT_AUDIENCE: &str = "https://quickstarts/api";
/// The longest lifetime the token endpoint grants, in seconds.
const MAX_EXPIRES_IN: i64 = 24 * 3600;

/// A running development issuer.
pub struct DevIssuer {
    issuer: String,
    minter: Arc<Minter>,
}

/// What the issuer's handlers share: the key and the token defaults.
struct Minter {
    key: SigningKey,
    issuer: String,
    audience: String,
}

impl Minter {
    fn mint(&self, sub: &str, scope: Option<&str>, expires_in: i64) -> anyhow::Result<String> {
        let mut token = self
            .key
            .token()
            .claim("iss", self.issuer.as_str())
            .claim("aud", self.audience.as_str())
            .claim("sub", sub)
            .claim("iat", auth::testing::now_secs())
            .expires_in(expires_in);
        if let Some(scope) = scope {
            token = token.claim("scope", scope);
        }
        Ok(token.sign()?)
    }
}

#[derive(Deserialize)]
struct TokenQuery {
    sub: Option<String>,
    scope: Option<String>,
    expires_in: Option<i64>,
}

impl DevIssuer {
    /// Creates a signing key and binds `127.0.0.1` on a free port. The returned server must be
    /// spawned for the issuer to answer.
    ///
    /// # Errors
    /// When no key can be generated or no port bound.
    pub fn start(audience: &str) -> anyhow::Result<(Self, Server)> {
        let key = SigningKey::generate_rsa("dev-key-1").context("cannot create a signing key")?;
        Self::start_with_key(key, audience)
    }

    /// Like [`DevIssuer::start`], with a given signing key.
    ///
    /// # Errors
    /// When no port can be bound.
    pub fn start_with_key(key: SigningKey, audience: &str) -> anyhow::Result<(Self, Server)> {
        let listener =
            TcpListener::bind("127.0.0.1:0").context("cannot bind the development issuer")?;
        let port = listener.local_addr()?.port();
        let issuer = format!("http://127.0.0.1:{port}/");
        let minter = Arc::new(Minter {
            key,
            issuer: issuer.clone(),
            audience: audience.to_owned(),
        });
        let shared = web::Data::from(Arc::clone(&minter));
        // Only requests addressed to this loopback port: a web page whose host name resolves to
        // 127.0.0.1 (DNS rebinding) sends its own name in `Host`, and is refused.
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
                .app_data(shared.clone())
                .service(
                    web::scope("")
                        .guard(addressed_to_us)
                        .route(
                            "/.well-known/openid-configuration",
                            web::get().to(discovery),
                        )
                        .route("/.well-known/jwks.json", web::get().to(jwks))
                        .route("/token", web::get().to(token)),
                )
                .default_service(web::to(misdirected))
        })
        .workers(1)
        .disable_signals()
        .listen(listener)?
        .run();
        Ok((Self { issuer, minter }, server))
    }

    /// The issuer URL, `http://127.0.0.1:{port}/`.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The audience of its tokens.
    pub fn audience(&self) -> &str {
        &self.minter.audience
    }

    /// The token endpoint, such as `http://127.0.0.1:{port}/token`.
    pub fn token_endpoint(&self) -> String {
        format!("{}token", self.issuer)
    }

    /// A token for `sub`, with `scope` if given, valid for an hour.
    ///
    /// # Errors
    /// When signing fails.
    pub fn mint(&self, sub: &str, scope: Option<&str>) -> anyhow::Result<String> {
        self.mint_for(sub, scope, 3600)
    }

    /// A token for `sub`, with `scope` if given, valid for `expires_in` seconds.
    ///
    /// # Errors
    /// When signing fails.
    pub fn mint_for(
        &self,
        sub: &str,
        scope: Option<&str>,
        expires_in: i64,
    ) -> anyhow::Result<String> {
        self.minter.mint(sub, scope, expires_in)
    }

    /// The banner printed at startup: ready-to-paste curl commands against the API at `api`.
    ///
    /// # Errors
    /// When signing fails.
    pub fn banner(&self, api: &str) -> anyhow::Result<String> {
        let plain = self.mint("dev-user", None)?;
        let scoped = self.mint("dev-user", Some("read:messages"))?;
        Ok(format!(
            "\nTry the protected routes with these development tokens (valid for 1 hour):\n\n\
             curl -i -H 'Authorization: Bearer {plain}' {api}/api/private          # 200\n\n\
             curl -i -H 'Authorization: Bearer {plain}' {api}/api/private-scoped   # 403, no read:messages\n\n\
             curl -i -H 'Authorization: Bearer {scoped}' {api}/api/private-scoped   # 200\n\n\
             Mint more: curl '{}?sub=alice&scope=read:messages&expires_in=3600'\n",
            self.token_endpoint()
        ))
    }
}

/// The answer to a request whose `Host` is not this issuer's own loopback address.
async fn misdirected() -> HttpResponse {
    HttpResponse::MisdirectedRequest().json(json!({
        "message": "the development issuer answers only requests to its own loopback address",
    }))
}

async fn discovery(minter: web::Data<Minter>) -> HttpResponse {
    HttpResponse::Ok().json(json!({
        "issuer": minter.issuer,
        "jwks_uri": format!("{}.well-known/jwks.json", minter.issuer),
        "token_endpoint": format!("{}token", minter.issuer),
        "id_token_signing_alg_values_supported": ["RS256"],
    }))
}

async fn jwks(minter: web::Data<Minter>) -> HttpResponse {
    HttpResponse::Ok().json(json!({ "keys": [minter.key.jwk()] }))
}

async fn token(minter: web::Data<Minter>, query: web::Query<TokenQuery>) -> HttpResponse {
    let expires_in = query.expires_in.unwrap_or(3600);
    if !(1..=MAX_EXPIRES_IN).contains(&expires_in) {
        return HttpResponse::BadRequest().json(json!({
            "message": format!("expires_in must be between 1 and {MAX_EXPIRES_IN} seconds"),
        }));
    }
    let sub = query.sub.as_deref().unwrap_or("dev-user");
    match minter.mint(sub, query.scope.as_deref(), expires_in) {
        Ok(access_token) => HttpResponse::Ok().json(json!({
            "access_token": access_token,
            "token_type": "Bearer",
            "expires_in": expires_in,
        })),
        Err(error) => {
            log::error!("development issuer cannot sign: {error}");
            HttpResponse::InternalServerError().json(json!({ "message": "signing failed" }))
        }
    }
}
