//! Why a request was refused. Each variant's doc says which HTTP answer it becomes; the mapping
//! itself lives in `response.rs`.

use std::fmt;
use std::time::Duration;

/// An authentication or authorization failure.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AuthError {
    /// No `Authorization` header. 401 with the bare challenge `Bearer realm="api"`.
    #[error("missing bearer token")]
    MissingToken,
    /// An `Authorization` header with another scheme, such as `Basic`, or one the API does not
    /// offer. 401 with the bare challenge; the message names the schemes that challenge offers.
    #[error("unsupported authorization scheme, expected {0}")]
    OtherScheme(Offered),
    /// A malformed Bearer credential, or several `Authorization` headers. 400 `invalid_request`.
    #[error("{0}")]
    InvalidRequest(InvalidRequest),
    /// The token failed a check. 401 `invalid_token`.
    #[error("{0}")]
    InvalidToken(#[from] TokenError),
    /// A valid token without the required scopes. 403 `insufficient_scope`, whose `scope=`
    /// lists `scope`.
    #[error("insufficient scope, requires {}{scope}", if *one_of { "one of " } else { "" })]
    InsufficientScope {
        /// The scopes the route requires, space-separated: all of them, or one when `one_of`.
        scope: String,
        /// Whether any one of the scopes would do.
        one_of: bool,
    },
    /// A valid token whose authentication event does not meet the route's RFC 9470 rule: the
    /// wrong `acr`, or an `auth_time` too long ago (or missing). 401
    /// `insufficient_user_authentication`, whose challenge names `acr_values` or `max_age`.
    #[error("a stronger or more recent authentication is required")]
    InsufficientUserAuthentication {
        /// The acceptable `acr` values, space-separated.
        acr_values: Option<String>,
        /// The longest time since the user authenticated, in seconds.
        max_age: Option<u64>,
    },
    /// A valid token whose claims fail a route's claim rule ([`crate::Policy`]). 403 with no
    /// challenge: the token is fine and its scopes are not at fault, so neither another token
    /// nor another scope would help.
    #[error("the token does not meet this route's requirement: {requirement}")]
    Forbidden {
        /// What the route requires, as its policy describes it.
        requirement: String,
    },
    /// No cached key can decide and the issuer's keys cannot be fetched now. 503 with
    /// `Retry-After`.
    #[error("signing keys are unavailable, retry later")]
    KeysUnavailable {
        /// When a retry may succeed.
        retry_after: Duration,
    },
    /// A DPoP proof that fails a check (RFC 9449 §4.3), or was used before. 400
    /// `invalid_dpop_proof`, the error on the DPoP challenge.
    #[error("{0}")]
    InvalidDpopProof(#[from] ProofError),
    /// A DPoP proof without a server nonce we issued for its key in this window or the last
    /// (RFC 9449 §9), where nonces are required. 401 `use_dpop_nonce` on the DPoP challenge,
    /// with a fresh nonce in the `DPoP-Nonce` header: the client sends the request again with
    /// it.
    #[error(
        "this API requires a DPoP server nonce: send the proof again with the nonce in the DPoP-Nonce header"
    )]
    UseDpopNonce {
        /// The nonce to use, for the proof's key.
        nonce: String,
    },
    /// The DPoP replay store cannot say whether a proof was used before (it cannot be reached,
    /// or it is full of live proofs), so the proof is not accepted. 503 with `Retry-After`.
    #[error("the DPoP replay store is unavailable, retry later")]
    ReplayUnavailable {
        /// When a retry may succeed.
        retry_after: Duration,
    },
}

/// The schemes an API offers, as a refusal of another scheme names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Offered {
    /// `Bearer` alone.
    Bearer,
    /// `Bearer` and `DPoP`.
    BearerOrDpop,
    /// `DPoP` alone.
    Dpop,
}

impl fmt::Display for Offered {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Bearer => "Bearer",
            Self::BearerOrDpop => "Bearer or DPoP",
            Self::Dpop => "DPoP",
        })
    }
}

/// What is wrong with the request's credentials. Each message is the `error_description`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum InvalidRequest {
    /// Two or more `Authorization` headers.
    #[error("more than one Authorization header")]
    SeveralHeaders,
    /// The header value is not visible ASCII.
    #[error("malformed Authorization header")]
    MalformedHeader,
    /// `Bearer` with nothing after it.
    #[error("missing bearer token")]
    MissingToken,
    /// A token outside the b64token syntax, or a separator other than spaces.
    #[error("malformed bearer token")]
    MalformedToken,
    /// `access_token` in the query string (RFC 6750 §2.3), which proxies and servers log.
    #[error(
        "access tokens are not accepted in the query string; send the token in the Authorization header"
    )]
    TokenInQuery,
    /// A `DPoP` proof header without an `Authorization` header.
    #[error("a DPoP proof was sent without an Authorization header")]
    ProofWithoutToken,
    /// The `DPoP` scheme without a `DPoP` proof header.
    #[error("the DPoP scheme requires a DPoP proof header")]
    MissingProof,
    /// A `DPoP` proof header with a `Bearer` token that is not DPoP-bound.
    #[error(
        "a DPoP proof was sent with a Bearer token; send a DPoP-bound token with the DPoP scheme"
    )]
    ProofWithBearer,
}

/// Which token check failed. Each message is the `error_description` sent to the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TokenError {
    /// Longer than the configured maximum; refused before any decoding.
    #[error("token too large")]
    TooLarge,
    /// Not a compact JWS of three base64url segments with JSON-object header and payload.
    #[error("malformed token")]
    Malformed,
    /// A `kid` longer than 256 bytes; refused before any key lookup.
    #[error("kid too long")]
    OversizedKid,
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
    /// `iss` is missing or differs from the issuer, byte for byte.
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
    /// `now >= exp + leeway`.
    #[error("token expired")]
    Expired,
    /// `now + leeway < nbf`.
    #[error("token not yet valid")]
    NotYetValid,
    /// `cnf` is not an object, or its `jkt` or `x5t#S256` is not a non-empty string: a binding
    /// that cannot be read is never ignored.
    #[error("invalid 'cnf' claim")]
    InvalidConfirmation,
    /// `cnf` binds the token by an RFC 7800 method that is not checked here (`jwk`, `jwe`,
    /// `kid`, `jku`): a binding that cannot be checked is refused, never taken as a bearer token.
    #[error("the token is bound by cnf.{0}, a confirmation method this API does not check")]
    UnsupportedConfirmation(ConfirmationMethod),
    /// A DPoP-bound token (`cnf.jkt`) sent with the `Bearer` scheme (RFC 9449 §7.2).
    #[error("the token is DPoP-bound (cnf.jkt); send it with the DPoP scheme and a DPoP proof")]
    DpopBound,
    /// The `DPoP` scheme with a token that is not DPoP-bound (no `cnf.jkt`).
    #[error("the token is not DPoP-bound (no cnf.jkt), so it cannot be sent with the DPoP scheme")]
    NotDpopBound,
    /// The DPoP proof's key is not the one the token is bound to (`cnf.jkt`).
    #[error("the DPoP proof key does not match the token's cnf.jkt")]
    DpopKeyMismatch,
    /// A token bound to a client certificate (`cnf.x5t#S256`, RFC 8705) where no proxy header
    /// is configured to carry the certificate: a binding that cannot be checked is refused.
    #[error(
        "the token is bound to a client certificate (cnf.x5t#S256), which this API cannot check: no client certificate header is configured (auth.mtls.certificate_header)"
    )]
    CertificateUnchecked,
    /// A certificate-bound token without a client certificate.
    #[error("the token is bound to a client certificate, and none was presented")]
    CertificateMissing,
    /// A certificate-bound token with a client certificate that cannot be read.
    #[error("the client certificate cannot be read")]
    CertificateUnreadable,
    /// A certificate-bound token with more than one forwarded client certificate: the header
    /// twice, or a value that holds several.
    #[error("more than one client certificate was forwarded")]
    SeveralCertificates,
    /// A certificate-bound token with another client certificate.
    #[error("the client certificate does not match the token's cnf.x5t#S256")]
    CertificateMismatch,
}

impl InvalidRequest {
    /// Its name in snake case: the `reason` label of its refusals in the metrics.
    #[cfg_attr(not(feature = "metrics"), allow(dead_code))]
    pub(crate) fn reason(self) -> &'static str {
        match self {
            Self::SeveralHeaders => "several_headers",
            Self::MalformedHeader => "malformed_header",
            Self::MissingToken => "missing_token",
            Self::MalformedToken => "malformed_token",
            Self::TokenInQuery => "token_in_query",
            Self::ProofWithoutToken => "dpop_proof_without_token",
            Self::MissingProof => "dpop_missing_proof",
            Self::ProofWithBearer => "dpop_proof_with_bearer",
        }
    }
}

impl TokenError {
    /// Its name in snake case: the `reason` label of its refusals in the metrics.
    #[cfg_attr(not(feature = "metrics"), allow(dead_code))]
    pub(crate) fn reason(self) -> &'static str {
        match self {
            Self::TooLarge => "too_large",
            Self::Malformed => "malformed",
            Self::OversizedKid => "kid_too_long",
            Self::UnsupportedAlgorithm => "algorithm",
            Self::UnsupportedType => "type",
            Self::UnsupportedCritical => "critical_header",
            Self::UnknownKid => "unknown_kid",
            Self::NoFittingKey => "no_fitting_key",
            Self::BadSignature => "signature",
            Self::Issuer => "issuer",
            Self::Audience => "audience",
            Self::MissingExpiry => "missing_exp",
            Self::InvalidDate(_) => "invalid_date",
            Self::InvalidScopes => "invalid_scopes",
            Self::Expired => "expired",
            Self::NotYetValid => "not_yet_valid",
            Self::InvalidConfirmation => "invalid_cnf",
            Self::UnsupportedConfirmation(_) => "unsupported_cnf",
            Self::DpopBound => "dpop_bound",
            Self::NotDpopBound => "not_dpop_bound",
            Self::DpopKeyMismatch => "dpop_key_mismatch",
            Self::CertificateUnchecked => "certificate_unchecked",
            Self::CertificateMissing => "certificate_missing",
            Self::CertificateUnreadable => "certificate_unreadable",
            Self::CertificateMismatch => "certificate_mismatch",
            Self::SeveralCertificates => "several_certificates",
        }
    }
}

/// Why a proof is refused. Each message is the `error_description` of a 400
/// `invalid_dpop_proof`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProofError {
    /// Longer than [`crate::dpop::MAX_PROOF_BYTES`].
    #[error("DPoP proof too large")]
    TooLarge,
    /// Not a compact JWS of base64url JSON objects.
    #[error("malformed DPoP proof")]
    Malformed,
    /// `typ` is not `dpop+jwt` (or its full media type, `application/dpop+jwt`).
    #[error("DPoP proof typ must be dpop+jwt")]
    Type,
    /// The header has `crit` (RFC 7515 §4.1.11: no extension is understood here, so any is
    /// refused, as on access tokens), or `b64: false` (RFC 7797), which changes what is signed.
    #[error("DPoP proof header has a critical extension (crit or b64) that is not supported")]
    Critical,
    /// `alg` is not one of the accepted proof algorithms.
    #[error("unsupported DPoP proof algorithm")]
    Algorithm,
    /// `jwk` is missing, holds private key members, or does not fit `alg`.
    #[error("DPoP proof jwk must be a public key that fits its alg")]
    Key,
    /// The signature does not verify with `jwk`.
    #[error("DPoP proof signature verification failed")]
    Signature,
    /// `iat` is missing, not a number, too old, or too far in the future.
    #[error("DPoP proof iat is outside the accepted window")]
    IssuedAt,
    /// `htm` is not the request's method.
    #[error("DPoP proof htm does not match the request method")]
    Method,
    /// `htu` is not the request's URL.
    #[error("DPoP proof htu does not match the request URL")]
    Url,
    /// The request's raw path has a `.` or `..` segment (plain or percent-encoded), which the
    /// `htu` comparison would remove and the router would not: no proof covers such a path.
    #[error("the request path has dot segments (. or ..), which a DPoP proof cannot cover")]
    DotSegments,
    /// `jti` is missing, not a string, or longer than [`crate::dpop::MAX_JTI_BYTES`].
    #[error("DPoP proof jti is missing or invalid")]
    Jti,
    /// `ath` is not the hash of the access token sent with it.
    #[error("DPoP proof ath does not match the access token")]
    AccessTokenHash,
    /// Two `DPoP` headers, or a comma in one (RFC 9449 §4.3 allows exactly one proof).
    #[error("more than one DPoP proof")]
    Several,
    /// The proof was accepted before: a replay (RFC 9449 §11.1).
    #[error("DPoP proof has already been used")]
    Replayed,
    /// This server has no public URL, so no `htu` can be checked.
    #[error(
        "DPoP proofs cannot be checked here: the API's public URL is not configured (public_url)"
    )]
    NoPublicUrl,
}

impl ProofError {
    /// Its name in snake case: the `reason` label of its refusals in the metrics.
    #[cfg_attr(not(feature = "metrics"), allow(dead_code))]
    pub(crate) fn reason(self) -> &'static str {
        match self {
            Self::TooLarge => "dpop_too_large",
            Self::Malformed => "dpop_malformed",
            Self::Type => "dpop_type",
            Self::Critical => "dpop_critical_header",
            Self::Algorithm => "dpop_algorithm",
            Self::Key => "dpop_key",
            Self::Signature => "dpop_signature",
            Self::IssuedAt => "dpop_iat",
            Self::Method => "dpop_htm",
            Self::Url => "dpop_htu",
            Self::DotSegments => "dpop_dot_segments",
            Self::Jti => "dpop_jti",
            Self::AccessTokenHash => "dpop_ath",
            Self::Several => "dpop_several",
            Self::Replayed => "dpop_replayed",
            Self::NoPublicUrl => "dpop_no_public_url",
        }
    }
}

/// An RFC 7800 confirmation method (a member of `cnf`) that binds a token to a key this API
/// does not check. (`jkt`, DPoP, and `x5t#S256`, mTLS, are checked.)
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConfirmationMethod {
    /// `jwk`: the key itself (RFC 7800 §3.2).
    Jwk,
    /// `jwe`: an encrypted key (RFC 7800 §3.3).
    Jwe,
    /// `kid`: a key id (RFC 7800 §3.4).
    Kid,
    /// `jku`: a JWK Set URL (RFC 7800 §3.5).
    Jku,
}

impl ConfirmationMethod {
    /// Every method, for reading `cnf`.
    pub const ALL: [Self; 4] = [Self::Jwk, Self::Jwe, Self::Kid, Self::Jku];

    /// The member's name in `cnf`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Jwk => "jwk",
            Self::Jwe => "jwe",
            Self::Kid => "kid",
            Self::Jku => "jku",
        }
    }
}

impl fmt::Display for ConfirmationMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A NumericDate claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
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
#[non_exhaustive]
pub enum ConfigError {
    /// A setting is out of its range or not of its form; `path` names it as
    /// [`crate::config::AuthConfig`] does, such as `jwks.cooldown_secs` or
    /// `issuers[2].jwks_uri`.
    #[error("{path}: {reason}")]
    Invalid {
        /// Where the setting is.
        path: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A setting's value needs another setting, which is unset; both are named by their paths.
    #[error("{path}: {reason}; set {needs}")]
    Needs {
        /// The setting whose value needs the other.
        path: String,
        /// The setting to set.
        needs: String,
        /// Why.
        reason: String,
    },
    /// No issuer was given.
    #[error("an issuer is required")]
    MissingIssuer,
    /// The same issuer is trusted twice (compared as tokens' `iss` is, so a trailing slash
    /// does not make two).
    #[error("the issuer {issuer:?} is trusted twice")]
    DuplicateIssuer {
        /// The issuer given again.
        issuer: String,
    },
    /// No audience was given, so no token could ever pass.
    #[error("at least one audience is required")]
    MissingAudience,
    /// The extra root certificates cannot be used.
    #[error("the extra root certificates are unusable: {reason}")]
    BadRootCertificates {
        /// What is wrong with them.
        reason: String,
    },
    /// A URL that keys would be fetched from, or the issuer, is unfit; see [`UrlProblem`].
    #[error("{kind} {} {problem}", shown(url, *problem))]
    BadUrl {
        /// Which URL.
        kind: UrlKind,
        /// The URL as given.
        url: String,
        /// What is wrong with it.
        problem: UrlProblem,
    },
}

impl ConfigError {
    /// A [`ConfigError::Invalid`] for the setting at `path`.
    pub(crate) fn invalid(path: &str, reason: impl std::fmt::Display) -> Self {
        Self::Invalid {
            path: path.to_owned(),
            reason: reason.to_string(),
        }
    }
}

/// Which configured URL an error is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum UrlKind {
    /// The issuer, which `iss` must equal and discovery starts from.
    Issuer,
    /// The JWKS URL, configured or discovered.
    JwksUri,
    /// The protected resource's own public URL (RFC 9728 `resource`).
    Resource,
}

impl fmt::Display for UrlKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Issuer => "issuer",
            Self::JwksUri => "jwks_uri",
            Self::Resource => "resource URL",
        })
    }
}

/// What makes a URL unfit to trust or fetch keys from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum UrlProblem {
    /// It does not parse as an absolute URL with a host.
    #[error("is not an absolute URL with a host")]
    NotAbsolute,
    /// Neither https, nor http to a loopback host.
    #[error("must be https (http is allowed only for loopback hosts)")]
    Insecure,
    /// It carries a user name or password.
    #[error("must not carry a user name or password")]
    Userinfo,
    /// It has a `?query`.
    #[error("must not have a query")]
    Query,
    /// It has a `#fragment`.
    #[error("must not have a fragment")]
    Fragment,
}

/// The URL for an error message; left out when it may hold a password.
fn shown(url: &str, problem: UrlProblem) -> String {
    if problem == UrlProblem::Userinfo {
        "(credentials removed)".to_owned()
    } else {
        format!("{url:?}")
    }
}
