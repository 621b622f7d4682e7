//! The actix glue: [`RequireAuth`] authenticates a request, checks the route's [`Policy`], and
//! stores the claims for the handler.

use std::future::{Ready, ready};
use std::rc::Rc;
use std::sync::{Arc, LazyLock};
use std::time::{Duration, Instant};

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Service, ServiceRequest, ServiceResponse, Transform, forward_ready};
use actix_web::{Error, HttpMessage};
use futures_util::future::LocalBoxFuture;

use super::authorization;
use crate::authenticator::Authenticator;
use crate::authenticator::Probe;
use crate::claims::Claims;
use crate::credentials::{parse_token, query_has_token, token_candidate, token_text};
use crate::error::{AuthError, InvalidRequest};
use crate::policy::Policy;
use crate::response::ChallengeParams;
use crate::throttle::Throttle;
use crate::validation::now;

/// Middleware that lets through only requests with a valid bearer token that meets the route's
/// [`Policy`], and hands their [`Claims`] to the handler. With [`RequireAuth::optional`], a
/// request without an `Authorization` header passes on as anonymous.
#[derive(Debug, Clone)]
pub struct RequireAuth {
    authenticator: Authenticator,
    // `Arc`, not `Rc`: a `RequireAuth` built outside `HttpServer::new`'s factory must be `Send`.
    policy: Option<Arc<Policy>>,
    optional: bool,
}

impl RequireAuth {
    /// Guards a route or scope with `authenticator`.
    pub fn new(authenticator: Authenticator) -> Self {
        Self {
            authenticator,
            policy: None,
            optional: false,
        }
    }

    /// Also requires `policy` (added to any policy already given): see [`Policy`] for the
    /// answers of each rule.
    #[must_use]
    pub fn policy(mut self, policy: Policy) -> Self {
        let policy = match self.policy.take() {
            Some(current) => Policy::clone(&current).and(policy),
            None => policy,
        };
        self.policy = (!policy.is_empty()).then(|| Arc::new(policy));
        self
    }

    /// Lets a request with no `Authorization` header through as anonymous: the handler's
    /// `Option<Claims>` is `None`. Any request that does send the header is checked in full and
    /// refused as on a required route: a bad token is 401 and a key outage 503, never
    /// anonymous. A token in the query string is still 400. With a policy, anonymous callers
    /// get the bare 401, since they cannot meet it.
    #[must_use]
    pub fn optional(mut self) -> Self {
        self.optional = true;
        self
    }

    /// The claims, if they meet the policy (when there is one) at `now`.
    fn granted(&self, claims: Claims, now: f64) -> Result<Claims, AuthError> {
        match &self.policy {
            Some(policy) => policy
                .check(&claims, now, self.authenticator.leeway())
                .map(|()| claims),
            None => Ok(claims),
        }
    }

    /// The request's answer: Ok with claims to store for the handler, or Ok(None) to pass the
    /// request on as anonymous. The clock is read once: the token's time checks and the
    /// route's policy see the same instant.
    fn check(
        &self,
        req: &ServiceRequest,
    ) -> LocalBoxFuture<'static, Result<Option<Claims>, AuthError>> {
        if query_has_token(req.query_string()) {
            let refused = Err(AuthError::InvalidRequest(InvalidRequest::TokenInQuery));
            return Box::pin(ready(self.answer(refused, false)));
        }
        let value = match authorization(req.headers()) {
            Ok(value) => value,
            Err(AuthError::MissingToken) if self.optional => {
                let anonymous = match self.policy {
                    Some(_) => Err(AuthError::MissingToken),
                    None => Ok(None),
                };
                self.authenticator.metrics().checked(&anonymous, false);
                return Box::pin(ready(anonymous));
            }
            Err(error) => return Box::pin(ready(self.answer(Err(error), false))),
        };
        // A token seen before is answered from the cache, without the full header check.
        let candidate = token_candidate(value.as_bytes());
        let digest = match &candidate {
            Some(range) => {
                let now = now();
                match self
                    .authenticator
                    .probe(&value.as_bytes()[range.clone()], now)
                {
                    Probe::Hit(verdict) => {
                        let verdict = verdict.map(|claims| (claims, now));
                        return Box::pin(ready(self.answer(verdict, true)));
                    }
                    Probe::Miss(digest) => digest,
                }
            }
            None => None,
        };
        // Keep only the header value (its bytes are shared, not copied) and the token's place.
        let token = parse_token(value.as_bytes()).map(|range| {
            // The digest is the cache key of the candidate: use it only for that same token.
            let digest = digest.filter(|_| candidate.as_ref() == Some(&range));
            (value.clone(), range, digest)
        });
        let this = self.clone();
        Box::pin(async move {
            let verdict = async {
                let (value, range, digest) = token?;
                this.authenticator
                    .verify_uncached(token_text(value.as_bytes(), range)?, digest)
                    .await
            }
            .await;
            this.answer(verdict, false)
        })
    }

    /// The answer for a token's `verdict` (its claims and the time they were checked at;
    /// `cached` when the token cache gave it), after the policy check, counted in the
    /// authenticator's metrics.
    fn answer(
        &self,
        verdict: Result<(Claims, f64), AuthError>,
        cached: bool,
    ) -> Result<Option<Claims>, AuthError> {
        let answer = verdict
            .and_then(|(claims, now)| self.granted(claims, now))
            .map(Some);
        self.authenticator.metrics().checked(&answer, cached);
        answer
    }

    /// The scopes the route requires, space-separated, which 401 challenges name.
    fn route_scopes(&self) -> Option<String> {
        let policy = self.policy.as_ref()?;
        let mut scopes: Vec<&str> = Vec::new();
        for scope in policy.scopes() {
            if scope != OFFLINE_ACCESS && !scopes.contains(&scope) {
                scopes.push(scope);
            }
        }
        (!scopes.is_empty()).then(|| scopes.join(" "))
    }
}

/// Never named in a challenge: a refresh-token grant, not a permission on this resource.
const OFFLINE_ACCESS: &str = "offline_access";

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
        let challenges = Challenges {
            realm: Box::from(self.authenticator.realm()),
            metadata: self
                .authenticator
                .resource_metadata()
                .map(|url| Box::from(&*url)),
            scopes: self.route_scopes().map(Box::from),
        };
        ready(Ok(Checked {
            service: Rc::new(service),
            auth: self.clone(),
            challenges: Rc::new(challenges),
        }))
    }
}

/// What a route's refusals name beside their error, worked out once per worker.
#[derive(Debug)]
struct Challenges {
    realm: Box<str>,
    /// The RFC 9728 metadata URL.
    metadata: Option<Box<str>>,
    /// The scopes the route requires, for 401 challenges.
    scopes: Option<Box<str>>,
}

/// The service that [`RequireAuth`] wraps around a route: it runs the check first, then the
/// route, or answers the refusal.
#[derive(Debug)]
pub struct Checked<S> {
    service: Rc<S>,
    auth: RequireAuth,
    challenges: Rc<Challenges>,
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
        let check = self.auth.check(&req);
        let challenges = Rc::clone(&self.challenges);
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
                    log_refusal(&req, &error);
                    let params = ChallengeParams::new(&challenges.realm)
                        .resource_metadata(challenges.metadata.as_deref())
                        .route_scopes(challenges.scopes.as_deref());
                    let response = error.response(&params);
                    Ok(req.into_response(response).map_into_right_body())
                }
            }
        })
    }
}

/// Key outages (503s) are logged at most once per this interval, process-wide.
const OUTAGE_LOG_INTERVAL: Duration = Duration::from_secs(5);

/// Logs a refusal: client faults at debug; a key outage at error, at most once per
/// [`OUTAGE_LOG_INTERVAL`] with the count left out, so that an attacker cannot flood the log
/// during an outage. Never the token itself.
fn log_refusal(req: &ServiceRequest, error: &AuthError) {
    static OUTAGE_LOG: LazyLock<Throttle> = LazyLock::new(|| Throttle::new(OUTAGE_LOG_INTERVAL));
    if !matches!(error, AuthError::KeysUnavailable { .. }) {
        log::debug!("{} {}: refused: {error}", req.method(), req.path());
    } else if let Some(left_out) = OUTAGE_LOG.permit(Instant::now()) {
        log::error!(
            "{} {}: answered 503: {error} ({left_out} more 503s since the last such line)",
            req.method(),
            req.path()
        );
    }
}

// A `RequireAuth` built outside `HttpServer::new`'s factory must be able to move into it.
const _: () = {
    const fn send_and_sync<T: Send + Sync>() {}
    send_and_sync::<RequireAuth>();
};
