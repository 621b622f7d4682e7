//! The development issuer: the `auth` crate's loopback test issuer (`auth::testing`) with a
//! generated key and a token endpoint, started in `development` when no real issuer is
//! configured, so that `cargo run` shows every route on a fresh clone with no network.
//!
//! The API validates its tokens through the real path (discovery, JWKS fetch over HTTP, the same
//! checks as for Auth0); nothing in the authenticator knows this issuer exists. Built only with
//! the `dev-issuer` feature, started only in development on a loopback host, and it answers only
//! requests addressed to its own loopback address. The benchmark issuer reuses it.

use anyhow::Context;
use auth::testing::{SigningKey, TestIssuer};

/// The audience of development tokens when `auth.audience` is not set; Auth0's samples use it.
pub const DEFAULT_AUDIENCE: &str = "https://quickstarts/api";

/// A running development issuer: the `auth` crate's loopback test issuer, with a token
/// endpoint.
#[derive(Debug)]
pub struct DevIssuer {
    issuer: TestIssuer,
    audience: String,
}

impl DevIssuer {
    /// Creates a signing key and serves on `127.0.0.1`, on a free port, on the current actix
    /// runtime.
    ///
    /// # Errors
    /// When no key can be generated or no port bound.
    pub fn start(audience: &str) -> anyhow::Result<Self> {
        let key = SigningKey::generate_rsa("dev-key-1").context("cannot create a signing key")?;
        Self::start_with_key(key, audience)
    }

    /// Like [`DevIssuer::start`], with a given signing key.
    ///
    /// # Errors
    /// When no port can be bound.
    pub fn start_with_key(key: SigningKey, audience: &str) -> anyhow::Result<Self> {
        let issuer = TestIssuer::builder()
            .token_endpoint(key, audience)
            .start()
            .context("cannot bind the development issuer")?;
        Ok(Self {
            issuer,
            audience: audience.to_owned(),
        })
    }

    /// The issuer URL, `http://127.0.0.1:{port}/`.
    pub fn issuer(&self) -> &str {
        self.issuer.issuer()
    }

    /// The audience of its tokens.
    pub fn audience(&self) -> &str {
        &self.audience
    }

    /// The token endpoint, such as `http://127.0.0.1:{port}/token`.
    pub fn token_endpoint(&self) -> String {
        format!("{}token", self.issuer.issuer())
    }

    /// A token for `sub`, with `scope` if given, valid for an hour.
    ///
    /// # Errors
    /// When signing fails.
    pub fn mint(&self, sub: &str, scope: Option<&str>) -> anyhow::Result<String> {
        self.mint_for(sub, scope, 3600)
    }

    /// A token for `sub`, with `scope` if given, valid for `expires_in` seconds.
    ///
    /// # Errors
    /// When signing fails.
    pub fn mint_for(
        &self,
        sub: &str,
        scope: Option<&str>,
        expires_in: i64,
    ) -> anyhow::Result<String> {
        Ok(self.issuer.mint(sub, scope, expires_in)?)
    }

    /// The banner printed at startup: ready-to-paste curl commands against the API at `api`.
    ///
    /// # Errors
    /// When signing fails.
    pub fn banner(&self, api: &str) -> anyhow::Result<String> {
        let plain = self.mint("dev-user", None)?;
        let scoped = self.mint("dev-user", Some("read:messages"))?;
        Ok(format!(
            "\nTry the protected routes with these development tokens (valid for 1 hour):\n\n\
             curl -i -H 'Authorization: Bearer {plain}' {api}/api/private          # 200\n\n\
             curl -i -H 'Authorization: Bearer {plain}' {api}/api/private-scoped   # 403, no read:messages\n\n\
             curl -i -H 'Authorization: Bearer {scoped}' {api}/api/private-scoped   # 200\n\n\
             Mint more: curl '{}?sub=alice&scope=read:messages&expires_in=3600'\n",
            self.token_endpoint()
        ))
    }
}
