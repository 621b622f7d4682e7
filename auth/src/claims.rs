//! The verified claims that handlers receive, and their actix extractor.

use std::fmt;
use std::future::{Ready, ready};
use std::sync::Arc;

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpMessage, HttpRequest};
use serde_json::{Map, Value};

use crate::error::{AuthError, TokenError};

/// The claims of a verified access token.
///
/// Use it as a handler argument on a route wrapped in [`crate::RequireAuth`]. On a route without
/// it, extraction fails closed with a 401. Cloning is cheap: the claims are shared.
///
/// Its `Debug` shows only `sub` and the scopes: handlers log claims, and the other claims may
/// hold personal data (email, name). Read them through [`Claims::all`].
#[derive(Clone, PartialEq)]
pub struct Claims(Arc<Inner>);

#[derive(PartialEq)]
struct Inner {
    sub: Option<String>,
    scopes: Vec<String>,
    permissions: Vec<String>,
    permissions_as_scopes: bool,
    all: Map<String, Value>,
}

impl Claims {
    /// Reads the scope-related claims of a verified payload.
    pub(crate) fn from_payload(
        all: Map<String, Value>,
        permissions_as_scopes: bool,
    ) -> Result<Self, TokenError> {
        let sub = match all.get("sub") {
            None => None,
            Some(Value::String(sub)) => Some(sub.clone()),
            Some(_) => return Err(TokenError::Malformed),
        };
        let scopes = match all.get("scope") {
            None => Vec::new(),
            Some(Value::String(scope)) => scope
                .split(' ')
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect(),
            Some(_) => return Err(TokenError::InvalidScopes),
        };
        let permissions = match all.get("permissions") {
            None => Vec::new(),
            Some(Value::Array(items)) => items
                .iter()
                .map(|item| item.as_str().map(str::to_owned))
                .collect::<Option<Vec<_>>>()
                .ok_or(TokenError::InvalidScopes)?,
            Some(_) => return Err(TokenError::InvalidScopes),
        };
        Ok(Self(Arc::new(Inner {
            sub,
            scopes,
            permissions,
            permissions_as_scopes,
            all,
        })))
    }

    /// The subject (`sub`), if the token names one.
    pub fn sub(&self) -> Option<&str> {
        self.0.sub.as_deref()
    }

    /// The space-delimited `scope` claim, split into its tokens.
    pub fn scopes(&self) -> &[String] {
        &self.0.scopes
    }

    /// Auth0's RBAC `permissions` claim.
    pub fn permissions(&self) -> &[String] {
        &self.0.permissions
    }

    /// Whether the token grants `scope`: in `scope`, or in `permissions` when those count.
    /// Comparison is exact and case-sensitive.
    pub fn has_scope(&self, scope: &str) -> bool {
        let inner = &self.0;
        inner.scopes.iter().any(|s| s == scope)
            || (inner.permissions_as_scopes && inner.permissions.iter().any(|p| p == scope))
    }

    /// Every claim of the payload.
    pub fn all(&self) -> &Map<String, Value> {
        &self.0.all
    }
}

impl fmt::Debug for Claims {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Claims")
            .field("sub", &self.0.sub)
            .field("scopes", &self.0.scopes)
            .field("permissions", &self.0.permissions)
            .finish_non_exhaustive()
    }
}

impl FromRequest for Claims {
    type Error = AuthError;
    type Future = Ready<Result<Self, AuthError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(
            req.extensions()
                .get::<Claims>()
                .cloned()
                .ok_or(AuthError::MissingToken),
        )
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn claims(payload: &Value, permissions_as_scopes: bool) -> Result<Claims, TokenError> {
        Claims::from_payload(payload.as_object().unwrap().clone(), permissions_as_scopes)
    }

    #[test]
    fn scope_is_space_delimited_and_case_sensitive() {
        let claims = claims(&json!({ "scope": "openid read:messages  write:x" }), true).unwrap();

        assert_eq!(claims.scopes(), ["openid", "read:messages", "write:x"]);
        assert!(claims.has_scope("read:messages"));
        assert!(!claims.has_scope("READ:MESSAGES"));
        assert!(!claims.has_scope("read"));
        assert!(!claims.has_scope("read:messages write:x"));
    }

    #[test]
    fn permissions_count_as_scopes_unless_turned_off() {
        let payload = json!({ "permissions": ["read:messages"] });

        assert!(claims(&payload, true).unwrap().has_scope("read:messages"));
        assert!(!claims(&payload, false).unwrap().has_scope("read:messages"));
    }

    #[test]
    fn malformed_scope_claims_are_rejected() {
        for payload in [
            json!({ "scope": ["read:messages"] }),
            json!({ "permissions": "read:messages" }),
            json!({ "permissions": ["ok", 1] }),
        ] {
            assert_eq!(
                claims(&payload, true),
                Err(TokenError::InvalidScopes),
                "{payload}"
            );
        }
        assert_eq!(
            claims(&json!({ "sub": 1 }), true),
            Err(TokenError::Malformed)
        );
    }

    #[test]
    fn debug_shows_only_the_subject_and_the_scopes() {
        let claims = claims(
            &json!({ "sub": "alice", "scope": "read:messages", "email": "alice@example.com" }),
            true,
        )
        .unwrap();

        let shown = format!("{claims:?}");

        assert!(
            shown.contains("alice") && shown.contains("read:messages"),
            "{shown}"
        );
        assert!(!shown.contains("example.com"), "{shown}");
    }

    #[test]
    fn accessors_expose_sub_and_the_full_claim_set() {
        let claims = claims(&json!({ "sub": "alice", "custom": 1 }), true).unwrap();

        assert_eq!(claims.sub(), Some("alice"));
        assert_eq!(claims.all()["custom"], 1);
        assert!(claims.permissions().is_empty());
    }
}
