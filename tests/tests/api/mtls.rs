//! mTLS-bound tokens (RFC 8705 §3) over HTTP: the TLS proxy in front of the API forwards the
//! client certificate in `auth.mtls.certificate_header`, and a token with `cnf.x5t#S256` passes
//! only with the certificate it names.

use serde_json::json;
use tests::bodies::PRIVATE;
use tests::{PUBLIC_URL, TestApp, TestConfig, spawn_app_with};

const HEADER: &str = "X-Client-Cert";
const PEM: &str = include_str!("../../../auth/fixtures/client-cert.pem");
/// The fixture's thumbprint, as OpenSSL computes it (`auth/fixtures/README.md`).
const THUMBPRINT: &str = "vRLo11FhkZFyt-FTOCydvLuSyP8qipnf5rCLatzttUI";

async fn app() -> TestApp {
    spawn_app_with(TestConfig {
        public_url: Some(PUBLIC_URL.to_owned()),
        customize: |s| s.auth.mtls.certificate_header = Some(HEADER.to_owned()),
        ..TestConfig::default()
    })
    .await
}

/// The PEM as nginx's `$ssl_client_escaped_cert` forwards it: URL-encoded.
fn escaped(pem: &str) -> String {
    pem.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn bound_to(app: &TestApp, thumbprint: &str) -> String {
    app.token(&app.keys.rsa)
        .claim("cnf", json!({ "x5t#S256": thumbprint }))
        .sign()
        .unwrap()
}

async fn with_certificate(app: &TestApp, token: &str, certificate: &str) -> tests::Reply {
    app.send(
        app.request(actix_web::http::Method::GET, "/api/private")
            .insert_header(("Authorization", format!("Bearer {token}")))
            .insert_header((HEADER, certificate)),
    )
    .await
}

async fn a_token_passes_with_the_certificate_it_is_bound_to_in_either_proxy_form() {
    let app = app().await;
    let token = bound_to(&app, THUMBPRINT);

    with_certificate(&app, &token, &escaped(PEM))
        .await
        .assert_ok(PRIVATE);
    let envoy = format!(
        "By=spiffe://api;Hash=abc;Cert=\"{}\";Subject=\"CN=client\"",
        escaped(PEM)
    );
    with_certificate(&app, &token, &envoy)
        .await
        .assert_ok(PRIVATE);
}

async fn another_certificate_none_or_garbage_is_a_401() {
    let app = app().await;

    let other = bound_to(&app, "bwcK0esc3ACC3DB2Y5_lESsXE8o9ltc05O89jdN-dg2");
    with_certificate(&app, &other, &escaped(PEM))
        .await
        .assert_invalid_token("the client certificate does not match the token's cnf.x5t#S256");
    let token = bound_to(&app, THUMBPRINT);
    app.private(&token)
        .await
        .assert_invalid_token("the token is bound to a client certificate, and none was presented");
    for garbage in [
        "not a certificate",
        "%E0%A4%A",
        "-----BEGIN CERTIFICATE-----%0A!!!",
    ] {
        with_certificate(&app, &token, garbage)
            .await
            .assert_invalid_token("the client certificate cannot be read");
    }
}

async fn a_cached_bound_token_still_needs_its_certificate() {
    let app = app().await;
    let token = bound_to(&app, THUMBPRINT);

    with_certificate(&app, &token, &escaped(PEM))
        .await
        .assert_ok(PRIVATE);
    // From the token cache now: the certificate is checked all the same.
    app.private(&token)
        .await
        .assert_invalid_token("the token is bound to a client certificate, and none was presented");
}

async fn a_token_bound_both_ways_is_checked_both_ways() {
    let app = app().await;
    let client = &app.keys.ec;
    let token = app
        .token(&app.keys.rsa)
        .claim(
            "cnf",
            json!({ "jkt": client.jkt(), "x5t#S256": THUMBPRINT }),
        )
        .sign()
        .unwrap();
    let dpop = |certificate: Option<String>| {
        let proof = app.proof(client, "/api/private", &token);
        let mut request = app
            .request(actix_web::http::Method::GET, "/api/private")
            .insert_header(("Authorization", format!("DPoP {token}")))
            .insert_header(("DPoP", proof));
        if let Some(certificate) = certificate {
            request = request.insert_header((HEADER, certificate));
        }
        app.send(request)
    };

    dpop(Some(escaped(PEM))).await.assert_ok(PRIVATE);
    dpop(None).await.assert_dpop_error(
        401,
        "invalid_token",
        "the token is bound to a client certificate, and none was presented",
    );
    with_certificate(&app, &token, &escaped(PEM))
        .await
        .assert_invalid_token(
            "the token is DPoP-bound (cnf.jkt); send it with the DPoP scheme and a DPoP proof",
        );
}

/// `GET /api/private` with a certificate-bound token and these certificate header values.
async fn with_certificates(app: &TestApp, values: &[&str]) -> tests::Reply {
    let token = bound_to(app, THUMBPRINT);
    let mut request = app
        .request(actix_web::http::Method::GET, "/api/private")
        .insert_header(("Authorization", format!("Bearer {token}")));
    for value in values {
        request = request.append_header((HEADER, *value));
    }
    app.send(request).await
}

async fn a_forwarded_certificate_is_read_by_its_grammar_and_several_are_refused() {
    let app = app().await;
    let cert = escaped(PEM);
    let envoy = format!("By=spiffe://api;Hash=abc;Cert=\"{cert}\";Subject=\"CN=a, O=b\"");

    with_certificates(&app, &[&cert]).await.assert_ok(PRIVATE);
    with_certificates(&app, &[&envoy]).await.assert_ok(PRIVATE);
    for several in [
        vec![cert.clone(), cert.clone()],
        vec![envoy.clone(), envoy.clone()],
        // A client's forged element first, the proxy's appended one after it.
        vec![format!("Cert=\"{cert}\",{envoy}")],
        vec![format!("By=a;Cert=\"{cert}\";Cert=\"{cert}\"")],
    ] {
        let several: Vec<&str> = several.iter().map(String::as_str).collect();
        with_certificates(&app, &several)
            .await
            .assert_invalid_token("more than one client certificate was forwarded");
    }
    // A certificate inside another quoted value is not the element's Cert.
    with_certificates(&app, &[&format!("By=a;Subject=\"x, Cert={cert}\"")])
        .await
        .assert_invalid_token("the client certificate cannot be read");
}

tests::on_both_adapters!(
    a_token_passes_with_the_certificate_it_is_bound_to_in_either_proxy_form,
    another_certificate_none_or_garbage_is_a_401,
    a_cached_bound_token_still_needs_its_certificate,
    a_token_bound_both_ways_is_checked_both_ways,
    a_forwarded_certificate_is_read_by_its_grammar_and_several_are_refused,
);
