//! Graceful shutdown of the real binary: SIGTERM while a protected request waits on a slow
//! JWKS fetch; the request gets its answer and the process exits 0.
//!
//! This is the one integration test outside `tests/`: it needs the `api` executable
//! (`CARGO_BIN_EXE_api`, which only this package's tests get) to send it a signal.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use auth::mint::SigningKey;
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const AUDIENCE: &str = "https://shutdown-test/api";

#[actix_web::test]
async fn sigterm_lets_an_in_flight_request_finish_and_exits_0() {
    let key =
        SigningKey::rsa_from_pem("k1", include_str!("../../tests/fixtures/rsa1.pem")).unwrap();
    let issuer = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/jwks.json"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({ "keys": [key.jwk()] }))
                .set_delay(Duration::from_secs(2)),
        )
        .mount(&issuer)
        .await;
    let issuer_url = format!("{}/", issuer.uri());
    let mut child = Command::new(env!("CARGO_BIN_EXE_api"))
        .env_clear()
        .env("RUST_LOG", "info")
        .env("APP_ENVIRONMENT", "production")
        .env("APP__SERVER__HOST", "127.0.0.1")
        .env("APP__SERVER__PORT", "0")
        .env("APP__SERVER__SHUTDOWN_TIMEOUT_SECS", "10")
        .env("APP__AUTH__ISSUER", &issuer_url)
        .env("APP__AUTH__JWKS_URI", format!("{}/jwks.json", issuer.uri()))
        .env("APP__AUTH__AUDIENCE", AUDIENCE)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The log names the port; read it from stderr, then keep draining stderr.
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let port = loop {
        let mut line = String::new();
        assert!(
            stderr.read_line(&mut line).unwrap() > 0,
            "the API exited early"
        );
        if let Some(rest) = line.split("listening on http://127.0.0.1:").nth(1) {
            break rest.split_whitespace().next().unwrap().to_owned();
        }
    };
    let drain = std::thread::spawn(move || {
        let mut log = String::new();
        for line in stderr.lines() {
            log.push_str(&line.unwrap_or_default());
            log.push('\n');
        }
        log
    });
    let token = key
        .token()
        .claim("iss", issuer_url.as_str())
        .claim("aud", AUDIENCE)
        .claim("sub", "user-1")
        .expires_in(600)
        .sign()
        .unwrap();

    // The request waits on the first JWKS fetch (2 s); SIGTERM arrives while it does.
    let request = awc::Client::builder()
        .timeout(Duration::from_secs(20))
        .finish()
        .get(format!("http://127.0.0.1:{port}/api/private"))
        .insert_header(("Authorization", format!("Bearer {token}")))
        .send();
    let signal = async {
        actix_web::rt::time::sleep(Duration::from_millis(500)).await;
        let sent = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .unwrap();
        assert!(sent.success());
    };
    let (response, ()) = futures_util::join!(request, signal);
    let status = child.wait().unwrap();
    let log = drain.join().unwrap();

    assert_eq!(response.unwrap().status(), 200, "{log}");
    assert!(status.success(), "exit status {status}: {log}");
    assert!(log.contains("SIGTERM"), "{log}");
}
