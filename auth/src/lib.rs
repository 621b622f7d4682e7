//! Bearer-token authentication for actix-web: verifies Auth0/OIDC access tokens against the
//! issuer's JWKS. The validator arrives with the "auth crate" issue.
