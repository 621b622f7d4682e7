//! The actix glue: [`RequireAuth`] authenticates a request, checks the route's [`Policy`], and
//! stores the claims for the handler.

use std::future::{Ready, ready};
use std::rc::Rc;
use std::sync::{Arc, LazyLock};
use std::time::{Duration, Instant};

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Service, ServiceRequest, ServiceResponse, Transform, forward_ready};
use actix_web::http::Method;
use actix_web::http::header::{HeaderMap, HeaderName, HeaderValue};
use actix_web::{Error, HttpMessage};
use futures_util::future::LocalBoxFuture;

use super::authorization;
use crate::authenticator::Authenticator;
use crate::authenticator::Probe;
use crate::cache::TokenDigest;
use crate::claims::Claims;
use crate::credentials::{parse, query_has_token, token_candidate, token_text};
use crate::dpop::{Proof, ProofError};
use crate::error::{AuthError, InvalidRequest, Offered};
use crate::policy::Policy;
use crate::response::{ChallengeParams, Scheme};
use crate::sender::{DpopMode, Presented};
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
    /// request on as anonymous. The clock is read once: the token's time checks, the DPoP
    /// proof's and the route's policy see the same instant. Only a DPoP proof, whose one use
    /// is recorded last, makes a cache hit wait.
    fn check(
        &self,
        req: &ServiceRequest,
    ) -> LocalBoxFuture<'static, Result<Option<Claims>, Refused>> {
        let sender = self.authenticator.sender();
        let only_dpop = sender.mode == DpopMode::Required;
        let fallback = if only_dpop {
            Scheme::Dpop
        } else {
            Scheme::Bearer
        };
        let refuse = |error: AuthError, used: Option<Scheme>| {
            let error = match error {
                AuthError::OtherScheme(_) => AuthError::OtherScheme(sender.mode.offered()),
                error => error,
            };
            let uses_dpop = used == Some(Scheme::Dpop);
            let scheme = used.unwrap_or(fallback);
            Box::pin(ready(self.conclude(Err(error), false, uses_dpop, scheme)))
        };
        let in_query = AuthError::InvalidRequest(InvalidRequest::TokenInQuery);
        if query_has_token(req.query_string()) {
            return refuse(in_query, None);
        }
        let headers = req.headers();
        let has_proof = sender.mode.aware() && headers.contains_key(&DPOP);
        let value = match authorization(headers) {
            Ok(value) => value,
            Err(AuthError::MissingToken) if has_proof => {
                let error = AuthError::InvalidRequest(InvalidRequest::ProofWithoutToken);
                return refuse(error, Some(Scheme::Dpop));
            }
            Err(AuthError::MissingToken) if self.optional => return self.anonymous(fallback),
            Err(error) => return refuse(error, None),
        };
        // The scheme and the token's place: at a glance when well-formed (enough for the
        // cache, which holds only tokens that passed), else from the full parse.
        let candidate = token_candidate(value.as_bytes());
        let (scheme, place) = match candidate.clone() {
            Some(candidate) => candidate,
            None => match parse(value.as_bytes()) {
                Ok(parsed) => parsed,
                Err(error) => return refuse(error, None),
            },
        };
        // The scheme gate comes before the token check: a mode that refuses the scheme never
        // tells whether the token is valid.
        if matches!(
            (sender.mode, scheme),
            (DpopMode::Disabled, Scheme::Dpop) | (DpopMode::Required, Scheme::Bearer)
        ) {
            return refuse(AuthError::OtherScheme(Offered::Bearer), None);
        }
        let proof = match scheme {
            Scheme::Dpop => match one_proof(headers) {
                Ok(proof) => Some(proof),
                Err(error) => return refuse(error, Some(Scheme::Dpop)),
            },
            Scheme::Bearer => None,
        };
        let stray_proof = scheme == Scheme::Bearer && has_proof;
        let (certificate, several_certificates) = match sender.certificate_header.as_deref() {
            Some(name) => {
                let mut values = headers.get_all(name);
                let first = values.next();
                (first, values.next().is_some())
            }
            None => (None, false),
        };
        // The raw path, for a DPoP proof's `htu`.
        let path = (scheme == Scheme::Dpop).then(|| req.uri().path());
        let path = path.unwrap_or_default();
        let sent = || {
            let method = req.method().as_str();
            let certificate = (certificate, several_certificates);
            presented(scheme, proof, stray_proof, certificate, method, path)
        };
        let uses_dpop = scheme == Scheme::Dpop || has_proof;

        // A token seen before is answered from the cache, without the full header check, and
        // with nothing of the request copied.
        let digest = match &candidate {
            Some((_, range)) => {
                let now = now();
                match self
                    .authenticator
                    .probe(&value.as_bytes()[range.clone()], now)
                {
                    Probe::Hit(verdict) => {
                        let bound = verdict.and_then(|claims| {
                            let token = token_text(value.as_bytes(), range.clone())?;
                            self.bind(claims, now, &sent()?, token)
                        });
                        return self.settle(bound, true, scheme, uses_dpop);
                    }
                    Probe::Miss(digest) => digest,
                }
            }
            None => None,
        };
        // The digest is the cache key of the candidate: use it only for that same token.
        let digest = digest.filter(|_| candidate.as_ref().map(|(_, range)| range) == Some(&place));
        // Kept for the full check, which may outlive the borrow of the request.
        let request = Sent {
            scheme,
            value: value.clone(),
            proof: proof.cloned(),
            stray_proof,
            certificate: certificate.cloned(),
            several_certificates,
            method: req.method().clone(),
            path: path.to_owned(),
        };
        self.check_in_full(request, digest, uses_dpop)
    }

    /// A request without credentials on an optional route: anonymous, unless a policy needs
    /// what it cannot have (the bare challenge of the `scheme` offered).
    fn anonymous(
        &self,
        scheme: Scheme,
    ) -> LocalBoxFuture<'static, Result<Option<Claims>, Refused>> {
        let anonymous = match self.policy {
            Some(_) => Err(AuthError::MissingToken),
            None => Ok(None),
        };
        Box::pin(ready(self.conclude(anonymous, false, false, scheme)))
    }

    /// The full check of a token that missed the cache (`digest` is its cache key), then its
    /// binding and the route's policy.
    fn check_in_full(
        &self,
        request: Sent,
        digest: Option<TokenDigest>,
        uses_dpop: bool,
    ) -> LocalBoxFuture<'static, Result<Option<Claims>, Refused>> {
        let this = self.clone();
        Box::pin(async move {
            let verdict = async {
                let (_, place) = parse(request.value.as_bytes())?;
                let token = token_text(request.value.as_bytes(), place)?;
                let (claims, now) = this.authenticator.verify_uncached(token, digest).await?;
                this.bind(claims, now, &request.presented()?, token)
            }
            .await;
            this.settle(verdict, false, request.scheme, uses_dpop).await
        })
    }

    /// Binds the verified claims to the sender (DPoP proof, client certificate), then checks
    /// the route's policy: the claims, and a proof whose one use is still to record.
    fn bind(
        &self,
        claims: Claims,
        now: f64,
        sent: &Presented<'_>,
        token: &str,
    ) -> Result<Bound, AuthError> {
        let proof = self
            .authenticator
            .sender()
            .confirm(&claims, sent, token, now)?;
        let claims = self.granted(claims, now)?;
        Ok(Bound { claims, now, proof })
    }

    /// The answer once bound: at once, or after the proof's use is recorded; counted.
    fn settle(
        &self,
        bound: Result<Bound, AuthError>,
        cached: bool,
        scheme: Scheme,
        uses_dpop: bool,
    ) -> LocalBoxFuture<'static, Result<Option<Claims>, Refused>> {
        match bound {
            Ok(Bound {
                claims,
                now,
                proof: Some(proof),
            }) => {
                let this = self.clone();
                Box::pin(async move {
                    let recorded = this
                        .authenticator
                        .sender()
                        .record(&proof, &claims, now, this.authenticator.metrics())
                        .await
                        .map(|()| Some(claims));
                    this.conclude(recorded, cached, uses_dpop, scheme)
                })
            }
            bound => {
                let answer = bound.map(|bound| Some(bound.claims));
                Box::pin(ready(self.conclude(answer, cached, uses_dpop, scheme)))
            }
        }
    }

    /// Every answer's last step: counted in the authenticator's metrics (and its DPoP ones,
    /// when DPoP was used; `cached` when the token cache gave it), and a refusal paired with
    /// the scheme whose challenge carries it, `scheme` being the one the request used.
    fn conclude(
        &self,
        answer: Result<Option<Claims>, AuthError>,
        cached: bool,
        uses_dpop: bool,
        scheme: Scheme,
    ) -> Result<Option<Claims>, Refused> {
        let metrics = self.authenticator.metrics();
        metrics.checked(&answer, cached);
        if uses_dpop {
            metrics.dpop_checked(&answer);
        }
        answer.map_err(|error| Refused {
            scheme: answered_on(&error, scheme),
            error,
        })
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

/// The DPoP proof header (RFC 9449 §4.1).
static DPOP: HeaderName = HeaderName::from_static("dpop");

/// A refusal, and the scheme whose challenge carries its error.
#[derive(Debug)]
struct Refused {
    error: AuthError,
    scheme: Scheme,
}

/// What a request sent, kept for a check that may outlive the borrow of the request.
#[derive(Debug)]
struct Sent {
    scheme: Scheme,
    /// The `Authorization` value (shared bytes, not a copy).
    value: HeaderValue,
    /// The one DPoP proof, with the `DPoP` scheme.
    proof: Option<HeaderValue>,
    /// A `DPoP` header came with the `Bearer` scheme.
    stray_proof: bool,
    certificate: Option<HeaderValue>,
    /// The certificate header came more than once.
    several_certificates: bool,
    method: Method,
    /// The raw path, for a DPoP proof's `htu` (empty for Bearer).
    path: String,
}

impl Sent {
    fn presented(&self) -> Result<Presented<'_>, AuthError> {
        presented(
            self.scheme,
            self.proof.as_ref(),
            self.stray_proof,
            (self.certificate.as_ref(), self.several_certificates),
            self.method.as_str(),
            &self.path,
        )
    }
}

/// What a request presented besides its token, as the sender checks read it.
///
/// # Errors
/// A proof that is not visible ASCII is a malformed proof.
fn presented<'a>(
    scheme: Scheme,
    proof: Option<&'a HeaderValue>,
    stray_proof: bool,
    (certificate, several_certificates): (Option<&'a HeaderValue>, bool),
    method: &'a str,
    path: &'a str,
) -> Result<Presented<'a>, AuthError> {
    let proof = match proof {
        Some(proof) => Some(
            proof
                .to_str()
                .map_err(|_| AuthError::InvalidDpopProof(ProofError::Malformed))?,
        ),
        None => None,
    };
    Ok(Presented {
        scheme,
        proof,
        stray_proof,
        // A value that is not visible ASCII holds no certificate: unreadable, not missing.
        certificate: certificate.map(|value| value.to_str().unwrap_or("\0")),
        several_certificates,
        method,
        path,
    })
}

/// Claims bound to their sender and meeting the route's policy.
struct Bound {
    claims: Claims,
    now: f64,
    proof: Option<Proof>,
}

/// The one `DPoP` header that the `DPoP` scheme needs.
///
/// # Errors
/// None is 400 `invalid_request`; two, or a comma in one, 400 `invalid_dpop_proof`.
fn one_proof(headers: &HeaderMap) -> Result<&HeaderValue, AuthError> {
    let mut proofs = headers.get_all(&DPOP);
    match (proofs.next(), proofs.next()) {
        (None, _) => Err(AuthError::InvalidRequest(InvalidRequest::MissingProof)),
        (Some(proof), None) if !proof.as_bytes().contains(&b',') => Ok(proof),
        _ => Err(ProofError::Several.into()),
    }
}

/// The scheme whose challenge carries `error` (RFC 9449 §7.1): DPoP for a proof's faults, else
/// the scheme the request `used`.
fn answered_on(error: &AuthError, used: Scheme) -> Scheme {
    match error {
        AuthError::InvalidDpopProof(_)
        | AuthError::InvalidRequest(
            InvalidRequest::ProofWithoutToken | InvalidRequest::MissingProof,
        ) => Scheme::Dpop,
        _ => used,
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
        let sender = self.authenticator.sender();
        let challenges = Challenges {
            bearer: sender.mode != DpopMode::Required,
            dpop_algs: sender.mode.aware().then(|| sender.algs.clone()),
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
    /// Whether `Bearer` is offered.
    bearer: bool,
    /// The DPoP proof algorithms, when `DPoP` is offered.
    dpop_algs: Option<Box<str>>,
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
                Err(Refused { error, scheme }) => {
                    log_refusal(&req, &error);
                    let params = ChallengeParams::new(&challenges.realm)
                        .resource_metadata(challenges.metadata.as_deref())
                        .route_scopes(challenges.scopes.as_deref())
                        .bearer(challenges.bearer)
                        .dpop(challenges.dpop_algs.as_deref())
                        .answered(scheme);
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
    if !matches!(
        error,
        AuthError::KeysUnavailable { .. } | AuthError::ReplayUnavailable { .. }
    ) {
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
