//! A DPoP client for tests, as real clients behave: a fresh proof per request, the server nonce
//! it was last handed (`DPoP-Nonce`) in each proof, and one retry when the answer is 401
//! `use_dpop_nonce`.

use std::sync::Mutex;

use actix_web::http::StatusCode;
use actix_web::http::header::HeaderMap;
use actix_web::web::Bytes;

use super::SigningKey;

/// A whole answer.
#[derive(Debug, Clone)]
pub struct DpopReply {
    /// The status.
    pub status: StatusCode,
    /// The headers.
    pub headers: HeaderMap,
    /// The body.
    pub body: Bytes,
}

/// Sends DPoP requests with one key, keeping the server's latest nonce.
pub struct DpopClient<'k> {
    key: &'k SigningKey,
    http: awc::Client,
    nonce: Mutex<Option<String>>,
}

/// Why a request got no answer.
#[derive(Debug, thiserror::Error)]
pub enum DpopClientError {
    /// The proof could not be signed.
    #[error("cannot sign the proof: {0}")]
    Sign(#[from] super::MintError),
    /// The request failed on the way.
    #[error("the request failed: {0}")]
    Send(String),
}

impl std::fmt::Debug for DpopClient<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DpopClient")
            .field("key", &self.key)
            .field("nonce", &self.nonce())
            .finish_non_exhaustive()
    }
}

impl<'k> DpopClient<'k> {
    /// A client whose proofs `key` signs.
    pub fn new(key: &'k SigningKey) -> Self {
        Self {
            key,
            http: awc::Client::default(),
            nonce: Mutex::new(None),
        }
    }

    /// The server nonce the next proof will carry, if the server has handed one out.
    pub fn nonce(&self) -> Option<String> {
        self.nonce
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// `GET url` with `token` under the DPoP scheme; the proof names `htu` (the API's public
    /// URL of the request). Answered `use_dpop_nonce`, it sends once more with the nonce.
    ///
    /// # Errors
    /// When the proof cannot be signed or the request fails.
    pub async fn get(
        &self,
        url: &str,
        htu: &str,
        token: &str,
    ) -> Result<DpopReply, DpopClientError> {
        let first = self.send(url, htu, token).await?;
        if first.status == StatusCode::UNAUTHORIZED && asks_for_nonce(&first.headers) {
            return self.send(url, htu, token).await;
        }
        Ok(first)
    }

    async fn send(&self, url: &str, htu: &str, token: &str) -> Result<DpopReply, DpopClientError> {
        let mut proof = self.key.dpop_proof("GET", htu, token);
        if let Some(nonce) = self.nonce() {
            proof = proof.claim("nonce", nonce);
        }
        let mut response = self
            .http
            .get(url)
            .insert_header(("Authorization", format!("DPoP {token}")))
            .insert_header(("DPoP", proof.sign()?))
            .send()
            .await
            .map_err(|error| DpopClientError::Send(error.to_string()))?;
        let body = response
            .body()
            .await
            .map_err(|error| DpopClientError::Send(error.to_string()))?;
        let headers = response.headers().clone();
        if let Some(nonce) = headers.get("dpop-nonce").and_then(|v| v.to_str().ok()) {
            *self
                .nonce
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(nonce.to_owned());
        }
        Ok(DpopReply {
            status: response.status(),
            headers,
            body,
        })
    }
}

/// Whether the answer's challenge is `use_dpop_nonce` with a nonce to use.
fn asks_for_nonce(headers: &HeaderMap) -> bool {
    headers.contains_key("dpop-nonce")
        && headers
            .get_all("www-authenticate")
            .filter_map(|v| v.to_str().ok())
            .any(|challenge| challenge.contains(r#"error="use_dpop_nonce""#))
}
