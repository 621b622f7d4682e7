//! Reads the layers (files, quickstart aliases, `APP__` env vars) into [`Settings`].

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use config::{Config, ConfigError, File, FileFormat};

use crate::env::{ALIASES, CONFIG_DIR_VAR, ENVIRONMENT_VAR, LIST_KEYS, app_var};
use crate::error::{SettingsError, value_error};
use crate::model::{Environment, Settings};

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
        Self::load_with(&dir, env)
    }

    /// Loads the settings from the files in `dir` and the given variables (name, value), in
    /// place of the process environment.
    ///
    /// # Errors
    /// Fails when `APP_ENVIRONMENT` is unknown, a file is unreadable or malformed, a key is
    /// unknown, or a value has the wrong type, is out of range or makes no sense (see
    /// [`Settings::validate`]).
    pub fn load_with<K, V>(
        dir: &Path,
        env: impl IntoIterator<Item = (K, V)>,
    ) -> Result<Self, SettingsError>
    where
        K: Into<String>,
        V: Into<String>,
    {
        let env: HashMap<String, String> = env
            .into_iter()
            .map(|(name, value)| (name.into(), value.into()))
            .collect();
        let env = &env;
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
