//! The rules every loaded value must meet: ranges, URL and host forms, and whom to trust in
//! each environment. A value that breaks one stops startup.

use std::ops::RangeInclusive;

use auth::config::ReplayKind;
use auth::{DpopMode, UrlKind};
use url::Url;

use crate::env::env_vars;
use crate::error::SettingsError;
use crate::model::{Environment, ServerSettings, Settings};

/// `server.workers`: 0 means one per physical core.
pub const WORKERS: RangeInclusive<u64> = 0..=256;
/// `server.shutdown_timeout_secs`: in-flight requests get up to this long after SIGTERM.
pub const SHUTDOWN_TIMEOUT_SECS: RangeInclusive<u64> = 1..=300;

impl Settings {
    /// Checks every value: ranges, forms, and that the environment has an issuer it may trust.
    /// [`Settings::load_with`] runs it; run it again after changing a loaded value.
    ///
    /// # Errors
    /// The first rule broken, naming the key and its env var.
    pub fn validate(&self) -> Result<(), SettingsError> {
        self.server.validate()?;
        self.auth.validate().map_err(auth_error)?;
        self.validate_trust()
    }

    /// What is allowed but likely a mistake, one message per finding, for the log at startup.
    pub fn warnings(&self) -> Vec<String> {
        let mut warnings = Vec::new();
        let trusted = self.auth.trusted();
        for (i, one) in trusted.iter().enumerate() {
            for other in &trusted[i + 1..] {
                if let Some(shared) = one.audiences.iter().find(|a| other.audiences.contains(a)) {
                    warnings.push(format!(
                        "the issuers {:?} and {:?} share the audience {shared:?}: an admin of \
                         either can mint tokens this API accepts for any `sub`; give each \
                         issuer its own audience (`audience` in its `[[auth.issuers]]` entry), \
                         key users by (iss, sub), and limit routes with Policy::issuers",
                        one.issuer, other.issuer
                    ));
                }
            }
        }
        match &self.auth.public_url {
            None => warnings.push(format!(
                "`auth.public_url` ({}) is not set: the RFC 9728 metadata document is not \
                 served and challenges name no resource_metadata, so MCP clients cannot \
                 discover the issuer{}",
                env_vars("auth.public_url"),
                if self.auth.dpop.mode == DpopMode::Allowed {
                    "; and DPoP requests are refused, since their proofs name the API's URL \
                     (Bearer tokens work as ever)"
                } else {
                    ""
                }
            )),
            Some(url)
                if !trusted.is_empty()
                    && !trusted.iter().any(|one| one.audiences.contains(url)) =>
            {
                warnings.push(format!(
                    "`auth.public_url` {url:?} is not among the accepted audiences \
                     (`auth.audience`): MCP clients ask for tokens whose audience is the \
                     resource URL, and those tokens will be refused"
                ));
            }
            Some(_) => {}
        }
        warnings.extend(self.replay_warnings());
        warnings
    }

    /// What the DPoP replay settings give up, when they give something up.
    fn replay_warnings(&self) -> Option<String> {
        let dpop = &self.auth.dpop;
        if dpop.mode == DpopMode::Disabled {
            return None;
        }
        match dpop.replay {
            ReplayKind::Off => Some(format!(
                "`auth.dpop.replay` ({}) is \"off\": DPoP proofs are not checked for replay, so a \
                 captured proof can be sent again, with its token, until its iat is \
                 max_age_secs + leeway_secs old ({} s); use \"memory\" or \"redis\"",
                env_vars("auth.dpop.replay"),
                (dpop.max_age + dpop.leeway).as_secs()
            )),
            ReplayKind::Redis => {
                let url = Url::parse(dpop.redis_url.as_deref()?).ok()?;
                let host = url.host()?;
                let loopback = match host {
                    // redis:// is not a special scheme: an IPv4 address stays a name here.
                    url::Host::Domain(name) => {
                        name.eq_ignore_ascii_case("localhost")
                            || name
                                .parse::<std::net::IpAddr>()
                                .is_ok_and(|ip| ip.is_loopback())
                    }
                    url::Host::Ipv4(ip) => ip.is_loopback(),
                    url::Host::Ipv6(ip) => ip.is_loopback(),
                };
                (url.scheme() == "redis" && !loopback).then(|| {
                    format!(
                        "`auth.dpop.redis_url` ({}) is plaintext redis:// to {host}, not a \
                         loopback host: the replay store's traffic and any password in the URL \
                         cross the network unencrypted, and whoever sits on the path can answer \
                         for the server and let replays through; use rediss:// (TLS)",
                        env_vars("auth.dpop.redis_url")
                    )
                })
            }
            _ => None,
        }
    }

    /// Production needs a configured issuer. Development without one uses the development
    /// issuer, which is allowed only on a loopback host and ignores no other key.
    fn validate_trust(&self) -> Result<(), SettingsError> {
        let issuer_vars = format!(
            "set `auth.domain` ({}) or `auth.issuer` ({})",
            env_vars("auth.domain"),
            env_vars("auth.issuer")
        );
        if !self.auth.trusted().is_empty() {
            return Ok(());
        }
        if self.environment == Environment::Production {
            return Err(SettingsError::invalid(
                "auth.domain",
                format!("production needs an issuer: {issuer_vars}"),
            ));
        }
        if self.auth.jwks_uri.is_some() {
            return Err(SettingsError::invalid(
                "auth.jwks_uri",
                format!(
                    "is set, but no issuer is; {issuer_vars} too, or unset `auth.jwks_uri` to \
                     use the development issuer"
                ),
            ));
        }
        if !self.server.is_loopback() {
            return Err(SettingsError::invalid(
                "auth.domain",
                format!(
                    "no issuer is set and `server.host` ({}) is {:?}, not a loopback address: \
                     the development issuer serves loopback only; {issuer_vars}, or bind \
                     `server.host` to 127.0.0.1",
                    env_vars("server.host"),
                    self.server.host
                ),
            ));
        }
        Ok(())
    }
}

impl ServerSettings {
    fn validate(&self) -> Result<(), SettingsError> {
        within("server.workers", saturating_u64(self.workers), &WORKERS)?;
        within(
            "server.shutdown_timeout_secs",
            self.shutdown_timeout_secs,
            &SHUTDOWN_TIMEOUT_SECS,
        )?;
        match self.metrics_port {
            Some(_) if !self.metrics_enabled => {
                return Err(SettingsError::invalid(
                    "server.metrics_port",
                    format!(
                        "is set but metrics are off: unset it ({}=\"\"), or set \
                         `server.metrics_enabled` ({}) to true",
                        env_vars("server.metrics_port"),
                        env_vars("server.metrics_enabled")
                    ),
                ));
            }
            Some(port) if port != 0 && port == self.port => {
                return Err(SettingsError::invalid(
                    "server.metrics_port",
                    format!(
                        "must differ from `server.port` ({port}); unset it to serve /metrics on \
                         the API's port"
                    ),
                ));
            }
            _ => {}
        }
        if self.host.trim().is_empty() {
            return Err(SettingsError::invalid(
                "server.host",
                "must not be empty; use 127.0.0.1 or 0.0.0.0",
            ));
        }
        if self.metrics_host.is_some() && self.metrics_port.is_none() {
            return Err(SettingsError::invalid(
                "server.metrics_host",
                format!(
                    "is set but `server.metrics_port` ({}) is not: /metrics is then served on \
                     the API's own listener",
                    env_vars("server.metrics_port")
                ),
            ));
        }
        for origin in &self.cors_allowed_origins {
            let valid = Url::parse(origin).is_ok_and(|url| {
                matches!(url.scheme(), "http" | "https")
                    && url.host().is_some()
                    && url.path() == "/"
                    && !origin.ends_with('/')
            });
            if !valid {
                return Err(SettingsError::invalid(
                    "server.cors_allowed_origins",
                    format!(
                        "{origin:?} is not an origin such as http://localhost:3000 (scheme, host \
                         and port, no path)"
                    ),
                ));
            }
        }
        Ok(())
    }
}

/// An `auth` library error as a setting's error, named by its key (`auth.` and the library's
/// path, or the key the error is about) and its env var.
pub fn auth_error(error: auth::ConfigError) -> SettingsError {
    use auth::ConfigError;
    let key = match &error {
        ConfigError::Invalid { path, reason } => {
            return SettingsError::invalid(&format!("auth.{path}"), reason);
        }
        ConfigError::Needs {
            path,
            needs,
            reason,
        } => {
            let needed = format!("auth.{needs}");
            return SettingsError::invalid(
                &format!("auth.{path}"),
                format!("{reason}; set `{needed}` ({})", env_vars(&needed)),
            );
        }
        ConfigError::MissingIssuer => "auth.domain",
        ConfigError::MissingAudience => "auth.audience",
        ConfigError::DuplicateIssuer { .. } => "auth.issuers",
        ConfigError::BadRootCertificates { .. } => "auth.jwks.ca_file",
        ConfigError::BadUrl {
            kind: UrlKind::Issuer,
            ..
        } => "auth.issuer",
        ConfigError::BadUrl {
            kind: UrlKind::Resource,
            ..
        } => "auth.public_url",
        ConfigError::BadUrl {
            kind: UrlKind::JwksUri,
            ..
        } => "auth.jwks_uri",
        // What a later `auth` adds: its message names it.
        _ => "auth",
    };
    SettingsError::invalid(key, error)
}

fn within(key: &str, value: u64, range: &RangeInclusive<u64>) -> Result<(), SettingsError> {
    if range.contains(&value) {
        return Ok(());
    }
    Err(SettingsError::invalid(
        key,
        format!(
            "{value} is out of range; allowed {} to {}",
            range.start(),
            range.end()
        ),
    ))
}

fn saturating_u64(value: usize) -> u64 {
    u64::try_from(value).unwrap_or(u64::MAX)
}
