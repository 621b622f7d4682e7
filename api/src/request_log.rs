//! The request log: one line per request, `%a "METHOD /path" status bytes duration`. It leaves
//! out the query string and every request header, so that no token or `Authorization` header
//! is ever written to the log.
//!
//! actix-web's `Logger` clones its parsed format and renders it on every request, even when
//! `info` is off; this does the work only when the line will be written.

use std::time::Instant;

use actix_web::Error;
use actix_web::body::{BodySize, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;

/// The log target of request lines, so that `RUST_LOG=api::request=warn` can turn them off.
pub const TARGET: &str = "api::request";

/// Logs the request once its response is ready (use with `middleware::from_fn`).
///
/// # Errors
/// Whatever the wrapped service returns.
pub async fn request_log(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    if !log::log_enabled!(target: TARGET, log::Level::Info) {
        return next.call(req).await;
    }
    let start = Instant::now();
    let peer = req
        .peer_addr()
        .map_or_else(|| "-".to_owned(), |addr| addr.ip().to_string());
    let line = format!("{peer} \"{} {}\"", req.method(), req.path());
    let response = next.call(req).await?;
    let bytes = match response.response().body().size() {
        BodySize::Sized(n) => n.to_string(),
        BodySize::None => "0".to_owned(),
        BodySize::Stream => "-".to_owned(),
    };
    log::info!(
        target: TARGET,
        "{line} {} {bytes} {:.6}ms",
        response.status().as_u16(),
        start.elapsed().as_secs_f64() * 1000.0
    );
    Ok(response)
}
