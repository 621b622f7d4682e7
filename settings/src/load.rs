//! Reads the layers (files, quickstart aliases, `APP__` env vars) into [`Settings`].

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use config::{Config, ConfigError, File, FileFormat};

use crate::error::{SettingsError, value_error};
use crate::model::{Environment, Settings};

/// The variable that selects the environment file.
pub const ENVIRONMENT_VAR: &str = "APP_ENVIRONMENT";
/// The variable that overrides where the TOML files are read from.
pub const CONFIG_DIR_VAR: &str = "APP_CONFIG_DIR";

/// Quickstart-style aliases: (alias, key). The `APP__` form of the key wins over its alias.
const ALIASES: [(&str, &str); 3] = [
    ("AUTH0_DOMAIN", "auth.domain"),
    ("AUTH0_AUDIENCE", "auth.audience"),
    ("PORT", "server.port"),
];

/// Keys whose env var value is a comma-separated list.
const LIST_KEYS: [&str; 4] = [
    "server.cors_allowed_origins",
    "auth.audience",
    "auth.algorithms",
    "auth.scope_claims",
];

/// The `APP__` env var that sets a dotted key.
fn app_var(key: &str) -> String {
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

impl Settings {
    /// Loads the settings from `APP_CONFIG_DIR` (or this workspace's `config/`) and the process
    /// environment.
    ///
    /// # Errors
    /// See [`Settings::load_with`].
    pub fn load() -> Result<Self, SettingsError> {
        let env: HashMap<String, String> = std::env::vars().collect();
        let dir = env
            .get(CONFIG_DIR_VAR)
            .map_or_else(default_config_dir, PathBuf::from);
        Self::load_with(&dir, &env)
    }

    /// Loads the settings from the files in `dir` and the given variables, in place of the
    /// process environment.
    ///
    /// # Errors
    /// Fails when `APP_ENVIRONMENT` is unknown, a file is unreadable or malformed, a key is
    /// unknown, or a value has the wrong type, is out of range or makes no sense (see
    /// [`Settings::validate`]).
    pub fn load_with(dir: &Path, env: &HashMap<String, String>) -> Result<Self, SettingsError> {
        let environment: Environment = match env.get(ENVIRONMENT_VAR) {
            Some(value) => value.parse()?,
            None => Environment::default(),
        };
        let mut builder = Config::builder()
            .add_source(File::from(dir.join("default.toml")).format(FileFormat::Toml))
            .add_source(
                File::from(dir.join(format!("{environment}.toml")))
                    .format(FileFormat::Toml)
                    .required(false),
            )
            .add_source(
                File::from(dir.join("local.toml"))
                    .format(FileFormat::Toml)
                    .required(false),
            );
        for (alias, key) in ALIASES {
            if let (Some(value), false) = (env.get(alias), env.contains_key(&app_var(key))) {
                builder = builder
                    .set_override(key, value.trim())
                    .map_err(value_error)?;
            }
        }
        let (app_vars, empty_lists) = app_env_source(env)?;
        for key in empty_lists {
            builder = builder
                .set_override(key, Vec::<String>::new())
                .map_err(value_error)?;
        }
        let config = builder
            .add_source(app_vars)
            .build()
            .map_err(|source| match source {
                ConfigError::FileParse { .. } | ConfigError::Foreign(_) => SettingsError::Files {
                    dir: dir.to_owned(),
                    source: Box::new(source),
                },
                other => value_error(other),
            })?;
        let mut settings: Settings = config.try_deserialize().map_err(value_error)?;
        settings.environment = environment;
        settings.validate()?;
        Ok(settings)
    }
}

/// The `APP__` variables as a `config` source, and the list keys whose variable is empty. List
/// values are split on commas and trimmed; an empty item is an error, and an empty value is an
/// empty list (which a `config` env source cannot express, so it is returned apart).
fn app_env_source(
    env: &HashMap<String, String>,
) -> Result<(config::Environment, Vec<&'static str>), SettingsError> {
    let mut vars = config::Map::new();
    let mut empty_lists = Vec::new();
    for (name, value) in env.iter().filter(|(name, _)| name.starts_with("APP__")) {
        let value = match LIST_KEYS.into_iter().find(|key| app_var(key) == *name) {
            Some(key) if value.trim().is_empty() => {
                empty_lists.push(key);
                continue;
            }
            Some(key) => {
                let items: Vec<&str> = value.split(',').map(str::trim).collect();
                if items.iter().any(|item| item.is_empty()) {
                    return Err(SettingsError::invalid(
                        key,
                        format!("{value:?} has an empty item; separate the items with commas"),
                    ));
                }
                items.join(",")
            }
            None => value.clone(),
        };
        vars.insert(name.clone(), value);
    }
    let mut source = config::Environment::with_prefix("APP")
        .prefix_separator("__")
        .separator("__")
        .list_separator(",")
        .try_parsing(true)
        .source(Some(vars));
    for key in LIST_KEYS {
        source = source.with_list_parse_key(key);
    }
    Ok((source, empty_lists))
}

/// This workspace's `config/` directory, fixed at build time so that neither `cargo run` nor the
/// tests depend on the current directory.
fn default_config_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../config")
}
