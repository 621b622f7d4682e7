//! What an [`AuthError`] answers, framework aside: its status, its RFC 6750 §3
//! `WWW-Authenticate` challenge and its error code. `actix/` turns that into a response.

use crate::error::AuthError;

/// The realm challenges name unless [`crate::AuthenticatorBuilder::realm`] sets another.
pub const DEFAULT_REALM: &str = "api";

/// What a refusal's challenge names beside its error: the realm, the protected resource's
/// RFC 9728 metadata URL, and the scopes the route requires.
#[derive(Debug, Clone, Copy)]
pub struct ChallengeParams<'a> {
    realm: &'a str,
    resource_metadata: Option<&'a str>,
    route_scopes: Option<&'a str>,
}

impl Default for ChallengeParams<'_> {
    fn default() -> Self {
        Self::new(DEFAULT_REALM)
    }
}

impl<'a> ChallengeParams<'a> {
    /// Challenges in `realm`, with nothing else named.
    pub fn new(realm: &'a str) -> Self {
        Self {
            realm,
            resource_metadata: None,
            route_scopes: None,
        }
    }

    /// Names the metadata URL as `resource_metadata="..."` (RFC 9728 §5.1) on every challenge.
    #[must_use]
    pub fn resource_metadata(mut self, url: Option<&'a str>) -> Self {
        self.resource_metadata = url;
        self
    }

    /// Names the scopes the route requires, space-separated, as `scope="..."` on a 401, so
    /// that a client knows what to ask for (as MCP asks).
    #[must_use]
    pub fn route_scopes(mut self, scopes: Option<&'a str>) -> Self {
        self.route_scopes = scopes.filter(|scopes| !scopes.is_empty());
        self
    }
}

impl AuthError {
    /// The RFC 6750 error code, if the answer carries one.
    pub fn code(&self) -> Option<&'static str> {
        match self {
            Self::MissingToken | Self::OtherScheme | Self::Forbidden { .. } => None,
            Self::InvalidRequest(_) => Some("invalid_request"),
            Self::InvalidToken(_) => Some("invalid_token"),
            Self::InsufficientScope { .. } => Some("insufficient_scope"),
            Self::InsufficientUserAuthentication { .. } => Some("insufficient_user_authentication"),
            Self::KeysUnavailable { .. } => Some("temporarily_unavailable"),
        }
    }

    /// The `WWW-Authenticate` value in the default realm, for the answers that carry a
    /// challenge.
    pub fn challenge(&self) -> Option<String> {
        self.challenge_with(&ChallengeParams::default())
    }

    /// The `WWW-Authenticate` value, naming what `params` hold.
    pub fn challenge_with(&self, params: &ChallengeParams<'_>) -> Option<String> {
        let mut challenge = Challenge::new(params.realm);
        let scope_hint = params.route_scopes;
        match self {
            Self::MissingToken | Self::OtherScheme => {
                if let Some(scopes) = scope_hint {
                    challenge.param("scope", scopes);
                }
            }
            Self::InvalidRequest(_) => challenge.error(self.code()?, &self.to_string()),
            Self::InvalidToken(_) => {
                challenge.error(self.code()?, &self.to_string());
                if let Some(scopes) = scope_hint {
                    challenge.param("scope", scopes);
                }
            }
            Self::InsufficientScope { scope, .. } => {
                challenge.error(self.code()?, &self.to_string());
                challenge.param("scope", scope);
            }
            Self::InsufficientUserAuthentication {
                acr_values,
                max_age,
            } => {
                challenge.error(self.code()?, &self.to_string());
                if let Some(acr_values) = acr_values {
                    challenge.param("acr_values", acr_values);
                }
                if let Some(max_age) = max_age {
                    challenge.param("max_age", &max_age.to_string());
                }
            }
            Self::Forbidden { .. } | Self::KeysUnavailable { .. } => return None,
        }
        if let Some(url) = params.resource_metadata {
            challenge.param("resource_metadata", url);
        }
        Some(challenge.0)
    }

    /// The HTTP status of the answer.
    pub(crate) fn http_status(&self) -> u16 {
        match self {
            Self::MissingToken
            | Self::OtherScheme
            | Self::InvalidToken(_)
            | Self::InsufficientUserAuthentication { .. } => 401,
            Self::InvalidRequest(_) => 400,
            Self::InsufficientScope { .. } | Self::Forbidden { .. } => 403,
            Self::KeysUnavailable { .. } => 503,
        }
    }
}

/// A `Bearer` challenge: `Bearer realm="api", error="...", ...`, parameters separated by commas.
struct Challenge(String);

impl Challenge {
    fn new(realm: &str) -> Self {
        let mut challenge = Self("Bearer".to_owned());
        challenge.push(" ", "realm", realm);
        challenge
    }

    fn error(&mut self, code: &str, description: &str) {
        self.param("error", code);
        self.param("error_description", description);
    }

    /// Appends `, name="value"`, dropping characters that RFC 6750 does not allow in a
    /// quoted value (`"`, `\` and anything outside printable ASCII).
    fn param(&mut self, name: &str, value: &str) {
        self.push(", ", name, value);
    }

    /// Appends `{separator}name="value"`, the value filtered as [`Challenge::param`] says.
    fn push(&mut self, separator: &str, name: &str, value: &str) {
        let value: String = value
            .chars()
            .filter(|c| matches!(c, ' '..='~') && !matches!(c, '"' | '\\'))
            .collect();
        self.0.push_str(separator);
        self.0.push_str(name);
        self.0.push_str("=\"");
        self.0.push_str(&value);
        self.0.push('"');
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use actix_web::ResponseError;
    use actix_web::body::MessageBody;
    use actix_web::http::header::{RETRY_AFTER, WWW_AUTHENTICATE};
    use serde_json::json;

    use super::*;
    use crate::error::TokenError;

    fn answer(error: &AuthError) -> (u16, Option<String>, Option<String>, serde_json::Value) {
        let response = error.error_response();
        let header = |name| {
            response
                .headers()
                .get(name)
                .map(|v| v.to_str().unwrap().to_owned())
        };
        let (challenge, retry) = (header(WWW_AUTHENTICATE), header(RETRY_AFTER));
        assert_eq!(
            response.headers().get("content-type").unwrap(),
            "application/json"
        );
        let body = response.into_body().try_into_bytes().unwrap();
        (
            error.status_code().as_u16(),
            challenge,
            retry,
            serde_json::from_slice(&body).unwrap(),
        )
    }

    #[test]
    fn missing_token_gets_the_bare_challenge() {
        let (status, challenge, _, body) = answer(&AuthError::MissingToken);

        assert_eq!(status, 401);
        assert_eq!(challenge.as_deref(), Some(r#"Bearer realm="api""#));
        assert_eq!(body, json!({ "message": "missing bearer token" }));
    }

    #[test]
    fn other_scheme_gets_the_bare_challenge() {
        let (status, challenge, _, body) = answer(&AuthError::OtherScheme);

        assert_eq!(status, 401);
        assert_eq!(challenge.as_deref(), Some(r#"Bearer realm="api""#));
        assert!(body.get("error").is_none());
    }

    #[test]
    fn invalid_request_is_400_with_comma_separated_parameters() {
        let (status, challenge, _, body) = answer(&AuthError::InvalidRequest(
            crate::error::InvalidRequest::MalformedToken,
        ));

        assert_eq!(status, 400);
        assert_eq!(
            challenge.as_deref(),
            Some(
                r#"Bearer realm="api", error="invalid_request", error_description="malformed bearer token""#
            )
        );
        assert_eq!(
            body,
            json!({ "message": "malformed bearer token", "error": "invalid_request" })
        );
    }

    #[test]
    fn invalid_token_is_401_naming_the_failed_check() {
        let (status, challenge, _, body) = answer(&AuthError::InvalidToken(TokenError::Expired));

        assert_eq!(status, 401);
        assert_eq!(
            challenge.as_deref(),
            Some(r#"Bearer realm="api", error="invalid_token", error_description="token expired""#)
        );
        assert_eq!(body["error"], "invalid_token");
        assert_eq!(body["message"], "token expired");
    }

    #[test]
    fn insufficient_scope_is_403_naming_the_scope() {
        let (status, challenge, _, body) = answer(&AuthError::InsufficientScope {
            scope: "read:messages".into(),
            one_of: false,
        });

        assert_eq!(status, 403);
        assert_eq!(
            challenge.as_deref(),
            Some(
                r#"Bearer realm="api", error="insufficient_scope", error_description="insufficient scope, requires read:messages", scope="read:messages""#
            )
        );
        assert_eq!(body["error"], "insufficient_scope");
    }

    #[test]
    fn one_of_several_scopes_says_so_and_lists_them() {
        let (_, challenge, _, body) = answer(&AuthError::InsufficientScope {
            scope: "read:messages admin".into(),
            one_of: true,
        });

        assert_eq!(
            challenge.as_deref(),
            Some(
                r#"Bearer realm="api", error="insufficient_scope", error_description="insufficient scope, requires one of read:messages admin", scope="read:messages admin""#
            )
        );
        assert_eq!(
            body["message"],
            "insufficient scope, requires one of read:messages admin"
        );
    }

    #[test]
    fn insufficient_user_authentication_is_401_naming_what_would_do() {
        let (status, challenge, _, body) = answer(&AuthError::InsufficientUserAuthentication {
            acr_values: Some("urn:mfa".into()),
            max_age: Some(300),
        });

        assert_eq!(status, 401);
        assert_eq!(
            challenge.as_deref(),
            Some(
                r#"Bearer realm="api", error="insufficient_user_authentication", error_description="a stronger or more recent authentication is required", acr_values="urn:mfa", max_age="300""#
            )
        );
        assert_eq!(body["error"], "insufficient_user_authentication");
    }

    #[test]
    fn a_claim_rule_refusal_is_403_without_a_challenge_or_an_error_code() {
        let (status, challenge, _, body) = answer(&AuthError::Forbidden {
            requirement: "claim 'org_id' has the required value".into(),
        });

        assert_eq!(status, 403);
        assert_eq!(challenge, None);
        assert_eq!(
            body,
            json!({ "message": "the token does not meet this route's requirement: claim 'org_id' has the required value" })
        );
    }

    #[test]
    fn resource_metadata_joins_every_challenge() {
        let url = "https://api.example.com/.well-known/oauth-protected-resource";
        let params = ChallengeParams::default().resource_metadata(Some(url));
        let with = |error: &AuthError| error.challenge_with(&params);

        assert_eq!(
            with(&AuthError::MissingToken).as_deref(),
            Some(
                r#"Bearer realm="api", resource_metadata="https://api.example.com/.well-known/oauth-protected-resource""#
            )
        );
        assert!(
            with(&AuthError::InvalidToken(TokenError::Expired))
                .unwrap()
                .ends_with(&format!(r#", resource_metadata="{url}""#))
        );
        assert_eq!(
            with(&AuthError::KeysUnavailable {
                retry_after: Duration::from_secs(1)
            }),
            None
        );
    }

    #[test]
    fn a_401_on_a_scoped_route_names_the_scopes_to_ask_for() {
        let url = Some("https://api.example.com/.well-known/oauth-protected-resource");
        let scoped = ChallengeParams::default().route_scopes(Some("read:messages"));

        assert_eq!(
            AuthError::MissingToken
                .challenge_with(&scoped.resource_metadata(url))
                .as_deref(),
            Some(
                r#"Bearer realm="api", scope="read:messages", resource_metadata="https://api.example.com/.well-known/oauth-protected-resource""#
            )
        );
        assert_eq!(
            AuthError::InvalidToken(TokenError::Expired)
                .challenge_with(&scoped)
                .as_deref(),
            Some(
                r#"Bearer realm="api", error="invalid_token", error_description="token expired", scope="read:messages""#
            )
        );
        assert_eq!(
            AuthError::MissingToken
                .challenge_with(&ChallengeParams::default().route_scopes(Some("")))
                .as_deref(),
            Some(r#"Bearer realm="api""#)
        );
        let bad_request = AuthError::InvalidRequest(crate::error::InvalidRequest::MalformedToken);
        assert!(
            !bad_request
                .challenge_with(&scoped)
                .unwrap()
                .contains("scope=")
        );
    }

    #[test]
    fn the_realm_is_whatever_the_authenticator_names() {
        let params = ChallengeParams::new("orders");

        assert_eq!(
            AuthError::InvalidToken(TokenError::Expired)
                .challenge_with(&params)
                .as_deref(),
            Some(
                r#"Bearer realm="orders", error="invalid_token", error_description="token expired""#
            )
        );
    }

    #[test]
    fn keys_unavailable_is_503_with_retry_after_and_no_challenge() {
        let (status, challenge, retry, body) = answer(&AuthError::KeysUnavailable {
            retry_after: Duration::from_millis(200),
        });

        assert_eq!(status, 503);
        assert_eq!(challenge, None);
        assert_eq!(retry.as_deref(), Some("1"));
        assert_eq!(body["error"], "temporarily_unavailable");
    }

    #[test]
    fn challenge_values_drop_quotes_backslashes_and_control_characters() {
        let (_, challenge, _, _) = answer(&AuthError::InsufficientScope {
            scope: "a\"b\\c\u{7}d\u{e9}".into(),
            one_of: false,
        });

        assert!(challenge.unwrap().ends_with(r#"scope="abcd""#));
    }

    #[test]
    fn every_token_error_description_keeps_to_the_rfc_charset() {
        for error in [
            TokenError::Malformed,
            TokenError::UnsupportedAlgorithm,
            TokenError::UnsupportedType,
            TokenError::UnsupportedCritical,
            TokenError::UnknownKid,
            TokenError::NoFittingKey,
            TokenError::BadSignature,
            TokenError::Issuer,
            TokenError::Audience,
            TokenError::MissingExpiry,
            TokenError::InvalidDate(crate::error::DateClaim::Nbf),
            TokenError::InvalidScopes,
            TokenError::Expired,
            TokenError::NotYetValid,
            TokenError::SenderConstrained,
        ] {
            let description = error.to_string();
            assert!(
                description
                    .chars()
                    .all(|c| matches!(c, ' '..='~') && c != '"' && c != '\\'),
                "{description}"
            );
        }
    }
}
