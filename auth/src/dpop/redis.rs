//! A replay store in Redis (or Valkey), which every replica shares: one `SET key 1 NX PX ttl`
//! per proof, so that a proof is accepted once across all of them.
//!
//! One background thread, with its own Tokio runtime, owns the connection (the `redis` crate's
//! connection manager, which reconnects by itself), as the JWKS fetcher owns its client. A
//! request hands its command over a bounded channel and waits for the answer at most the
//! command timeout; commands from many requests share one pipelined connection. A store that
//! cannot answer in time is [`ReplayError::Unavailable`]: the proof is refused, never accepted
//! unchecked.

use std::fmt::{self, Write};
use std::time::Duration;

use futures_util::future::BoxFuture;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use tokio::sync::{mpsc, oneshot};

use super::replay::{ReplayError, ReplayStore, Seen};
use crate::error::ConfigError;

/// Commands waiting for the connection at most; more are refused as unavailable at once.
const QUEUE: usize = 4096;

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
}

impl Default for RedisOptions {
    fn default() -> Self {
        Self {
            key_prefix: super::DEFAULT_REDIS_KEY_PREFIX.to_owned(),
            connect_timeout: Duration::from_secs(1),
            command_timeout: Duration::from_millis(250),
            root_certificates: None,
        }
    }
}

/// One command for the connection's thread.
enum Job {
    /// `SET key 1 NX PX ttl_ms`: `true` when set, `false` when the key was there.
    SetNew {
        key: String,
        ttl_ms: u64,
        reply: oneshot::Sender<Result<bool, String>>,
    },
    /// `PING`.
    Ping {
        reply: oneshot::Sender<Result<bool, String>>,
    },
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
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(options.connect_timeout))
            .set_response_timeout(Some(options.command_timeout))
            .set_number_of_retries(2)
            .set_max_delay(Duration::from_secs(1));
        let (jobs, queue) = mpsc::channel(QUEUE);
        std::thread::Builder::new()
            .name("dpop-replay-redis".to_owned())
            .spawn(move || serve(client, config, queue))
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
        reply: oneshot::Receiver<Result<bool, String>>,
    ) -> Result<bool, ReplayError> {
        let unavailable = |why: &str| ReplayError::Unavailable(format!("{}: {why}", self.server));
        self.jobs
            .try_send(job)
            .map_err(|_| unavailable("too many commands waiting"))?;
        let limit = self.options.command_timeout + self.options.connect_timeout;
        match tokio::time::timeout(limit, reply).await {
            Ok(Ok(Ok(answer))) => Ok(answer),
            Ok(Ok(Err(error))) => Err(unavailable(&error)),
            Ok(Err(_)) => Err(unavailable("its connection thread has stopped")),
            Err(_) => Err(unavailable("no answer in time")),
        }
    }
}

impl ReplayStore for RedisReplayStore {
    fn check_and_insert<'a>(
        &'a self,
        key: [u8; 32],
        _owner: &'a str,
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

/// The connection's thread: one task per command on a current-thread runtime, until every
/// handle to the store is dropped.
fn serve(client: redis::Client, config: ConnectionManagerConfig, mut queue: mpsc::Receiver<Job>) {
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
    let local = tokio::task::LocalSet::new();
    local.block_on(&runtime, async move {
        let manager = match ConnectionManager::new_lazy_with_config(client, config) {
            Ok(manager) => manager,
            Err(error) => {
                log::error!("the DPoP replay store cannot start its connection: {error}");
                return;
            }
        };
        while let Some(job) = queue.recv().await {
            let mut connection = manager.clone();
            tokio::task::spawn_local(async move {
                match job {
                    Job::SetNew { key, ttl_ms, reply } => {
                        let set: Result<Option<String>, _> = redis::cmd("SET")
                            .arg(key)
                            .arg(1)
                            .arg("NX")
                            .arg("PX")
                            .arg(ttl_ms)
                            .query_async(&mut connection)
                            .await;
                        let _ = reply.send(set.map(|ok| ok.is_some()).map_err(|e| e.to_string()));
                    }
                    Job::Ping { reply } => {
                        let pong: Result<String, _> =
                            redis::cmd("PING").query_async(&mut connection).await;
                        let _ = reply.send(pong.map(|_| true).map_err(|e| e.to_string()));
                    }
                }
            });
        }
    });
}
