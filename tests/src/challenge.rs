//! A parser for `WWW-Authenticate` challenges (RFC 9110 §11), so tests check the scheme and each
//! parameter rather than one exact string.

use std::collections::BTreeMap;

/// One parsed challenge: `Scheme name="value", name=token, ...`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    /// The auth scheme, as sent.
    pub scheme: String,
    /// The parameters, by lowercase name.
    pub params: BTreeMap<String, String>,
}

impl Challenge {
    /// Parses a single challenge; `None` when it is not well-formed.
    pub fn parse(value: &str) -> Option<Self> {
        let value = value.trim();
        let (scheme, mut rest) = value.split_once(' ').unwrap_or((value, ""));
        let mut params = BTreeMap::new();
        loop {
            rest = rest.trim_start();
            if rest.is_empty() {
                break;
            }
            let (name, after) = rest.split_once('=')?;
            let name = name.trim().to_ascii_lowercase();
            let after = after.trim_start();
            let (param, remainder) = if let Some(quoted) = after.strip_prefix('"') {
                let end = quoted.find('"')?;
                (quoted[..end].to_owned(), &quoted[end + 1..])
            } else {
                let end = after.find(',').unwrap_or(after.len());
                (after[..end].trim().to_owned(), &after[end..])
            };
            if params.insert(name, param).is_some() {
                return None;
            }
            let remainder = remainder.trim_start();
            rest = match remainder.strip_prefix(',') {
                Some(next) => next,
                None if remainder.is_empty() => remainder,
                None => return None,
            };
        }
        Some(Self {
            scheme: scheme.to_owned(),
            params,
        })
    }

    /// A parameter's value.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params.get(name).map(String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_comma_separated_quoted_parameters() {
        let challenge = Challenge::parse(
            r#"Bearer realm="api", error="invalid_token", error_description="a, b""#,
        )
        .unwrap();

        assert_eq!(challenge.scheme, "Bearer");
        assert_eq!(challenge.param("realm"), Some("api"));
        assert_eq!(challenge.param("error"), Some("invalid_token"));
        assert_eq!(challenge.param("error_description"), Some("a, b"));
    }

    #[test]
    fn space_separated_parameters_are_not_well_formed() {
        assert_eq!(
            Challenge::parse(r#"Bearer realm="api" error="invalid_token""#),
            None
        );
    }
}
