//! What a route requires of a valid token beyond its validity: scopes (all of a set, or any
//! one of a set), how the user authenticated (RFC 9470 step-up: `acr` and `auth_time`), and
//! claim predicates. Scope rules are checked first, so that a caller who lacks a scope is told
//! so (403 `insufficient_scope`, which a client can fix by asking for the scope); then
//! authentication rules (401 `insufficient_user_authentication`, which a client fixes by
//! authenticating again, as the challenge says); then claim rules (403 with no challenge:
//! another token of the same caller would not help).

use std::fmt;
use std::sync::Arc;

use serde_json::Value;

use crate::claims::Claims;
use crate::error::AuthError;

/// The requirements of a route. Build one with its constructors and combine them with
/// [`Policy::and`]:
///
/// ```
/// use auth::Policy;
///
/// let policy = Policy::any_scope(["read:messages", "admin"])
///     .and(Policy::claim_equals("org_id", "org_123"))
///     .and(Policy::require("an email is verified", |claims| {
///         claims.all().get("email_verified") == Some(&serde_json::Value::Bool(true))
///     }));
/// ```
#[derive(Clone, Default)]
pub struct Policy {
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
    /// The refusal when `claims` do not meet the rule. Reads the clock only for `MaxAge`.
    fn unmet(&self, claims: &Claims) -> Option<AuthError> {
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
                let limit = *max_age as f64;
                let met = all
                    .get("auth_time")
                    .and_then(Value::as_f64)
                    .is_some_and(|at| crate::validation::now() - at <= limit);
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
    /// Requires `scope`.
    pub fn scope(scope: impl Into<String>) -> Self {
        Self::all_scopes([scope])
    }

    /// Requires every one of `scopes`. The refusal's `scope=` lists them all.
    pub fn all_scopes<I, S>(scopes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Self::with_scopes(ScopeRule::All(scopes.into_iter().map(Into::into).collect()))
    }

    /// Requires at least one of `scopes`. The refusal's `scope=` lists the choices.
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
            scopes: Vec::new(),
            authentication: Vec::new(),
            claims: vec![ClaimRule {
                description: description.into(),
                test: Arc::new(test),
            }],
        }
    }

    /// Requires this policy and `other`.
    #[must_use]
    pub fn and(mut self, other: Self) -> Self {
        self.scopes.extend(other.scopes);
        self.authentication.extend(other.authentication);
        self.claims.extend(other.claims);
        self
    }

    /// Whether the policy requires nothing beyond a valid token.
    pub fn is_empty(&self) -> bool {
        self.scopes.is_empty() && self.authentication.is_empty() && self.claims.is_empty()
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

    /// Checks `claims`: scope rules first, then authentication rules (at the current time),
    /// then claim rules, each in the order they were added.
    ///
    /// # Errors
    /// [`AuthError::InsufficientScope`] for the first scope rule that fails, else
    /// [`AuthError::InsufficientUserAuthentication`] for the first authentication rule, else
    /// [`AuthError::Forbidden`] for the first claim rule that fails.
    pub fn check(&self, claims: &Claims) -> Result<(), AuthError> {
        for rule in &self.scopes {
            let (satisfied, scopes, one_of) = match rule {
                ScopeRule::All(scopes) => {
                    (scopes.iter().all(|s| claims.has_scope(s)), scopes, false)
                }
                ScopeRule::Any(scopes) => {
                    (scopes.iter().any(|s| claims.has_scope(s)), scopes, true)
                }
            };
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
            .find_map(|rule| rule.unmet(claims))
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
