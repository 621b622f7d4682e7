//! What an [`AuthError`] answers, framework aside: its status, its RFC 6750 §3
//! `WWW-Authenticate` challenge and its error code. `actix/` turns that into a response.

use crate::error::AuthError;

/// A refused request's whole answer, as every framework adapter copies it out. Built by
/// [`AuthError::refusal`] only, so that a field it gains later breaks no one.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Refusal {
    /// The reason, as the metrics and the log name it.
    pub error: AuthError,
    /// The HTTP status.
    pub status: u16,
    /// The `WWW-Authenticate` value, when the answer has one.
    pub www_authenticate: Option<String>,
    /// `Retry-After`, in seconds, for a 503.
    pub retry_after: Option<u64>,
    /// `DPoP-Nonce`: the server nonce a `use_dpop_nonce` refusal asks the client to use.
    pub dpop_nonce: Option<String>,
    /// The JSON body: `{"message": ..., "error": ...}`.
    pub body: String,
}

impl Refusal {
    /// The answer's headers, in order: `Content-Type`, then `WWW-Authenticate`, `Retry-After`
    /// and `DPoP-Nonce` when it has them. Every adapter sets exactly these, so that the frameworks
    /// answer alike.
    pub fn headers(&self) -> impl Iterator<Item = (&'static str, String)> + '_ {
        [
            Some(("content-type", "application/json".to_owned())),
            self.www_authenticate
                .clone()
                .map(|challenge| ("www-authenticate", challenge)),
            self.retry_after
                .map(|seconds| ("retry-after", seconds.to_string())),
            self.dpop_nonce.clone().map(|nonce| ("dpop-nonce", nonce)),
        ]
        .into_iter()
        .flatten()
    }
}

/// The realm challenges name unless [`crate::AuthenticatorBuilder::realm`] sets another.
pub const DEFAULT_REALM: &str = "api";

/// An HTTP authentication scheme for access tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Scheme {
    /// `Bearer` (RFC 6750).
    Bearer,
    /// `DPoP` (RFC 9449): a DPoP-bound token with a proof.
    Dpop,
}

/// What a refusal's challenge names beside its error: the realm, the protected resource's
/// RFC 9728 metadata URL, the scopes the route requires, and which schemes are offered.
#[derive(Debug, Clone, Copy)]
pub struct ChallengeParams<'a> {
    realm: &'a str,
    resource_metadata: Option<&'a str>,
    route_scopes: Option<&'a str>,
    bearer: bool,
    dpop_algs: Option<&'a str>,
    answered: Scheme,
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
            bearer: true,
            dpop_algs: None,
            answered: Scheme::Bearer,
        }
    }

    /// Offers the `DPoP` scheme too, with the proof algorithms accepted, space-separated
    /// (RFC 9449 §7.1): a `DPoP algs="..."` challenge follows the `Bearer` one.
    #[must_use]
    pub fn dpop(mut self, algs: Option<&'a str>) -> Self {
        self.dpop_algs = algs;
        self
    }

    /// Whether `Bearer` is offered (default true); false when only DPoP-bound tokens are
    /// accepted. With neither offered, `Bearer` is.
    #[must_use]
    pub fn bearer(mut self, offered: bool) -> Self {
        self.bearer = offered;
        self
    }

    /// The scheme whose challenge carries the error: the one the request used (RFC 9449 §7.1).
    /// A scheme not offered falls back to the one that is.
    #[must_use]
    pub fn answered(mut self, scheme: Scheme) -> Self {
        self.answered = scheme;
        self
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
            Self::MissingToken | Self::OtherScheme(_) | Self::Forbidden { .. } => None,
            Self::InvalidRequest(_) => Some("invalid_request"),
            Self::InvalidToken(_) => Some("invalid_token"),
            Self::InsufficientScope { .. } => Some("insufficient_scope"),
            Self::InsufficientUserAuthentication { .. } => Some("insufficient_user_authentication"),
            Self::InvalidDpopProof(_) => Some("invalid_dpop_proof"),
            Self::UseDpopNonce { .. } => Some("use_dpop_nonce"),
            Self::KeysUnavailable { .. } | Self::ReplayUnavailable { .. } => {
                Some("temporarily_unavailable")
            }
        }
    }

    /// The `WWW-Authenticate` value in the default realm, for the answers that carry a
    /// challenge.
    pub fn challenge(&self) -> Option<String> {
        self.challenge_with(&ChallengeParams::default())
    }

    /// The `WWW-Authenticate` value, naming what `params` hold: one challenge per scheme
    /// offered, `Bearer` first, the error and its parameters on the scheme the request used.
    pub fn challenge_with(&self, params: &ChallengeParams<'_>) -> Option<String> {
        let scope_hint = params.route_scopes;
        let mut details: Vec<(&str, String)> = Vec::new();
        let error = |details: &mut Vec<(&str, String)>| {
            if let Some(code) = self.code() {
                details.push(("error", code.to_owned()));
                details.push(("error_description", self.to_string()));
            }
        };
        match self {
            Self::MissingToken | Self::OtherScheme(_) => {
                if let Some(scopes) = scope_hint {
                    details.push(("scope", scopes.to_owned()));
                }
            }
            Self::InvalidRequest(_) | Self::InvalidDpopProof(_) | Self::UseDpopNonce { .. } => {
                error(&mut details);
            }
            Self::InvalidToken(_) => {
                error(&mut details);
                if let Some(scopes) = scope_hint {
                    details.push(("scope", scopes.to_owned()));
                }
            }
            Self::InsufficientScope { scope, .. } => {
                error(&mut details);
                details.push(("scope", scope.clone()));
            }
            Self::InsufficientUserAuthentication {
                acr_values,
                max_age,
            } => {
                error(&mut details);
                if let Some(acr_values) = acr_values {
                    details.push(("acr_values", acr_values.clone()));
                }
                if let Some(max_age) = max_age {
                    details.push(("max_age", max_age.to_string()));
                }
            }
            Self::Forbidden { .. }
            | Self::KeysUnavailable { .. }
            | Self::ReplayUnavailable { .. } => return None,
        }
        let dpop_algs = params.dpop_algs;
        let bearer = params.bearer || dpop_algs.is_none();
        let on_dpop = dpop_algs.is_some() && (params.answered == Scheme::Dpop || !bearer);
        let metadata = params.resource_metadata;
        let mut challenges = Vec::with_capacity(2);
        if bearer {
            let mut challenge = Challenge::new("Bearer");
            challenge.param("realm", params.realm);
            if !on_dpop {
                for (name, value) in &details {
                    challenge.param(name, value);
                }
            }
            if let Some(url) = metadata {
                challenge.param("resource_metadata", url);
            }
            challenges.push(challenge.0);
        }
        if let Some(algs) = dpop_algs {
            let mut challenge = Challenge::new("DPoP");
            if !bearer {
                challenge.param("realm", params.realm);
            }
            challenge.param("algs", algs);
            if on_dpop {
                for (name, value) in &details {
                    challenge.param(name, value);
                }
            }
            if let Some(url) = metadata {
                challenge.param("resource_metadata", url);
            }
            challenges.push(challenge.0);
        }
        Some(challenges.join(", "))
    }

    /// The whole answer: status, challenge (see [`AuthError::challenge_with`]), `Retry-After`
    /// for a 503, and the JSON body `{"message": ..., "error": ...}`. The one place a refusal's
    /// answer is built; every framework adapter copies it out as it is.
    pub fn refusal(&self, params: &ChallengeParams<'_>) -> Refusal {
        let retry_after = match self {
            Self::KeysUnavailable { retry_after } | Self::ReplayUnavailable { retry_after } => {
                Some(retry_after.as_secs().max(1))
            }
            _ => None,
        };
        let body = match self.code() {
            Some(code) => serde_json::json!({ "message": self.to_string(), "error": code }),
            None => serde_json::json!({ "message": self.to_string() }),
        };
        let dpop_nonce = match self {
            Self::UseDpopNonce { nonce } => Some(nonce.clone()),
            _ => None,
        };
        Refusal {
            status: self.http_status(),
            www_authenticate: self.challenge_with(params),
            retry_after,
            dpop_nonce,
            body: body.to_string(),
            error: self.clone(),
        }
    }

    /// The HTTP status of the answer.
    pub(crate) fn http_status(&self) -> u16 {
        match self {
            Self::MissingToken
            | Self::OtherScheme(_)
            | Self::InvalidToken(_)
            | Self::InsufficientUserAuthentication { .. }
            | Self::UseDpopNonce { .. } => 401,
            Self::InvalidRequest(_) | Self::InvalidDpopProof(_) => 400,
            Self::InsufficientScope { .. } | Self::Forbidden { .. } => 403,
            Self::KeysUnavailable { .. } | Self::ReplayUnavailable { .. } => 503,
        }
    }
}

/// One challenge: `Bearer realm="api", error="...", ...`, parameters separated by commas.
struct Challenge(String, bool);

impl Challenge {
    fn new(scheme: &str) -> Self {
        Self(scheme.to_owned(), false)
    }

    /// Appends `name="value"` (after a space first, then after commas), dropping characters
    /// that RFC 6750 does not allow in a quoted value (`"`, `\` and anything outside printable
    /// ASCII).
    fn param(&mut self, name: &str, value: &str) {
        let separator = if self.1 { ", " } else { " " };
        self.1 = true;
        self.push(separator, name, value);
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
    use crate::error::{Offered, TokenError};

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
        let (status, challenge, _, body) = answer(&AuthError::OtherScheme(Offered::Bearer));

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
            TokenError::DpopBound,
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
