//! The actix glue: [`RequireAuth`] authenticates a request and stores its claims;
//! [`RequireScope`] checks those claims for one scope.

use std::future::{Ready, ready};
use std::rc::Rc;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Service, ServiceRequest, ServiceResponse, Transform, forward_ready};
use actix_web::{Error, HttpMessage, ResponseError};
use futures_util::future::LocalBoxFuture;

use crate::authenticator::Authenticator;
use crate::claims::Claims;
use crate::credentials::{bearer_token, query_has_token};
use crate::error::{AuthError, InvalidRequest};

/// Middleware that lets through only requests with a valid bearer token, and hands their
/// [`Claims`] to the handler.
#[derive(Clone)]
pub struct RequireAuth {
    authenticator: Authenticator,
}

impl RequireAuth {
    /// Guards a route or scope with `authenticator`.
    pub fn new(authenticator: Authenticator) -> Self {
        Self { authenticator }
    }
}

/// Middleware that lets through only requests whose claims grant one scope; others get 403
/// `insufficient_scope`. Wrap it inside [`RequireAuth`] (actix runs the last `wrap` first):
/// without authenticated claims it answers 401, so a mistake fails closed.
#[derive(Clone)]
pub struct RequireScope {
    scope: Rc<str>,
}

impl RequireScope {
    /// Requires `scope`, compared exactly against `scope` (and `permissions`).
    pub fn new(scope: impl Into<String>) -> Self {
        Self {
            scope: Rc::from(scope.into()),
        }
    }
}

/// One check run before the wrapped service.
trait Check: Clone + 'static {
    /// Ok with claims to store for the handler, or Ok(None) to pass the request on as it is.
    fn check(
        &self,
        req: &ServiceRequest,
    ) -> LocalBoxFuture<'static, Result<Option<Claims>, AuthError>>;

    /// Logs a refusal. Never the token itself.
    fn log_refusal(&self, req: &ServiceRequest, error: &AuthError) {
        log::debug!("{} {}: refused: {error}", req.method(), req.path());
    }
}

impl Check for RequireAuth {
    fn check(
        &self,
        req: &ServiceRequest,
    ) -> LocalBoxFuture<'static, Result<Option<Claims>, AuthError>> {
        // Copy out only the token, not the whole header map.
        let token = if query_has_token(req.query_string()) {
            Err(AuthError::InvalidRequest(InvalidRequest::TokenInQuery))
        } else {
            bearer_token(req.headers()).map(str::to_owned)
        };
        let authenticator = self.authenticator.clone();
        Box::pin(async move { authenticator.verify(&token?).await.map(Some) })
    }

    fn log_refusal(&self, req: &ServiceRequest, error: &AuthError) {
        self.authenticator
            .log_refusal(req.method().as_str(), req.path(), error);
    }
}

impl Check for RequireScope {
    fn check(
        &self,
        req: &ServiceRequest,
    ) -> LocalBoxFuture<'static, Result<Option<Claims>, AuthError>> {
        let outcome = match req.extensions().get::<Claims>() {
            None => Err(AuthError::MissingToken),
            Some(claims) if claims.has_scope(&self.scope) => Ok(None),
            Some(_) => Err(AuthError::InsufficientScope {
                scope: self.scope.to_string(),
            }),
        };
        Box::pin(ready(outcome))
    }
}

macro_rules! transform_for {
    ($check:ty) => {
        impl<S, B> Transform<S, ServiceRequest> for $check
        where
            S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
            B: MessageBody + 'static,
        {
            type Response = ServiceResponse<EitherBody<B>>;
            type Error = Error;
            type Transform = Checked<S, $check>;
            type InitError = ();
            type Future = Ready<Result<Self::Transform, Self::InitError>>;

            fn new_transform(&self, service: S) -> Self::Future {
                ready(Ok(Checked {
                    service: Rc::new(service),
                    check: self.clone(),
                }))
            }
        }
    };
}

transform_for!(RequireAuth);
transform_for!(RequireScope);

/// A service behind a [`Check`].
pub struct Checked<S, C> {
    service: Rc<S>,
    check: C,
}

impl<S, B, C> Service<ServiceRequest> for Checked<S, C>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    B: MessageBody + 'static,
    C: Check,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = Error;
    type Future = LocalBoxFuture<'static, Result<Self::Response, Self::Error>>;

    forward_ready!(service);

    fn call(&self, req: ServiceRequest) -> Self::Future {
        let check = self.check.check(&req);
        let checker = self.check.clone();
        let service = Rc::clone(&self.service);
        Box::pin(async move {
            match check.await {
                Ok(claims) => {
                    if let Some(claims) = claims {
                        req.extensions_mut().insert(claims);
                    }
                    Ok(service.call(req).await?.map_into_left_body())
                }
                Err(error) => {
                    checker.log_refusal(&req, &error);
                    let response = error.error_response();
                    Ok(req.into_response(response).map_into_right_body())
                }
            }
        })
    }
}
