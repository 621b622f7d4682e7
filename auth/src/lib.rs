#![doc = include_str!("../README.md")]
//!
//! ## More: several issuers, optional authentication
//!
//! ```no_run
//! use actix_web::{App, HttpResponse, web};
//! use oauth2_jwt_bearer::{Authenticator, Claims, Policy, RequireAuth, TrustedIssuer};
//!
//! # fn app() -> Result<(), oauth2_jwt_bearer::ConfigError> {
//! let authenticator = Authenticator::builder()
//!     .issuer("https://dev-abc123.us.auth0.com/")
//!     .jwks_uri("https://dev-abc123.us.auth0.com/.well-known/jwks.json")
//!     .audiences(["https://my-api"])
//!     // Optional: more issuers, each with its own key cache.
//!     .trust(TrustedIssuer::new("https://login.example.com/"))
//!     .build()?;
//! let app = App::new()
//!     .service(
//!         web::resource("/api/messages")
//!             .route(web::get().to(|claims: Claims| async move {
//!                 HttpResponse::Ok().body(claims.sub().unwrap_or_default().to_owned())
//!             }))
//!             // A route's policy in one line: a valid token with one of these scopes.
//!             .wrap(
//!                 RequireAuth::new(authenticator.clone())
//!                     .policy(Policy::any_scope(["read:messages", "admin"])),
//!             ),
//!     )
//!     .service(
//!         web::resource("/api/whoami")
//!             // Anonymous callers get `None`; a bad token is still 401, an outage 503.
//!             .route(web::get().to(|claims: Option<Claims>| async move {
//!                 HttpResponse::Ok().body(claims.map_or("anonymous".to_owned(), |c| c.granted_scopes().join(" ")))
//!             }))
//!             .wrap(RequireAuth::new(authenticator).optional()),
//!     );
//! # Ok(()) }
//! ```
//!
//! - Tokens come only from the `Authorization` header, as `Bearer` or `DPoP` (each
//!   case-insensitive); [`AuthenticatorBuilder::dpop_mode`] says which are accepted.
//! - Checks run in order (shape, `alg`, header, issuer, key, signature, claims, policy) and fail
//!   closed.
//! - Each issuer's JWKS is cached, refreshed in the background, refetched once per cooldown for
//!   an unknown `kid`, and kept through issuer outages up to a maximum stale age.
//! - Failures answer RFC 6750 challenges with JSON bodies; see [`AuthError`]. With
//!   [`AuthenticatorBuilder::resource_metadata`], every challenge names the API's RFC 9728
//!   metadata.
//! - [`Authenticator::register_metrics`] exposes Prometheus metrics.
//! - `examples/custom_route.rs` protects a route of its own and reads typed claims;
//!   `examples/dpop_route.rs` accepts DPoP-bound tokens alone.

#![warn(missing_docs, unreachable_pub, missing_debug_implementations)]

mod actix;
mod algorithm;
mod authenticator;
mod cache;
mod claims;
pub mod config;
mod credentials;
#[cfg(feature = "serde")]
pub mod de;
pub mod dpop;
mod error;
#[cfg(feature = "metrics")]
mod exposition;
mod jwks;
mod keys;
pub mod limits;
mod metrics;
pub mod mtls;
mod policy;
mod request;
mod response;
mod sender;
mod throttle;
#[cfg(feature = "tower")]
pub mod tower;
mod validation;

#[cfg(any(test, feature = "testing"))]
pub mod testing;

#[cfg(test)]
mod tests;

pub use actix::{Checked, bearer_token};
pub use algorithm::{Algorithm, UnknownAlgorithm};
pub use authenticator::{Authenticator, AuthenticatorBuilder, TrustedIssuer};
pub use claims::{Claims, ScopeClaim, UnknownScopeClaim};
pub use error::{
    AuthError, ConfigError, ConfirmationMethod, DateClaim, InvalidRequest, Offered, TokenError,
    UrlKind, UrlProblem,
};
pub use jwks::{JwksConfig, Readiness};
pub use policy::Policy;
pub use request::{Field, Passed, Request, RequireAuth};
pub use response::{ChallengeParams, DEFAULT_REALM, Refusal, Scheme};
pub use sender::{
    DEFAULT_REPLAY_CAPACITY, DEFAULT_REPLAY_MAX_BYTES, DEFAULT_REPLAY_PER_CLIENT, DpopMode,
};
