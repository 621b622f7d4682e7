//! The rules every loaded value must meet: ranges, URL and host forms, and whom to trust in
//! each environment. A value that breaks one stops startup.

use std::ops::RangeInclusive;

use auth::{Algorithm, ScopeClaim, UrlKind, check_url, issuer_matches};
use url::Url;

use crate::env::env_vars;
use crate::error::SettingsError;
use crate::model::{AuthSettings, Environment, JwksSettings, ServerSettings, Settings, resolve};

/// `server.workers`: 0 means one per physical core.
pub const WORKERS: RangeInclusive<u64> = 0..=256;
/// `server.shutdown_timeout_secs`: in-flight requests get up to this long after SIGTERM.
pub const SHUTDOWN_TIMEOUT_SECS: RangeInclusive<u64> = 1..=300;
/// `auth.leeway_secs`: at most five minutes of clock skew; more would quietly disable `exp`.
pub const LEEWAY_SECS: RangeInclusive<u64> = 0..=300;
/// `auth.token_cache_capacity`: 0 turns the cache off.
pub const TOKEN_CACHE_CAPACITY: RangeInclusive<u64> = 0..=1_000_000;
/// `auth.token_cache_max_bytes`: 1 MiB to 1 GiB.
pub const TOKEN_CACHE_MAX_BYTES: RangeInclusive<u64> = 1024 * 1024..=1024 * 1024 * 1024;
/// `auth.max_token_bytes`: 1 KiB to 64 KiB (actix refuses larger headers anyway).
pub const MAX_TOKEN_BYTES: RangeInclusive<u64> = 1024..=64 * 1024;
/// `auth.jwks.fetch_timeout_secs`.
pub const FETCH_TIMEOUT_SECS: RangeInclusive<u64> = 1..=60;
/// `auth.jwks.max_response_bytes`: 1 KiB to 4 MiB.
pub const MAX_RESPONSE_BYTES: RangeInclusive<u64> = 1024..=4 * 1024 * 1024;
/// `auth.jwks.max_age_secs`: up to a week.
pub const MAX_AGE_SECS: RangeInclusive<u64> = 1..=7 * 86_400;
/// `auth.jwks.cooldown_secs`: at least a second, so an unknown `kid` cannot drive every request
/// to the issuer; up to a day.
pub const COOLDOWN_SECS: RangeInclusive<u64> = 1..=86_400;
/// `auth.jwks.retry_max_secs`: at least a second, so that failures never spin; at most an
/// hour, so that recovery after an outage never lags long.
pub const RETRY_MAX_SECS: RangeInclusive<u64> = 1..=3600;
/// `auth.jwks.max_stale_secs`: up to a week, and at least `max_age_secs`.
pub const MAX_STALE_SECS: RangeInclusive<u64> = 1..=7 * 86_400;

impl Settings {
    /// Checks every value: ranges, forms, and that the environment has an issuer it may trust.
    /// [`Settings::load_with`] runs it; run it again after changing a loaded value.
    ///
    /// # Errors
    /// The first rule broken, naming the key and its env var.
    pub fn validate(&self) -> Result<(), SettingsError> {
        self.server.validate()?;
        self.auth.validate()?;
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
        match &self.server.public_url {
            None => warnings.push(format!(
                "`server.public_url` ({}) is not set: the RFC 9728 metadata document is not \
                 served and challenges name no resource_metadata, so MCP clients cannot \
                 discover the issuer",
                env_vars("server.public_url")
            )),
            Some(url)
                if !trusted.is_empty()
                    && !trusted.iter().any(|one| one.audiences.contains(url)) =>
            {
                warnings.push(format!(
                    "`server.public_url` {url:?} is not among the accepted audiences \
                     (`auth.audience`): MCP clients ask for tokens whose audience is the \
                     resource URL, and those tokens will be refused"
                ));
            }
            Some(_) => {}
        }
        warnings
    }

    /// Production needs a configured issuer. Development without one uses the development
    /// issuer, which is allowed only on a loopback host and ignores no other key.
    fn validate_trust(&self) -> Result<(), SettingsError> {
        let issuer_vars = format!(
            "set `auth.domain` ({}) or `auth.issuer` ({})",
            env_vars("auth.domain"),
            env_vars("auth.issuer")
        );
        let trusted = self.auth.trusted();
        if !trusted.is_empty() {
            if trusted.iter().any(|one| one.audiences.is_empty()) {
                return Err(SettingsError::invalid(
                    "auth.audience",
                    "at least one audience is required, such as https://my-api (the API's \
                     identifier in the Auth0 dashboard)",
                ));
            }
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
        if let Some(url) = &self.public_url {
            check_url(UrlKind::Resource, url)
                .map_err(|error| SettingsError::invalid("server.public_url", error))?;
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

fn validate_audiences(key: &str, audiences: &[String]) -> Result<(), SettingsError> {
    for audience in audiences {
        if audience.trim().is_empty() || audience.trim() != audience {
            return Err(SettingsError::invalid(
                key,
                format!("{audience:?}: an audience must not be empty or padded with spaces"),
            ));
        }
    }
    Ok(())
}

/// Checks one `domain`/`issuer`/`jwks_uri` triple, whose keys start with `prefix`.
fn validate_issuer(
    prefix: &str,
    domain: Option<&String>,
    issuer: Option<&String>,
    jwks_uri: Option<&String>,
) -> Result<(), SettingsError> {
    if let Some(domain) = domain
        && !is_host_with_port(domain)
    {
        return Err(SettingsError::invalid(
            &format!("{prefix}domain"),
            format!(
                "{domain:?} is not a bare host name such as dev-abc123.us.auth0.com, with an \
                 optional :port (no scheme, user, path, query, fragment or backslash)"
            ),
        ));
    }
    let urls = [
        ("issuer", UrlKind::Issuer, issuer),
        ("jwks_uri", UrlKind::JwksUri, jwks_uri),
    ];
    for (key, kind, value) in urls {
        if let Some(value) = value {
            check_url(kind, value)
                .map_err(|error| SettingsError::invalid(&format!("{prefix}{key}"), error))?;
        }
    }
    Ok(())
}

impl AuthSettings {
    /// The `[[auth.issuers]]` rules: one form of issuer at a time, each entry naming one
    /// issuer, and no issuer twice.
    fn validate_issuers(&self) -> Result<(), SettingsError> {
        if self.issuers.is_empty() {
            return Ok(());
        }
        if self.domain.is_some() || self.issuer.is_some() || self.jwks_uri.is_some() {
            return Err(SettingsError::invalid(
                "auth.issuers",
                "is set together with `auth.domain`, `auth.issuer` or `auth.jwks_uri`: use \
                 the one-issuer shorthand or the list, not both",
            ));
        }
        let mut seen: Vec<String> = Vec::new();
        for (i, entry) in self.issuers.iter().enumerate() {
            let prefix = format!("auth.issuers[{i}].");
            if entry.domain.is_some() == entry.issuer.is_some() {
                return Err(SettingsError::invalid(
                    &format!("{prefix}domain"),
                    "each issuer needs exactly one of `domain` and `issuer`",
                ));
            }
            validate_issuer(
                &prefix,
                entry.domain.as_ref(),
                entry.issuer.as_ref(),
                entry.jwks_uri.as_ref(),
            )?;
            validate_audiences(&format!("{prefix}audience"), &entry.audience)?;
            let (issuer, _) = resolve(
                entry.domain.as_ref(),
                entry.issuer.as_ref(),
                entry.jwks_uri.as_ref(),
            )
            .unwrap_or_default();
            // Compared as tokens' `iss` is, so that a trailing slash does not make two.
            if seen.iter().any(|other| issuer_matches(other, &issuer)) {
                return Err(SettingsError::invalid(
                    &format!("{prefix}issuer"),
                    format!("{issuer:?} is listed twice"),
                ));
            }
            seen.push(issuer);
        }
        Ok(())
    }

    fn validate(&self) -> Result<(), SettingsError> {
        validate_issuer(
            "auth.",
            self.domain.as_ref(),
            self.issuer.as_ref(),
            self.jwks_uri.as_ref(),
        )?;
        self.validate_issuers()?;
        validate_audiences("auth.audience", &self.audience)?;
        if self.algorithms.is_empty() {
            return Err(SettingsError::invalid(
                "auth.algorithms",
                format!(
                    "list at least one of {}",
                    Algorithm::ALL.map(Algorithm::as_str).join(", ")
                ),
            ));
        }
        if self.granting_claims().is_empty() {
            return Err(SettingsError::invalid(
                "auth.scope_claims",
                format!(
                    "no claim grants scopes, so every scoped route would refuse every token: \
                     list at least one of {} (and keep permissions_as_scopes true if \
                     permissions is the only one)",
                    ScopeClaim::names()
                ),
            ));
        }
        within("auth.leeway_secs", self.leeway_secs, &LEEWAY_SECS)?;
        within(
            "auth.token_cache_capacity",
            saturating_u64(self.token_cache_capacity),
            &TOKEN_CACHE_CAPACITY,
        )?;
        within(
            "auth.token_cache_max_bytes",
            saturating_u64(self.token_cache_max_bytes),
            &TOKEN_CACHE_MAX_BYTES,
        )?;
        within(
            "auth.max_token_bytes",
            saturating_u64(self.max_token_bytes),
            &MAX_TOKEN_BYTES,
        )?;
        self.jwks.validate()
    }
}

impl JwksSettings {
    fn validate(&self) -> Result<(), SettingsError> {
        within(
            "auth.jwks.fetch_timeout_secs",
            self.fetch_timeout_secs,
            &FETCH_TIMEOUT_SECS,
        )?;
        within(
            "auth.jwks.max_response_bytes",
            saturating_u64(self.max_response_bytes),
            &MAX_RESPONSE_BYTES,
        )?;
        within("auth.jwks.max_age_secs", self.max_age_secs, &MAX_AGE_SECS)?;
        within(
            "auth.jwks.cooldown_secs",
            self.cooldown_secs,
            &COOLDOWN_SECS,
        )?;
        within(
            "auth.jwks.retry_max_secs",
            self.retry_max_secs,
            &RETRY_MAX_SECS,
        )?;
        within(
            "auth.jwks.max_stale_secs",
            self.max_stale_secs,
            &MAX_STALE_SECS,
        )?;
        if self.max_stale_secs < self.max_age_secs {
            return Err(SettingsError::invalid(
                "auth.jwks.max_stale_secs",
                format!(
                    "must be at least auth.jwks.max_age_secs ({})",
                    self.max_age_secs
                ),
            ));
        }
        Ok(())
    }
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

/// `host[:port]`, where host is a DNS name or dotted IPv4 address: letters, digits and hyphens
/// in dot-separated labels. Anything a URL parser could read as a scheme, user, path, query or
/// fragment (`/`, `\`, `@`, `?`, `#`, a second `:`) is refused.
fn is_host_with_port(value: &str) -> bool {
    let (host, port) = match value.split_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (value, None),
    };
    let port_ok = port.is_none_or(|port| {
        port.bytes().all(|b| b.is_ascii_digit()) && port.parse::<u16>().is_ok_and(|p| p > 0)
    });
    let label_ok = |label: &str| {
        (1..=63).contains(&label.len())
            && label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-')
            && !label.starts_with('-')
            && !label.ends_with('-')
    };
    port_ok && host.len() <= 253 && host.split('.').all(label_ok)
}

#[cfg(test)]
mod tests {
    use super::is_host_with_port;

    #[test]
    fn a_domain_is_a_bare_host_with_an_optional_port() {
        for ok in [
            "dev-abc123.us.auth0.com",
            "login.example.com:8443",
            "localhost",
            "127.0.0.1:9000",
        ] {
            assert!(is_host_with_port(ok), "{ok}");
        }
        for bad in [
            "",
            "https://tenant.auth0.com",
            "tenant.auth0.com/",
            "tenant.auth0.com/path",
            "user:pass@tenant.auth0.com",
            "evil.example\\@tenant.auth0.com",
            "evil.example@tenant.auth0.com",
            "tenant.auth0.com?x=1",
            "tenant.auth0.com#x",
            "tenant.auth0.com:",
            "tenant.auth0.com:0",
            "tenant.auth0.com:99999",
            "tenant.auth0.com:80:80",
            "tenant..auth0.com",
            "-tenant.auth0.com",
            "tenant.auth0.com.",
            " tenant.auth0.com",
            "[::1]",
        ] {
            assert!(!is_host_with_port(bad), "{bad}");
        }
    }
}
