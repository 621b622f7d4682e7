//! Sender-constrained tokens, framework aside: which schemes a request may use (the DPoP mode),
//! and the checks that bind a verified token to its sender, a DPoP proof (RFC 9449) or a client
//! certificate (RFC 8705), then the proof's one use in the replay store.
//!
//! The order, for a request whose token passed every check: the scheme against the binding,
//! the proof, its key against `cnf.jkt`, the certificate against `cnf.x5t#S256`; the route's
//! policy (in the middleware); and only then the replay store, so that a refused request never
//! uses up a proof.

use std::sync::{Arc, LazyLock};
use std::time::{Duration, Instant};

use crate::claims::Claims;
use crate::dpop::{
    Freshness, Nonces, Proof, ProofError, ProofKeys, ProofRequest, ProofRules, ProofSender,
    ReplayError, ReplayStore, Seen, has_dot_segments, normalize_htu, replay_key,
};
use crate::error::{AuthError, InvalidRequest, Offered, TokenError};
use crate::metrics::Metrics;
use crate::mtls::{CertificateError, certificate_thumbprint};
use crate::response::Scheme;
use crate::throttle::Throttle;

/// Which schemes an API accepts, and what it makes of a token's DPoP binding (`cnf.jkt`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Deserialize),
    serde(rename_all = "lowercase")
)]
#[non_exhaustive]
pub enum DpopMode {
    /// `Bearer` and `DPoP`: a DPoP-bound token must come with the `DPoP` scheme and a proof;
    /// any other token keeps working as a bearer token.
    #[default]
    Allowed,
    /// `DPoP` alone: every token must be DPoP-bound and come with a proof.
    Required,
    /// `Bearer` alone, as a server unaware of DPoP (RFC 9449 §7.2): the `DPoP` header and
    /// `cnf.jkt` are ignored, so a DPoP-bound token is accepted as a bearer token.
    Disabled,
}

impl DpopMode {
    /// The schemes this mode offers.
    pub(crate) fn offered(self) -> Offered {
        match self {
            Self::Allowed => Offered::BearerOrDpop,
            Self::Required => Offered::Dpop,
            Self::Disabled => Offered::Bearer,
        }
    }

    /// Whether the `DPoP` scheme and header are read at all.
    pub(crate) fn aware(self) -> bool {
        self != Self::Disabled
    }
}

/// The default capacity of the in-memory replay store: live proofs remembered. With proofs
/// living 330 s (the default `iat` window), about 3000 DPoP requests a second; the byte bound
/// ([`DEFAULT_REPLAY_MAX_BYTES`]) comes first.
pub const DEFAULT_REPLAY_CAPACITY: usize = 1_000_000;

/// The default memory bound of the in-memory replay store, its tables' whole allocations: 64
/// MiB holds 262,144 live proofs when every proof comes from another client, 458,752 when few
/// clients send them (some 800 to 1400 DPoP requests a second, with proofs living 330 s).
pub const DEFAULT_REPLAY_MAX_BYTES: usize = 64 * 1024 * 1024;

/// The default share of the in-memory replay store that one client may hold, counted per
/// proof key and per token subject (`iss` and `sub`) across all its keys: about 300 DPoP
/// requests a second from one client, sustained.
pub const DEFAULT_REPLAY_PER_CLIENT: usize = 100_000;

/// How long a client is told to wait when the replay store cannot answer.
const REPLAY_RETRY_AFTER: Duration = Duration::from_secs(1);

/// Replay-store failures are logged at most once per this interval, process-wide.
const REPLAY_LOG_INTERVAL: Duration = Duration::from_secs(5);

/// The authenticator's rules for sender-constrained tokens.
#[derive(Debug)]
pub(crate) struct SenderRules {
    pub(crate) mode: DpopMode,
    pub(crate) proofs: ProofRules,
    /// `None`: proofs are not checked for replay.
    pub(crate) replay: Option<Arc<dyn ReplayStore>>,
    /// The API's public origin (`https://api.example.com`), in the normal form `htu` is
    /// compared in; the request's path follows it. `None`: DPoP proofs cannot be checked.
    pub(crate) origin: Option<Box<str>>,
    /// The proof algorithms, space-separated, as the `DPoP` challenge names them.
    pub(crate) algs: Box<str>,
    /// The header (lower case) in which a TLS proxy forwards the client certificate.
    pub(crate) certificate_header: Option<Box<str>>,
    /// Server nonces, when proofs must carry one.
    pub(crate) nonces: Option<Nonces>,
    /// The parsed keys of proofs seen, by their protected header; `None`: off.
    pub(crate) proof_keys: Option<ProofKeys>,
}

/// What a request presented besides its token.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Presented<'a> {
    pub(crate) scheme: Scheme,
    /// The one `DPoP` proof, with the `DPoP` scheme.
    pub(crate) proof: Option<&'a str>,
    /// A `DPoP` header came with the `Bearer` scheme.
    pub(crate) stray_proof: bool,
    /// The forwarded client certificate, when a header is configured and present once.
    pub(crate) certificate: Option<&'a str>,
    /// The certificate header came more than once.
    pub(crate) several_certificates: bool,
    pub(crate) method: &'a str,
    /// The request's raw path, without its query.
    pub(crate) path: &'a str,
}

impl SenderRules {
    /// The origin of `public_url` in `htu`'s normal form, for [`SenderRules::origin`].
    pub(crate) fn origin_of(public_url: &str) -> Option<Box<str>> {
        let parsed = url::Url::parse(public_url).ok()?;
        let origin = format!(
            "{}://{}{}",
            parsed.scheme(),
            parsed.host_str()?,
            parsed
                .port()
                .map(|port| format!(":{port}"))
                .unwrap_or_default()
        );
        // Checked through the same normal form the proofs' `htu` goes through.
        normalize_htu(&origin)?;
        Some(origin.into_boxed_str())
    }

    /// Binds the verified `claims` to the request's sender: the scheme against `cnf.jkt`, the
    /// DPoP proof, and the client certificate against `cnf.x5t#S256`. The proof to record in
    /// the replay store, once the route's policy has passed too.
    ///
    /// # Errors
    /// The first check that fails, as [`AuthError`] documents each answer.
    pub(crate) fn confirm(
        &self,
        claims: &Claims,
        sent: &Presented<'_>,
        token: &str,
        now: f64,
    ) -> Result<Option<Proof>, AuthError> {
        let jkt = if self.mode.aware() {
            claims.dpop_jkt()
        } else {
            None
        };
        let proof = match sent.scheme {
            Scheme::Bearer => {
                if jkt.is_some() {
                    return Err(TokenError::DpopBound.into());
                }
                if sent.stray_proof {
                    return Err(AuthError::InvalidRequest(InvalidRequest::ProofWithBearer));
                }
                None
            }
            Scheme::Dpop => {
                let jkt = jkt.ok_or(TokenError::NotDpopBound)?;
                let origin = self.origin.as_deref().ok_or(ProofError::NoPublicUrl)?;
                let proof = sent
                    .proof
                    .ok_or(AuthError::InvalidRequest(InvalidRequest::MissingProof))?;
                if has_dot_segments(sent.path) {
                    return Err(ProofError::DotSegments.into());
                }
                let url = format!("{origin}{}", sent.path);
                let request = ProofRequest {
                    method: sent.method,
                    url: &url,
                    access_token: token,
                };
                let proof =
                    self.proofs
                        .verify_with(self.proof_keys.as_ref(), proof, &request, now)?;
                if proof.jkt != jkt {
                    return Err(TokenError::DpopKeyMismatch.into());
                }
                Some(proof)
            }
        };
        if let Some(bound) = claims.certificate_thumbprint() {
            if sent.several_certificates {
                return Err(TokenError::SeveralCertificates.into());
            }
            self.confirm_certificate(bound, sent.certificate)?;
        }
        Ok(proof)
    }

    /// Where nonces are required: the proof's nonce must be one issued for its key in this
    /// window or the last. Answers the next nonce when the proof's is from the last window,
    /// so that the client moves on before it goes stale.
    ///
    /// # Errors
    /// [`AuthError::UseDpopNonce`], with a fresh nonce for the proof's key.
    pub(crate) fn check_nonce(&self, proof: &Proof, now: f64) -> Result<Option<String>, AuthError> {
        let Some(nonces) = &self.nonces else {
            return Ok(None);
        };
        match nonces.check(proof.nonce.as_deref(), &proof.jkt, now) {
            Freshness::Current => Ok(None),
            Freshness::Previous => Ok(Some(nonces.issue(&proof.jkt, now))),
            Freshness::Stale => Err(AuthError::UseDpopNonce {
                nonce: nonces.issue(&proof.jkt, now),
            }),
        }
    }

    /// The client certificate's thumbprint must equal `bound`.
    fn confirm_certificate(&self, bound: &str, presented: Option<&str>) -> Result<(), TokenError> {
        if self.certificate_header.is_none() {
            return Err(TokenError::CertificateUnchecked);
        }
        let thumbprint =
            certificate_thumbprint(presented.unwrap_or_default()).map_err(|error| match error {
                CertificateError::Missing => TokenError::CertificateMissing,
                CertificateError::Several => TokenError::SeveralCertificates,
                _ => TokenError::CertificateUnreadable,
            })?;
        if thumbprint != bound {
            return Err(TokenError::CertificateMismatch);
        }
        Ok(())
    }

    /// Records the proof's one use. A replay is 400; a store that cannot answer is 503, and
    /// the proof is not accepted.
    ///
    /// # Errors
    /// [`ProofError::Replayed`], or [`AuthError::ReplayUnavailable`].
    pub(crate) async fn record(
        &self,
        proof: &Proof,
        claims: &Claims,
        now: f64,
        metrics: &Metrics,
    ) -> Result<(), AuthError> {
        let Some(store) = &self.replay else {
            return Ok(());
        };
        // The entry lives as long as the proof could be accepted: `iat + max_age + leeway`.
        let expires_at =
            proof.iat + self.proofs.max_age.as_secs_f64() + self.proofs.leeway.as_secs_f64();
        let key = replay_key(&proof.jkt, &proof.jti);
        let sender = ProofSender {
            jkt: &proof.jkt,
            issuer: claims.issuer(),
            subject: claims.sub().unwrap_or_default(),
        };
        let started = Instant::now();
        let seen = store.check_and_insert(key, sender, expires_at, now).await;
        metrics.replay_checked(&seen, started.elapsed());
        match seen {
            Ok(Seen::New) => Ok(()),
            Ok(Seen::Replayed) => Err(ProofError::Replayed.into()),
            Err(error) => {
                log_replay_failure(&error);
                Err(AuthError::ReplayUnavailable {
                    retry_after: REPLAY_RETRY_AFTER,
                })
            }
        }
    }
}

/// Logs a replay store that cannot answer, at most once per [`REPLAY_LOG_INTERVAL`].
fn log_replay_failure(error: &ReplayError) {
    static LOG: LazyLock<Throttle> = LazyLock::new(|| Throttle::new(REPLAY_LOG_INTERVAL));
    if let Some(left_out) = LOG.permit(Instant::now()) {
        log::error!(
            "DPoP proofs refused with 503: {error} ({left_out} more such refusals since the last \
             such line)"
        );
    }
}
