//! The actix glue: [`RequireAuth`] as actix middleware copies the request's header values into
//! a [`Request`], lets [`RequireAuth::check`] decide, and stores the claims for the
//! handler or copies the refusal out as the response. No check lives here.

use std::future::{Ready, ready};
use std::rc::Rc;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Service, ServiceRequest, ServiceResponse, Transform, forward_ready};
use actix_web::http::header::{AUTHORIZATION, HeaderMap, HeaderName, HeaderValue};
use actix_web::{Error, HttpMessage};
use futures_util::future::LocalBoxFuture;

use super::response;
use crate::request::{Field, Request, RequireAuth};

impl<S, B> Transform<S, ServiceRequest> for RequireAuth
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = Error;
    type Transform = Checked<S>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(Checked {
            service: Rc::new(service),
            guard: self.clone(),
        }))
    }
}

/// The service that [`RequireAuth`] wraps around a route: it runs the check first, then the
/// route, or answers the refusal.
#[derive(Debug)]
pub struct Checked<S> {
    service: Rc<S>,
    guard: RequireAuth,
}

impl<S, B> Service<ServiceRequest> for Checked<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = Error;
    type Future = LocalBoxFuture<'static, Result<Self::Response, Self::Error>>;

    forward_ready!(service);

    fn call(&self, req: ServiceRequest) -> Self::Future {
        let guard = self.guard.clone();
        let service = Rc::clone(&self.service);
        Box::pin(async move {
            let verdict = {
                let headers = req.headers();
                let request = Request {
                    method: req.method().as_str(),
                    path: req.uri().path(),
                    query: req.query_string(),
                    authorization: field(headers, AUTHORIZATION.as_str()),
                    dpop: field(headers, "dpop"),
                    certificate: guard
                        .certificate_header()
                        .map(|name| field(headers, name))
                        .unwrap_or_default(),
                };
                guard.check(&request).await
            };
            match verdict {
                Ok(passed) => {
                    if let Some(claims) = passed.claims.clone() {
                        req.extensions_mut().insert(claims);
                    }
                    let mut response = service.call(req).await?;
                    for (name, value) in passed.headers() {
                        if let Ok(value) = HeaderValue::try_from(value) {
                            response
                                .headers_mut()
                                .insert(HeaderName::from_static(name), value);
                        }
                    }
                    Ok(response.map_into_left_body())
                }
                Err(refusal) => Ok(req.into_response(response(refusal)).map_into_right_body()),
            }
        })
    }
}

/// Every value of the header `name`.
fn field<'a>(headers: &'a HeaderMap, name: &str) -> Field<'a> {
    Field::new(headers.get_all(name).map(HeaderValue::as_bytes))
}
