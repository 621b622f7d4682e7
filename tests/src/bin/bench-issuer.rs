//! The benchmark's issuer: the development issuer (`api::dev_issuer`) with the fixture key. It
//! mints distinct valid tokens into a file, then serves OIDC discovery and the JWKS on loopback
//! until killed.
//!
//! `bench-issuer TOKENS_FILE COUNT SCOPE AUDIENCE [FILE:COUNT:BYTES ...]` prints
//! `http://127.0.0.1:PORT/` once the tokens are written and the server listens. Each
//! `FILE:COUNT:BYTES` also writes COUNT distinct tokens of about BYTES each, padded with many
//! small claims: the heaviest claims per token byte, for the memory bound of the token cache.
//! `dpop=PREFIX:ROUNDS:COUNT:URL` writes a token bound to a P-256 client key into
//! `PREFIX.token`, and ROUNDS files `PREFIX-{round}.txt` of COUNT distinct ES256 proofs each for
//! `GET URL` with that token: one fresh proof per request, as DPoP clients send them.

use std::io::Write;

use anyhow::Context;
use api::dev_issuer::DevIssuer;
use auth::testing::SigningKey;

/// Tokens outlive any benchmark run.
const LIFETIME_SECS: i64 = 24 * 3600;

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let (Some([tokens_file, count, scope, audience]), sized) = (args.get(1..5), args.get(5..))
    else {
        anyhow::bail!(
            "usage: bench-issuer TOKENS_FILE COUNT SCOPE AUDIENCE [FILE:COUNT:BYTES ...]"
        );
    };
    let count: usize = count.parse().context("COUNT must be a number")?;
    let (dpop, sized): (Vec<&String>, Vec<&String>) = sized
        .unwrap_or_default()
        .iter()
        .partition(|arg| arg.starts_with("dpop="));
    let pem = include_str!("../../../auth/fixtures/rsa1.pem");
    let key = SigningKey::rsa_from_pem("bench-1", pem)?;
    actix_web::rt::System::new().block_on(async {
        let issuer = DevIssuer::start_with_key(key, audience)?;
        let sign = |i: usize| issuer.mint_for(&format!("user-{i}"), Some(scope), LIFETIME_SECS);
        mint(sign, count, tokens_file)?;
        let padder = SigningKey::rsa_from_pem("bench-1", pem)?;
        for set in dpop {
            proofs(&issuer, scope, set.trim_start_matches("dpop="))?;
        }
        for set in sized {
            let (path, count, bytes) = sized_set(set)?;
            let claims = padding_claims(bytes, |claims| {
                padded(&padder, issuer.issuer(), audience, scope, 0, claims)
            })?;
            mint(
                |i| padded(&padder, issuer.issuer(), audience, scope, i, claims),
                count,
                path,
            )?;
        }
        println!("{}", issuer.issuer());
        std::io::stdout().flush()?;
        // Serve until killed.
        std::future::pending::<()>().await;
        Ok(())
    })
}

/// A bound token and its proofs, for `PREFIX:ROUNDS:COUNT:URL`.
fn proofs(issuer: &DevIssuer, scope: &str, set: &str) -> anyhow::Result<()> {
    let mut parts = set.splitn(4, ':');
    let (Some(prefix), Some(rounds), Some(count), Some(url)) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        anyhow::bail!("{set:?} is not dpop=PREFIX:ROUNDS:COUNT:URL");
    };
    let (rounds, count): (usize, usize) = (rounds.parse()?, count.parse()?);
    let client =
        SigningKey::p256_from_pem("client", include_str!("../../../auth/fixtures/ec-p256.pem"))?;
    let pem = include_str!("../../../auth/fixtures/rsa1.pem");
    let token = SigningKey::rsa_from_pem("bench-1", pem)?
        .token()
        .claim("iss", issuer.issuer())
        .claim("aud", issuer.audience())
        .claim("sub", "dpop-client")
        .claim("scope", scope)
        .claim("cnf", serde_json::json!({ "jkt": client.jkt() }))
        .expires_in(LIFETIME_SECS)
        .sign()?;
    std::fs::write(format!("{prefix}.token"), &token)?;
    for round in 1..=rounds {
        let sign = |_| Ok(client.dpop_proof("GET", url, &token).sign()?);
        mint(sign, count, &format!("{prefix}-{round}.txt"))?;
    }
    Ok(())
}

/// `FILE:COUNT:BYTES`.
fn sized_set(set: &str) -> anyhow::Result<(&str, usize, usize)> {
    let mut parts = set.rsplitn(3, ':');
    let (Some(bytes), Some(count), Some(path)) = (parts.next(), parts.next(), parts.next()) else {
        anyhow::bail!("{set:?} is not FILE:COUNT:BYTES");
    };
    Ok((path, count.parse()?, bytes.parse()?))
}

/// A valid token for `user-{i}` with `claims` small padding claims.
fn padded(
    key: &SigningKey,
    issuer: &str,
    audience: &str,
    scope: &str,
    i: usize,
    claims: usize,
) -> anyhow::Result<String> {
    let mut token = key
        .token()
        .claim("iss", issuer)
        .claim("aud", audience)
        .claim("sub", format!("user-{i}"))
        .claim("scope", scope)
        .expires_in(LIFETIME_SECS);
    for n in 0..claims {
        token = token.claim(&format!("c{n}"), n);
    }
    Ok(token.sign()?)
}

/// How many padding claims bring a token to about `bytes`, found by measuring.
fn padding_claims(
    bytes: usize,
    sign: impl Fn(usize) -> anyhow::Result<String>,
) -> anyhow::Result<usize> {
    let base = sign(0)?.len();
    let mut claims = 100;
    // Claims grow longer as their names do: scale the guess by what it gave, a few times.
    for _ in 0..4 {
        let grown = sign(claims)?.len().saturating_sub(base).max(1);
        claims = claims * bytes.saturating_sub(base) / grown;
    }
    Ok(claims)
}

/// Writes `count` distinct tokens from `sign(i)`, one a line, signing on every core.
fn mint(
    sign: impl Fn(usize) -> anyhow::Result<String> + Sync,
    count: usize,
    path: &str,
) -> anyhow::Result<()> {
    let threads = std::thread::available_parallelism().map_or(1, usize::from);
    let chunks = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let sign = &sign;
                s.spawn(move || {
                    (t..count)
                        .step_by(threads)
                        .map(sign)
                        .collect::<anyhow::Result<Vec<_>>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(anyhow::anyhow!("a minting thread panicked")))
            })
            .collect::<anyhow::Result<Vec<_>>>()
    })?;
    let mut out = std::io::BufWriter::new(std::fs::File::create(path)?);
    for token in chunks.iter().flatten() {
        writeln!(out, "{token}")?;
    }
    out.flush()?;
    Ok(())
}
