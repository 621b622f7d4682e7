//! The real binary as an operator runs it: graceful shutdown on SIGTERM, and a log that never
//! holds a token or an `Authorization` header.
//!
//! These are the integration tests outside `tests/`: they need the `api` executable
//! (`CARGO_BIN_EXE_api`, which only this package's tests get) to read its log and signal it.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::thread::JoinHandle;
use std::time::Duration;

use auth::testing::SigningKey;
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const AUDIENCE: &str = "https://process-test/api";

/// The API binary in production against `issuer`, with its log captured.
struct Process {
    child: Child,
    port: String,
    log: JoinHandle<String>,
}

impl Process {
    fn start(issuer: &MockServer, rust_log: &str) -> Self {
        Self::start_with(issuer, rust_log, "text")
    }

    fn start_with(issuer: &MockServer, rust_log: &str, log_format: &str) -> Self {
        Self::start_env(issuer, rust_log, log_format, &[])
    }

    fn start_env(
        issuer: &MockServer,
        rust_log: &str,
        log_format: &str,
        vars: &[(&str, &str)],
    ) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_api"))
            .env_clear()
            .env("RUST_LOG", rust_log)
            .env("APP__LOG__FORMAT", log_format)
            .env("APP_ENVIRONMENT", "production")
            .env("APP__SERVER__HOST", "127.0.0.1")
            .env("APP__SERVER__PORT", "0")
            // Production serves /metrics on 7461 by default; tests run side by side.
            .env("APP__SERVER__METRICS_PORT", "0")
            .env("APP__SERVER__SHUTDOWN_TIMEOUT_SECS", "10")
            .env("APP__AUTH__ISSUER", format!("{}/", issuer.uri()))
            .env("APP__AUTH__JWKS_URI", format!("{}/jwks.json", issuer.uri()))
            .env("APP__AUTH__AUDIENCE", AUDIENCE)
            .envs(vars.iter().copied())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // The log names the port; read it from stderr, then keep draining stderr.
        let mut stderr = BufReader::new(child.stderr.take().unwrap());
        let mut seen = String::new();
        let port = loop {
            let mut line = String::new();
            assert!(
                stderr.read_line(&mut line).unwrap() > 0,
                "exited early: {seen}"
            );
            seen.push_str(&line);
            if let Some(rest) = line.split("listening on http://127.0.0.1:").nth(1) {
                break rest.split_whitespace().next().unwrap().to_owned();
            }
        };
        let log = std::thread::spawn(move || {
            for line in stderr.lines() {
                seen.push_str(&line.unwrap_or_default());
                seen.push('\n');
            }
            seen
        });
        Self { child, port, log }
    }

    fn get(&self, path: &str, token: &str) -> awc::SendClientRequest {
        awc::Client::builder()
            .timeout(Duration::from_secs(20))
            .finish()
            .get(format!("http://127.0.0.1:{}{path}", self.port))
            .insert_header(("Authorization", format!("Bearer {token}")))
            .send()
    }

    fn terminate(&self) {
        let sent = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(sent.success());
    }

    /// Waits for the exit; returns whether it was a success, and the whole log.
    fn wait(mut self) -> (bool, String) {
        let status = self.child.wait().unwrap();
        (status.success(), self.log.join().unwrap())
    }
}

fn key() -> SigningKey {
    SigningKey::rsa_from_pem("k1", include_str!("../../auth/fixtures/rsa1.pem")).unwrap()
}

async fn issuer(key: &SigningKey, delay: Duration) -> MockServer {
    let issuer = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/jwks.json"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({ "keys": [key.jwk()] }))
                .set_delay(delay),
        )
        .mount(&issuer)
        .await;
    issuer
}

fn token(key: &SigningKey, issuer: &MockServer, scope: &str) -> String {
    token_with(key, issuer, "scope", scope.into())
}

/// A token of `user-1` for this API, valid for ten minutes, with one more claim.
fn token_with(key: &SigningKey, issuer: &MockServer, name: &str, value: Value) -> String {
    key.token()
        .claim("iss", format!("{}/", issuer.uri()))
        .claim("aud", AUDIENCE)
        .claim("sub", "user-1")
        .claim(name, value)
        .expires_in(600)
        .sign()
        .unwrap()
}

/// A DPoP client's key and a token the issuer bound to it (`cnf.jkt`).
fn dpop_bound_token(key: &SigningKey, issuer: &MockServer) -> (SigningKey, String) {
    let client =
        SigningKey::p256_from_pem("client", include_str!("../../auth/fixtures/ec-p256.pem"))
            .unwrap();
    let token = token_with(key, issuer, "cnf", json!({ "jkt": client.jkt() }));
    (client, token)
}

#[actix_web::test]
async fn sigterm_lets_an_in_flight_request_finish_and_exits_0() {
    let key = key();
    let issuer = issuer(&key, Duration::from_secs(2)).await;
    let api = Process::start(&issuer, "info");
    let token = token(&key, &issuer, "");

    // The request waits on the first JWKS fetch (2 s); SIGTERM arrives while it does.
    let request = api.get("/api/private", &token);
    let signal = async {
        actix_web::rt::time::sleep(Duration::from_millis(500)).await;
        api.terminate();
    };
    let (response, ()) = futures_util::join!(request, signal);
    let (exited_0, log) = api.wait();

    // With /metrics on a port of its own, as production has it: its server must not end the
    // process before the API's in-flight request is answered.
    assert_eq!(
        response.map(|r| r.status().as_u16()).ok(),
        Some(200),
        "{log}"
    );
    assert!(exited_0, "{log}");
    assert!(log.contains("SIGTERM"), "{log}");
}

#[actix_web::test]
async fn no_token_or_authorization_header_reaches_the_log_even_at_trace() {
    let key = key();
    let issuer = issuer(&key, Duration::ZERO).await;
    let api = Process::start(&issuer, "trace");
    let accepted = token(&key, &issuer, "read:messages");
    let refused = token(&key, &issuer, "");
    let forged = format!("{}x", &accepted[..accepted.len() - 1]);

    let statuses = [
        api.get("/api/private-scoped", &accepted)
            .await
            .unwrap()
            .status(),
        api.get("/api/private-scoped", &refused)
            .await
            .unwrap()
            .status(),
        api.get("/api/private", &forged).await.unwrap().status(),
        api.get(&format!("/api/private?access_token={accepted}"), &accepted)
            .await
            .unwrap()
            .status(),
    ];
    api.terminate();
    let (_, log) = api.wait();

    assert_eq!(statuses.map(|s| s.as_u16()), [200, 403, 401, 400], "{log}");
    assert!(
        log.contains("api::request"),
        "the request lines are in: {log}"
    );
    for secret in [&accepted, &refused, &forged] {
        let (header_and_payload, signature) = secret.rsplit_once('.').unwrap();
        assert!(!log.contains(signature), "a signature reached the log");
        assert!(!log.contains(header_and_payload), "a token reached the log");
    }
    assert!(!log.to_ascii_lowercase().contains("bearer ey"), "{log}");
}

#[actix_web::test]
async fn the_json_log_is_one_object_per_line_with_the_request_fields() {
    let key = key();
    let issuer = issuer(&key, Duration::ZERO).await;
    let api = Process::start_with(&issuer, "info", "json");
    let token = token(&key, &issuer, "read:messages");

    let mut response = api.get("/api/private-scoped", &token).await.unwrap();
    let id = response
        .headers()
        .get("x-request-id")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    let _ = response.body().await;
    api.terminate();
    let (_, log) = api.wait();

    let lines: Vec<serde_json::Value> = log
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}")))
        .collect();
    let request = lines
        .iter()
        .find(|line| line["target"] == "api::request")
        .unwrap_or_else(|| panic!("no request line in {log}"));
    assert_eq!(request["level"], "INFO");
    assert!(request["timestamp"].is_string(), "{request}");
    assert_eq!(request["method"], "GET");
    assert_eq!(request["route"], "/api/private-scoped");
    assert_eq!(request["status"], 200);
    assert!(request["duration_ms"].is_f64(), "{request}");
    assert_eq!(request["request_id"], id.as_str());
    assert!(!log.contains(token.rsplit_once('.').unwrap().1));
}

#[actix_web::test]
async fn the_text_log_escapes_a_quote_in_the_path_and_states_startup_warnings() {
    use std::io::{Read, Write};
    let key = key();
    let issuer = issuer(&key, Duration::ZERO).await;
    let api = Process::start(&issuer, "info");

    // Raw bytes: a client library would percent-encode the quote.
    let mut stream = std::net::TcpStream::connect(format!("127.0.0.1:{}", api.port)).unwrap();
    stream
        .write_all(b"GET /a\"b HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    api.terminate();
    let (_, log) = api.wait();

    assert!(answer.starts_with("HTTP/1.1 404"), "{answer}");
    assert!(log.contains(r#""GET /a\"b" 404"#), "{log}");
    assert!(
        log.contains("`auth.public_url` (APP__AUTH__PUBLIC_URL) is not set"),
        "{log}"
    );
}

#[actix_web::test]
async fn two_processes_that_share_redis_accept_a_dpop_proof_once() {
    let Some(redis) = auth::testing::RedisServer::start_or_skip("process::dpop_across_processes")
    else {
        return;
    };
    let key = key();
    let issuer = issuer(&key, Duration::ZERO).await;
    let url = redis.url();
    let vars = [
        ("APP__AUTH__PUBLIC_URL", "https://api.example.com"),
        ("APP__AUTH__DPOP__REPLAY", "redis"),
        ("APP__AUTH__DPOP__REDIS_URL", url.as_str()),
    ];
    let one = Process::start_env(&issuer, "info", "text", &vars);
    let two = Process::start_env(&issuer, "info", "text", &vars);
    let (client, token) = dpop_bound_token(&key, &issuer);
    let proof = client
        .dpop_proof("GET", "https://api.example.com/api/private", &token)
        .sign()
        .unwrap();
    let send = |api: &Process| {
        awc::Client::builder()
            .timeout(Duration::from_secs(20))
            .finish()
            .get(format!("http://127.0.0.1:{}/api/private", api.port))
            .insert_header(("Authorization", format!("DPoP {token}")))
            .insert_header(("DPoP", proof.clone()))
            .send()
    };

    let mut first = send(&one).await.unwrap();
    let mut replayed = send(&two).await.unwrap();

    assert_eq!(first.status(), 200, "{:?}", first.body().await);
    assert_eq!(replayed.status(), 400);
    let challenge = replayed
        .headers()
        .get("www-authenticate")
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(
        challenge.contains("DPoP algs=")
            && challenge.contains(r#"error="invalid_dpop_proof", error_description="DPoP proof has already been used""#),
        "{challenge}"
    );
    let body: serde_json::Value = serde_json::from_slice(&replayed.body().await.unwrap()).unwrap();
    assert_eq!(
        body,
        json!({ "error": "invalid_dpop_proof", "message": "DPoP proof has already been used" })
    );
    for api in [one, two] {
        api.terminate();
        assert!(api.wait().0);
    }
}

#[actix_web::test]
async fn a_replay_store_that_is_off_is_named_in_a_startup_warning_and_dpop_still_answers() {
    let key = key();
    let issuer = issuer(&key, Duration::ZERO).await;
    let api = Process::start_env(
        &issuer,
        "info",
        "text",
        &[
            ("APP__AUTH__DPOP__REPLAY", "off"),
            ("APP__AUTH__PUBLIC_URL", "https://api.example.com"),
        ],
    );

    let answer = api.get("/api/private", "not-a-token").await.unwrap();
    api.terminate();
    let (_, log) = api.wait();

    assert_eq!(answer.status(), 401);
    assert!(
        log.contains("`auth.dpop.replay` (APP__AUTH__DPOP__REPLAY) is \"off\""),
        "{log}"
    );
}

/// Two `api` processes with one nonce secret (as replicas behind a load balancer): a nonce the
/// first hands out is accepted by the second. A process without the secret warns that it made
/// its own.
#[actix_web::test]
async fn two_processes_that_share_the_nonce_secret_accept_each_others_nonces() {
    let key = key();
    let issuer = issuer(&key, Duration::ZERO).await;
    let vars = [
        ("APP__AUTH__PUBLIC_URL", "https://api.example.com"),
        ("APP__AUTH__DPOP__NONCE", "required"),
        (
            "APP__AUTH__DPOP__NONCE_SECRET",
            "the replicas' nonce secret, 32 bytes or more",
        ),
    ];
    let one = Process::start_env(&issuer, "info", "text", &vars);
    let two = Process::start_env(&issuer, "info", "text", &vars);
    let alone = Process::start_env(&issuer, "info", "text", &vars[..2]);
    let (client, token) = dpop_bound_token(&key, &issuer);
    let send = |api: &Process, nonce: Option<&str>| {
        let mut proof = client.dpop_proof("GET", "https://api.example.com/api/private", &token);
        if let Some(nonce) = nonce {
            proof = proof.claim("nonce", nonce);
        }
        awc::Client::builder()
            .timeout(Duration::from_secs(20))
            .finish()
            .get(format!("http://127.0.0.1:{}/api/private", api.port))
            .insert_header(("Authorization", format!("DPoP {token}")))
            .insert_header(("DPoP", proof.sign().unwrap()))
            .send()
    };

    let asked = send(&one, None).await.unwrap();
    assert_eq!(asked.status(), 401);
    let challenge = asked
        .headers()
        .get("www-authenticate")
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default();
    assert!(
        challenge.contains(r#"error="use_dpop_nonce""#),
        "{challenge}"
    );
    let nonce = asked
        .headers()
        .get("dpop-nonce")
        .and_then(|value| value.to_str().ok())
        .expect("a DPoP-Nonce header")
        .to_owned();
    let mut on_two = send(&two, Some(&nonce)).await.unwrap();
    assert_eq!(on_two.status(), 200, "{:?}", on_two.body().await);
    let on_alone = send(&alone, Some(&nonce)).await.unwrap();
    assert_eq!(on_alone.status(), 401);
    assert!(on_alone.headers().contains_key("dpop-nonce"));

    for api in [one, two] {
        api.terminate();
        let (_, log) = api.wait();
        assert!(!log.contains("no nonce secret is set"), "{log}");
        assert!(
            !log.contains("the replicas' nonce secret"),
            "the secret is never logged"
        );
    }
    alone.terminate();
    let (_, log) = alone.wait();
    assert!(
        log.contains("no nonce secret is set (dpop.nonce_secret)"),
        "{log}"
    );
}
