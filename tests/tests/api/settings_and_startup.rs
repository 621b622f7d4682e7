//! Bad configuration stops startup with a message naming the key and the env var. `main` prints
//! exactly this error (`{:?}`, with its cause chain) and exits non-zero.

use std::collections::HashMap;

use settings::Settings;
use tests::config_dir;

fn startup_error(vars: &[(&str, &str)]) -> String {
    let env: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    format!(
        "{:?}",
        Settings::load_with(&config_dir(), &env).expect_err("startup must fail")
    )
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

    let error = Settings::load_with(&dir, &HashMap::new()).expect_err("startup must fail");
    std::fs::remove_dir_all(&dir).unwrap();

    let message = format!("{error:?}");
    assert!(message.contains("auth.audiance"), "{message}");
}
