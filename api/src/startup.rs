//! Builds the server from settings in three steps: resolve whom to trust (the issuers), build the
//! authenticator from that, then run the routes on a bound listener.

use std::net::TcpListener;

use actix_cors::Cors;
use actix_web::dev::Server;
use actix_web::http::{Method, header};
use actix_web::middleware::from_fn;
use actix_web::{App, HttpServer, web};
use anyhow::Context;
use auth::Authenticator;
use auth::config::AuthConfig;
use prometheus_client::registry::Registry;
use settings::{Settings, SettingsError};

#[cfg(feature = "dev-issuer")]
use crate::dev_issuer::DevIssuer;
use crate::metrics::{self, Metrics};
use crate::request_log::request_log;
use crate::routes;
use crate::routes::metadata::{Location, ResourceMetadata};

/// A bound, ready-to-run server.
pub struct Application {
    port: u16,
    server: Server,
    /// The port and server of `/metrics`, when it has a listener of its own.
    metrics: Option<(u16, Server)>,
    #[cfg(feature = "dev-issuer")]
    dev_issuer: Option<DevIssuer>,
}

impl Application {
    /// Validates the settings, resolves the issuer, builds the authenticator (whose key cache
    /// starts fetching at once), and binds `server.host:server.port` (port 0 picks a free one).
    /// Must run inside an actix runtime. Writes nothing to stdout.
    ///
    /// # Errors
    /// When a setting is invalid (naming its key and env var), no issuer may be trusted, or the
    /// address cannot be bound.
    pub fn build(settings: &Settings) -> anyhow::Result<Self> {
        // The fields are public, so settings may have changed since they loaded.
        settings.validate()?;

        #[cfg(feature = "dev-issuer")]
        let (auth_config, dev_issuer) = if settings.auth.trusted().is_empty() {
            let (config, issuer) = development_issuer(&settings.auth)?;
            (config, Some(issuer))
        } else {
            (settings.auth.clone(), None)
        };
        #[cfg(not(feature = "dev-issuer"))]
        let auth_config = Some(settings.auth.clone())
            .filter(|config| !config.trusted().is_empty())
            .ok_or_else(no_issuer_built_in)?;

        let metadata = resource_metadata(settings);
        let metadata_url = metadata.as_ref().map(|(location, _)| location.url.clone());
        let authenticator = authenticator(&auth_config, metadata_url)?;
        let metadata =
            metadata.map(|(location, document)| (location.path, web::Data::new(document)));

        let server_settings = &settings.server;
        let listener = bind(&server_settings.host, server_settings.port)?;
        let port = listener.local_addr()?.port();
        let metrics = server_settings
            .metrics_enabled
            .then(|| Metrics::new(&authenticator));
        let (metrics, metrics_server) = match (metrics, server_settings.metrics_port) {
            (Some(metrics), Some(metrics_port)) => {
                let listener = bind(server_settings.metrics_host(), metrics_port)?;
                let metrics_port = listener.local_addr()?.port();
                let server = serve_metrics(listener, &metrics, settings)?;
                (Some(metrics), Some((metrics_port, server)))
            }
            (metrics, _) => (metrics, None),
        };
        let separate = metrics_server.is_some();
        let server = run(
            listener,
            authenticator,
            metadata,
            metrics.as_ref(),
            separate,
            settings,
        )?;
        Ok(Self {
            port,
            server,
            metrics: metrics_server,
            #[cfg(feature = "dev-issuer")]
            dev_issuer,
        })
    }

    /// The port the server listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The port `/metrics` listens on, when it has a listener of its own.
    pub fn metrics_port(&self) -> Option<u16> {
        self.metrics.as_ref().map(|(port, _)| *port)
    }

    /// The development issuer, when one was started.
    #[cfg(feature = "dev-issuer")]
    pub fn dev_issuer(&self) -> Option<&DevIssuer> {
        self.dev_issuer.as_ref()
    }

    /// Serves until the process is stopped.
    ///
    /// # Errors
    /// Fails when the server stops on an I/O error.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        // The development issuer serves on this runtime already; it stops with it.
        let Some((_, metrics)) = self.metrics else {
            return self.server.await;
        };
        // The metrics server ignores signals: on SIGTERM actix stops the whole runtime once a
        // server has shut down, which would cut the API's in-flight requests short. It stops
        // after the API, whose server decides the exit status.
        let metrics_handle = metrics.handle();
        actix_web::rt::spawn(metrics);
        let stopped = self.server.await;
        metrics_handle.stop(true).await;
        stopped
    }
}

/// The authenticator the API builds from `settings` when they name an issuer (no development
/// issuer): the API's checks, for serving its routes behind another framework's adapter, as
/// the integration tests do with the tower layer.
///
/// # Errors
/// As [`Application::build`], but an empty issuer list is an error here.
pub fn authenticator_for(settings: &Settings) -> anyhow::Result<Authenticator> {
    settings.validate()?;
    let metadata_url = resource_metadata(settings).map(|(location, _)| location.url);
    Ok(authenticator(&settings.auth, metadata_url)?)
}

/// Step 1, with no issuer configured: the configuration with the development issuer in its
/// place. Validation allows that only in development on a loopback host, so the development
/// issuer serves this machine alone.
#[cfg(feature = "dev-issuer")]
fn development_issuer(config: &AuthConfig) -> anyhow::Result<(AuthConfig, DevIssuer)> {
    let audience = config
        .audience
        .first()
        .map_or(crate::dev_issuer::DEFAULT_AUDIENCE, String::as_str);
    let issuer = DevIssuer::start(audience)?;
    let mut config = config.clone();
    config.issuer = Some(issuer.issuer().to_owned());
    config.audience = vec![issuer.audience().to_owned()];
    Ok((config, issuer))
}

#[cfg(not(feature = "dev-issuer"))]
fn no_issuer_built_in() -> SettingsError {
    SettingsError::invalid(
        "auth.domain",
        format!(
            "no issuer is set, and this binary was built without the development issuer \
             (cargo feature `dev-issuer`): set `auth.domain` ({}) or `auth.issuer` ({})",
            settings::env_vars("auth.domain"),
            settings::env_vars("auth.issuer")
        ),
    )
}

/// The protected resource metadata (RFC 9728) and where it is published: only when
/// `auth.public_url` names the resource.
pub fn resource_metadata(settings: &Settings) -> Option<(Location, ResourceMetadata)> {
    let resource = settings.auth.public_url.clone()?;
    let (url, path) = auth::config::resource_metadata_location(&resource);
    let location = Location { url, path };
    let document = ResourceMetadata {
        resource,
        scopes_supported: routes::scopes_supported(),
    };
    Some((location, document))
}

/// Step 2: the authenticator, from the `auth` library's own configuration in one call, with
/// what is the API's own: the RFC 9728 metadata URL that challenges name (the API serves the
/// document), and the CA certificates read from `auth.jwks.ca_file` and
/// `auth.dpop.redis_ca_file`.
fn authenticator(
    config: &AuthConfig,
    metadata_url: Option<String>,
) -> Result<Authenticator, SettingsError> {
    let mut builder = config.builder();
    if let Some(path) = &config.dpop.redis_ca_file {
        builder = builder.redis_root_certificates(read_pem("auth.dpop.redis_ca_file", path)?);
    }
    if let Some(url) = metadata_url {
        builder = builder.resource_metadata(url);
    }
    if let Some(path) = &config.jwks.ca_file {
        builder = builder.extra_root_certificates(read_pem("auth.jwks.ca_file", path)?);
    }
    builder.build().map_err(settings::auth_error)
}

/// The PEM file that the setting `key` names.
fn read_pem(key: &str, path: &str) -> Result<Vec<u8>, SettingsError> {
    std::fs::read(path)
        .map_err(|error| SettingsError::invalid(key, format!("cannot read {path:?}: {error}")))
}

fn bind(host: &str, port: u16) -> anyhow::Result<TcpListener> {
    let address = format!("{host}:{port}");
    TcpListener::bind(&address).with_context(|| format!("cannot bind {address}"))
}

/// Step 3: the routes and middleware, served on `listener`. With `metrics`, requests are
/// measured, and `/metrics` is served here unless it has a `separate` listener. `metadata` is
/// the RFC 9728 document and its path, when published.
fn run(
    listener: TcpListener,
    authenticator: Authenticator,
    metadata: Option<(String, web::Data<ResourceMetadata>)>,
    metrics: Option<&Metrics>,
    separate: bool,
    settings: &Settings,
) -> std::io::Result<Server> {
    let origins = settings.server.cors_allowed_origins.clone();
    let public_path = metadata.as_ref().map(|(path, _)| path.clone());
    let http = metrics.map(Metrics::http);
    let registry = metrics.filter(|_| !separate).map(Metrics::registry);
    let mut server = HttpServer::new(move || {
        let app = App::new()
            .wrap(cors(&origins, public_path.clone()))
            // It also records the HTTP metrics, when they are app data.
            .wrap(from_fn(request_log))
            .configure(|cfg| routes::configure(cfg, &authenticator, metadata.as_ref()));
        let app = match &http {
            Some(http) => app.app_data(http.clone()),
            None => app,
        };
        let app = match &registry {
            Some(registry) => app.configure(|cfg| metrics_route(cfg, registry)),
            None => app,
        };
        app.default_service(web::to(routes::not_found))
    });
    if settings.server.workers > 0 {
        server = server.workers(settings.server.workers);
    }
    // On SIGTERM or SIGINT actix stops accepting, lets in-flight requests finish within this
    // time, then the server future ends and `main` returns 0.
    server = server.shutdown_timeout(settings.server.shutdown_timeout_secs);
    Ok(server.listen(listener)?.run())
}

/// `/metrics` alone, on a listener of its own with one worker.
fn serve_metrics(
    listener: TcpListener,
    metrics: &Metrics,
    settings: &Settings,
) -> std::io::Result<Server> {
    let registry = metrics.registry();
    let server = HttpServer::new(move || {
        App::new()
            .configure(|cfg| metrics_route(cfg, &registry))
            .default_service(web::to(routes::not_found))
    });
    Ok(server
        .workers(1)
        .disable_signals()
        .shutdown_timeout(settings.server.shutdown_timeout_secs)
        .listen(listener)?
        .run())
}

fn metrics_route(cfg: &mut web::ServiceConfig, registry: &web::Data<Registry>) {
    cfg.app_data(registry.clone())
        .service(routes::get("/metrics", metrics::serve));
}

/// CORS: the configured origins everywhere, and any origin on the public metadata document
/// at `public_path` (RFC 9728: clients in browsers read it from anywhere). Every answer lets
/// scripts read `WWW-Authenticate`, which tells them how to authenticate, and `DPoP-Nonce`,
/// the server nonce their next DPoP proof must carry.
fn cors(origins: &[String], public_path: Option<String>) -> Cors {
    let origins = origins.to_vec();
    Cors::default()
        .allowed_origin_fn(move |origin, request| {
            public_path.as_deref() == Some(request.uri.path())
                || origins
                    .iter()
                    .any(|allowed| origin.as_bytes() == allowed.as_bytes())
        })
        .allowed_methods([Method::GET])
        .allowed_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            header::HeaderName::from_static("dpop"),
        ])
        .expose_headers([
            header::WWW_AUTHENTICATE,
            header::HeaderName::from_static("dpop-nonce"),
        ])
        .max_age(3600)
}
