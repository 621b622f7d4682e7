//! The integration-test harness: starts the real server on port 0 and talks to it over HTTP.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Once;

use api::Application;
use settings::Settings;

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
    let env: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    Settings::load_with(&config_dir(), &env).expect("test settings load")
}

/// A running server and a client for it.
pub struct TestApp {
    /// `http://127.0.0.1:{port}`.
    pub address: String,
    /// The port the server bound.
    pub port: u16,
    /// A client for the server.
    pub client: awc::Client,
}

/// Starts the API on a free port with the repository's development settings.
///
/// # Panics
/// When the server cannot start.
pub fn spawn_app() -> TestApp {
    let mut settings = settings_with(&[]);
    settings.server.port = 0;
    spawn_app_with(&settings)
}

/// Starts the API on the given settings.
///
/// # Panics
/// When the server cannot start.
pub fn spawn_app_with(settings: &Settings) -> TestApp {
    init_logging();
    let app = Application::build(settings).expect("the app builds");
    let port = app.port();
    actix_web::rt::spawn(app.run_until_stopped());
    TestApp {
        address: format!("http://127.0.0.1:{port}"),
        port,
        client: awc::Client::default(),
    }
}

/// A response read whole: status, headers and body.
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
}

impl TestApp {
    /// Sends a request and reads the whole answer.
    ///
    /// # Panics
    /// When the request fails at the transport level.
    pub async fn send(&self, request: awc::ClientRequest) -> Reply {
        let mut response = request.send().await.expect("request reaches the server");
        let body = response.body().await.expect("body reads");
        Reply {
            status: response.status().as_u16(),
            headers: response.headers().clone(),
            body: String::from_utf8_lossy(&body).into_owned(),
        }
    }

    /// A request builder for a path on this server.
    pub fn request(&self, method: actix_web::http::Method, path: &str) -> awc::ClientRequest {
        self.client
            .request(method, format!("{}{path}", self.address))
    }

    /// `GET path`.
    pub async fn get(&self, path: &str) -> Reply {
        self.send(self.request(actix_web::http::Method::GET, path))
            .await
    }

    /// `GET /api/public`.
    pub async fn public(&self) -> Reply {
        self.get("/api/public").await
    }
}
