//! Keys fetched over https: a private CA trusted through `auth.jwks.ca_file`, and every
//! certificate failure answered with 503, never with acceptance.

use tests::bodies::PRIVATE;
use tests::{AUDIENCE, CertifiedName, Keys, Reply, TlsIssuer, serve_api, settings_with};

/// Starts the API trusting `issuer` (and, with `trust_ca`, its CA through `auth.jwks.ca_file`)
/// and sends one valid token.
async fn private_with_token(issuer: &TlsIssuer, keys: &Keys, trust_ca: bool) -> Reply {
    let ca_file = std::env::temp_dir().join(format!(
        "test-ca-{}-{}.pem",
        std::process::id(),
        issuer
            .issuer()
            .rsplit(':')
            .next()
            .unwrap_or_default()
            .trim_end_matches('/')
    ));
    std::fs::write(&ca_file, issuer.ca_pem()).unwrap();
    let mut settings = settings_with(&[("APP__SERVER__PORT", "0")]);
    settings.auth.issuer = Some(issuer.issuer().to_owned());
    settings.auth.audience = vec![AUDIENCE.to_owned()];
    settings.auth.jwks.fetch_timeout = std::time::Duration::from_secs(5);
    settings.auth.jwks.ca_file = trust_ca.then(|| ca_file.display().to_string());
    let port = serve_api(&settings).await;
    let token = keys
        .rsa
        .token()
        .claim("iss", issuer.issuer())
        .claim("aud", AUDIENCE)
        .claim("sub", "user-1")
        .expires_in(600)
        .sign()
        .unwrap();

    let reply = tests::send_to(
        awc::Client::default()
            .get(format!("http://127.0.0.1:{port}/api/private"))
            .insert_header(("Authorization", format!("Bearer {token}"))),
    )
    .await;

    std::fs::remove_file(ca_file).unwrap();
    reply
}

async fn keys_are_fetched_over_https_from_an_issuer_behind_a_private_ca() {
    let keys = Keys::load();
    let issuer = TlsIssuer::start(&keys.rsa, CertifiedName::Loopback);

    let reply = private_with_token(&issuer, &keys, true).await;

    reply.assert_ok(PRIVATE);
}

async fn a_certificate_from_an_unknown_ca_is_503() {
    let keys = Keys::load();
    let issuer = TlsIssuer::start(&keys.rsa, CertifiedName::Loopback);

    let reply = private_with_token(&issuer, &keys, false).await;

    reply.assert_unavailable();
}

async fn a_certificate_for_another_host_is_503() {
    let keys = Keys::load();
    let issuer = TlsIssuer::start(&keys.rsa, CertifiedName::OtherHost);

    let reply = private_with_token(&issuer, &keys, true).await;

    reply.assert_unavailable();
}

#[test]
fn an_unreadable_or_unusable_ca_file_stops_startup() {
    for contents in [None, Some("not a certificate")] {
        let path = std::env::temp_dir().join(format!("bad-ca-{}.pem", std::process::id()));
        if let Some(contents) = contents {
            std::fs::write(&path, contents).unwrap();
        }
        let mut settings = settings_with(&[("APP__SERVER__PORT", "0")]);
        settings.auth.issuer = Some("https://issuer.example/".to_owned());
        settings.auth.audience = vec![AUDIENCE.to_owned()];
        settings.auth.jwks.ca_file = Some(path.display().to_string());

        let message = format!("{:#}", api::Application::build(&settings).err().unwrap());

        let _ = std::fs::remove_file(&path);
        assert!(message.contains("auth.jwks.ca_file"), "{message}");
        assert!(message.contains("APP__AUTH__JWKS__CA_FILE"), "{message}");
    }
}

tests::on_both_adapters!(
    keys_are_fetched_over_https_from_an_issuer_behind_a_private_ca,
    a_certificate_from_an_unknown_ca_is_503,
    a_certificate_for_another_host_is_503,
);
