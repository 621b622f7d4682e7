//! Bearer-token authentication for actix-web: verifies Auth0/OIDC access tokens (JWTs) against
//! the issuer's JWKS, and checks scopes.
//!
//! ```no_run
//! use actix_web::{App, HttpResponse, web};
//! use auth::{Authenticator, Claims, RequireAuth, RequireScope};
//!
//! # fn app() -> Result<(), auth::ConfigError> {
//! let authenticator = Authenticator::builder()
//!     .issuer("https://dev-abc123.us.auth0.com/")
//!     .jwks_uri("https://dev-abc123.us.auth0.com/.well-known/jwks.json")
//!     .audiences(["https://my-api"])
//!     .build()?;
//! let app = App::new().service(
//!     web::resource("/api/private-scoped")
//!         .route(web::get().to(|claims: Claims| async move {
//!             HttpResponse::Ok().body(claims.sub().unwrap_or_default().to_owned())
//!         }))
//!         // The last `wrap` runs first: authenticate, then check the scope.
//!         .wrap(RequireScope::new("read:messages"))
//!         .wrap(RequireAuth::new(authenticator)),
//! );
//! # Ok(()) }
//! ```
//!
//! - Tokens come only from the `Authorization` header; the scheme is case-insensitive.
//! - Checks run in order (shape, `alg`, header, key, signature, claims) and fail closed.
//! - The JWKS is cached, refreshed in the background, refetched once per cooldown for an unknown
//!   `kid`, and kept through issuer outages up to a maximum stale age.
//! - Failures answer RFC 6750 challenges with JSON bodies; see [`AuthError`].

mod algorithm;
mod authenticator;
mod cache;
mod claims;
mod credentials;
mod error;
mod jwks;
mod metrics;
mod middleware;
mod policy;
mod response;
mod throttle;
mod validation;

#[cfg(any(test, feature = "mint"))]
pub mod mint;

#[cfg(test)]
mod tests;

pub use algorithm::{Algorithm, UnknownAlgorithm};
pub use authenticator::{
    Authenticator, AuthenticatorBuilder, DEFAULT_MAX_TOKEN_BYTES, DEFAULT_TOKEN_CACHE_CAPACITY,
    TrustedIssuer,
};
pub use claims::{Claims, ScopeClaim, UnknownScopeClaim};
pub use credentials::bearer_token;
pub use error::{
    AuthError, ConfigError, DateClaim, InvalidRequest, TokenError, UrlKind, UrlProblem,
};
pub use jwks::{JwksConfig, Readiness, check_url};
pub use middleware::{Checked, RequireAuth, RequireScope};
pub use policy::Policy;
pub use response::REALM;
