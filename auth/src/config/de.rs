//! Deserializers for configuration formats where a list may be written as one string, and an
//! empty string means unset (as in a TOML default, or an environment variable).

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
