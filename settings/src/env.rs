//! The names of the environment variables: the `APP__` form of each key, the quickstart aliases,
//! and which keys take comma-separated lists. Loading and error messages both read them here.

/// The variable that selects the environment file.
pub const ENVIRONMENT_VAR: &str = "APP_ENVIRONMENT";
/// The variable that overrides where the TOML files are read from.
pub const CONFIG_DIR_VAR: &str = "APP_CONFIG_DIR";

/// Quickstart-style aliases: (alias, key). The `APP__` form of the key wins over its alias.
pub(crate) const ALIASES: [(&str, &str); 3] = [
    ("AUTH0_DOMAIN", "auth.domain"),
    ("AUTH0_AUDIENCE", "auth.audience"),
    ("PORT", "server.port"),
];

/// Keys whose env var value is a comma-separated list.
pub(crate) const LIST_KEYS: [&str; 5] = [
    "server.cors_allowed_origins",
    "auth.audience",
    "auth.algorithms",
    "auth.scope_claims",
    "auth.dpop.algorithms",
];

/// The `APP__` env var that sets a dotted key.
pub(crate) fn app_var(key: &str) -> String {
    format!("APP__{}", key.to_ascii_uppercase().replace('.', "__"))
}

/// The env var (and its quickstart alias, if any) that sets a dotted key.
pub fn env_vars(key: &str) -> String {
    if key.starts_with("auth.issuers") {
        return "none: `[[auth.issuers]]` is set in a TOML file".to_owned();
    }
    let main = app_var(key);
    match ALIASES.iter().find(|(_, k)| *k == key) {
        Some((alias, _)) => format!("{main} or {alias}"),
        None => main,
    }
}
