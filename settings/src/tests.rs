use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use auth::Algorithm;

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
        Settings::load_with(&self.0, vars.iter().copied())
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
    assert_eq!(settings.auth.algorithms, [Algorithm::RS256]);
    assert_eq!(settings.auth.leeway.as_secs(), 5);
    assert_eq!(settings.auth.jwks.cooldown.as_secs(), 30);
    assert_eq!(settings.auth.jwks.max_age.as_secs(), 600);
    assert_eq!(settings.auth.jwks.max_stale.as_secs(), 86_400);
    assert_eq!(settings.auth.jwks.fetch_timeout.as_secs(), 5);
    assert_eq!(settings.auth.jwks.max_response_bytes, 1_048_576);
    assert_eq!(settings.auth.token_cache_capacity, 10_000);
    assert!(settings.auth.resolved_issuer().is_none());
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
        .load(&[
            ("AUTH0_DOMAIN", "dev-abc123.us.auth0.com"),
            ("AUTH0_AUDIENCE", "https://api"),
        ])
        .unwrap();

    assert_eq!(
        settings.auth.resolved_issuer().as_deref(),
        Some("https://dev-abc123.us.auth0.com/")
    );
    assert_eq!(
        settings.auth.resolved_jwks_uri().as_deref(),
        Some("https://dev-abc123.us.auth0.com/.well-known/jwks.json")
    );
}

#[test]
fn explicit_issuer_without_jwks_uri_means_discovery() {
    let settings = ConfigDir::new(None)
        .load(&[
            ("APP__AUTH__ISSUER", "https://login.example.com/realms/x"),
            ("AUTH0_AUDIENCE", "https://api"),
        ])
        .unwrap();

    assert_eq!(
        settings.auth.resolved_issuer().as_deref(),
        Some("https://login.example.com/realms/x")
    );
    assert_eq!(settings.auth.resolved_jwks_uri(), None);
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

    assert_eq!(settings.auth.domain.as_deref(), Some("app.auth0.com"));
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

    assert_eq!(settings.auth.domain.as_deref(), Some("alias.auth0.com"));
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

    assert_eq!(settings.auth.jwks.cooldown.as_secs(), 7);
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
    for list in ["HS256", "RS256,none", "RS256, rs384"] {
        let message = error(&ConfigDir::new(None), &[("APP__AUTH__ALGORITHMS", list)]);

        assert!(message.contains("auth.algorithms"), "{message}");
        assert!(message.contains("APP__AUTH__ALGORITHMS"), "{message}");
        assert!(message.contains("choose from RS256"), "{message}");
    }
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

#[test]
fn padded_env_lists_are_trimmed() {
    let settings = ConfigDir::new(None)
        .load(&[
            ("APP__AUTH__AUDIENCE", " https://a , https://b "),
            ("APP__AUTH__ALGORITHMS", "RS256, ES256"),
            (
                "APP__SERVER__CORS_ALLOWED_ORIGINS",
                "http://a.example, http://b.example",
            ),
        ])
        .unwrap();

    assert_eq!(settings.auth.audience, ["https://a", "https://b"]);
    assert_eq!(
        settings.auth.algorithms,
        [Algorithm::RS256, Algorithm::ES256]
    );
    assert_eq!(
        settings.server.cors_allowed_origins,
        ["http://a.example", "http://b.example"]
    );
}

#[test]
fn an_empty_item_in_an_env_list_is_an_error() {
    for list in ["https://a,,https://b", "https://a,", ", https://a"] {
        let message = error(&ConfigDir::new(None), &[("APP__AUTH__AUDIENCE", list)]);

        assert!(message.contains("auth.audience"), "{message}");
        assert!(message.contains("APP__AUTH__AUDIENCE"), "{message}");
        assert!(message.contains("empty item"), "{message}");
    }
}

#[test]
fn an_empty_env_list_is_an_empty_list() {
    let settings = ConfigDir::new(None)
        .load(&[("APP__SERVER__CORS_ALLOWED_ORIGINS", "")])
        .unwrap();

    assert!(settings.server.cors_allowed_origins.is_empty());
}

#[test]
fn empty_strings_mean_unset() {
    let settings = ConfigDir::new(Some("[auth]\ndomain = \"tenant.auth0.com\"\n"))
        .load(&[("AUTH0_DOMAIN", ""), ("APP__AUTH__ISSUER", "")])
        .unwrap();

    assert_eq!(settings.auth.domain, None);
    assert_eq!(settings.auth.issuer, None);
}

#[test]
fn numeric_settings_out_of_range_name_the_key_the_env_var_and_the_range() {
    for (var, value, key, range) in [
        (
            "APP__AUTH__LEEWAY_SECS",
            "301",
            "auth.leeway_secs",
            "0 to 300",
        ),
        (
            "APP__AUTH__JWKS__COOLDOWN_SECS",
            "0",
            "auth.jwks.cooldown_secs",
            "1 to 86400",
        ),
        (
            "APP__AUTH__JWKS__MAX_AGE_SECS",
            "604801",
            "auth.jwks.max_age_secs",
            "1 to 604800",
        ),
        (
            "APP__AUTH__JWKS__MAX_STALE_SECS",
            "18446744073709551615",
            "auth.jwks.max_stale_secs",
            "1 to 604800",
        ),
        (
            "APP__AUTH__JWKS__FETCH_TIMEOUT_SECS",
            "61",
            "auth.jwks.fetch_timeout_secs",
            "1 to 60",
        ),
        (
            "APP__AUTH__JWKS__MAX_RESPONSE_BYTES",
            "100",
            "auth.jwks.max_response_bytes",
            "1024 to 4194304",
        ),
        (
            "APP__AUTH__MAX_TOKEN_BYTES",
            "65537",
            "auth.max_token_bytes",
            "1024 to 65536",
        ),
        (
            "APP__AUTH__TOKEN_CACHE_CAPACITY",
            "1000001",
            "auth.token_cache_capacity",
            "0 to 1000000",
        ),
        (
            "APP__AUTH__DPOP__MAX_AGE_SECS",
            "0",
            "auth.dpop.max_age_secs",
            "1 to 3600",
        ),
        (
            "APP__AUTH__DPOP__LEEWAY_SECS",
            "301",
            "auth.dpop.leeway_secs",
            "0 to 300",
        ),
        (
            "APP__AUTH__DPOP__REPLAY_CAPACITY",
            "999",
            "auth.dpop.replay_capacity",
            "1000 to 10000000",
        ),
        (
            "APP__AUTH__DPOP__REPLAY_MAX_BYTES",
            "1048575",
            "auth.dpop.replay_max_bytes",
            "1048576 to 4294967296",
        ),
        (
            "APP__AUTH__DPOP__REPLAY_PER_CLIENT",
            "1000001",
            "auth.dpop.replay_per_client",
            "1 to 1000000",
        ),
        (
            "APP__AUTH__DPOP__REDIS_COMMAND_TIMEOUT_MS",
            "5",
            "auth.dpop.redis_command_timeout_ms",
            "10 to 10000",
        ),
    ] {
        let message = error(&ConfigDir::new(None), &[(var, value)]);

        assert!(message.contains(&format!("`{key}`")), "{message}");
        assert!(message.contains(var), "{message}");
        assert!(message.contains(range), "{message}");
    }
}

#[test]
fn range_bounds_themselves_load() {
    let settings = ConfigDir::new(None)
        .load(&[
            ("APP__AUTH__LEEWAY_SECS", "300"),
            ("APP__AUTH__JWKS__COOLDOWN_SECS", "1"),
            ("APP__AUTH__JWKS__MAX_AGE_SECS", "1"),
            ("APP__AUTH__JWKS__MAX_STALE_SECS", "604800"),
            ("APP__AUTH__TOKEN_CACHE_CAPACITY", "0"),
        ])
        .unwrap();

    assert_eq!(settings.auth.leeway, Duration::from_secs(300));
}

#[test]
fn every_malformed_domain_form_is_refused() {
    for domain in [
        "https://tenant.auth0.com",
        "tenant.auth0.com/api",
        "user:pass@tenant.auth0.com",
        "evil.example\\@tenant.auth0.com",
        "tenant.auth0.com?x=1",
        "tenant.auth0.com#x",
    ] {
        let message = error(&ConfigDir::new(None), &[("AUTH0_DOMAIN", domain)]);

        assert!(message.contains("auth.domain"), "{domain}: {message}");
        assert!(message.contains("AUTH0_DOMAIN"), "{domain}: {message}");
    }
}

#[test]
fn issuer_and_jwks_uri_must_be_safe_absolute_urls() {
    for (var, key, url) in [
        ("APP__AUTH__ISSUER", "auth.issuer", "http://issuer.example/"),
        (
            "APP__AUTH__ISSUER",
            "auth.issuer",
            "https://u:p@issuer.example/",
        ),
        (
            "APP__AUTH__ISSUER",
            "auth.issuer",
            "https://issuer.example/?tenant=1",
        ),
        (
            "APP__AUTH__JWKS_URI",
            "auth.jwks_uri",
            "https://issuer.example/jwks#x",
        ),
        ("APP__AUTH__JWKS_URI", "auth.jwks_uri", "/jwks.json"),
    ] {
        let message = error(
            &ConfigDir::new(None),
            &[
                ("AUTH0_DOMAIN", "tenant.auth0.com"),
                ("AUTH0_AUDIENCE", "https://api"),
                (var, url),
            ],
        );

        assert!(message.contains(&format!("`{key}`")), "{url}: {message}");
        assert!(message.contains(var), "{url}: {message}");
    }
    let loopback = ConfigDir::new(None).load(&[
        ("APP__AUTH__ISSUER", "http://127.0.0.1:9000/"),
        ("AUTH0_AUDIENCE", "https://api"),
    ]);
    assert!(loopback.is_ok());
}

#[test]
fn jwks_uri_without_an_issuer_is_an_error() {
    let message = error(
        &ConfigDir::new(None),
        &[(
            "APP__AUTH__JWKS_URI",
            "https://tenant.auth0.com/.well-known/jwks.json",
        )],
    );

    assert!(message.contains("`auth.jwks_uri`"), "{message}");
    assert!(message.contains("APP__AUTH__JWKS_URI"), "{message}");
    assert!(message.contains("auth.domain"), "{message}");
}

#[test]
fn development_without_an_issuer_on_a_public_host_is_an_error() {
    let message = error(&ConfigDir::new(None), &[("APP__SERVER__HOST", "0.0.0.0")]);

    assert!(message.contains("auth.domain"), "{message}");
    assert!(message.contains("AUTH0_DOMAIN"), "{message}");
    assert!(message.contains("server.host"), "{message}");
    assert!(message.contains("APP__SERVER__HOST"), "{message}");
}

#[test]
fn production_allows_no_cors_origin_until_one_is_configured() {
    let settings = ConfigDir::new(None)
        .load(&[
            ("APP_ENVIRONMENT", "production"),
            ("AUTH0_DOMAIN", "tenant.auth0.com"),
            ("AUTH0_AUDIENCE", "https://api"),
        ])
        .unwrap();

    assert!(settings.server.cors_allowed_origins.is_empty());
}

#[test]
fn an_issuer_needs_an_audience_in_every_environment() {
    let message = error(
        &ConfigDir::new(None),
        &[("AUTH0_DOMAIN", "tenant.auth0.com")],
    );

    assert!(message.contains("auth.audience"), "{message}");
    assert!(message.contains("AUTH0_AUDIENCE"), "{message}");
}

#[test]
fn log_format_is_text_or_json() {
    let json = ConfigDir::new(None)
        .load(&[("APP__LOG__FORMAT", "json")])
        .unwrap();
    let message = error(&ConfigDir::new(None), &[("APP__LOG__FORMAT", "xml")]);

    assert_eq!(json.log.format, crate::LogFormat::Json);
    assert!(message.contains("log.format"), "{message}");
    assert!(message.contains("APP__LOG__FORMAT"), "{message}");
}

#[test]
fn metrics_are_on_the_api_port_by_default_and_may_move_to_their_own() {
    let dir = ConfigDir::new(None);
    let defaults = dir.load(&[]).unwrap();
    let moved = dir.load(&[("APP__SERVER__METRICS_PORT", "9100")]).unwrap();
    let off = dir
        .load(&[("APP__SERVER__METRICS_ENABLED", "false")])
        .unwrap();

    assert!(defaults.server.metrics_enabled);
    assert_eq!(defaults.server.metrics_port, None);
    assert_eq!(moved.server.metrics_port, Some(9100));
    assert!(!off.server.metrics_enabled);
}

#[test]
fn a_metrics_port_must_differ_from_the_api_port_and_needs_metrics_on() {
    let dir = ConfigDir::new(None);
    let same = error(&dir, &[("APP__SERVER__METRICS_PORT", "3010")]);
    let off = error(
        &dir,
        &[
            ("APP__SERVER__METRICS_PORT", "9100"),
            ("APP__SERVER__METRICS_ENABLED", "false"),
        ],
    );

    for message in [&same, &off] {
        assert!(message.contains("server.metrics_port"), "{message}");
        assert!(message.contains("APP__SERVER__METRICS_PORT"), "{message}");
    }
    assert!(off.contains("APP__SERVER__METRICS_ENABLED"), "{off}");
}

#[test]
fn scope_claims_default_to_scope_and_permissions_and_take_scp() {
    use auth::ScopeClaim::{Permissions, Scope, Scp};
    let dir = ConfigDir::new(None);
    let defaults = dir.load(&[]).unwrap();
    let okta = dir
        .load(&[("APP__AUTH__SCOPE_CLAIMS", "scp, scope")])
        .unwrap();
    let no_permissions = dir
        .load(&[("APP__AUTH__PERMISSIONS_AS_SCOPES", "false")])
        .unwrap();

    assert_eq!(defaults.auth.granting_claims(), [Scope, Permissions]);
    assert_eq!(okta.auth.granting_claims(), [Scp, Scope]);
    assert_eq!(no_permissions.auth.granting_claims(), [Scope]);
}

#[test]
fn scope_claims_that_grant_nothing_or_are_unknown_stop_startup() {
    let dir = ConfigDir::new(None);
    let unknown = error(&dir, &[("APP__AUTH__SCOPE_CLAIMS", "roles")]);
    let none = error(
        &dir,
        &[
            ("APP__AUTH__SCOPE_CLAIMS", "permissions"),
            ("APP__AUTH__PERMISSIONS_AS_SCOPES", "false"),
        ],
    );

    assert!(unknown.contains("auth.scope_claims"), "{unknown}");
    assert!(unknown.contains("scope, permissions or scp"), "{unknown}");
    assert!(none.contains("auth.scope_claims"), "{none}");
    assert!(none.contains("APP__AUTH__SCOPE_CLAIMS"), "{none}");
}

#[test]
fn a_public_url_is_an_absolute_https_or_loopback_url() {
    let dir = ConfigDir::new(None);
    let ok = dir
        .load(&[("APP__AUTH__PUBLIC_URL", "https://api.example.com")])
        .unwrap();

    assert_eq!(
        ok.auth.public_url.as_deref(),
        Some("https://api.example.com")
    );
    for bad in [
        "api.example.com",
        "http://api.example.com",
        "https://api.example.com/?a=1",
    ] {
        let message = error(&dir, &[("APP__AUTH__PUBLIC_URL", bad)]);
        assert!(message.contains("auth.public_url"), "{message}");
        assert!(message.contains("APP__AUTH__PUBLIC_URL"), "{message}");
    }
}

#[test]
fn several_issuers_load_from_toml_with_their_own_or_the_default_audience() {
    let dir = ConfigDir::new(Some(
        r#"
[auth]
audience = "https://my-api"

[[auth.issuers]]
domain = "tenant-a.auth0.com"

[[auth.issuers]]
issuer = "https://idp.example.com"
audience = ["https://other-api"]
"#,
    ));

    let settings = dir.load(&[]).unwrap();

    let trusted: Vec<_> = settings
        .auth
        .trusted()
        .into_iter()
        .map(|one| (one.issuer, one.jwks_uri, one.audiences))
        .collect();
    assert_eq!(
        trusted,
        [
            (
                "https://tenant-a.auth0.com/".to_owned(),
                Some("https://tenant-a.auth0.com/.well-known/jwks.json".to_owned()),
                vec!["https://my-api".to_owned()],
            ),
            (
                "https://idp.example.com".to_owned(),
                None,
                vec!["https://other-api".to_owned()],
            ),
        ]
    );
}

#[test]
fn issuers_list_rules_name_the_entry() {
    let cases = [
        (
            "[auth]\ndomain = \"a.auth0.com\"\naudience = \"x\"\n[[auth.issuers]]\ndomain = \"b.auth0.com\"\n",
            "auth.issuers",
            "not both",
        ),
        (
            "[auth]\naudience = \"x\"\n[[auth.issuers]]\ndomain = \"b.auth0.com\"\nissuer = \"https://b.auth0.com/\"\n",
            "auth.issuers[0].domain",
            "exactly one",
        ),
        (
            "[auth]\naudience = \"x\"\n[[auth.issuers]]\ndomain = \"b.auth0.com\"\n[[auth.issuers]]\nissuer = \"https://b.auth0.com\"\n",
            "auth.issuers[1].issuer",
            "listed twice",
        ),
        (
            "[auth]\naudience = \"x\"\n[[auth.issuers]]\nissuer = \"http://b.example.com/\"\n",
            "auth.issuers[0].issuer",
            "https",
        ),
        (
            "[[auth.issuers]]\ndomain = \"b.auth0.com\"\n",
            "auth.audience",
            "audience",
        ),
    ];
    for (local, key, reason) in cases {
        let message = error(&ConfigDir::new(Some(local)), &[]);
        assert!(message.contains(&format!("`{key}`")), "{key}: {message}");
        assert!(message.contains(reason), "{key}: {message}");
    }
    let message = error(&ConfigDir::new(Some(cases[1].0)), &[]);
    assert!(message.contains("TOML file"), "{message}");
}

#[test]
fn production_serves_metrics_on_their_own_port_which_an_empty_env_var_unsets() {
    let dir = ConfigDir::new(None);
    let production = [
        ("APP_ENVIRONMENT", "production"),
        ("AUTH0_DOMAIN", "tenant.example.com"),
        ("AUTH0_AUDIENCE", "https://api"),
    ];
    let moved = dir.load(&production).unwrap();
    let together = dir
        .load(&[production.as_slice(), &[("APP__SERVER__METRICS_PORT", "")]].concat())
        .unwrap();
    let internal = dir
        .load(
            &[
                production.as_slice(),
                &[("APP__SERVER__METRICS_HOST", "10.0.0.5")],
            ]
            .concat(),
        )
        .unwrap();
    let off = error(
        &dir,
        &[
            production.as_slice(),
            &[("APP__SERVER__METRICS_ENABLED", "false")],
        ]
        .concat(),
    );

    assert_eq!(moved.server.metrics_port, Some(7461));
    assert_eq!(moved.server.metrics_host(), "0.0.0.0");
    assert_eq!(together.server.metrics_port, None);
    assert_eq!(internal.server.metrics_host(), "10.0.0.5");
    assert!(off.contains(r#"APP__SERVER__METRICS_PORT="""#), "{off}");
}

#[test]
fn a_metrics_host_needs_a_metrics_port() {
    let dir = ConfigDir::new(None);

    let message = error(&dir, &[("APP__SERVER__METRICS_HOST", "127.0.0.2")]);

    assert!(message.contains("server.metrics_host"), "{message}");
    assert!(message.contains("APP__SERVER__METRICS_PORT"), "{message}");
}

#[test]
fn the_new_auth_bounds_are_checked_with_their_keys() {
    let dir = ConfigDir::new(None);
    for (var, key) in [
        (
            "APP__AUTH__TOKEN_CACHE_MAX_BYTES",
            "auth.token_cache_max_bytes",
        ),
        (
            "APP__AUTH__JWKS__RETRY_MAX_SECS",
            "auth.jwks.retry_max_secs",
        ),
    ] {
        let message = error(&dir, &[(var, "0")]);

        assert!(message.contains(key), "{message}");
        assert!(message.contains(var), "{message}");
    }
    let defaults = dir.load(&[]).unwrap();
    assert_eq!(defaults.auth.token_cache_max_bytes, 32 * 1024 * 1024);
    assert!(!defaults.auth.require_at_jwt);
    assert_eq!(defaults.auth.jwks.retry_max, Duration::from_secs(30));
}

#[test]
fn warnings_name_a_shared_audience_and_a_resource_that_no_token_could_name() {
    let dir = ConfigDir::new(Some(
        r#"
        [auth]
        public_url = "https://api.example.com/mcp"
        audience = ["https://shared"]
        [[auth.issuers]]
        issuer = "https://a.example/"
        [[auth.issuers]]
        issuer = "https://b.example/"
        [[auth.issuers]]
        issuer = "https://c.example/"
        audience = ["https://api.example.com/mcp"]
        "#,
    ));

    let warnings = dir.load(&[]).unwrap().warnings();

    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(warnings[0].contains(r#""https://a.example/" and "https://b.example/""#));
    assert!(warnings[0].contains("https://shared"));
    let plain = ConfigDir::new(None).load(&[
        ("AUTH0_DOMAIN", "t.example"),
        ("AUTH0_AUDIENCE", "https://api"),
    ]);
    let plain = plain.unwrap().warnings();
    assert_eq!(plain.len(), 1, "{plain:?}");
    assert!(plain[0].contains("APP__AUTH__PUBLIC_URL"), "{plain:?}");
    // In DPoP's default `allowed` mode it says DPoP requests are refused until it is set.
    assert!(plain[0].contains("DPoP requests are refused"), "{plain:?}");
    let elsewhere = ConfigDir::new(None)
        .load(&[
            ("AUTH0_DOMAIN", "t.example"),
            ("AUTH0_AUDIENCE", "https://api"),
            ("APP__AUTH__PUBLIC_URL", "https://api.example.com"),
        ])
        .unwrap()
        .warnings();
    assert!(
        elsewhere[0].contains("not among the accepted audiences"),
        "{elsewhere:?}"
    );
}

/// `config/default.toml` says what the code does when a key is left out: the `auth` library's
/// own defaults, which it owns, and no copy of them.
#[test]
fn default_toml_holds_the_auth_librarys_defaults() {
    let loaded = ConfigDir::new(None).load(&[]).unwrap().auth;

    assert_eq!(loaded, auth::config::AuthConfig::default());
    assert_eq!(loaded.algorithms, auth::config::DEFAULT_ALGORITHMS);
    assert_eq!(loaded.leeway, auth::config::DEFAULT_LEEWAY);
    assert_eq!(loaded.jwks, auth::JwksConfig::default());
}

#[test]
fn dpop_settings_load_from_env_vars_and_bad_ones_name_their_key() {
    let dir = ConfigDir::new(None);
    let settings = dir
        .load(&[
            ("APP__AUTH__DPOP__MODE", "disabled"),
            ("APP__AUTH__DPOP__ALGORITHMS", "ES256,EdDSA"),
            ("APP__AUTH__DPOP__REPLAY", "redis"),
            (
                "APP__AUTH__DPOP__REDIS_URL",
                "rediss://cache.example.com:6380",
            ),
            ("APP__AUTH__MTLS__CERTIFICATE_HEADER", "X-Client-Cert"),
        ])
        .unwrap();
    assert_eq!(settings.auth.dpop.mode, auth::DpopMode::Disabled);
    assert_eq!(
        settings.auth.dpop.algorithms,
        [Algorithm::ES256, Algorithm::EdDSA]
    );
    assert_eq!(
        settings.auth.mtls.certificate_header.as_deref(),
        Some("X-Client-Cert")
    );

    for (vars, key, var) in [
        (
            vec![("APP__AUTH__DPOP__MODE", "sometimes")],
            "auth.dpop.mode",
            "APP__AUTH__DPOP__MODE",
        ),
        (
            vec![("APP__AUTH__DPOP__ALGORITHMS", "HS256")],
            "auth.dpop.algorithms",
            "APP__AUTH__DPOP__ALGORITHMS",
        ),
        (
            vec![("APP__AUTH__DPOP__ALGORITHMS", "none")],
            "auth.dpop.algorithms",
            "APP__AUTH__DPOP__ALGORITHMS",
        ),
        (
            vec![("APP__AUTH__DPOP__REPLAY", "redis")],
            "auth.dpop.redis_url",
            "APP__AUTH__DPOP__REDIS_URL",
        ),
        (
            vec![("APP__AUTH__DPOP__REDIS_URL", "http://cache:6379")],
            "auth.dpop.redis_url",
            "APP__AUTH__DPOP__REDIS_URL",
        ),
    ] {
        let message = error(&dir, &vars);
        assert!(message.contains(key), "{message}");
        assert!(message.contains(var), "{message}");
    }
}

#[test]
fn dpop_required_without_a_public_url_names_both_keys() {
    let message = error(
        &ConfigDir::new(None),
        &[("APP__AUTH__DPOP__MODE", "required")],
    );

    for named in [
        "auth.dpop.mode",
        "APP__AUTH__DPOP__MODE",
        "auth.public_url",
        "APP__AUTH__PUBLIC_URL",
    ] {
        assert!(message.contains(named), "{message}");
    }
    assert!(
        ConfigDir::new(None)
            .load(&[
                ("APP__AUTH__DPOP__MODE", "required"),
                ("APP__AUTH__PUBLIC_URL", "https://api.example.com"),
            ])
            .is_ok()
    );
}

#[test]
fn replay_off_and_plaintext_redis_to_another_host_warn_of_what_they_give_up() {
    let dir = ConfigDir::new(None);
    let base = [
        ("AUTH0_DOMAIN", "t.example"),
        ("AUTH0_AUDIENCE", "https://api"),
        ("APP__AUTH__PUBLIC_URL", "https://api"),
    ];
    let warnings = |vars: &[(&str, &str)]| {
        dir.load(&[base.as_slice(), vars].concat())
            .unwrap()
            .warnings()
    };

    let off = warnings(&[("APP__AUTH__DPOP__REPLAY", "off")]);
    assert_eq!(off.len(), 1, "{off:?}");
    assert!(off[0].contains("APP__AUTH__DPOP__REPLAY"), "{off:?}");
    assert!(
        off[0].contains("a captured proof can be sent again"),
        "{off:?}"
    );
    assert!(off[0].contains("330 s"), "{off:?}");
    let remote = |url: &'static str| {
        warnings(&[
            ("APP__AUTH__DPOP__REPLAY", "redis"),
            ("APP__AUTH__DPOP__REDIS_URL", url),
        ])
    };
    let plaintext = remote("redis://:secret@cache.internal:6379/0");
    assert_eq!(plaintext.len(), 1, "{plaintext:?}");
    assert!(
        plaintext[0].contains("plaintext redis:// to cache.internal"),
        "{plaintext:?}"
    );
    assert!(
        plaintext[0].contains("APP__AUTH__DPOP__REDIS_URL"),
        "{plaintext:?}"
    );
    assert!(!plaintext[0].contains("secret"), "{plaintext:?}");
    // TLS, or a loopback host, give nothing up; nor does DPoP turned off.
    for quiet in [
        remote("rediss://cache.internal:6380/0"),
        remote("redis://127.0.0.1:6379/0"),
        remote("redis://localhost:6379/0"),
        remote("redis://[::1]:6379/0"),
        warnings(&[
            ("APP__AUTH__DPOP__REPLAY", "off"),
            ("APP__AUTH__DPOP__MODE", "disabled"),
        ]),
        warnings(&[]),
    ] {
        assert!(quiet.is_empty(), "{quiet:?}");
    }
}
