//! The verified claims that handlers receive.

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::error::TokenError;

/// The claims of a verified access token.
///
/// Use it as a handler argument on a route wrapped in [`crate::RequireAuth`]. On a route without
/// it, extraction fails closed with a 401. On a route wrapped in [`crate::RequireAuth::optional`],
/// take `Option<Claims>`: `None` is an anonymous caller. Cloning is cheap: the claims are shared.
///
/// Its `Debug` shows only `sub` and the scopes: handlers log claims, and the other claims may
/// hold personal data (email, name). Read them through [`Claims::all`] or [`Claims::deserialize`].
#[derive(Clone, PartialEq)]
pub struct Claims(Arc<Inner>);

#[derive(PartialEq)]
struct Inner {
    sub: Option<String>,
    scopes: Vec<String>,
    permissions: Vec<String>,
    scp: Vec<String>,
    /// Which of `scope`, `permissions`, `scp` (in [`ScopeClaim::ALL`] order) grant scopes.
    granting: [bool; 3],
    /// Whether `cnf` is present, read once: most tokens have none, and every request asks.
    confirmed: bool,
    all: Map<String, Value>,
}

/// A claim that can grant scopes. Which ones count is the authenticator's setting
/// ([`crate::AuthenticatorBuilder::scope_claims`]); by default `scope` and `permissions`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ScopeClaim {
    /// `scope`: one space-separated string (RFC 8693, RFC 9068).
    Scope,
    /// `permissions`: Auth0's RBAC array of strings.
    Permissions,
    /// `scp`: a space-separated string or an array of strings, as Okta and Azure AD issue it.
    Scp,
}

impl ScopeClaim {
    /// Every scope claim, in the order scopes are gathered.
    pub const ALL: [Self; 3] = [Self::Scope, Self::Permissions, Self::Scp];

    /// Every claim's name, as a message lists the choices: `scope, permissions or scp`.
    pub fn names() -> String {
        let names = Self::ALL.map(Self::name);
        match names.split_last() {
            Some((last, [])) => (*last).to_owned(),
            Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
            None => String::new(),
        }
    }

    /// The claim's name in the token.
    pub fn name(self) -> &'static str {
        match self {
            Self::Scope => "scope",
            Self::Permissions => "permissions",
            Self::Scp => "scp",
        }
    }
}

impl fmt::Display for ScopeClaim {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A scope claim name that is none of [`ScopeClaim::ALL`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown scope claim {0:?}: expected {choices}", choices = ScopeClaim::names())]
pub struct UnknownScopeClaim(pub String);

impl FromStr for ScopeClaim {
    type Err = UnknownScopeClaim;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|claim| claim.name() == name)
            .ok_or_else(|| UnknownScopeClaim(name.to_owned()))
    }
}

/// The memory a heap block of `requested` bytes takes: a header and 16-byte rounding, and at
/// least 32 bytes, as glibc's malloc serves it (a short claim name costs 32 bytes, not 4).
fn block(requested: usize) -> usize {
    if requested == 0 {
        return 0;
    }
    (requested + 8).next_multiple_of(16).max(32)
}

/// What a JSON map holds on the heap: each entry's key block, its key and value in a B-tree
/// node (nodes hold 11 entries and run about two-thirds full, so each entry's share is half
/// again its own size), and what the value holds.
fn map_bytes(map: &Map<String, Value>) -> usize {
    let slot = std::mem::size_of::<String>() + std::mem::size_of::<Value>();
    map.iter()
        .map(|(key, value)| slot * 3 / 2 + block(key.capacity()) + value_bytes(value))
        .sum()
}

/// What a JSON value holds on the heap beyond its own inline size.
fn value_bytes(value: &Value) -> usize {
    match value {
        Value::Null | Value::Bool(_) | Value::Number(_) => 0,
        Value::String(s) => block(s.capacity()),
        Value::Array(items) => {
            block(items.capacity() * std::mem::size_of::<Value>())
                + items.iter().map(value_bytes).sum::<usize>()
        }
        Value::Object(map) => map_bytes(map),
    }
}

/// Space-separated tokens, empty ones dropped.
fn split_scopes(value: &str) -> impl Iterator<Item = String> + '_ {
    value
        .split(' ')
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

/// An array of strings, or `None` when it is not one.
fn strings(items: &[Value]) -> Option<Vec<String>> {
    items
        .iter()
        .map(|item| item.as_str().map(str::to_owned))
        .collect()
}

impl Claims {
    /// Reads the scope claims of a verified payload; `granting` are those that grant scopes.
    /// Each scope claim present must have its form, whether or not it grants: `scope` a string,
    /// `permissions` an array of strings, `scp` either.
    pub(crate) fn from_payload(
        all: Map<String, Value>,
        granting: &[ScopeClaim],
    ) -> Result<Self, TokenError> {
        let sub = match all.get("sub") {
            None => None,
            Some(Value::String(sub)) => Some(sub.clone()),
            Some(_) => return Err(TokenError::Malformed),
        };
        let scopes = match all.get("scope") {
            None => Vec::new(),
            Some(Value::String(scope)) => split_scopes(scope).collect(),
            Some(_) => return Err(TokenError::InvalidScopes),
        };
        let permissions = match all.get("permissions") {
            None => Vec::new(),
            Some(Value::Array(items)) => strings(items).ok_or(TokenError::InvalidScopes)?,
            Some(_) => return Err(TokenError::InvalidScopes),
        };
        let scp = match all.get("scp") {
            None => Vec::new(),
            Some(Value::String(scp)) => split_scopes(scp).collect(),
            Some(Value::Array(items)) => strings(items).ok_or(TokenError::InvalidScopes)?,
            Some(_) => return Err(TokenError::InvalidScopes),
        };
        Ok(Self(Arc::new(Inner {
            sub,
            scopes,
            permissions,
            scp,
            granting: ScopeClaim::ALL.map(|claim| granting.contains(&claim)),
            confirmed: all.contains_key("cnf"),
            all,
        })))
    }

    /// The issuer that verified the token: its exact value, which `iss` equals. With several
    /// issuers, a user is `(issuer, sub)`: two issuers may each have a user with the same `sub`.
    pub fn issuer(&self) -> &str {
        // Claims are made only after `iss` passed the issuer check, so it is always there.
        self.0.all.get("iss").and_then(Value::as_str).unwrap_or("")
    }

    /// About how much memory the claims hold, in bytes, for the token cache's budget: every
    /// heap block counted as the allocator serves it (see `block`).
    pub(crate) fn heap_bytes(&self) -> u64 {
        let inner = &*self.0;
        let strings = |values: &Vec<String>| -> usize {
            block(values.capacity() * std::mem::size_of::<String>())
                + values.iter().map(|s| block(s.capacity())).sum::<usize>()
        };
        let bytes = block(std::mem::size_of::<Inner>())
            + inner.sub.as_ref().map_or(0, |sub| block(sub.capacity()))
            + strings(&inner.scopes)
            + strings(&inner.permissions)
            + strings(&inner.scp)
            + map_bytes(&inner.all);
        u64::try_from(bytes).unwrap_or(u64::MAX)
    }

    /// The subject (`sub`), if the token names one.
    pub fn sub(&self) -> Option<&str> {
        self.0.sub.as_deref()
    }

    /// The thumbprint of the key the token is bound to (`cnf.jkt`, RFC 9449 §6.1): the token
    /// passed only with a DPoP proof signed by that key.
    pub fn dpop_jkt(&self) -> Option<&str> {
        self.confirmation("jkt")
    }

    /// The thumbprint of the client certificate the token is bound to (`cnf.x5t#S256`,
    /// RFC 8705 §3.1): the token passed only with that certificate.
    pub fn certificate_thumbprint(&self) -> Option<&str> {
        self.confirmation("x5t#S256")
    }

    /// A member of `cnf`, which validation made sure is a non-empty string where present.
    fn confirmation(&self, member: &str) -> Option<&str> {
        if !self.0.confirmed {
            return None;
        }
        self.0.all.get("cnf")?.get(member)?.as_str()
    }

    /// The space-delimited `scope` claim, split into its tokens.
    pub fn scopes(&self) -> &[String] {
        &self.0.scopes
    }

    /// Auth0's RBAC `permissions` claim.
    pub fn permissions(&self) -> &[String] {
        &self.0.permissions
    }

    /// The scopes the token grants: those of every claim configured to grant scopes, in the
    /// order `scope`, `permissions`, `scp`, without repeats.
    pub fn granted_scopes(&self) -> Vec<&str> {
        let mut granted: Vec<&str> = Vec::new();
        for scope in self.granting().flatten() {
            if !granted.contains(&scope.as_str()) {
                granted.push(scope);
            }
        }
        granted
    }

    /// Whether the token grants `scope` (see [`Claims::granted_scopes`]). Comparison is exact
    /// and case-sensitive.
    pub fn has_scope(&self, scope: &str) -> bool {
        self.granting().flatten().any(|s| s == scope)
    }

    /// The values of each claim that grants scopes.
    fn granting(&self) -> impl Iterator<Item = &Vec<String>> {
        let inner = &*self.0;
        [&inner.scopes, &inner.permissions, &inner.scp]
            .into_iter()
            .zip(inner.granting)
            .filter_map(|(values, grants)| grants.then_some(values))
    }

    /// Every claim of the payload.
    pub fn all(&self) -> &Map<String, Value> {
        &self.0.all
    }

    /// The claims as the app's own type, such as a struct with `sub`, `org_id` and `email`.
    ///
    /// # Errors
    /// When the claims do not fit `T`.
    pub fn deserialize<T: DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        // Reads the shared map in place: no copy of the claims.
        T::deserialize(&self.0.all)
    }
}

impl fmt::Debug for Claims {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Claims")
            .field("sub", &self.0.sub)
            .field("scopes", &self.granted_scopes())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn claims(payload: &Value, permissions_as_scopes: bool) -> Result<Claims, TokenError> {
        let granting: &[ScopeClaim] = if permissions_as_scopes {
            &[ScopeClaim::Scope, ScopeClaim::Permissions]
        } else {
            &[ScopeClaim::Scope]
        };
        Claims::from_payload(payload.as_object().unwrap().clone(), granting)
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
    fn scp_grants_as_a_string_or_an_array_when_configured() {
        let only_scp = |payload: Value| {
            Claims::from_payload(payload.as_object().unwrap().clone(), &[ScopeClaim::Scp]).unwrap()
        };

        assert!(only_scp(json!({ "scp": "read:messages other" })).has_scope("read:messages"));
        assert!(only_scp(json!({ "scp": ["other", "read:messages"] })).has_scope("read:messages"));
        assert!(!only_scp(json!({ "scope": "read:messages" })).has_scope("read:messages"));
        assert!(
            !claims(&json!({ "scp": "read:messages" }), true)
                .unwrap()
                .has_scope("read:messages")
        );
    }

    #[test]
    fn granted_scopes_gather_every_configured_claim_once() {
        let payload = json!({ "scope": "a b", "permissions": ["b", "c"], "scp": ["d"] });
        let all =
            Claims::from_payload(payload.as_object().unwrap().clone(), &ScopeClaim::ALL).unwrap();

        assert_eq!(all.granted_scopes(), ["a", "b", "c", "d"]);
    }

    #[test]
    fn claims_deserialize_into_the_apps_own_type() {
        #[derive(serde::Deserialize)]
        struct Mine {
            sub: String,
            org_id: String,
        }
        let claims = claims(&json!({ "sub": "alice", "org_id": "org_1" }), true).unwrap();

        let mine: Mine = claims.deserialize().unwrap();

        assert_eq!(
            (mine.sub.as_str(), mine.org_id.as_str()),
            ("alice", "org_1")
        );
        assert!(claims.deserialize::<Vec<String>>().is_err());
    }

    #[test]
    fn scope_claim_names_parse_exactly() {
        assert_eq!("scp".parse::<ScopeClaim>(), Ok(ScopeClaim::Scp));
        assert!("SCP".parse::<ScopeClaim>().is_err());
    }

    #[test]
    fn malformed_scope_claims_are_rejected() {
        for payload in [
            json!({ "scope": ["read:messages"] }),
            json!({ "permissions": "read:messages" }),
            json!({ "permissions": ["ok", 1] }),
            json!({ "scp": 1 }),
            json!({ "scp": ["ok", null] }),
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
