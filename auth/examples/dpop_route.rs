//! A route that only DPoP-bound tokens may call (RFC 9449), each proof accepted once.
//!
//! ```sh
//! ISSUER=https://dev-abc123.us.auth0.com/ AUDIENCE=https://my-api \
//!   PUBLIC_URL=http://127.0.0.1:8080 cargo run -p oauth2-jwt-bearer --example dpop_route
//! curl -H "Authorization: DPoP $TOKEN" -H "DPoP: $PROOF" http://127.0.0.1:8080/orders
//! ```
//!
//! `PUBLIC_URL` is the URL clients reach the API at: a proof's `htu` must name its origin and
//! the request's path (`http://127.0.0.1:8080/orders` here). A `Bearer` request gets the bare
//! `DPoP` challenge, a proof used twice gets 400 `invalid_dpop_proof`. With `REDIS_URL` set
//! (and the crate's `redis` feature), replicas share the replay store; otherwise it is this
//! process's memory.

use std::sync::Arc;

use actix_web::{App, HttpResponse, HttpServer, web};
use oauth2_jwt_bearer::dpop::{MemoryReplayStore, ReplayStore};
use oauth2_jwt_bearer::{Authenticator, Claims, DpopMode, RequireAuth};
use serde_json::json;

async fn orders(claims: Claims) -> HttpResponse {
    HttpResponse::Ok().json(json!({
        "sub": claims.sub(),
        // The thumbprint of the key this caller proved it holds.
        "jkt": claims.dpop_jkt(),
    }))
}

fn env(name: &str) -> std::io::Result<String> {
    std::env::var(name)
        .map_err(|_| std::io::Error::other(format!("set {name}; see the example's docs")))
}

/// The replay store: Redis when `REDIS_URL` is set (feature `redis`), else memory.
#[cfg_attr(not(feature = "redis"), allow(clippy::unnecessary_wraps))]
fn replay_store() -> std::io::Result<Arc<dyn ReplayStore>> {
    #[cfg(feature = "redis")]
    if let Ok(url) = std::env::var("REDIS_URL") {
        let store = oauth2_jwt_bearer::dpop::RedisReplayStore::new(
            &url,
            oauth2_jwt_bearer::dpop::RedisOptions::default(),
        )
        .map_err(std::io::Error::other)?;
        return Ok(Arc::new(store));
    }
    Ok(Arc::new(MemoryReplayStore::new(
        oauth2_jwt_bearer::DEFAULT_REPLAY_CAPACITY,
        oauth2_jwt_bearer::DEFAULT_REPLAY_MAX_BYTES,
        oauth2_jwt_bearer::DEFAULT_REPLAY_PER_CLIENT,
    )))
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let authenticator = Authenticator::builder()
        .issuer(env("ISSUER")?)
        .audiences([env("AUDIENCE")?])
        .public_url(env("PUBLIC_URL")?)
        .dpop_mode(DpopMode::Required)
        .dpop_replay(Some(replay_store()?))
        .build()
        .map_err(std::io::Error::other)?;

    println!("listening on http://127.0.0.1:8080/orders");
    HttpServer::new(move || {
        App::new().service(
            web::resource("/orders")
                .route(web::get().to(orders))
                .wrap(RequireAuth::new(authenticator.clone())),
        )
    })
    .bind(("127.0.0.1", 8080))?
    .run()
    .await
}
