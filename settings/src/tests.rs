use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use super::{Environment, Settings, SettingsError};

/// A private copy of the repository's `config/`, with an optional `local.toml`.
struct ConfigDir(PathBuf);

impl ConfigDir {
    fn new(local: Option<&str>) -> Self {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "settings-test-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("../config");
        for name in ["default.toml", "development.toml", "production.toml"] {
            std::fs::copy(source.join(name), dir.join(name)).unwrap();
        }
        if let Some(local) = local {
            std::fs::write(dir.join("local.toml"), local).unwrap();
        }
        Self(dir)
    }

    fn load(&self, vars: &[(&str, &str)]) -> Result<Settings, SettingsError> {
        let env: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        Settings::load_with(&self.0, &env)
    }
}

impl Drop for ConfigDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn error(dir: &ConfigDir, vars: &[(&str, &str)]) -> String {
    dir.load(vars).unwrap_err().to_string()
}

#[test]
fn defaults_match_the_auth0_sample() {
    let settings = ConfigDir::new(None).load(&[]).unwrap();

    assert_eq!(settings.environment, Environment::Development);
    assert_eq!(settings.server.host, "127.0.0.1");
    assert_eq!(settings.server.port, 3010);
    assert_eq!(
        settings.server.cors_allowed_origins,
        ["http://localhost:3000"]
    );
    assert_eq!(settings.auth.algorithms, ["RS256"]);
    assert_eq!(settings.auth.leeway().as_secs(), 5);
    assert_eq!(settings.auth.jwks.cooldown().as_secs(), 30);
    assert_eq!(settings.auth.jwks.max_age().as_secs(), 600);
    assert_eq!(settings.auth.jwks.max_stale().as_secs(), 86_400);
    assert_eq!(settings.auth.jwks.fetch_timeout().as_secs(), 5);
    assert_eq!(settings.auth.jwks.max_response_bytes, 1_048_576);
    assert_eq!(settings.auth.token_cache_capacity, 10_000);
    assert!(settings.auth.issuer().is_none());
}

#[test]
fn layers_apply_in_order_environment_file_then_local_then_env() {
    let dir = ConfigDir::new(Some("[server]\nport = 4000\nhost = \"10.0.0.1\"\n"));

    let production = dir
        .load(&[
            ("APP_ENVIRONMENT", "production"),
            ("AUTH0_DOMAIN", "tenant.eu.auth0.com"),
            ("AUTH0_AUDIENCE", "https://api"),
            ("APP__SERVER__HOST", "0.0.0.0"),
        ])
        .unwrap();

    assert_eq!(production.environment, Environment::Production);
    // local.toml beats the environment file, and an env var beats local.toml.
    assert_eq!(production.server.port, 4000);
    assert_eq!(production.server.host, "0.0.0.0");
}

#[test]
fn environment_file_overrides_default() {
    let settings = ConfigDir::new(None)
        .load(&[
            ("APP_ENVIRONMENT", "production"),
            ("APP__AUTH__ISSUER", "https://issuer.example/"),
            ("APP__AUTH__AUDIENCE", "https://api"),
        ])
        .unwrap();

    assert_eq!(settings.server.host, "0.0.0.0");
}

#[test]
fn domain_derives_issuer_and_jwks_uri() {
    let settings = ConfigDir::new(None)
        .load(&[("AUTH0_DOMAIN", "dev-abc123.us.auth0.com")])
        .unwrap();

    assert_eq!(
        settings.auth.issuer().as_deref(),
        Some("https://dev-abc123.us.auth0.com/")
    );
    assert_eq!(
        settings.auth.jwks_uri().as_deref(),
        Some("https://dev-abc123.us.auth0.com/.well-known/jwks.json")
    );
}

#[test]
fn explicit_issuer_without_jwks_uri_means_discovery() {
    let settings = ConfigDir::new(None)
        .load(&[("APP__AUTH__ISSUER", "https://login.example.com/realms/x")])
        .unwrap();

    assert_eq!(
        settings.auth.issuer().as_deref(),
        Some("https://login.example.com/realms/x")
    );
    assert_eq!(settings.auth.jwks_uri(), None);
}

#[test]
fn app_form_wins_over_quickstart_aliases() {
    let settings = ConfigDir::new(None)
        .load(&[
            ("AUTH0_DOMAIN", "alias.auth0.com"),
            ("APP__AUTH__DOMAIN", "app.auth0.com"),
            ("AUTH0_AUDIENCE", "https://alias"),
            ("APP__AUTH__AUDIENCE", "https://app"),
            ("PORT", "9000"),
            ("APP__SERVER__PORT", "9001"),
        ])
        .unwrap();

    assert_eq!(settings.auth.domain, "app.auth0.com");
    assert_eq!(settings.auth.audience, ["https://app"]);
    assert_eq!(settings.server.port, 9001);
}

#[test]
fn aliases_apply_when_app_form_is_absent() {
    let settings = ConfigDir::new(None)
        .load(&[
            ("AUTH0_DOMAIN", "alias.auth0.com"),
            ("AUTH0_AUDIENCE", "https://alias"),
            ("PORT", "9000"),
        ])
        .unwrap();

    assert_eq!(settings.auth.domain, "alias.auth0.com");
    assert_eq!(settings.auth.audience, ["https://alias"]);
    assert_eq!(settings.server.port, 9000);
}

#[test]
fn audience_is_one_string_or_a_list() {
    let one = ConfigDir::new(Some("[auth]\naudience = \"https://one\"\n"))
        .load(&[])
        .unwrap();
    let many = ConfigDir::new(Some("[auth]\naudience = [\"https://a\", \"https://b\"]\n"))
        .load(&[])
        .unwrap();
    let from_env = ConfigDir::new(None)
        .load(&[("APP__AUTH__AUDIENCE", "https://a,https://b")])
        .unwrap();

    assert_eq!(one.auth.audience, ["https://one"]);
    assert_eq!(many.auth.audience, ["https://a", "https://b"]);
    assert_eq!(from_env.auth.audience, ["https://a", "https://b"]);
}

#[test]
fn nested_env_vars_reach_the_jwks_section() {
    let settings = ConfigDir::new(None)
        .load(&[("APP__AUTH__JWKS__COOLDOWN_SECS", "7")])
        .unwrap();

    assert_eq!(settings.auth.jwks.cooldown().as_secs(), 7);
}

#[test]
fn unknown_environment_lists_the_allowed_ones() {
    let message = error(&ConfigDir::new(None), &[("APP_ENVIRONMENT", "staging")]);

    assert!(message.contains("APP_ENVIRONMENT"), "{message}");
    assert!(message.contains("staging"), "{message}");
    assert!(message.contains("development"), "{message}");
    assert!(message.contains("production"), "{message}");
}

#[test]
fn non_numeric_port_names_key_and_env_var() {
    let message = error(&ConfigDir::new(None), &[("APP__SERVER__PORT", "abc")]);

    assert!(message.contains("server.port"), "{message}");
    assert!(message.contains("APP__SERVER__PORT"), "{message}");
}

#[test]
fn unknown_key_in_local_toml_is_an_error() {
    let message = error(&ConfigDir::new(Some("[server]\nprot = 1\n")), &[]);

    assert!(
        message.contains("unknown setting `server.prot`"),
        "{message}"
    );
    assert!(message.contains("expected one of `host`"), "{message}");
}

#[test]
fn unknown_section_is_an_error() {
    let message = error(&ConfigDir::new(Some("[serverr]\nport = 1\n")), &[]);

    assert!(message.contains("unknown setting `serverr`"), "{message}");
}

#[test]
fn production_without_audience_names_the_key() {
    let message = error(
        &ConfigDir::new(None),
        &[
            ("APP_ENVIRONMENT", "production"),
            ("AUTH0_DOMAIN", "tenant.auth0.com"),
        ],
    );

    assert!(message.contains("auth.audience"), "{message}");
    assert!(message.contains("APP__AUTH__AUDIENCE"), "{message}");
    assert!(message.contains("AUTH0_AUDIENCE"), "{message}");
}

#[test]
fn production_without_issuer_names_the_keys() {
    let message = error(
        &ConfigDir::new(None),
        &[
            ("APP_ENVIRONMENT", "production"),
            ("AUTH0_AUDIENCE", "https://api"),
        ],
    );

    assert!(message.contains("auth.domain"), "{message}");
    assert!(message.contains("AUTH0_DOMAIN"), "{message}");
    assert!(message.contains("APP__AUTH__ISSUER"), "{message}");
}

#[test]
fn issuer_that_is_not_a_url_is_an_error() {
    let message = error(&ConfigDir::new(None), &[("APP__AUTH__ISSUER", "not a url")]);

    assert!(message.contains("auth.issuer"), "{message}");
    assert!(message.contains("APP__AUTH__ISSUER"), "{message}");
}

#[test]
fn domain_with_scheme_is_an_error() {
    let message = error(
        &ConfigDir::new(None),
        &[("AUTH0_DOMAIN", "https://tenant.auth0.com/")],
    );

    assert!(message.contains("auth.domain"), "{message}");
}

#[test]
fn symmetric_algorithm_is_refused() {
    let message = error(&ConfigDir::new(None), &[("APP__AUTH__ALGORITHMS", "HS256")]);

    assert!(message.contains("auth.algorithms"), "{message}");
    assert!(message.contains("HS256"), "{message}");
}

#[test]
fn cors_origin_with_path_is_an_error() {
    let message = error(
        &ConfigDir::new(None),
        &[(
            "APP__SERVER__CORS_ALLOWED_ORIGINS",
            "http://localhost:3000/app",
        )],
    );

    assert!(message.contains("server.cors_allowed_origins"), "{message}");
}

#[test]
fn zero_fetch_timeout_is_an_error() {
    let message = error(
        &ConfigDir::new(None),
        &[("APP__AUTH__JWKS__FETCH_TIMEOUT_SECS", "0")],
    );

    assert!(
        message.contains("auth.jwks.fetch_timeout_secs"),
        "{message}"
    );
}

#[test]
fn missing_default_file_is_an_error_naming_the_directory() {
    let dir = ConfigDir::new(None);
    std::fs::remove_file(dir.0.join("default.toml")).unwrap();

    let message = format!("{:?}", dir.load(&[]).unwrap_err());

    assert!(message.contains("default.toml"), "{message}");
}
