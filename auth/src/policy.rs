//! What a route requires of a valid token beyond its validity: scopes (all of a set, or any
//! one of a set), how the user authenticated (RFC 9470 step-up: `acr` and `auth_time`), and
//! claim predicates. Scope rules are checked first, so that a caller who lacks a scope is told
//! so (403 `insufficient_scope`, which a client can fix by asking for the scope); then
//! authentication rules (401 `insufficient_user_authentication`, which a client fixes by
//! authenticating again, as the challenge says); then claim rules (403 with no challenge:
//! another token of the same caller would not help).

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;

use crate::claims::Claims;
use crate::error::{AuthError, TokenError};
use crate::validation::issuer_matches;

/// The requirements of a route. Build one with its constructors and combine them with
/// [`Policy::and`]:
///
/// ```
/// use oauth2_jwt_bearer::Policy;
///
/// let policy = Policy::any_scope(["read:messages", "admin"])
///     .and(Policy::claim_equals("org_id", "org_123"))
///     .and(Policy::require("an email is verified", |claims| {
///         claims.all().get("email_verified") == Some(&serde_json::Value::Bool(true))
///     }));
/// ```
#[derive(Clone, Default)]
pub struct Policy {
    /// Each rule lists the issuers it accepts; a token must meet every rule.
    issuers: Vec<Vec<String>>,
    scopes: Vec<ScopeRule>,
    authentication: Vec<AuthenticationRule>,
    claims: Vec<ClaimRule>,
}

/// An RFC 9470 requirement on the authentication event behind the token.
#[derive(Debug, Clone)]
enum AuthenticationRule {
    /// `acr` must be one of these.
    Acr(Vec<String>),
    /// `auth_time` must be at most this many seconds ago.
    MaxAge(u64),
}

impl AuthenticationRule {
    /// The refusal when `claims` do not meet the rule at time `now`. An `auth_time` later than
    /// `now + leeway` fails too: an authentication in the future is no evidence.
    fn unmet(&self, claims: &Claims, now: f64, leeway: Duration) -> Option<AuthError> {
        let all = claims.all();
        match self {
            Self::Acr(values) => {
                let met = all
                    .get("acr")
                    .and_then(Value::as_str)
                    .is_some_and(|acr| values.iter().any(|v| v == acr));
                (!met).then(|| AuthError::InsufficientUserAuthentication {
                    acr_values: Some(values.join(" ")),
                    max_age: None,
                })
            }
            Self::MaxAge(max_age) => {
                #[allow(clippy::cast_precision_loss)]
                let (limit, leeway) = (*max_age as f64, leeway.as_secs_f64());
                let met = all
                    .get("auth_time")
                    .and_then(Value::as_f64)
                    .is_some_and(|at| now - at <= limit && at <= now + leeway);
                (!met).then_some(AuthError::InsufficientUserAuthentication {
                    acr_values: None,
                    max_age: Some(*max_age),
                })
            }
        }
    }
}

#[derive(Debug, Clone)]
enum ScopeRule {
    All(Vec<String>),
    Any(Vec<String>),
}

#[derive(Clone)]
struct ClaimRule {
    /// What the rule requires, for the refusal's message.
    description: String,
    test: Arc<dyn Fn(&Claims) -> bool + Send + Sync>,
}

impl Policy {
    /// Accepts only tokens from these issuers (compared with the configured issuers, a
    /// trailing slash aside). With several trusted issuers run by different people, this keeps
    /// a route to the tenants it serves. Any other issuer's token is 401 `invalid_token`,
    /// "unexpected 'iss' value", as if the issuer were not trusted at all.
    pub fn issuers<I, S>(issuers: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Self {
            issuers: vec![issuers.into_iter().map(Into::into).collect()],
            ..Self::default()
        }
    }

    /// Requires `scope`.
    pub fn scope(scope: impl Into<String>) -> Self {
        Self::all_scopes([scope])
    }

    /// Requires every one of `scopes`. The refusal's `scope=` lists them all. An empty list
    /// is never met (403): a route whose scope list came out empty fails closed.
    pub fn all_scopes<I, S>(scopes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Self::with_scopes(ScopeRule::All(scopes.into_iter().map(Into::into).collect()))
    }

    /// Requires at least one of `scopes`. The refusal's `scope=` lists the choices. An empty
    /// list is never met.
    pub fn any_scope<I, S>(scopes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Self::with_scopes(ScopeRule::Any(scopes.into_iter().map(Into::into).collect()))
    }

    /// Requires the user to have authenticated with one of `acr_values` (the token's `acr`
    /// claim), as RFC 9470 step-up authentication asks. A failure is 401
    /// `insufficient_user_authentication` with `acr_values="..."` in the challenge.
    pub fn acr_values<I, S>(acr_values: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let values = acr_values.into_iter().map(Into::into).collect();
        Self::with_authentication(AuthenticationRule::Acr(values))
    }

    /// Requires the user to have authenticated at most `max_age_secs` ago (the token's
    /// `auth_time` claim), as RFC 9470 asks. A failure is 401 `insufficient_user_authentication`
    /// with `max_age="..."` in the challenge.
    pub fn max_age(max_age_secs: u64) -> Self {
        Self::with_authentication(AuthenticationRule::MaxAge(max_age_secs))
    }

    /// Requires claim `name` to equal `value` exactly (JSON equality: `"1"` is not `1`).
    pub fn claim_equals(name: impl Into<String>, value: impl Into<Value>) -> Self {
        let (name, value) = (name.into(), value.into());
        let description = format!("claim '{name}' has the required value");
        Self::require(description, move |claims| {
            claims.all().get(&name) == Some(&value)
        })
    }

    /// Requires claim `name` to include `value`: as an item of an array of strings, or as a
    /// word of a space-separated string (such as `groups` or `roles`).
    pub fn claim_includes(name: impl Into<String>, value: impl Into<String>) -> Self {
        let (name, value) = (name.into(), value.into());
        let description = format!("claim '{name}' includes the required value");
        Self::require(description, move |claims| match claims.all().get(&name) {
            Some(Value::Array(items)) => items.iter().any(|item| item.as_str() == Some(&value)),
            Some(Value::String(words)) => words.split(' ').any(|word| word == value),
            _ => false,
        })
    }

    /// Requires `test` to hold for the claims, for anything the other rules cannot say, such as
    /// an `org_id` looked up per request. `description` names the requirement in the refusal,
    /// so it should not reveal what a caller must not learn.
    pub fn require(
        description: impl Into<String>,
        test: impl Fn(&Claims) -> bool + Send + Sync + 'static,
    ) -> Self {
        Self {
            claims: vec![ClaimRule {
                description: description.into(),
                test: Arc::new(test),
            }],
            ..Self::default()
        }
    }

    /// Requires this policy and `other`.
    #[must_use]
    pub fn and(mut self, other: Self) -> Self {
        self.issuers.extend(other.issuers);
        self.scopes.extend(other.scopes);
        self.authentication.extend(other.authentication);
        self.claims.extend(other.claims);
        self
    }

    /// Whether the policy requires nothing beyond a valid token.
    pub fn is_empty(&self) -> bool {
        self.issuers.is_empty()
            && self.scopes.is_empty()
            && self.authentication.is_empty()
            && self.claims.is_empty()
    }

    /// Every scope the policy names, for a protected resource's `scopes_supported`.
    pub fn scopes(&self) -> impl Iterator<Item = &str> {
        self.scopes.iter().flat_map(|rule| match rule {
            ScopeRule::All(scopes) | ScopeRule::Any(scopes) => scopes.iter().map(String::as_str),
        })
    }

    fn with_scopes(rule: ScopeRule) -> Self {
        Self {
            scopes: vec![rule],
            ..Self::default()
        }
    }

    fn with_authentication(rule: AuthenticationRule) -> Self {
        Self {
            authentication: vec![rule],
            ..Self::default()
        }
    }

    /// Checks `claims` at time `now` (a NumericDate), with `leeway` of clock skew:
    /// issuer rules first, then scope rules, then authentication rules, then claim rules, each
    /// in the order they were added.
    ///
    /// # Errors
    /// [`AuthError::InvalidToken`] when an issuer rule fails, else
    /// [`AuthError::InsufficientScope`] for the first scope rule that fails (or
    /// [`AuthError::Forbidden`] for one that names no scope), else
    /// [`AuthError::InsufficientUserAuthentication`] for the first authentication rule, else
    /// [`AuthError::Forbidden`] for the first claim rule that fails.
    pub fn check(&self, claims: &Claims, now: f64, leeway: Duration) -> Result<(), AuthError> {
        let issuer = claims.issuer();
        if !self
            .issuers
            .iter()
            .all(|rule| rule.iter().any(|one| issuer_matches(one, issuer)))
        {
            return Err(TokenError::Issuer.into());
        }
        for rule in &self.scopes {
            let (satisfied, scopes, one_of) = match rule {
                ScopeRule::All(scopes) => {
                    (scopes.iter().all(|s| claims.has_scope(s)), scopes, false)
                }
                ScopeRule::Any(scopes) => {
                    (scopes.iter().any(|s| claims.has_scope(s)), scopes, true)
                }
            };
            if scopes.is_empty() {
                return Err(AuthError::Forbidden {
                    requirement: "a scope rule that names no scope".into(),
                });
            }
            if !satisfied {
                return Err(AuthError::InsufficientScope {
                    scope: scopes.join(" "),
                    one_of: one_of && scopes.len() > 1,
                });
            }
        }
        if let Some(refusal) = self
            .authentication
            .iter()
            .find_map(|rule| rule.unmet(claims, now, leeway))
        {
            return Err(refusal);
        }
        match self.claims.iter().find(|rule| !(rule.test)(claims)) {
            Some(rule) => Err(AuthError::Forbidden {
                requirement: rule.description.clone(),
            }),
            None => Ok(()),
        }
    }
}

impl fmt::Debug for Policy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Policy")
            .field("issuers", &self.issuers)
            .field("scopes", &self.scopes)
            .field("authentication", &self.authentication)
            .field(
                "claims",
                &self
                    .claims
                    .iter()
                    .map(|r| &r.description)
                    .collect::<Vec<_>>(),
            )
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::claims::ScopeClaim;

    const NOW: f64 = 1_000_000.0;
    const LEEWAY: Duration = Duration::from_secs(5);

    fn claims(payload: &Value) -> Claims {
        let Value::Object(map) = payload.clone() else {
            panic!("not an object")
        };
        Claims::from_payload(map, &ScopeClaim::ALL).unwrap()
    }

    #[test]
    fn an_empty_scope_rule_is_never_met() {
        let token = claims(&json!({ "iss": "https://a/", "scope": "read:messages" }));

        for policy in [
            Policy::all_scopes(Vec::<String>::new()),
            Policy::any_scope(Vec::<String>::new()),
        ] {
            assert!(
                matches!(
                    policy.check(&token, NOW, LEEWAY),
                    Err(AuthError::Forbidden { .. })
                ),
                "{policy:?}"
            );
        }
    }

    #[test]
    fn an_auth_time_in_the_future_fails_max_age_beyond_the_leeway() {
        let policy = Policy::max_age(300);
        let at = |auth_time: f64| claims(&json!({ "iss": "https://a/", "auth_time": auth_time }));

        assert!(policy.check(&at(NOW - 300.0), NOW, LEEWAY).is_ok());
        assert!(policy.check(&at(NOW + 5.0), NOW, LEEWAY).is_ok());
        for late in [NOW + 6.0, NOW + 86_400.0] {
            assert_eq!(
                policy.check(&at(late), NOW, LEEWAY),
                Err(AuthError::InsufficientUserAuthentication {
                    acr_values: None,
                    max_age: Some(300)
                })
            );
        }
        assert!(policy.check(&at(NOW - 301.0), NOW, LEEWAY).is_err());
    }

    #[test]
    fn an_issuer_rule_admits_only_its_issuers_as_an_invalid_token() {
        let policy = Policy::issuers(["https://a.example", "https://b.example/"]);
        let from = |iss: &str| claims(&json!({ "iss": iss }));

        assert!(
            policy
                .check(&from("https://a.example/"), NOW, LEEWAY)
                .is_ok()
        );
        assert!(
            policy
                .check(&from("https://b.example/"), NOW, LEEWAY)
                .is_ok()
        );
        assert_eq!(
            policy.check(&from("https://c.example/"), NOW, LEEWAY),
            Err(AuthError::InvalidToken(TokenError::Issuer))
        );
        let both = policy.and(Policy::issuers(["https://b.example/"]));
        assert!(
            both.check(&from("https://a.example/"), NOW, LEEWAY)
                .is_err()
        );
        assert!(both.check(&from("https://b.example/"), NOW, LEEWAY).is_ok());
    }
}
