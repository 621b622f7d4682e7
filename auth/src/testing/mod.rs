//! The testing kit, for your tests and a development issuer: signing keys, their public JWKs,
//! a token builder that can also build deliberately bad tokens, and [`TestIssuer`], a loopback
//! OIDC issuer that starts in one line, rotates keys and fails on demand.
//!
//! Built with the `testing` feature (and in this crate's own tests). Verification never uses
//! it; leave it out of deployment builds.
//!
//! An app's own route, tested for 200, 401 and 403:
//!
//! ```
//! use std::time::Duration;
//! use actix_web::{App, HttpResponse, test, web};
//! use oauth2_jwt_bearer::testing::{SigningKey, TestIssuer};
//! use oauth2_jwt_bearer::{Authenticator, Policy, RequireAuth};
//!
//! # actix_web::rt::System::new().block_on(async {
//! let key = SigningKey::generate_rsa("k1").unwrap();
//! let issuer = TestIssuer::start(&[&key]).unwrap();
//! let auth = Authenticator::builder().issuer(issuer.issuer()).audiences(["https://api"]).build().unwrap();
//! auth.wait_ready(Duration::from_secs(5)).await.unwrap();
//! let app = test::init_service(App::new().service(
//!     web::resource("/reports")
//!         .route(web::get().to(HttpResponse::Ok))
//!         .wrap(RequireAuth::new(auth).policy(Policy::scope("read:reports"))),
//! ))
//! .await;
//! let status = |token: Option<String>| {
//!     let mut request = test::TestRequest::get().uri("/reports");
//!     if let Some(token) = token {
//!         request = request.insert_header(("Authorization", format!("Bearer {token}")));
//!     }
//!     let app = &app;
//!     async move { test::call_service(app, request.to_request()).await.status().as_u16() }
//! };
//! let token = |scope: &str| issuer.token(&key).claim("aud", "https://api").claim("scope", scope).sign().ok();
//!
//! assert_eq!(status(token("read:reports")).await, 200);
//! assert_eq!(status(None).await, 401);
//! assert_eq!(status(token("openid")).await, 403);
//! # });
//! ```

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{self, EcdsaKeyPair, Ed25519KeyPair, KeyPair, RsaKeyPair};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde_json::{Map, Value, json};

use crate::algorithm::Algorithm;
use crate::validation::now;

mod attacks;
mod dpop_client;
mod issuer;
#[cfg(feature = "redis")]
mod redis_server;

pub use attacks::{Attack, attacks};
pub use dpop_client::{DpopClient, DpopClientError, DpopReply};
pub use issuer::{DISCOVERY_PATH, JWKS_PATH, Mode, TestIssuer, TestIssuerBuilder};
#[cfg(feature = "redis")]
pub use redis_server::{REDIS_SERVER_VAR, REQUIRE_REDIS_VAR, RedisServer};

/// Why a key could not be loaded or a token not signed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MintError {
    /// The PEM text is not a PKCS#8 private key of the expected type.
    #[error("not a PKCS#8 {0} private key")]
    BadKey(&'static str),
    /// The crypto library refused to sign or generate.
    #[error("signing failed")]
    Crypto,
    /// [`TestIssuer::mint`] on an issuer started without a token endpoint.
    #[error("this issuer has no token endpoint")]
    NoTokenEndpoint,
}

enum Pair {
    Rsa(RsaKeyPair),
    P256(EcdsaKeyPair),
    P384(EcdsaKeyPair),
    P521(EcdsaKeyPair),
    Ed25519(Ed25519KeyPair),
}

/// A private key with its `kid` and its public JWK.
pub struct SigningKey {
    kid: String,
    pair: Pair,
}

/// Names the key, never its material.
impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = match self.pair {
            Pair::Rsa(_) => "RSA",
            Pair::P256(_) => "P-256",
            Pair::P384(_) => "P-384",
            Pair::P521(_) => "P-521",
            Pair::Ed25519(_) => "Ed25519",
        };
        f.debug_struct("SigningKey")
            .field("kid", &self.kid)
            .field("kind", &kind)
            .finish_non_exhaustive()
    }
}

impl SigningKey {
    /// A fresh RSA 2048 key, as the development issuer makes at startup.
    ///
    /// # Errors
    /// When the crypto library cannot generate a key.
    pub fn generate_rsa(kid: impl Into<String>) -> Result<Self, MintError> {
        let pair = RsaKeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048)
            .map_err(|_| MintError::Crypto)?;
        Ok(Self {
            kid: kid.into(),
            pair: Pair::Rsa(pair),
        })
    }

    /// An RSA key from PKCS#8 PEM.
    ///
    /// # Errors
    /// When the PEM is not an RSA PKCS#8 key.
    pub fn rsa_from_pem(kid: impl Into<String>, pem: &str) -> Result<Self, MintError> {
        Self::from_pem(kid, pem, "RSA", |der| {
            RsaKeyPair::from_pkcs8(der).ok().map(Pair::Rsa)
        })
    }

    /// A P-256 key from PKCS#8 PEM.
    ///
    /// # Errors
    /// When the PEM is not a P-256 PKCS#8 key.
    pub fn p256_from_pem(kid: impl Into<String>, pem: &str) -> Result<Self, MintError> {
        Self::from_pem(kid, pem, "P-256", |der| {
            EcdsaKeyPair::from_pkcs8(&signature::ECDSA_P256_SHA256_FIXED_SIGNING, der)
                .ok()
                .map(Pair::P256)
        })
    }

    /// A P-384 key from PKCS#8 PEM.
    ///
    /// # Errors
    /// When the PEM is not a P-384 PKCS#8 key.
    pub fn p384_from_pem(kid: impl Into<String>, pem: &str) -> Result<Self, MintError> {
        Self::from_pem(kid, pem, "P-384", |der| {
            EcdsaKeyPair::from_pkcs8(&signature::ECDSA_P384_SHA384_FIXED_SIGNING, der)
                .ok()
                .map(Pair::P384)
        })
    }

    /// A P-521 key from PKCS#8 PEM.
    ///
    /// # Errors
    /// When the PEM is not a P-521 PKCS#8 key.
    pub fn p521_from_pem(kid: impl Into<String>, pem: &str) -> Result<Self, MintError> {
        Self::from_pem(kid, pem, "P-521", |der| {
            EcdsaKeyPair::from_pkcs8(&signature::ECDSA_P521_SHA512_FIXED_SIGNING, der)
                .ok()
                .map(Pair::P521)
        })
    }

    /// An Ed25519 key from PKCS#8 PEM.
    ///
    /// # Errors
    /// When the PEM is not an Ed25519 PKCS#8 key.
    pub fn ed25519_from_pem(kid: impl Into<String>, pem: &str) -> Result<Self, MintError> {
        Self::from_pem(kid, pem, "Ed25519", |der| {
            Ed25519KeyPair::from_pkcs8_maybe_unchecked(der)
                .ok()
                .map(Pair::Ed25519)
        })
    }

    fn from_pem(
        kid: impl Into<String>,
        pem: &str,
        key_type: &'static str,
        parse: impl FnOnce(&[u8]) -> Option<Pair>,
    ) -> Result<Self, MintError> {
        let pair = parse(&der(pem)?).ok_or(MintError::BadKey(key_type))?;
        Ok(Self {
            kid: kid.into(),
            pair,
        })
    }

    /// The key's `kid`.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The same key under another `kid`.
    #[must_use]
    pub fn with_kid(self, kid: impl Into<String>) -> Self {
        Self {
            kid: kid.into(),
            ..self
        }
    }

    /// The algorithm this key signs with by default: RS256, ES256, ES384, ES512 or EdDSA.
    pub fn default_alg(&self) -> Algorithm {
        match self.pair {
            Pair::Rsa(_) => Algorithm::RS256,
            Pair::P256(_) => Algorithm::ES256,
            Pair::P384(_) => Algorithm::ES384,
            Pair::P521(_) => Algorithm::ES512,
            Pair::Ed25519(_) => Algorithm::EdDSA,
        }
    }

    /// The public JWK, with `kid`, `use: sig` and the default `alg`.
    pub fn jwk(&self) -> Value {
        let b64 = |bytes: &[u8]| URL_SAFE_NO_PAD.encode(bytes);
        let mut jwk = match &self.pair {
            Pair::Rsa(pair) => {
                let public = pair.public_key();
                json!({
                    "kty": "RSA",
                    "n": b64(public.modulus().big_endian_without_leading_zero()),
                    "e": b64(public.exponent().big_endian_without_leading_zero()),
                })
            }
            Pair::P256(pair) | Pair::P384(pair) | Pair::P521(pair) => {
                // An uncompressed point: 0x04 || x || y.
                let point = pair.public_key().as_ref();
                let half = (point.len() - 1) / 2;
                let crv = match half {
                    32 => "P-256",
                    48 => "P-384",
                    _ => "P-521",
                };
                json!({
                    "kty": "EC",
                    "crv": crv,
                    "x": b64(&point[1..=half]),
                    "y": b64(&point[half + 1..]),
                })
            }
            Pair::Ed25519(pair) => {
                json!({ "kty": "OKP", "crv": "Ed25519", "x": b64(pair.public_key().as_ref()) })
            }
        };
        if let Some(object) = jwk.as_object_mut() {
            object.insert("kid".into(), json!(self.kid));
            object.insert("use".into(), json!("sig"));
            object.insert("alg".into(), json!(self.default_alg().as_str()));
        }
        jwk
    }

    /// The raw public key bytes: what a key-confusion attacker would use as an HMAC secret.
    pub fn public_key_bytes(&self) -> Vec<u8> {
        match &self.pair {
            Pair::Rsa(pair) => pair.public_key().as_ref().to_vec(),
            Pair::P256(pair) | Pair::P384(pair) | Pair::P521(pair) => {
                pair.public_key().as_ref().to_vec()
            }
            Pair::Ed25519(pair) => pair.public_key().as_ref().to_vec(),
        }
    }

    /// A token builder with header `{alg, typ: "JWT", kid}` and no claims.
    pub fn token(&self) -> TokenBuilder<'_> {
        let mut header = Map::new();
        header.insert("alg".into(), json!(self.default_alg().as_str()));
        header.insert("typ".into(), json!("JWT"));
        header.insert("kid".into(), json!(self.kid));
        TokenBuilder {
            key: self,
            header,
            claims: Map::new(),
        }
    }

    /// The key's RFC 7638 thumbprint: the `cnf.jkt` of tokens bound to it as a DPoP key.
    pub fn jkt(&self) -> String {
        let jwk = self.jwk();
        jwk.as_object()
            .and_then(crate::dpop::thumbprint)
            .unwrap_or_default()
    }

    /// A DPoP proof (RFC 9449 §4.2) of a request with `method` to `url` and `access_token`,
    /// made now with a fresh `jti`: header `{typ: "dpop+jwt", alg, jwk}` (the public key alone,
    /// as clients send it), claims `jti`, `htm`, `htu`, `iat` and `ath`. Change any of them
    /// before signing to make a faulty one.
    pub fn dpop_proof(&self, method: &str, url: &str, access_token: &str) -> TokenBuilder<'_> {
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let mut jwk = self.jwk();
        if let Some(jwk) = jwk.as_object_mut() {
            for member in ["kid", "use", "alg"] {
                jwk.remove(member);
            }
        }
        let jti = format!(
            "{}-{}-{}",
            std::process::id(),
            now_secs(),
            NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        );
        self.token()
            .without_header("kid")
            .header("typ", "dpop+jwt")
            .header("jwk", jwk)
            .claim("jti", jti)
            .claim("htm", method)
            .claim("htu", url)
            .claim("iat", now_secs())
            .claim("ath", crate::dpop::access_token_hash(access_token))
    }

    /// Whether [`SigningKey::sign`] takes `alg` with this key.
    pub fn can_sign(&self, alg: Algorithm) -> bool {
        match self.pair {
            Pair::Rsa(_) => alg.is_rsa(),
            Pair::Ed25519(_) => matches!(alg, Algorithm::EdDSA | Algorithm::Ed25519),
            Pair::P256(_) | Pair::P384(_) | Pair::P521(_) => alg == self.default_alg(),
        }
    }

    /// Signs `message` with `alg`, which must fit the key (see [`SigningKey::can_sign`]).
    ///
    /// # Errors
    /// When `alg` does not fit the key or signing fails.
    pub fn sign(&self, alg: Algorithm, message: &[u8]) -> Result<Vec<u8>, MintError> {
        let rng = SystemRandom::new();
        match (&self.pair, alg) {
            (Pair::Rsa(pair), _) => {
                let encoding: &'static dyn signature::RsaEncoding = match alg {
                    Algorithm::RS256 => &signature::RSA_PKCS1_SHA256,
                    Algorithm::RS384 => &signature::RSA_PKCS1_SHA384,
                    Algorithm::RS512 => &signature::RSA_PKCS1_SHA512,
                    Algorithm::PS256 => &signature::RSA_PSS_SHA256,
                    Algorithm::PS384 => &signature::RSA_PSS_SHA384,
                    Algorithm::PS512 => &signature::RSA_PSS_SHA512,
                    _ => return Err(MintError::Crypto),
                };
                let mut out = vec![0; pair.public_modulus_len()];
                pair.sign(encoding, &rng, message, &mut out)
                    .map_err(|_| MintError::Crypto)?;
                Ok(out)
            }
            (Pair::P256(pair), Algorithm::ES256)
            | (Pair::P384(pair), Algorithm::ES384)
            | (Pair::P521(pair), Algorithm::ES512) => Ok(pair
                .sign(&rng, message)
                .map_err(|_| MintError::Crypto)?
                .as_ref()
                .to_vec()),
            (Pair::Ed25519(pair), Algorithm::EdDSA | Algorithm::Ed25519) => {
                Ok(pair.sign(message).as_ref().to_vec())
            }
            _ => Err(MintError::Crypto),
        }
    }
}

/// Builds a token; any header field or claim can be set or removed, to make bad tokens too.
#[derive(Debug)]
pub struct TokenBuilder<'k> {
    key: &'k SigningKey,
    header: Map<String, Value>,
    claims: Map<String, Value>,
}

impl TokenBuilder<'_> {
    /// Sets a header field.
    #[must_use]
    pub fn header(mut self, name: &str, value: impl Into<Value>) -> Self {
        self.header.insert(name.into(), value.into());
        self
    }

    /// Removes a header field.
    #[must_use]
    pub fn without_header(mut self, name: &str) -> Self {
        self.header.remove(name);
        self
    }

    /// Sets a claim.
    #[must_use]
    pub fn claim(mut self, name: &str, value: impl Into<Value>) -> Self {
        self.claims.insert(name.into(), value.into());
        self
    }

    /// Removes a claim.
    #[must_use]
    pub fn without_claim(mut self, name: &str) -> Self {
        self.claims.remove(name);
        self
    }

    /// Sets `exp` to `secs` seconds from now (negative: in the past).
    #[must_use]
    pub fn expires_in(self, secs: i64) -> Self {
        self.claim("exp", now_secs() + secs)
    }

    /// The compact JWS, signed with the key and the header's `alg` (the key's default when
    /// `alg` is not one it can sign with).
    ///
    /// # Errors
    /// When signing fails.
    pub fn sign(&self) -> Result<String, MintError> {
        let signing_input = format!(
            "{}.{}",
            encode_json(&Value::Object(self.header.clone())),
            encode_json(&Value::Object(self.claims.clone()))
        );
        let alg = self
            .header
            .get("alg")
            .and_then(Value::as_str)
            .and_then(|alg| alg.parse().ok())
            .filter(|alg| self.key.can_sign(*alg))
            .unwrap_or(self.key.default_alg());
        let signature = self.key.sign(alg, signing_input.as_bytes())?;
        Ok(format!(
            "{signing_input}.{}",
            URL_SAFE_NO_PAD.encode(signature)
        ))
    }
}

/// base64url (no padding) of a JSON value.
pub fn encode_json(value: &Value) -> String {
    URL_SAFE_NO_PAD.encode(value.to_string())
}

/// The current Unix time in whole seconds.
pub fn now_secs() -> i64 {
    #[allow(clippy::cast_possible_truncation)]
    let secs = now() as i64;
    secs
}

fn der(pem: &str) -> Result<Vec<u8>, MintError> {
    let body: String = pem
        .lines()
        .filter(|line| !line.starts_with("-----"))
        .collect();
    STANDARD
        .decode(body.trim())
        .map_err(|_| MintError::BadKey("PEM"))
}
