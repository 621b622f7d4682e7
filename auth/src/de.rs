//! Deserializers for configuration formats where a list may be written as one string, an
//! empty string means unset (as in a TOML default, or an environment variable), and durations
//! are whole seconds (`*_secs`) or milliseconds (`*_ms`). Public for an application's
//! own settings beside [`crate::config::AuthConfig`], so that they read alike.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer};

/// An optional string: empty means unset.
///
/// # Errors
/// When the value is not a string.
pub fn unset_if_empty<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<String>, D::Error> {
    let value = Option::<String>::deserialize(deserializer)?;
    Ok(value.filter(|value| !value.is_empty()))
}

/// A list given as one string or as a list of strings, each parsed into `T`. An empty string is
/// an empty list.
///
/// # Errors
/// When the value is neither, or an item does not parse (the message is the item's error).
pub fn list<'de, D, T>(deserializer: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: FromStr,
    T::Err: fmt::Display,
{
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(String),
        Many(Vec<String>),
    }
    let items = match OneOrMany::deserialize(deserializer)? {
        OneOrMany::One(value) if value.is_empty() => Vec::new(),
        OneOrMany::One(value) => vec![value],
        OneOrMany::Many(values) => values,
    };
    items
        .iter()
        .map(|item| item.parse().map_err(serde::de::Error::custom))
        .collect()
}

/// A duration written in whole seconds (`*_secs`).
///
/// # Errors
/// When the value is not a non-negative integer.
pub fn secs<'de, D: Deserializer<'de>>(deserializer: D) -> Result<std::time::Duration, D::Error> {
    u64::deserialize(deserializer).map(std::time::Duration::from_secs)
}

/// A duration written in whole milliseconds (`*_ms`).
///
/// # Errors
/// When the value is not a non-negative integer.
pub fn millis<'de, D: Deserializer<'de>>(deserializer: D) -> Result<std::time::Duration, D::Error> {
    u64::deserialize(deserializer).map(std::time::Duration::from_millis)
}
