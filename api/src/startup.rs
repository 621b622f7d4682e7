//! Builds the server from settings: binds the listener, then wires middleware and routes.

use std::net::TcpListener;

use actix_cors::Cors;
use actix_web::dev::Server;
use actix_web::http::{Method, header};
use actix_web::middleware::Logger;
use actix_web::{App, HttpServer, web};
use anyhow::Context;
use settings::Settings;

use crate::routes;

/// The request log line. It leaves out the query string and every request header, so that no
/// token or `Authorization` header is ever written to the log.
const LOG_FORMAT: &str = r#"%a "%{method}xi %U" %s %b %Dms"#;

/// A bound, ready-to-run server.
pub struct Application {
    port: u16,
    server: Server,
}

impl Application {
    /// Binds `server.host:server.port` (port 0 picks a free one) and builds the server.
    ///
    /// # Errors
    /// Fails when the address cannot be bound.
    pub fn build(settings: &Settings) -> anyhow::Result<Self> {
        let address = format!("{}:{}", settings.server.host, settings.server.port);
        let listener =
            TcpListener::bind(&address).with_context(|| format!("cannot bind {address}"))?;
        let port = listener.local_addr()?.port();
        log::info!(
            "listening on http://{}:{port} ({} environment)",
            settings.server.host,
            settings.environment
        );

        let origins = settings.server.cors_allowed_origins.clone();
        let server = HttpServer::new(move || {
            App::new()
                .wrap(cors(&origins))
                .wrap(
                    Logger::new(LOG_FORMAT)
                        .custom_request_replace("method", |req| req.method().to_string()),
                )
                .configure(routes::configure)
                .default_service(web::to(routes::not_found))
        })
        .listen(listener)?
        .run();
        Ok(Self { port, server })
    }

    /// The port the server listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Serves until the process is stopped.
    ///
    /// # Errors
    /// Fails when the server stops on an I/O error.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}

fn cors(origins: &[String]) -> Cors {
    origins
        .iter()
        .fold(Cors::default(), |cors, origin| cors.allowed_origin(origin))
        .allowed_methods([Method::GET])
        .allowed_headers([header::AUTHORIZATION, header::CONTENT_TYPE])
        .max_age(3600)
}
