//! A real `redis-server` for tests of the Redis replay store: started on a free loopback port,
//! with no persistence, and stopped when dropped. Nothing is mocked: the store talks to the
//! same server a deployment runs.

use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Set to `1` (CI does) to make a missing `redis-server` fail the tests that need it, instead
/// of skipping them.
pub const REQUIRE_REDIS_VAR: &str = "OAUTH2_JWT_BEARER_REQUIRE_REDIS";

/// Names the `redis-server` binary to run, when it is not on the `PATH`.
pub const REDIS_SERVER_VAR: &str = "REDIS_SERVER";

/// A running `redis-server`.
#[derive(Debug)]
pub struct RedisServer {
    child: Option<Child>,
    port: u16,
    /// Arguments given to `redis-server` besides the port and persistence ones.
    args: Vec<String>,
    /// With TLS: the folder of its certificate and key files.
    tls: Option<PathBuf>,
}

impl RedisServer {
    /// Starts a server on a free loopback port, or says why it cannot; `Ok(None)` when there is
    /// no `redis-server` binary (Debian's package `redis-server` has one).
    ///
    /// # Errors
    /// The binary exists but the server does not start.
    pub fn start() -> Result<Option<Self>, String> {
        let Some(binary) = binary() else {
            return Ok(None);
        };
        let mut server = Self {
            child: None,
            port: free_port()?,
            args: Vec::new(),
            tls: None,
        };
        server.spawn(&binary)?;
        Ok(Some(server))
    }

    /// Starts a server that speaks TLS alone (`rediss://`), with this certificate chain and
    /// key (PEM); `Ok(None)` without a `redis-server` binary.
    ///
    /// # Errors
    /// The files cannot be written, or the server does not start (a build without TLS).
    pub fn start_tls(certificate_pem: &str, key_pem: &str) -> Result<Option<Self>, String> {
        let Some(binary) = binary() else {
            return Ok(None);
        };
        let port = free_port()?;
        let dir = std::env::temp_dir().join(format!("redis-tls-{}-{port}", std::process::id()));
        std::fs::create_dir_all(&dir).map_err(|error| error.to_string())?;
        for (name, pem) in [("server.pem", certificate_pem), ("server.key", key_pem)] {
            std::fs::write(dir.join(name), pem).map_err(|error| error.to_string())?;
        }
        let mut server = Self {
            child: None,
            port,
            args: Vec::new(),
            tls: Some(dir),
        };
        server.spawn(&binary)?;
        Ok(Some(server))
    }

    /// A started server, or `None` after saying on stderr that `test` is skipped for want of
    /// `redis-server`.
    ///
    /// # Panics
    /// When the server does not start, or when [`REQUIRE_REDIS_VAR`] is `1` and there is no
    /// binary: CI never skips these tests.
    pub fn start_or_skip(test: &str) -> Option<Self> {
        match Self::start() {
            Ok(Some(server)) => Some(server),
            Ok(None) if std::env::var(REQUIRE_REDIS_VAR).is_ok_and(|v| v == "1") => {
                panic!("{test}: redis-server is required ({REQUIRE_REDIS_VAR}=1) but not found")
            }
            Ok(None) => {
                eprintln!(
                    "SKIPPED {test}: no redis-server on the PATH (install Debian's redis-server \
                     package, or set {REDIS_SERVER_VAR})"
                );
                None
            }
            Err(error) => panic!("{test}: redis-server does not start: {error}"),
        }
    }

    /// `redis://127.0.0.1:{port}/0`, or `rediss://` with TLS.
    pub fn url(&self) -> String {
        let scheme = if self.tls.is_some() {
            "rediss"
        } else {
            "redis"
        };
        format!("{scheme}://127.0.0.1:{}/0", self.port)
    }

    /// Starts the server again on the same port, empty, with these `redis-server` arguments
    /// (such as `["--maxmemory", "4mb", "--maxmemory-policy", "volatile-lru"]`) in place of the
    /// ones it had: another server behind the same address, as after a failover.
    ///
    /// # Errors
    /// As [`RedisServer::start`].
    pub fn restart_with(&mut self, args: &[&str]) -> Result<(), String> {
        self.args = args.iter().map(|arg| (*arg).to_owned()).collect();
        self.restart()
    }

    /// Stops the server (as an outage would), keeping its port for [`RedisServer::restart`].
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the server again on the same port, empty.
    ///
    /// # Errors
    /// As [`RedisServer::start`].
    pub fn restart(&mut self) -> Result<(), String> {
        self.stop();
        let binary = binary().ok_or("redis-server has gone")?;
        self.spawn(&binary)
    }

    fn spawn(&mut self, binary: &str) -> Result<(), String> {
        let mut command = Command::new(binary);
        command.args(["--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]);
        command.args(&self.args);
        match &self.tls {
            None => command.arg("--port").arg(self.port.to_string()),
            Some(dir) => command
                .args(["--port", "0", "--tls-auth-clients", "no", "--tls-port"])
                .arg(self.port.to_string())
                .arg("--tls-cert-file")
                .arg(dir.join("server.pem"))
                .arg("--tls-key-file")
                .arg(dir.join("server.key")),
        };
        let child = command
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|error| format!("cannot run {binary}: {error}"))?;
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            if Instant::now() > deadline {
                self.stop();
                return Err(format!("no answer on port {} within 10 s", self.port));
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        Ok(())
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.stop();
        if let Some(dir) = &self.tls {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

fn free_port() -> Result<u16, String> {
    Ok(TcpListener::bind(("127.0.0.1", 0))
        .and_then(|listener| listener.local_addr())
        .map_err(|error| format!("no free port: {error}"))?
        .port())
}

/// The `redis-server` to run: [`REDIS_SERVER_VAR`], else the first on the `PATH`.
fn binary() -> Option<String> {
    if let Ok(binary) = std::env::var(REDIS_SERVER_VAR) {
        return Some(binary);
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join("redis-server"))
        .find(|candidate| candidate.is_file())
        .map(|found| found.to_string_lossy().into_owned())
}
