//! The benchmark's issuer: the development issuer (`api::dev_issuer`) with the fixture key. It
//! mints distinct valid tokens into a file, then serves OIDC discovery and the JWKS on loopback
//! until killed.
//!
//! `bench-issuer TOKENS_FILE COUNT SCOPE AUDIENCE` prints `http://127.0.0.1:PORT/` once the
//! tokens are written and the server listens.

use std::io::Write;

use anyhow::Context;
use api::dev_issuer::DevIssuer;
use auth::mint::SigningKey;

/// Tokens outlive any benchmark run.
const LIFETIME_SECS: i64 = 24 * 3600;

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let [_, tokens_file, count, scope, audience] = args.as_slice() else {
        anyhow::bail!("usage: bench-issuer TOKENS_FILE COUNT SCOPE AUDIENCE");
    };
    let count: usize = count.parse().context("COUNT must be a number")?;
    let key = SigningKey::rsa_from_pem("bench-1", include_str!("../../fixtures/rsa1.pem"))?;
    actix_web::rt::System::new().block_on(async {
        let (issuer, server) = DevIssuer::start_with_key(key, audience)?;
        mint(&issuer, scope, count, tokens_file)?;
        println!("{}", issuer.issuer());
        std::io::stdout().flush()?;
        server.await?;
        Ok(())
    })
}

/// Writes `count` distinct tokens (`sub` = `user-N`), one a line, signing on every core.
fn mint(issuer: &DevIssuer, scope: &str, count: usize, path: &str) -> anyhow::Result<()> {
    let threads = std::thread::available_parallelism().map_or(1, usize::from);
    let chunks = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                s.spawn(move || {
                    (t..count)
                        .step_by(threads)
                        .map(|i| issuer.mint_for(&format!("user-{i}"), Some(scope), LIFETIME_SECS))
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
