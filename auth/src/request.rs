//! The whole decision on one request, framework aside: a [`RequireAuth`] takes a borrowed view of
//! what the request sent ([`Request`]) and answers with the verified claims or one complete
//! [`Refusal`] (status, `WWW-Authenticate`, `Retry-After`, JSON body). The actix middleware
//! only copies header values in and the answer out.
//!
//! The order: the query-string token, the `Authorization` header, the scheme gate of the DPoP
//! mode, the `DPoP` header, the token (from the verified-token cache, or in full), its binding
//! to the sender (DPoP proof, client certificate), the route's policy, and last the proof's one
//! use in the replay store, so that a refused request uses nothing up. The clock is read once.

use std::ops::Range;
use std::sync::{Arc, LazyLock};
use std::time::{Duration, Instant};

use crate::authenticator::{Authenticator, Probe};
use crate::claims::Claims;
use crate::credentials::{parse, query_has_token, token_candidate, token_text};
use crate::dpop::{Proof, ProofError};
use crate::error::{AuthError, InvalidRequest};
use crate::policy::Policy;
use crate::response::{ChallengeParams, Refusal, Scheme};
use crate::sender::{DpopMode, Presented};
use crate::throttle::Throttle;
use crate::validation::now;

/// One header as a request sent it: its first value and how many times it came.
#[derive(Debug, Clone, Copy, Default)]
pub struct Field<'a> {
    first: Option<&'a [u8]>,
    count: usize,
}

impl<'a> Field<'a> {
    /// The header's values, in the order they came.
    pub fn new(values: impl IntoIterator<Item = &'a [u8]>) -> Self {
        let mut values = values.into_iter();
        let first = values.next();
        Self {
            first,
            count: usize::from(first.is_some()) + values.count(),
        }
    }
}

/// What a request sent that the decision reads, borrowed from the framework's request.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    /// The method, such as `GET`.
    pub method: &'a str,
    /// The raw path, as received (percent-encoding and dot segments kept), without the query.
    pub path: &'a str,
    /// The raw query string, without the `?`.
    pub query: &'a str,
    /// `Authorization`.
    pub authorization: Field<'a>,
    /// `DPoP`.
    pub dpop: Field<'a>,
    /// The header that [`RequireAuth::certificate_header`] names, if any.
    pub certificate: Field<'a>,
}

/// A route's guard: the authenticator, the route's [`Policy`] and whether anonymous requests
/// pass. The same value is actix-web middleware (`.wrap(...)`) and, with the `tower` feature, a
/// tower `Layer` (`.layer(...)`); both only copy the request in and the answer out, and
/// [`RequireAuth::check`] decides, framework aside. Cheap to clone; `Send` and `Sync`.
///
/// A request with a valid token that meets the policy passes with its [`Claims`], which
/// handlers read (the `Claims` extractor of either framework). With
/// [`RequireAuth::optional`], a request without an `Authorization` header passes as anonymous.
#[derive(Debug, Clone)]
pub struct RequireAuth {
    authenticator: Authenticator,
    policy: Option<Arc<Policy>>,
    optional: bool,
    challenges: Arc<Challenges>,
}

/// What a route's refusals name beside their error, worked out once per route.
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

/// Never named in a challenge: a refresh-token grant, not a permission on this resource.
const OFFLINE_ACCESS: &str = "offline_access";

/// Key outages and replay-store failures (503s) are logged at most once per this interval.
const OUTAGE_LOG_INTERVAL: Duration = Duration::from_secs(5);

/// Claims bound to their sender and meeting the route's policy.
struct Bound {
    claims: Claims,
    now: f64,
    proof: Option<Proof>,
    /// The next server nonce, for a proof whose nonce is from the previous window.
    next_nonce: Option<String>,
}

/// A request that passed: its claims (`None` for an anonymous caller on an optional route),
/// and what the answer must carry besides.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Passed {
    /// The verified claims, for the handler.
    pub claims: Option<Claims>,
    /// `DPoP-Nonce`: the next server nonce, for a proof whose nonce is about to go stale.
    pub dpop_nonce: Option<String>,
}

impl Passed {
    /// The headers the route's answer must carry, as every adapter adds them: `DPoP-Nonce`
    /// when there is a next nonce.
    pub fn headers(&self) -> impl Iterator<Item = (&'static str, String)> + '_ {
        self.dpop_nonce
            .iter()
            .map(|nonce| ("dpop-nonce", nonce.clone()))
    }
}

/// A decision before it is counted and answered.
struct Decision {
    answer: Result<Option<Claims>, AuthError>,
    /// The token cache gave it.
    cached: bool,
    /// DPoP was used (the scheme, or a `DPoP` header).
    uses_dpop: bool,
    /// The scheme the request used, or the one the mode offers first.
    scheme: Scheme,
    /// The next server nonce, when the answer must carry one.
    dpop_nonce: Option<String>,
}

impl RequireAuth {
    /// Guards a route (or scope, or service) with `authenticator`: a valid token is required,
    /// with no policy.
    pub fn new(authenticator: Authenticator) -> Self {
        let challenges = Arc::new(Challenges::of(&authenticator, None));
        Self {
            authenticator,
            policy: None,
            optional: false,
            challenges,
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
        self.challenges = Arc::new(Challenges::of(&self.authenticator, self.policy.as_deref()));
        self
    }

    /// Lets a request with no `Authorization` header through as anonymous (`Ok(None)`; the
    /// handler's `Option<Claims>` is `None`). Any request that does send the header is checked
    /// in full and refused as on a required route: a bad token is 401 and a key outage 503,
    /// never anonymous. A token in the query string is still 400. With a policy, anonymous
    /// callers get the bare 401, since they cannot meet it.
    #[must_use]
    pub fn optional(mut self) -> Self {
        self.optional = true;
        self
    }

    /// The header (lower case) that carries the client certificate, whose values go in
    /// [`Request::certificate`].
    pub fn certificate_header(&self) -> Option<&str> {
        self.authenticator.sender().certificate_header.as_deref()
    }

    /// Decides `request`: [`Passed`] with the claims (`None` for an anonymous request on an
    /// optional route) and the headers the answer must carry, or
    /// the whole refusal. Counted in the metrics; refusals logged (client faults at debug,
    /// outages at error, throttled), never the token.
    ///
    /// # Errors
    /// The [`Refusal`] to answer with.
    pub async fn check(&self, request: &Request<'_>) -> Result<Passed, Refusal> {
        let Decision {
            answer,
            cached,
            uses_dpop,
            scheme,
            dpop_nonce,
        } = self.decide(request).await;
        let metrics = self.authenticator.metrics();
        metrics.checked(&answer, cached);
        if uses_dpop {
            metrics.dpop_checked(&answer);
        }
        match answer {
            Ok(claims) => Ok(Passed { claims, dpop_nonce }),
            Err(error) => {
                log_refusal(request, &error);
                Err(self.refusal(&error, scheme))
            }
        }
    }

    /// [`RequireAuth::check`] on a guard that is not optional: the claims, always present.
    pub(crate) async fn check_required(&self, request: &Request<'_>) -> Result<Claims, Refusal> {
        match self.check(request).await?.claims {
            Some(claims) => Ok(claims),
            // Only an optional guard lets a request through without claims.
            None => Err(self.refusal(&AuthError::MissingToken, Scheme::Bearer)),
        }
    }

    /// The whole answer to `error`, its challenge on the scheme that carries it.
    fn refusal(&self, error: &AuthError, used: Scheme) -> Refusal {
        let challenges = &self.challenges;
        let params = ChallengeParams::new(&challenges.realm)
            .resource_metadata(challenges.metadata.as_deref())
            .route_scopes(challenges.scopes.as_deref())
            .bearer(challenges.bearer)
            .dpop(challenges.dpop_algs.as_deref())
            .answered(answered_on(error, used));
        error.refusal(&params)
    }

    async fn decide(&self, request: &Request<'_>) -> Decision {
        let sender = self.authenticator.sender();
        let fallback = if sender.mode == DpopMode::Required {
            Scheme::Dpop
        } else {
            Scheme::Bearer
        };
        let refuse = |error: AuthError, used: Option<Scheme>| Decision {
            answer: Err(error),
            cached: false,
            uses_dpop: used == Some(Scheme::Dpop),
            scheme: used.unwrap_or(fallback),
            dpop_nonce: None,
        };
        if query_has_token(request.query) {
            return refuse(
                AuthError::InvalidRequest(InvalidRequest::TokenInQuery),
                None,
            );
        }
        let has_proof = sender.mode.aware() && request.dpop.count > 0;
        let value = match (request.authorization.count, request.authorization.first) {
            (1, Some(value)) => value,
            (0, _) if has_proof => {
                return refuse(
                    AuthError::InvalidRequest(InvalidRequest::ProofWithoutToken),
                    Some(Scheme::Dpop),
                );
            }
            (0, _) if self.optional => {
                let answer = match self.policy {
                    Some(_) => Err(AuthError::MissingToken),
                    None => Ok(None),
                };
                return Decision {
                    answer,
                    cached: false,
                    uses_dpop: false,
                    scheme: fallback,
                    dpop_nonce: None,
                };
            }
            (0, _) => return refuse(AuthError::MissingToken, None),
            _ => {
                return refuse(
                    AuthError::InvalidRequest(InvalidRequest::SeveralHeaders),
                    None,
                );
            }
        };
        // The scheme: at a glance when well-formed (the token then goes to the cache first),
        // else from the full parse.
        let candidate = token_candidate(value);
        let scheme = match &candidate {
            Some((scheme, _)) => *scheme,
            None => match parse(value) {
                Ok((scheme, _)) => scheme,
                // The parser knows no mode: the schemes offered are the mode's.
                Err(AuthError::OtherScheme(_)) => {
                    return refuse(AuthError::OtherScheme(sender.mode.offered()), None);
                }
                Err(error) => return refuse(error, None),
            },
        };
        // The scheme gate comes before the token check: a mode that refuses the scheme never
        // tells whether the token is valid.
        if matches!(
            (sender.mode, scheme),
            (DpopMode::Disabled, Scheme::Dpop) | (DpopMode::Required, Scheme::Bearer)
        ) {
            return refuse(AuthError::OtherScheme(sender.mode.offered()), None);
        }
        let proof = match scheme {
            Scheme::Dpop => match one_proof(request.dpop) {
                Ok(proof) => Some(proof),
                Err(error) => return refuse(error, Some(Scheme::Dpop)),
            },
            Scheme::Bearer => None,
        };
        let presented = presented(request, scheme, proof, has_proof);
        let uses_dpop = scheme == Scheme::Dpop || has_proof;

        let (settled, cached) = self.verify(value, candidate, presented).await;
        let (answer, dpop_nonce) = match settled {
            Ok((claims, nonce)) => (Ok(Some(claims)), nonce),
            Err(error) => (Err(error), None),
        };
        Decision {
            answer,
            cached,
            uses_dpop,
            scheme,
            dpop_nonce,
        }
    }

    /// The token in `value`, from the cache when its `candidate` reading is cached (without the
    /// full header check), else in full, header included; then bound and settled. Whether the cache
    /// answered.
    async fn verify(
        &self,
        value: &[u8],
        candidate: Option<(Scheme, Range<usize>)>,
        presented: Result<Presented<'_>, AuthError>,
    ) -> (Result<(Claims, Option<String>), AuthError>, bool) {
        let now = now();
        let digest = match &candidate {
            Some((_, range)) => match self.authenticator.probe(&value[range.clone()], now) {
                Probe::Hit(verdict) => {
                    let bound = verdict.and_then(|claims| {
                        let token = token_text(value, range.clone())?;
                        self.bind(claims, now, &presented?, token)
                    });
                    return (self.settle(bound).await, true);
                }
                Probe::Miss(digest) => digest,
            },
            None => None,
        };
        let bound = async {
            // A miss gets the full header check, whatever the glance said.
            let (_, place) = parse(value)?;
            // The digest is the cache key of the candidate: use it only for that same token.
            let digest =
                digest.filter(|_| candidate.as_ref().map(|(_, range)| range) == Some(&place));
            let token = token_text(value, place)?;
            let (claims, now) = self.authenticator.verify_uncached(token, digest).await?;
            self.bind(claims, now, &presented?, token)
        }
        .await;
        (self.settle(bound).await, false)
    }

    /// Binds the verified claims to the sender (DPoP proof, client certificate), then checks
    /// the route's policy.
    fn bind(
        &self,
        claims: Claims,
        now: f64,
        presented: &Presented<'_>,
        token: &str,
    ) -> Result<Bound, AuthError> {
        let sender = self.authenticator.sender();
        let proof = sender.confirm(&claims, presented, token, now)?;
        let next_nonce = match &proof {
            Some(proof) => sender.check_nonce(proof, now)?,
            None => None,
        };
        if let Some(policy) = &self.policy {
            policy.check(&claims, now, self.authenticator.leeway())?;
        }
        Ok(Bound {
            claims,
            now,
            proof,
            next_nonce,
        })
    }

    /// The answer once bound, with the next server nonce if any: at once, or after the
    /// proof's one use is recorded.
    async fn settle(
        &self,
        bound: Result<Bound, AuthError>,
    ) -> Result<(Claims, Option<String>), AuthError> {
        let Bound {
            claims,
            now,
            proof,
            next_nonce,
        } = bound?;
        if let Some(proof) = proof {
            self.authenticator
                .sender()
                .record(&proof, &claims, now, self.authenticator.metrics())
                .await?;
        }
        Ok((claims, next_nonce))
    }
}

impl Authenticator {
    /// The whole check of one HTTP request, whatever framework or server it came from: the
    /// same pipeline as [`crate::RequireAuth`] and the tower layer (scheme gate, token, DPoP
    /// proof and its one use, client certificate binding), with no route policy. Fill a
    /// [`Request`] from the request's method, raw path, query and headers.
    ///
    /// For a route with a [`crate::Policy`], optional authentication, or DPoP server nonces
    /// (whose next nonce only [`Passed`] carries), build a [`RequireAuth`] once and call its
    /// `check` instead.
    ///
    /// # Errors
    /// The whole [`Refusal`] to answer with: status, `WWW-Authenticate`, `Retry-After`, and
    /// the JSON body.
    pub async fn verify(&self, request: &Request<'_>) -> Result<Claims, Refusal> {
        RequireAuth::new(self.clone()).check_required(request).await
    }
}

impl Challenges {
    fn of(authenticator: &Authenticator, policy: Option<&Policy>) -> Self {
        let sender = authenticator.sender();
        let mut scopes: Vec<&str> = Vec::new();
        for scope in policy.into_iter().flat_map(Policy::scopes) {
            if scope != OFFLINE_ACCESS && !scopes.contains(&scope) {
                scopes.push(scope);
            }
        }
        Self {
            bearer: sender.mode != DpopMode::Required,
            dpop_algs: sender.mode.aware().then(|| sender.algs.clone()),
            realm: Box::from(authenticator.realm()),
            metadata: authenticator
                .resource_metadata()
                .map(|url| Box::from(&*url)),
            scopes: (!scopes.is_empty()).then(|| scopes.join(" ").into_boxed_str()),
        }
    }
}

/// The one `DPoP` header that the `DPoP` scheme needs.
///
/// # Errors
/// None is 400 `invalid_request`; two, or a comma in one, 400 `invalid_dpop_proof`.
fn one_proof(dpop: Field<'_>) -> Result<&[u8], AuthError> {
    match (dpop.count, dpop.first) {
        (0, _) | (_, None) => Err(AuthError::InvalidRequest(InvalidRequest::MissingProof)),
        (1, Some(proof)) if !proof.contains(&b',') => Ok(proof),
        _ => Err(ProofError::Several.into()),
    }
}

/// What a request presented besides its token, as the sender checks read it.
///
/// # Errors
/// A proof that is not visible ASCII is a malformed proof.
fn presented<'a>(
    request: &Request<'a>,
    scheme: Scheme,
    proof: Option<&'a [u8]>,
    has_proof: bool,
) -> Result<Presented<'a>, AuthError> {
    let proof = match proof {
        Some(proof) => Some(visible(proof).ok_or(ProofError::Malformed)?),
        None => None,
    };
    Ok(Presented {
        scheme,
        proof,
        stray_proof: scheme == Scheme::Bearer && has_proof,
        // A value that is not visible ASCII holds no certificate: unreadable, not missing.
        certificate: request
            .certificate
            .first
            .map(|value| visible(value).unwrap_or("\0")),
        several_certificates: request.certificate.count > 1,
        method: request.method,
        // The raw path, for a DPoP proof's `htu`.
        path: if scheme == Scheme::Dpop {
            request.path
        } else {
            ""
        },
    })
}

/// A header value as text, when it is visible ASCII (and tabs), as HTTP header values are.
fn visible(value: &[u8]) -> Option<&str> {
    value
        .iter()
        .all(|b| *b == b'\t' || (0x20..0x7f).contains(b))
        .then(|| std::str::from_utf8(value).ok())
        .flatten()
}

/// The scheme whose challenge carries `error` (RFC 9449 §7.1): DPoP for a proof's faults, else
/// the scheme the request `used`.
fn answered_on(error: &AuthError, used: Scheme) -> Scheme {
    match error {
        AuthError::InvalidDpopProof(_)
        | AuthError::UseDpopNonce { .. }
        | AuthError::InvalidRequest(
            InvalidRequest::ProofWithoutToken | InvalidRequest::MissingProof,
        ) => Scheme::Dpop,
        _ => used,
    }
}

/// Logs a refusal: client faults at debug; an outage at error, at most once per
/// [`OUTAGE_LOG_INTERVAL`] with the count left out, so that an attacker cannot flood the log
/// during an outage. Never the token itself.
fn log_refusal(request: &Request<'_>, error: &AuthError) {
    static OUTAGE_LOG: LazyLock<Throttle> = LazyLock::new(|| Throttle::new(OUTAGE_LOG_INTERVAL));
    let (method, path) = (request.method, request.path);
    if !matches!(
        error,
        AuthError::KeysUnavailable { .. } | AuthError::ReplayUnavailable { .. }
    ) {
        log::debug!("{method} {path}: refused: {error}");
    } else if let Some(left_out) = OUTAGE_LOG.permit(Instant::now()) {
        log::error!(
            "{method} {path}: answered 503: {error} ({left_out} more 503s since the last such line)"
        );
    }
}

// A guard built outside a server's factory (actix's `HttpServer::new`, a router) must be able
// to move into it.
const _: () = {
    const fn send_and_sync<T: Send + Sync>() {}
    send_and_sync::<RequireAuth>();
};
