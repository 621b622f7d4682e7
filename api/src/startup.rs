//! Builds the server from settings: the authenticator (or, in development without an issuer,
//! the development issuer), the listener, middleware and routes.

use std::net::TcpListener;

use actix_cors::Cors;
use actix_web::dev::Server;
use actix_web::http::{Method, header};
use actix_web::middleware::Logger;
use actix_web::{App, HttpServer, web};
use anyhow::Context;
use auth::{Authenticator, JwksConfig};
use settings::{AuthSettings, Environment, Settings, env_vars};

use crate::dev_issuer::{self, DevIssuer};
use crate::routes;

/// The request log line. It leaves out the query string and every request header, so that no
/// token or `Authorization` header is ever written to the log.
const LOG_FORMAT: &str = r#"%a "%{method}xi %U" %s %b %Dms"#;

/// A bound, ready-to-run server.
pub struct Application {
    port: u16,
    server: Server,
    dev_issuer: Option<(DevIssuer, Server)>,
}

impl Application {
    /// Binds `server.host:server.port` (port 0 picks a free one), starts the authenticator's key
    /// cache, and builds the server. Must run inside an actix runtime.
    ///
    /// # Errors
    /// When the auth settings cannot make an authenticator, or an address cannot be bound.
    pub fn build(settings: &Settings) -> anyhow::Result<Self> {
        let dev_issuer = if settings.environment == Environment::Development
            && settings.auth.issuer().is_none()
        {
            let audience = settings
                .auth
                .audience
                .first()
                .map_or(dev_issuer::DEFAULT_AUDIENCE, String::as_str);
            Some(DevIssuer::start(audience)?)
        } else {
            None
        };
        let (issuer, jwks_uri, audiences) = if let Some((dev, _)) = &dev_issuer {
            (
                dev.issuer().to_owned(),
                None,
                vec![dev.audience().to_owned()],
            )
        } else {
            let issuer = settings.auth.issuer().with_context(|| {
                format!(
                    "invalid setting `auth.domain` (env var {}): an issuer is required; set it or `auth.issuer`",
                    env_vars("auth.domain")
                )
            })?;
            (
                issuer,
                settings.auth.jwks_uri(),
                settings.auth.audience.clone(),
            )
        };
        let authenticator =
            authenticator(&settings.auth, &issuer, jwks_uri.as_deref(), &audiences)?;

        let address = format!("{}:{}", settings.server.host, settings.server.port);
        let listener =
            TcpListener::bind(&address).with_context(|| format!("cannot bind {address}"))?;
        let port = listener.local_addr()?.port();
        log::info!(
            "listening on http://{}:{port} ({} environment)",
            settings.server.host,
            settings.environment
        );
        if let Some((issuer, _)) = &dev_issuer {
            log::warn!(
                "DEVELOPMENT ISSUER in use at {}: set auth.domain ({}) for a real tenant; \
                 never use this in production",
                issuer.issuer(),
                env_vars("auth.domain")
            );
            println!("{}", issuer.banner(&format!("http://127.0.0.1:{port}"))?);
        }

        let origins = settings.server.cors_allowed_origins.clone();
        let server = HttpServer::new(move || {
            App::new()
                .wrap(cors(&origins))
                .wrap(
                    Logger::new(LOG_FORMAT)
                        .custom_request_replace("method", |req| req.method().to_string()),
                )
                .configure(|cfg| routes::configure(cfg, &authenticator))
                .default_service(web::to(routes::not_found))
        })
        .listen(listener)?
        .run();
        Ok(Self {
            port,
            server,
            dev_issuer,
        })
    }

    /// The port the server listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The development issuer, when one was started.
    pub fn dev_issuer(&self) -> Option<&DevIssuer> {
        self.dev_issuer.as_ref().map(|(issuer, _)| issuer)
    }

    /// Serves until the process is stopped.
    ///
    /// # Errors
    /// Fails when the server stops on an I/O error.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        if let Some((_, dev_server)) = self.dev_issuer {
            actix_web::rt::spawn(dev_server);
        }
        self.server.await
    }
}

/// Maps the auth settings onto the `auth` builder; errors name the setting to fix.
fn authenticator(
    settings: &AuthSettings,
    issuer: &str,
    jwks_uri: Option<&str>,
    audiences: &[String],
) -> anyhow::Result<Authenticator> {
    let algorithms = settings
        .algorithms
        .iter()
        .filter_map(|name| auth::parse_algorithm(name));
    let mut builder = Authenticator::builder()
        .issuer(issuer)
        .audiences(audiences.iter().cloned())
        .algorithms(algorithms)
        .leeway(settings.leeway())
        .permissions_as_scopes(settings.permissions_as_scopes)
        .token_cache_capacity(settings.token_cache_capacity)
        .jwks(JwksConfig {
            fetch_timeout: settings.jwks.fetch_timeout(),
            max_response_bytes: settings.jwks.max_response_bytes,
            max_age: settings.jwks.max_age(),
            cooldown: settings.jwks.cooldown(),
            max_stale: settings.jwks.max_stale(),
        });
    if let Some(jwks_uri) = jwks_uri {
        builder = builder.jwks_uri(jwks_uri);
    }
    builder.build().map_err(|error| {
        let key = match &error {
            auth::ConfigError::MissingIssuer => "auth.domain",
            auth::ConfigError::MissingAudience => "auth.audience",
            auth::ConfigError::MissingAlgorithm => "auth.algorithms",
            auth::ConfigError::InsecureUrl {
                what: "jwks_uri", ..
            } => "auth.jwks_uri",
            auth::ConfigError::InsecureUrl { .. } => "auth.issuer",
        };
        anyhow::anyhow!(
            "invalid setting `{key}` (env var {}): {error}",
            env_vars(key)
        )
    })
}

fn cors(origins: &[String]) -> Cors {
    origins
        .iter()
        .fold(Cors::default(), |cors, origin| cors.allowed_origin(origin))
        .allowed_methods([Method::GET])
        .allowed_headers([header::AUTHORIZATION, header::CONTENT_TYPE])
        .max_age(3600)
}
