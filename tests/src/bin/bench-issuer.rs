//! The benchmark's issuer: mints distinct valid tokens into a file, then serves OIDC discovery
//! and the JWKS for the fixture key on loopback until killed.
//!
//! `bench-issuer TOKENS_FILE COUNT SCOPE AUDIENCE` prints `http://127.0.0.1:PORT/` once the
//! tokens are written and the server listens.

use std::io::Write;
use std::net::TcpListener;

use actix_web::{App, HttpResponse, HttpServer, web};
use auth::mint::SigningKey;
use serde_json::json;

fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let [_, tokens_file, count, scope, audience] = args.as_slice() else {
        eprintln!("usage: bench-issuer TOKENS_FILE COUNT SCOPE AUDIENCE");
        std::process::exit(2);
    };
    let count: usize = count.parse().map_err(std::io::Error::other)?;
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let issuer = format!("http://127.0.0.1:{}/", listener.local_addr()?.port());
    let key = SigningKey::rsa_from_pem("bench-1", include_str!("../../fixtures/rsa1.pem"))
        .map_err(std::io::Error::other)?;

    mint(&key, &issuer, audience, scope, count, tokens_file)?;

    let jwks = json!({ "keys": [key.jwk()] });
    let discovery = json!({
        "issuer": issuer,
        "jwks_uri": format!("{issuer}.well-known/jwks.json"),
    });
    println!("{issuer}");
    std::io::stdout().flush()?;
    actix_web::rt::System::new().block_on(
        HttpServer::new(move || {
            let (jwks, discovery) = (jwks.clone(), discovery.clone());
            App::new()
                .route(
                    "/.well-known/jwks.json",
                    web::get().to(move || {
                        let jwks = jwks.clone();
                        async move { HttpResponse::Ok().json(jwks) }
                    }),
                )
                .route(
                    "/.well-known/openid-configuration",
                    web::get().to(move || {
                        let discovery = discovery.clone();
                        async move { HttpResponse::Ok().json(discovery) }
                    }),
                )
        })
        .workers(1)
        .listen(listener)?
        .run(),
    )
}

/// Writes `count` distinct tokens, one a line, signing on every core.
fn mint(
    key: &SigningKey,
    issuer: &str,
    audience: &str,
    scope: &str,
    count: usize,
    path: &str,
) -> std::io::Result<()> {
    let threads = std::thread::available_parallelism().map_or(1, usize::from);
    let chunks: Vec<Vec<String>> = std::thread::scope(|scope_| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                scope_.spawn(move || {
                    (t..count)
                        .step_by(threads)
                        .map(|i| {
                            key.token()
                                .claim("iss", issuer)
                                .claim("aud", audience)
                                .claim("sub", format!("user-{i}"))
                                .claim("scope", scope)
                                .expires_in(24 * 3600)
                                .sign()
                                .map_err(std::io::Error::other)
                        })
                        .collect::<std::io::Result<Vec<_>>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(std::io::Error::other("a minting thread panicked")))
            })
            .collect::<std::io::Result<Vec<_>>>()
    })?;
    let mut out = std::io::BufWriter::new(std::fs::File::create(path)?);
    for token in chunks.iter().flatten() {
        writeln!(out, "{token}")?;
    }
    out.flush()
}
