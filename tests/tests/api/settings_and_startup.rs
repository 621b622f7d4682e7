//! Startup: bad configuration stops it with a message naming the key and the env var (`main`
//! prints exactly this error, `{:#}`, and exits non-zero), and the development issuer.

use api::Application;
use settings::Settings;
use tests::bodies::{PRIVATE, PRIVATE_SCOPED};
use tests::{config_dir, settings_with, start};

fn startup_error(vars: &[(&str, &str)]) -> String {
    match Settings::load_with(&config_dir(), vars.iter().copied()) {
        Err(error) => format!("{error:?}"),
        Ok(settings) => match Application::build(&settings) {
            Err(error) => format!("{error:#}"),
            Ok(_) => panic!("startup must fail"),
        },
    }
}

#[test]
fn staging_environment_stops_startup() {
    let message = startup_error(&[("APP_ENVIRONMENT", "staging")]);

    assert!(message.contains("APP_ENVIRONMENT"), "{message}");
    assert!(message.contains("development"), "{message}");
}

#[test]
fn non_numeric_port_stops_startup() {
    let message = startup_error(&[("APP__SERVER__PORT", "abc")]);

    assert!(message.contains("server.port"), "{message}");
    assert!(message.contains("APP__SERVER__PORT"), "{message}");
}

#[test]
fn production_without_audience_stops_startup() {
    let message = startup_error(&[
        ("APP_ENVIRONMENT", "production"),
        ("AUTH0_DOMAIN", "tenant.auth0.com"),
    ]);

    assert!(message.contains("auth.audience"), "{message}");
    assert!(message.contains("AUTH0_AUDIENCE"), "{message}");
}

#[test]
fn production_without_issuer_stops_startup_and_starts_no_development_issuer() {
    let message = startup_error(&[
        ("APP_ENVIRONMENT", "production"),
        ("AUTH0_AUDIENCE", "https://api"),
    ]);

    assert!(message.contains("auth.domain"), "{message}");
    assert!(message.contains("AUTH0_DOMAIN"), "{message}");
}

#[actix_web::test]
async fn development_with_a_domain_but_no_audience_stops_startup() {
    let message = startup_error(&[("AUTH0_DOMAIN", "tenant.auth0.com")]);

    assert!(message.contains("auth.audience"), "{message}");
    assert!(message.contains("AUTH0_AUDIENCE"), "{message}");
}

#[actix_web::test]
async fn real_issuer_in_development_starts_no_development_issuer() {
    let settings = settings_with(&[
        ("APP__SERVER__PORT", "0"),
        ("AUTH0_DOMAIN", "tenant.auth0.com"),
        ("AUTH0_AUDIENCE", "https://api"),
    ]);

    let app = Application::build(&settings).unwrap();

    assert!(app.dev_issuer().is_none());
}

#[actix_web::test]
async fn insecure_jwks_uri_stops_startup() {
    let message = startup_error(&[
        ("APP__AUTH__ISSUER", "https://issuer.example/"),
        ("APP__AUTH__AUDIENCE", "https://api"),
        ("APP__AUTH__JWKS_URI", "http://issuer.example/jwks.json"),
    ]);

    assert!(message.contains("auth.jwks_uri"), "{message}");
    assert!(message.contains("APP__AUTH__JWKS_URI"), "{message}");
}

/// Asserts that `message` names each of `names` (keys and env vars).
fn assert_names(message: &str, names: &[&str]) {
    for name in names {
        assert!(message.contains(name), "{name} not named in: {message}");
    }
}

#[test]
fn a_public_host_with_no_issuer_stops_startup() {
    let message = startup_error(&[("APP__SERVER__HOST", "0.0.0.0")]);

    assert_names(
        &message,
        &[
            "auth.domain",
            "AUTH0_DOMAIN",
            "server.host",
            "APP__SERVER__HOST",
        ],
    );
}

#[test]
fn a_public_host_with_no_issuer_stops_startup_even_when_set_after_loading() {
    let mut settings = settings_with(&[("APP__SERVER__PORT", "0")]);
    settings.server.host = "0.0.0.0".to_owned();

    let message = format!("{:#}", Application::build(&settings).err().unwrap());

    assert_names(&message, &["auth.domain", "server.host"]);
}

#[test]
fn leeway_past_its_range_stops_startup() {
    let message = startup_error(&[("APP__AUTH__LEEWAY_SECS", "31536000")]);

    assert_names(
        &message,
        &["auth.leeway_secs", "APP__AUTH__LEEWAY_SECS", "0 to 300"],
    );
}

#[test]
fn a_realm_a_challenge_cannot_quote_stops_startup() {
    let message = startup_error(&[("APP__AUTH__REALM", "bad\"realm")]);

    assert_names(
        &message,
        &["auth.realm", "APP__AUTH__REALM", "printable ASCII"],
    );
}

#[actix_web::test]
async fn the_realm_setting_names_every_challenge() {
    let app = tests::spawn_app_with(tests::TestConfig {
        customize: |settings| settings.auth.realm = "orders".to_owned(),
        ..tests::TestConfig::default()
    })
    .await;

    let reply = app.get("/api/private").await;

    assert_eq!(reply.status, 401);
    assert_eq!(reply.challenge().param("realm"), Some("orders"));
}

#[test]
fn a_zero_cooldown_stops_startup() {
    let message = startup_error(&[("APP__AUTH__JWKS__COOLDOWN_SECS", "0")]);

    assert_names(
        &message,
        &[
            "auth.jwks.cooldown_secs",
            "APP__AUTH__JWKS__COOLDOWN_SECS",
            "1 to 86400",
        ],
    );
}

#[test]
fn every_bad_domain_form_stops_startup() {
    for domain in [
        "https://tenant.auth0.com",
        "tenant.auth0.com/path",
        "user:pass@tenant.auth0.com",
        "evil.example\\@tenant.auth0.com",
        "tenant.auth0.com?tenant=x",
        "tenant.auth0.com#x",
    ] {
        let message = startup_error(&[("AUTH0_DOMAIN", domain), ("AUTH0_AUDIENCE", "https://api")]);

        assert_names(
            &message,
            &["auth.domain", "APP__AUTH__DOMAIN", "AUTH0_DOMAIN"],
        );
    }
}

#[test]
fn jwks_uri_with_no_issuer_stops_startup() {
    let message = startup_error(&[(
        "APP__AUTH__JWKS_URI",
        "https://tenant.auth0.com/.well-known/jwks.json",
    )]);

    assert_names(
        &message,
        &["auth.jwks_uri", "APP__AUTH__JWKS_URI", "auth.domain"],
    );
}

#[actix_web::test]
async fn a_padded_audience_list_loads_and_each_audience_is_accepted() {
    let app = tests::spawn_app().await;
    let settings = settings_with(&[
        ("APP__SERVER__PORT", "0"),
        ("APP__AUTH__ISSUER", app.issuer.issuer()),
        (
            "APP__AUTH__AUDIENCE",
            " https://first.example , https://second.example ",
        ),
    ]);
    let started = start(&settings);
    let second = app
        .token(&app.keys.rsa)
        .claim("aud", "https://second.example")
        .sign()
        .unwrap();

    let reply = app
        .send(
            app.client
                .get(format!("http://127.0.0.1:{}/api/private", started.port()))
                .insert_header(("Authorization", format!("Bearer {second}"))),
        )
        .await;

    assert_eq!(
        settings.auth.audience,
        ["https://first.example", "https://second.example"]
    );
    reply.assert_ok(PRIVATE);
}

#[actix_web::test]
async fn the_development_issuer_refuses_requests_for_another_host() {
    let started = start(&settings_with(&[("APP__SERVER__PORT", "0")]));
    let endpoint = started.dev_token_endpoint().unwrap().to_owned();
    let client = awc::Client::default();

    let rebound = client
        .get(&endpoint)
        .insert_header(("Host", "attacker.example"))
        .send()
        .await
        .unwrap()
        .status();
    let own = client.get(&endpoint).send().await.unwrap().status();

    assert_eq!(rebound, 421);
    assert_eq!(own, 200);
}

#[test]
fn unknown_key_in_local_toml_stops_startup() {
    let dir = std::env::temp_dir().join(format!("startup-local-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for name in ["default.toml", "development.toml", "production.toml"] {
        std::fs::copy(config_dir().join(name), dir.join(name)).unwrap();
    }
    std::fs::write(
        dir.join("local.toml"),
        "[auth]\naudiance = \"https://api\"\n",
    )
    .unwrap();

    let error =
        Settings::load_with(&dir, Vec::<(String, String)>::new()).expect_err("startup must fail");
    std::fs::remove_dir_all(&dir).unwrap();

    let message = format!("{error:?}");
    assert!(message.contains("auth.audiance"), "{message}");
}

#[actix_web::test]
async fn development_without_issuer_serves_protected_routes_with_its_own_issuer() {
    let started = start(&settings_with(&[("APP__SERVER__PORT", "0")]));
    let api = format!("http://127.0.0.1:{}", started.port());
    let token_endpoint = started
        .dev_token_endpoint()
        .expect("a development issuer started")
        .to_owned();
    let client = awc::Client::default();
    let mint = |query: &'static str| {
        let request = client.get(format!("{token_endpoint}{query}"));
        async move {
            let body: serde_json::Value = request.send().await.unwrap().json().await.unwrap();
            body["access_token"].as_str().unwrap().to_owned()
        }
    };
    let plain = mint("?sub=alice").await;
    let scoped = mint("?sub=alice&scope=read:messages&expires_in=600").await;
    let get = |path: &str, token: &str| {
        client
            .get(format!("{api}{path}"))
            .insert_header(("Authorization", format!("Bearer {token}")))
    };

    let mut private = get("/api/private", &plain).send().await.unwrap();
    let forbidden = get("/api/private-scoped", &plain).send().await.unwrap();
    let mut scoped_reply = get("/api/private-scoped", &scoped).send().await.unwrap();

    assert_eq!(private.status(), 200);
    assert_eq!(private.body().await.unwrap(), PRIVATE.as_bytes());
    assert_eq!(forbidden.status(), 403);
    assert_eq!(scoped_reply.status(), 200);
    assert_eq!(
        scoped_reply.body().await.unwrap(),
        PRIVATE_SCOPED.as_bytes()
    );
}

#[actix_web::test]
async fn development_token_endpoint_refuses_bad_lifetimes() {
    let started = start(&settings_with(&[("APP__SERVER__PORT", "0")]));
    let endpoint = started.dev_token_endpoint().unwrap().to_owned();
    let client = awc::Client::default();

    for query in ["?expires_in=0", "?expires_in=-5", "?expires_in=999999999"] {
        let response = client
            .get(format!("{endpoint}{query}"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 400, "{query}");
    }
}

#[actix_web::test]
async fn production_never_starts_a_development_issuer_even_without_validation() {
    // Settings that skipped validation: production, no issuer.
    let mut settings = settings_with(&[("APP__SERVER__PORT", "0")]);
    settings.environment = settings::Environment::Production;

    let error = Application::build(&settings)
        .err()
        .expect("startup must fail");

    let message = format!("{error:#}");
    assert!(message.contains("auth.domain"), "{message}");
    assert!(message.contains("AUTH0_DOMAIN"), "{message}");
}
