//! The protected resource metadata of RFC 9728, by which a client (an MCP client, for one)
//! discovers which authorization servers issue tokens for this API, and how to present them.
//! It is served only when `auth.public_url` names the resource: without it, the API has no
//! identifier to publish.

use actix_web::{HttpResponse, web};
use auth::{Authenticator, DpopMode};
use serde::Serialize;

/// Where the document of a resource is published
/// ([`auth::config::resource_metadata_location`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    /// The document's full URL, which challenges name as `resource_metadata`.
    pub url: String,
    /// The path this server answers it on.
    pub path: String,
}

/// What the document says that is fixed at startup; the issuers are read per request, since
/// discovery settles their exact form.
#[derive(Debug, Clone)]
pub struct ResourceMetadata {
    /// The API's identifier: `auth.public_url`, exactly as configured.
    pub resource: String,
    /// The scopes the routes require (never `offline_access`).
    pub scopes_supported: Vec<String>,
}

/// The document (RFC 9728 §2).
#[derive(Serialize)]
struct Document<'a> {
    resource: &'a str,
    authorization_servers: Vec<String>,
    scopes_supported: &'a [String],
    bearer_methods_supported: [&'static str; 1],
    /// The DPoP proof algorithms accepted (RFC 9728 §2), unless DPoP is disabled.
    #[serde(skip_serializing_if = "Option::is_none")]
    dpop_signing_alg_values_supported: Option<Vec<&'static str>>,
    /// Present, and true, only when every token must be DPoP-bound.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    dpop_bound_access_tokens_required: bool,
}

pub async fn serve(
    metadata: web::Data<ResourceMetadata>,
    authenticator: web::Data<Authenticator>,
) -> HttpResponse {
    HttpResponse::Ok().json(document(&metadata, &authenticator))
}

/// The document [`serve`] answers, whatever framework serves it.
pub fn document(metadata: &ResourceMetadata, authenticator: &Authenticator) -> serde_json::Value {
    let document = Document {
        resource: &metadata.resource,
        authorization_servers: authenticator.issuers(),
        scopes_supported: &metadata.scopes_supported,
        bearer_methods_supported: ["header"],
        dpop_signing_alg_values_supported: (authenticator.dpop_mode() != DpopMode::Disabled).then(
            || {
                authenticator
                    .dpop_algorithms()
                    .iter()
                    .map(|alg| alg.as_str())
                    .collect()
            },
        ),
        dpop_bound_access_tokens_required: authenticator.dpop_mode() == DpopMode::Required,
    };
    // A struct of strings, lists and booleans always serializes.
    serde_json::to_value(document).unwrap_or_default()
}
