//! A replay store in Redis (or Valkey), which every replica shares: one `SET key 1 NX PX ttl`
//! per proof, so that a proof is accepted once across all of them.
//!
//! One background thread, with its own Tokio runtime, owns the connection, as the JWKS fetcher
//! owns its client. A request hands its command over a bounded channel and waits for the answer
//! at most the command timeout; commands from many requests share one pipelined connection. A
//! store that cannot answer in time is refused ([`ReplayError::Timeout`]): the proof is refused,
//! never accepted unchecked.
//!
//! A server that may evict keys is no replay store: an attacker's own proofs could push a
//! recorded `jti` out of memory and replay it. So on every connection (the first and each
//! reconnect), and again every 30 s (every second while it refuses), the server's `maxmemory-policy` is read
//! (`CONFIG GET`, or `INFO memory` where managed Redis forbids `CONFIG`); anything but
//! `noeviction` makes the store refuse every proof ([`ReplayError::Evicting`]) unless
//! [`RedisOptions::allow_eviction`] says otherwise.

use std::fmt::{self, Write};
use std::rc::Rc;
use std::time::{Duration, Instant};

use futures_util::future::BoxFuture;
use redis::AsyncConnectionConfig;
use redis::aio::MultiplexedConnection;
use tokio::sync::{Mutex, mpsc, oneshot};

use super::replay::{ProofSender, ReplayError, ReplayStore, Seen};
use crate::error::ConfigError;

/// Commands waiting for the connection at most; more are refused as unavailable at once.
const QUEUE: usize = 4096;

/// How often the eviction policy is read again on a connection that stays up, so that a
/// `CONFIG SET` made while the API runs is noticed.
const POLICY_RECHECK: Duration = Duration::from_secs(30);

/// How often it is read again while it refuses the store: a fixed server, or one that has
/// gone (its connection then fails, and the next command reconnects), is noticed within this.
const POLICY_RETRY: Duration = Duration::from_secs(1);

/// The one eviction policy under which a recorded proof stays until its expiry.
const NO_EVICTION: &str = "noeviction";

/// How a [`RedisReplayStore`] talks to its server.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RedisOptions {
    /// The prefix of every key written (default `dpop:jti:`).
    pub key_prefix: String,
    /// How long connecting may take.
    pub connect_timeout: Duration,
    /// How long one command may take, waiting for a connection included.
    pub command_timeout: Duration,
    /// For `rediss://`: the CA certificates (PEM) to trust in place of the built-in Mozilla
    /// roots, for a server behind a private CA.
    pub root_certificates: Option<Vec<u8>>,
    /// Use a server whose `maxmemory-policy` may evict keys (default false). A weakening: under
    /// memory pressure, which an attacker's own DPoP traffic can cause, a recorded proof may
    /// be evicted and then accepted again.
    pub allow_eviction: bool,
}

impl Default for RedisOptions {
    fn default() -> Self {
        Self {
            key_prefix: super::DEFAULT_REDIS_KEY_PREFIX.to_owned(),
            connect_timeout: super::DEFAULT_REDIS_CONNECT_TIMEOUT,
            command_timeout: super::DEFAULT_REDIS_COMMAND_TIMEOUT,
            root_certificates: None,
            allow_eviction: false,
        }
    }
}

/// An answer from the connection's thread.
type Reply = oneshot::Sender<Result<bool, ReplayError>>;

/// One command for the connection's thread.
enum Job {
    /// `SET key 1 NX PX ttl_ms`: `true` when set, `false` when the key was there.
    SetNew {
        key: String,
        ttl_ms: u64,
        reply: Reply,
    },
    /// `PING`.
    Ping { reply: Reply },
}

/// Used proofs in a Redis or Valkey server (`redis://`, or `rediss://` for TLS).
pub struct RedisReplayStore {
    jobs: mpsc::Sender<Job>,
    options: RedisOptions,
    /// The server, without credentials, for messages.
    server: String,
}

impl fmt::Debug for RedisReplayStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisReplayStore")
            .field("server", &self.server)
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

impl RedisReplayStore {
    /// A store on the server at `url`. It connects on first use and reconnects by itself, so
    /// a server that is down at startup is no error: proofs get 503 until it answers.
    ///
    /// # Errors
    /// [`ConfigError::Invalid`] for `dpop.redis_url` when the URL is not a Redis URL, or the
    /// connection's thread cannot start.
    pub fn new(url: &str, options: RedisOptions) -> Result<Self, ConfigError> {
        let invalid = |reason: String| ConfigError::invalid("dpop.redis_url", reason);
        if url.starts_with("rediss://") {
            // redis's rustls takes the process's default provider: ours, if none is set.
            let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
        }
        let client = match &options.root_certificates {
            Some(roots) => redis::Client::build_with_tls(
                url,
                redis::TlsCertificates {
                    client_tls: None,
                    root_cert: Some(roots.clone()),
                },
            ),
            None => redis::Client::open(url),
        }
        .map_err(|error| invalid(format!("is not a usable Redis URL: {error}")))?;
        let server = client.get_connection_info().addr().to_string();
        let link = Link {
            client,
            config: AsyncConnectionConfig::new()
                .set_connection_timeout(Some(options.connect_timeout))
                .set_response_timeout(Some(options.command_timeout)),
            allow_eviction: options.allow_eviction,
            server: server.clone(),
            state: Mutex::new(None),
        };
        let (jobs, queue) = mpsc::channel(QUEUE);
        std::thread::Builder::new()
            .name("dpop-replay-redis".to_owned())
            .spawn(move || serve(link, queue))
            .map_err(|error| invalid(format!("cannot start its connection thread: {error}")))?;
        Ok(Self {
            jobs,
            options,
            server,
        })
    }

    /// Hands `job` to the connection's thread and waits for its answer, within the command
    /// timeout (plus the connect timeout, for a first connection).
    async fn run(
        &self,
        job: Job,
        reply: oneshot::Receiver<Result<bool, ReplayError>>,
    ) -> Result<bool, ReplayError> {
        self.jobs.try_send(job).map_err(|_| {
            ReplayError::Overloaded(format!("{}: too many commands waiting", self.server))
        })?;
        let limit = self.options.command_timeout + self.options.connect_timeout;
        match tokio::time::timeout(limit, reply).await {
            Ok(Ok(answer)) => answer,
            Ok(Err(_)) => Err(ReplayError::Unreachable(format!(
                "{}: its connection thread has stopped",
                self.server
            ))),
            Err(_) => Err(ReplayError::Timeout(self.server.clone())),
        }
    }
}

impl ReplayStore for RedisReplayStore {
    fn check_and_insert<'a>(
        &'a self,
        key: [u8; 32],
        _sender: ProofSender<'a>,
        expires_at: f64,
        now: f64,
    ) -> BoxFuture<'a, Result<Seen, ReplayError>> {
        Box::pin(async move {
            let ttl = ((expires_at - now) * 1000.0).ceil();
            if ttl.is_nan() || ttl < 1.0 {
                return Ok(Seen::New);
            }
            // Saturating: an hour and some is the longest a proof lives.
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            let ttl_ms = ttl as u64;
            let mut name = String::with_capacity(self.options.key_prefix.len() + 64);
            name.push_str(&self.options.key_prefix);
            for byte in key {
                let _ = write!(name, "{byte:02x}");
            }
            let (reply, answer) = oneshot::channel();
            let set = self
                .run(
                    Job::SetNew {
                        key: name,
                        ttl_ms,
                        reply,
                    },
                    answer,
                )
                .await?;
            Ok(if set { Seen::New } else { Seen::Replayed })
        })
    }

    fn ready(&self) -> BoxFuture<'_, Result<(), ReplayError>> {
        Box::pin(async move {
            let (reply, answer) = oneshot::channel();
            self.run(Job::Ping { reply }, answer).await.map(|_| ())
        })
    }
}

/// The connection and what the server said of its eviction policy, shared by the tasks of the
/// connection's thread.
struct Link {
    client: redis::Client,
    config: AsyncConnectionConfig,
    allow_eviction: bool,
    /// The server, without credentials, for messages.
    server: String,
    /// The open connection, when it is thought good, with its last policy check.
    state: Mutex<Option<Checked>>,
}

/// An open connection and the verdict of its last eviction-policy check.
struct Checked {
    connection: MultiplexedConnection,
    at: Instant,
    verdict: Result<(), ReplayError>,
}

impl Checked {
    /// Whether the verdict still holds: a good one for [`POLICY_RECHECK`], a refusal for
    /// [`POLICY_RETRY`].
    fn is_recent(&self) -> bool {
        let holds = if self.verdict.is_ok() {
            POLICY_RECHECK
        } else {
            POLICY_RETRY
        };
        self.at.elapsed() < holds
    }
}

impl Link {
    /// The connection for a command: the open one while its policy check is recent, else one
    /// (re)opened and checked. Commands wait here while another task connects.
    async fn connection(&self) -> Result<MultiplexedConnection, ReplayError> {
        let mut state = self.state.lock().await;
        if let Some(checked) = state.as_ref()
            && checked.is_recent()
        {
            return checked.verdict.clone().map(|()| checked.connection.clone());
        }
        let refused_before = state
            .as_ref()
            .is_some_and(|checked| checked.verdict.is_err());
        let mut connection = match state.take() {
            Some(checked) => checked.connection,
            None => self
                .client
                .get_multiplexed_async_connection_with_config(&self.config)
                .await
                .map_err(|error| self.unreachable(&error))?,
        };
        let verdict = if self.allow_eviction {
            Ok(())
        } else {
            match eviction_policy(&mut connection).await {
                Ok(policy) if policy == NO_EVICTION => Ok(()),
                Ok(policy) => {
                    let refusal = ReplayError::Evicting { policy };
                    if !refused_before {
                        log::error!(
                            "the DPoP replay store at {} is not used: {refusal}",
                            self.server
                        );
                    }
                    Err(refusal)
                }
                // The connection failed: the next command opens another.
                Err(error) => return Err(self.unreachable(&error)),
            }
        };
        *state = Some(Checked {
            connection: connection.clone(),
            at: Instant::now(),
            verdict: verdict.clone(),
        });
        verdict.map(|()| connection)
    }

    /// Runs `command` on the connection; a failure closes it, so that the next command
    /// reconnects and checks the policy again.
    async fn run<T: redis::FromRedisValue>(&self, command: &redis::Cmd) -> Result<T, ReplayError> {
        let mut connection = self.connection().await?;
        match command.query_async(&mut connection).await {
            Ok(answer) => Ok(answer),
            Err(error) => {
                *self.state.lock().await = None;
                Err(if error.is_timeout() {
                    ReplayError::Timeout(self.server.clone())
                } else {
                    self.unreachable(&error)
                })
            }
        }
    }

    fn unreachable(&self, error: &redis::RedisError) -> ReplayError {
        ReplayError::Unreachable(format!("{}: {error}", self.server))
    }
}

/// The server's `maxmemory-policy`: from `CONFIG GET`, or from `INFO memory` where `CONFIG` is
/// forbidden (managed Redis). Neither answering is an error: the policy is unknown.
async fn eviction_policy(connection: &mut MultiplexedConnection) -> redis::RedisResult<String> {
    let config: redis::RedisResult<Vec<String>> = redis::cmd("CONFIG")
        .arg("GET")
        .arg("maxmemory-policy")
        .query_async(connection)
        .await;
    if let Ok(pair) = config
        && let [_, policy] = pair.as_slice()
    {
        return Ok(policy.clone());
    }
    let info: String = redis::cmd("INFO")
        .arg("memory")
        .query_async(connection)
        .await?;
    Ok(info
        .lines()
        .find_map(|line| line.strip_prefix("maxmemory_policy:"))
        .map_or_else(|| "unknown".to_owned(), |policy| policy.trim().to_owned()))
}

/// The connection's thread: one task per command on a current-thread runtime, until every
/// handle to the store is dropped.
fn serve(link: Link, mut queue: mpsc::Receiver<Job>) {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            log::error!("the DPoP replay store cannot start its runtime: {error}");
            return;
        }
    };
    let link = Rc::new(link);
    let local = tokio::task::LocalSet::new();
    local.block_on(&runtime, async move {
        while let Some(job) = queue.recv().await {
            let link = Rc::clone(&link);
            tokio::task::spawn_local(async move {
                match job {
                    Job::SetNew { key, ttl_ms, reply } => {
                        let mut set = redis::cmd("SET");
                        set.arg(key).arg(1).arg("NX").arg("PX").arg(ttl_ms);
                        let answer = link.run::<Option<String>>(&set).await;
                        let _ = reply.send(answer.map(|ok| ok.is_some()));
                    }
                    Job::Ping { reply } => {
                        let answer = link.run::<String>(&redis::cmd("PING")).await;
                        let _ = reply.send(answer.map(|_| true));
                    }
                }
            });
        }
    });
}
