//! The actix glue: [`RequireAuth`] copies the request's header values into a
//! [`crate::request::Request`], lets the route's [`Guard`] decide, and stores the claims for the
//! handler or copies the refusal out as the response. No check lives here.

use std::future::{Ready, ready};
use std::rc::Rc;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Service, ServiceRequest, ServiceResponse, Transform, forward_ready};
use actix_web::http::header::{AUTHORIZATION, HeaderMap, HeaderValue};
use actix_web::{Error, HttpMessage};
use futures_util::future::LocalBoxFuture;

use super::response;
use crate::authenticator::Authenticator;
use crate::policy::Policy;
use crate::request::{Field, Guard, Request};

/// Middleware that lets through only requests with a valid token that meets the route's
/// [`Policy`], and hands their [`crate::Claims`] to the handler. With
/// [`RequireAuth::optional`], a request without an `Authorization` header passes on as
/// anonymous.
#[derive(Debug, Clone)]
pub struct RequireAuth {
    guard: Guard,
}

impl RequireAuth {
    /// Guards a route or scope with `authenticator`.
    pub fn new(authenticator: Authenticator) -> Self {
        Self {
            guard: Guard::new(authenticator),
        }
    }

    /// Also requires `policy` (added to any policy already given): see [`Policy`] for the
    /// answers of each rule.
    #[must_use]
    pub fn policy(self, policy: Policy) -> Self {
        Self {
            guard: self.guard.policy(policy),
        }
    }

    /// Lets a request with no `Authorization` header through as anonymous: the handler's
    /// `Option<Claims>` is `None`. Any request that does send the header is checked in full and
    /// refused as on a required route: a bad token is 401 and a key outage 503, never
    /// anonymous. A token in the query string is still 400. With a policy, anonymous callers
    /// get the bare 401, since they cannot meet it.
    #[must_use]
    pub fn optional(self) -> Self {
        Self {
            guard: self.guard.optional(),
        }
    }
}

/// A route guard built once, served by actix (the same guard may serve a tower stack too).
impl From<Guard> for RequireAuth {
    fn from(guard: Guard) -> Self {
        Self { guard }
    }
}

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
            guard: self.guard.clone(),
        }))
    }
}

/// The service that [`RequireAuth`] wraps around a route: it runs the check first, then the
/// route, or answers the refusal.
#[derive(Debug)]
pub struct Checked<S> {
    service: Rc<S>,
    guard: Guard,
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
                Ok(claims) => {
                    if let Some(claims) = claims {
                        req.extensions_mut().insert(claims);
                    }
                    Ok(service.call(req).await?.map_into_left_body())
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

// A `RequireAuth` built outside `HttpServer::new`'s factory must be able to move into it.
const _: () = {
    const fn send_and_sync<T: Send + Sync>() {}
    send_and_sync::<RequireAuth>();
};
