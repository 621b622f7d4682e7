//! The tower glue: [`RequireAuth`] as a tower `Layer` copies an `http::Request`'s header values
//! into a [`Request`], lets [`RequireAuth::check`] decide, and stores the claims in the
//! request's extensions or copies the refusal out as the response. No check lives here, as in
//! the actix glue: both answer every request alike, and one `RequireAuth` value serves both.
//!
//! It uses the `http` and tower types that axum, tonic and hyper share, so it serves any of
//! them. With the `axum` feature, handlers take [`Claims`](crate::Claims) (or `Option<Claims>` on an optional
//! route) as an extractor.
//!
//! ```no_run
//! # #[cfg(feature = "axum")]
//! # fn app(authenticator: oauth2_jwt_bearer::Authenticator) -> axum::Router {
//! use axum::{Router, routing::get};
//! use oauth2_jwt_bearer::{Claims, Policy, RequireAuth};
//!
//! Router::new().route(
//!     "/api/private-scoped",
//!     get(|claims: Claims| async move { claims.sub().unwrap_or_default().to_owned() })
//!         .layer(RequireAuth::new(authenticator).policy(Policy::scope("read:messages"))),
//! )
//! # }
//! ```
//!
//! A DPoP proof names the request's URL (`htu`), so the layer must see the path the client
//! sent: put it on the route (as above) or the outer router, not inside a nested router, which
//! strips its prefix from the path.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::header::{AUTHORIZATION, HeaderMap, HeaderName, HeaderValue};
use http::request::Parts;
use http::{Response, StatusCode};
use http_body_util::{Either, Full};
use tower_layer::Layer;
use tower_service::Service;

use crate::request::{Field, Request, RequireAuth};
use crate::response::Refusal;

/// The body of a guarded route's response: the route's own, or a refusal's JSON.
pub type ResponseBody<B> = Either<B, Full<Bytes>>;

/// [`RequireAuth`] as a tower layer: it wraps a service so that each request is checked first.
impl<S> Layer<S> for RequireAuth {
    type Service = RequireAuthService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        RequireAuthService {
            inner,
            guard: self.clone(),
        }
    }
}

/// The service that [`RequireAuth`] wraps around another: it runs the check first, then
/// the inner service, or answers the refusal.
#[derive(Debug, Clone)]
pub struct RequireAuthService<S> {
    inner: S,
    guard: RequireAuth,
}

impl<S, ReqBody, ResBody> Service<http::Request<ReqBody>> for RequireAuthService<S>
where
    S: Service<http::Request<ReqBody>, Response = Response<ResBody>> + Clone + Send + 'static,
    S::Future: Send,
    ReqBody: Send + 'static,
{
    type Response = Response<ResponseBody<ResBody>>;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<ReqBody>) -> Self::Future {
        let guard = self.guard.clone();
        // The service polled ready answers this request; its clone waits for the next one.
        let next = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, next);
        Box::pin(async move {
            // Only the head is borrowed while the check waits: bodies need not be `Sync`.
            let (mut parts, body) = request.into_parts();
            let verdict = guard.check(&view(&parts, &guard)).await;
            match verdict {
                Ok(passed) => {
                    if let Some(claims) = passed.claims.clone() {
                        parts.extensions.insert(claims);
                    }
                    let request = http::Request::from_parts(parts, body);
                    let mut response = inner.call(request).await?.map(Either::Left);
                    copy_headers(response.headers_mut(), passed.headers());
                    Ok(response)
                }
                Err(refusal) => Ok(response(refusal).map(Either::Right)),
            }
        })
    }
}

/// What the decision reads of a request's head.
fn view<'a>(parts: &'a Parts, guard: &RequireAuth) -> Request<'a> {
    let headers = &parts.headers;
    Request {
        method: parts.method.as_str(),
        path: parts.uri.path(),
        query: parts.uri.query().unwrap_or_default(),
        authorization: field(headers, AUTHORIZATION.as_str()),
        dpop: field(headers, "dpop"),
        certificate: guard
            .certificate_header()
            .map(|name| field(headers, name))
            .unwrap_or_default(),
    }
}

/// Every value of the header `name`.
fn field<'a>(headers: &'a HeaderMap, name: &str) -> Field<'a> {
    Field::new(headers.get_all(name).iter().map(HeaderValue::as_bytes))
}

/// Sets each header; our values are visible ASCII, and one that were not is left out, never a
/// panic.
fn copy_headers(headers: &mut HeaderMap, from: impl Iterator<Item = (&'static str, String)>) {
    for (name, value) in from {
        if let Ok(value) = HeaderValue::try_from(value) {
            headers.insert(HeaderName::from_static(name), value);
        }
    }
}

/// A refusal as an `http` response, copied out as it is.
pub(crate) fn response(refusal: Refusal) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::default());
    *response.status_mut() =
        StatusCode::from_u16(refusal.status).unwrap_or(StatusCode::UNAUTHORIZED);
    copy_headers(response.headers_mut(), refusal.headers());
    *response.body_mut() = Full::new(Bytes::from(refusal.body));
    response
}

#[cfg(feature = "axum")]
mod axum {
    //! axum's extractors for the claims the layer stored.

    use std::convert::Infallible;

    use axum_core::extract::{FromRequestParts, OptionalFromRequestParts};
    use axum_core::response::{IntoResponse, Response};
    use http::request::Parts;

    use crate::claims::Claims;
    use crate::error::AuthError;
    use crate::response::ChallengeParams;

    /// The claims that [`crate::RequireAuth`] stored; on a route without it, a 401 (fail
    /// closed).
    impl<S: Send + Sync> FromRequestParts<S> for Claims {
        type Rejection = AuthError;

        async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, AuthError> {
            parts
                .extensions
                .get::<Claims>()
                .cloned()
                .ok_or(AuthError::MissingToken)
        }
    }

    /// The claims on an optional route: `None` for an anonymous caller.
    impl<S: Send + Sync> OptionalFromRequestParts<S> for Claims {
        type Rejection = Infallible;

        async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Option<Self>, Infallible> {
            Ok(parts.extensions.get::<Claims>().cloned())
        }
    }

    /// The whole answer, with the default challenge parameters.
    impl IntoResponse for AuthError {
        fn into_response(self) -> Response {
            super::response(self.refusal(&ChallengeParams::default()))
                .map(axum_core::body::Body::new)
        }
    }
}
