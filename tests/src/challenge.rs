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
    /// Parses a `WWW-Authenticate` value of one or more challenges (`Bearer realm="api",
    /// DPoP algs="ES256"`); `None` when it is not well-formed.
    pub fn parse_all(value: &str) -> Option<Vec<Self>> {
        let mut challenges = Vec::new();
        let mut rest = value.trim();
        while !rest.is_empty() {
            // A challenge runs until a comma followed by `scheme SP name=`: the next one.
            let end = next_challenge(rest).unwrap_or(rest.len());
            challenges.push(Self::parse(&rest[..end])?);
            rest = rest[end..]
                .trim_start()
                .strip_prefix(',')
                .unwrap_or(&rest[end..])
                .trim_start();
        }
        (!challenges.is_empty()).then_some(challenges)
    }

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

/// Where the next challenge of `value` starts: at a comma outside quotes that is followed by
/// a token, a space, then a parameter (`, DPoP algs=`).
fn next_challenge(value: &str) -> Option<usize> {
    let bytes = value.as_bytes();
    let mut quoted = false;
    for (i, &b) in bytes.iter().enumerate() {
        match b {
            b'"' => quoted = !quoted,
            b',' if !quoted => {
                let after = value[i + 1..].trim_start();
                let word_end = after.find(|c: char| !c.is_ascii_alphanumeric() && c != '-')?;
                if word_end > 0
                    && after[word_end..].starts_with(' ')
                    && !after[..word_end].contains('=')
                {
                    return Some(i);
                }
            }
            _ => {}
        }
    }
    None
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
    fn several_challenges_are_split_where_a_scheme_starts() {
        let all = Challenge::parse_all(
            r#"Bearer realm="api", error="invalid_token", error_description="a, b", DPoP algs="ES256 RS256", scope="x""#,
        )
        .unwrap();

        assert_eq!(all.len(), 2);
        assert_eq!(all[0].scheme, "Bearer");
        assert_eq!(all[0].param("error_description"), Some("a, b"));
        assert_eq!(all[1].scheme, "DPoP");
        assert_eq!(all[1].param("algs"), Some("ES256 RS256"));
        assert_eq!(all[1].param("scope"), Some("x"));
    }

    #[test]
    fn space_separated_parameters_are_not_well_formed() {
        assert_eq!(
            Challenge::parse(r#"Bearer realm="api" error="invalid_token""#),
            None
        );
    }
}
