//! The request log and the request id. One line per request,
//! `%a "METHOD /path" status bytes duration rid=ID`: it leaves out the query string and every
//! request header, so that no token or `Authorization` header is ever written to the log. Every
//! response carries `X-Request-Id`: the caller's, when it is a plain id, or a new one.
//!
//! actix-web's `Logger` clones its parsed format and renders it on every request, even when
//! `info` is off; this does the work only when the line will be written.

use std::borrow::Cow;
use std::hash::{BuildHasher, RandomState};
use std::sync::LazyLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use actix_web::body::{BodySize, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{Error, web};

use crate::metrics::{HttpMetrics, RouteSeries, UNMATCHED};

/// The request id header, read from the caller and set on every response.
pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The longest caller-supplied request id kept; longer ones are replaced.
const MAX_REQUEST_ID_BYTES: usize = 128;

/// The caller's `X-Request-Id` when it is 1 to 128 of `A-Z a-z 0-9 . _ : -` (nothing that could
/// forge a log line), or a new id: a random per-process prefix and a counter, unique and cheap.
fn request_id(req: &ServiceRequest) -> HeaderValue {
    static PREFIX: LazyLock<u64> = LazyLock::new(|| RandomState::new().hash_one("request-id"));
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let plain = |id: &&HeaderValue| {
        (1..=MAX_REQUEST_ID_BYTES).contains(&id.len())
            && id
                .as_bytes()
                .iter()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b':' | b'-'))
    };
    if let Some(id) = req.headers().get(&REQUEST_ID).filter(plain) {
        return id.clone();
    }
    let id = format!(
        "{:016x}-{:x}",
        *PREFIX,
        NEXT.fetch_add(1, Ordering::Relaxed)
    );
    // Takes the string's buffer over; hex digits and `-` always make a valid value.
    HeaderValue::try_from(id).unwrap_or_else(|_| HeaderValue::from_static("-"))
}

/// `text` escaped for the text line's quoted request (`"` and `\` get a backslash), so that
/// a path cannot close the quotes and forge the rest of the line. The JSON format escapes it
/// on its own.
fn quoted(text: &str) -> Cow<'_, str> {
    if !text.contains(['"', '\\']) {
        return Cow::Borrowed(text);
    }
    let mut escaped = String::with_capacity(text.len() + 4);
    for c in text.chars() {
        if matches!(c, '"' | '\\') {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    Cow::Owned(escaped)
}

/// The log target of request lines, so that `RUST_LOG=api::request=warn` can turn them off.
pub const TARGET: &str = "api::request";

/// Logs the request and records it in the HTTP metrics (when [`HttpMetrics`] is app data), once
/// its response is ready (use with `middleware::from_fn`). One layer does both, so that they
/// share the clock readings and the route lookup.
///
/// # Errors
/// Whatever the wrapped service returns.
pub async fn request_log(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let id = request_id(&req);
    let logging = log::log_enabled!(target: TARGET, log::Level::Info);
    let measuring = req.app_data::<web::Data<HttpMetrics>>().is_some();
    if !logging && !measuring {
        let mut response = next.call(req).await?;
        response.headers_mut().insert(REQUEST_ID, id);
        return Ok(response);
    }
    let start = Instant::now();
    let method = req.method().clone();
    let path = logging.then(|| req.path().to_owned());
    let mut response = next.call(req).await?;
    let duration = start.elapsed();
    let status = response.status().as_u16();
    let request = response.request();
    // The route's pattern, which names a route whatever its path holds: the resource's name
    // when it has one (`routes::get` names each by its pattern), found without a lookup.
    let route: Cow<'_, str> = match request.match_name() {
        Some(name) => Cow::Borrowed(name),
        None => request
            .match_pattern()
            .map_or(Cow::Borrowed(UNMATCHED), Cow::Owned),
    };
    if let Some(metrics) = request.app_data::<web::Data<HttpMetrics>>() {
        let series = request.app_data::<RouteSeries>();
        metrics.observe(series, &method, &route, status, duration);
    }
    if let Some(path) = path {
        let peer = request
            .peer_addr()
            .map_or_else(|| "-".to_owned(), |addr| addr.ip().to_string());
        let bytes = match response.response().body().size() {
            BodySize::Sized(n) => n.to_string(),
            BodySize::None => "0".to_owned(),
            BodySize::Stream => "-".to_owned(),
        };
        let duration_ms = duration.as_secs_f64() * 1000.0;
        // A plain id by construction (see `request_id`).
        let request_id = id.to_str().unwrap_or("-");
        log::info!(
            target: TARGET,
            method = method.as_str(),
            path = path.as_str(),
            route = &*route,
            status = status,
            duration_ms = duration_ms,
            request_id = request_id;
            "{peer} \"{method} {}\" {status} {bytes} {duration_ms:.6}ms rid={request_id}",
            quoted(&path)
        );
    }
    response.headers_mut().insert(REQUEST_ID, id);
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::quoted;

    #[test]
    fn a_quote_in_the_path_cannot_close_the_quoted_request() {
        assert_eq!(quoted("/api/public"), "/api/public");
        assert_eq!(
            quoted(r#"/a" 200 0 0ms rid=forged "x"#),
            r#"/a\" 200 0 0ms rid=forged \"x"#
        );
        assert_eq!(quoted(r"/a\b"), r"/a\\b");
    }
}
