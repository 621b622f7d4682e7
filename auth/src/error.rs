//! Why a request was refused. Each variant's doc says which HTTP answer it becomes; the mapping
//! itself lives in `response.rs`.

use std::fmt;
use std::time::Duration;

/// An authentication or authorization failure.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// No `Authorization` header. 401 with the bare challenge `Bearer realm="api"`.
    #[error("missing bearer token")]
    MissingToken,
    /// An `Authorization` header with another scheme, such as `Basic`. 401 with the bare challenge.
    #[error("unsupported authorization scheme, expected Bearer")]
    OtherScheme,
    /// A malformed Bearer credential, or several `Authorization` headers. 400 `invalid_request`.
    #[error("{0}")]
    InvalidRequest(&'static str),
    /// The token failed a check. 401 `invalid_token`.
    #[error("{0}")]
    InvalidToken(#[from] TokenError),
    /// A valid token without the required scope. 403 `insufficient_scope`.
    #[error("insufficient scope, requires {scope}")]
    InsufficientScope {
        /// The scope the route requires.
        scope: String,
    },
    /// No cached key can decide and the issuer's keys cannot be fetched now. 503 with
    /// `Retry-After`.
    #[error("signing keys are unavailable, retry later")]
    KeysUnavailable {
        /// When a retry may succeed.
        retry_after: Duration,
    },
}

/// Which token check failed. Each message is the `error_description` sent to the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// Not a compact JWS of three base64url segments with JSON-object header and payload.
    #[error("malformed token")]
    Malformed,
    /// `alg` is missing from the allow-list (`none` and `HS*` never are).
    #[error("unsupported algorithm")]
    UnsupportedAlgorithm,
    /// `typ` names another kind of token (RFC 8725 §3.11).
    #[error("unsupported token type")]
    UnsupportedType,
    /// `crit` names an extension we do not implement.
    #[error("unsupported critical header")]
    UnsupportedCritical,
    /// The JWKS has no key with the token's `kid`.
    #[error("no key matches the token's kid")]
    UnknownKid,
    /// No single usable key fits the token's `kid` and `alg`.
    #[error("no usable key fits the token's kid and alg")]
    NoFittingKey,
    /// The signature does not verify.
    #[error("signature verification failed")]
    BadSignature,
    /// `iss` is missing or differs from the configured issuer.
    #[error("unexpected 'iss' value")]
    Issuer,
    /// `aud` is missing or names none of the configured audiences.
    #[error("unexpected 'aud' value")]
    Audience,
    /// `exp` is missing.
    #[error("missing 'exp' claim")]
    MissingExpiry,
    /// A date claim (`exp`, `nbf`, `iat`) is not a number.
    #[error("invalid {0} claim")]
    InvalidDate(DateClaim),
    /// `scope` is not a string, or `permissions` not an array of strings.
    #[error("invalid scope or permissions claim")]
    InvalidScopes,
    /// `now > exp + leeway`.
    #[error("token expired")]
    Expired,
    /// `now + leeway < nbf`.
    #[error("token not yet valid")]
    NotYetValid,
}

/// A NumericDate claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DateClaim {
    /// Expiry.
    Exp,
    /// Not before.
    Nbf,
    /// Issued at.
    Iat,
}

impl fmt::Display for DateClaim {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Exp => "'exp'",
            Self::Nbf => "'nbf'",
            Self::Iat => "'iat'",
        })
    }
}

/// Why the authenticator could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// No issuer was given.
    #[error("an issuer is required")]
    MissingIssuer,
    /// No audience was given, so no token could ever pass.
    #[error("at least one audience is required")]
    MissingAudience,
    /// No algorithm was allowed.
    #[error("at least one algorithm is required")]
    MissingAlgorithm,
    /// A URL does not parse, or uses http for a host that is not loopback.
    #[error("{what} {url:?} must be an https URL (http is allowed only for loopback hosts)")]
    InsecureUrl {
        /// Which URL.
        what: &'static str,
        /// The URL as given.
        url: String,
    },
}
