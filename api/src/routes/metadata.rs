//! `GET /.well-known/oauth-protected-resource`: the protected resource metadata of RFC 9728, by
//! which a client (an MCP client, for one) discovers which authorization servers issue tokens
//! for this API, and how to present them.

use actix_web::{HttpResponse, web};
use serde::Serialize;

/// Where the document is served, relative to the API's public URL.
pub const PATH: &str = "/.well-known/oauth-protected-resource";

/// The metadata document (RFC 9728 §2).
#[derive(Debug, Clone, Serialize)]
pub struct ResourceMetadata {
    /// The API's identifier: `server.public_url`, or else the first audience.
    pub resource: String,
    /// The issuers whose tokens the API accepts.
    pub authorization_servers: Vec<String>,
    /// The scopes the routes require.
    pub scopes_supported: Vec<String>,
    /// How tokens are presented: only in the `Authorization` header.
    pub bearer_methods_supported: [&'static str; 1],
    /// The signature algorithms accepted.
    pub resource_signing_alg_values_supported: Vec<String>,
}

/// The URL of the document for an API served at `public_url`.
pub fn url(public_url: &str) -> String {
    format!("{}{PATH}", public_url.trim_end_matches('/'))
}

pub async fn serve(metadata: web::Data<ResourceMetadata>) -> HttpResponse {
    HttpResponse::Ok().json(&**metadata)
}
