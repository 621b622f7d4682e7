//! Micro-benchmarks of one token check, through the public API, with keys already loaded.
//!
//! `cargo bench -p auth`. Every case runs in the same process, so compare them with each other;
//! absolute times on a shared machine are noise.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use futures_util::FutureExt;
use oauth2_jwt_bearer::dpop::{
    MemoryReplayStore, ProofRequest, ProofRules, ProofSender, ReplayStore, replay_key,
};
use oauth2_jwt_bearer::testing::SigningKey;
use oauth2_jwt_bearer::{Authenticator, JwksConfig};
use serde_json::json;
use wiremock::matchers::path;
use wiremock::{Mock, MockServer, ResponseTemplate};

const ISSUER: &str = "https://issuer.example/";
const AUDIENCE: &str = "https://api.example";

fn key(kid: &str, pem: &str) -> SigningKey {
    SigningKey::rsa_from_pem(kid, pem).expect("fixture key")
}

/// A mock JWKS server and authenticators with and without the token cache, keys loaded.
fn setup(issuer_key: &SigningKey) -> (MockServer, Authenticator, Authenticator) {
    actix_web::rt::System::new().block_on(async {
        let server = MockServer::start().await;
        Mock::given(path("/jwks.json"))
            .respond_with(
                ResponseTemplate::new(200).set_body_json(json!({ "keys": [issuer_key.jwk()] })),
            )
            .mount(&server)
            .await;
        let mut jwks = JwksConfig::default();
        jwks.cooldown = Duration::from_secs(3600);
        let build = |capacity| {
            Authenticator::builder()
                .issuer(ISSUER)
                .jwks_uri(format!("{}/jwks.json", server.uri()))
                .audiences([AUDIENCE])
                .token_cache_capacity(capacity)
                .jwks(jwks.clone())
                .build()
                .expect("authenticator builds")
        };
        let (cold, warm) = (build(0), build(10_000));
        for auth in [&cold, &warm] {
            auth.wait_ready(Duration::from_secs(10))
                .await
                .expect("keys load");
        }
        (server, cold, warm)
    })
}

/// Runs a verification whose keys are loaded: it completes on its first poll.
fn verify(auth: &Authenticator, token: &str) -> bool {
    auth.verify_token(token)
        .now_or_never()
        .expect("no fetch is needed")
        .is_ok()
}

fn benchmarks(c: &mut Criterion) {
    let issuer_key = key("k1", include_str!("../fixtures/rsa1.pem"));
    let rogue_key = key("k1", include_str!("../fixtures/rsa3.pem"));
    let (_server, cold, warm) = setup(&issuer_key);
    let claims = |key: &SigningKey| {
        key.token()
            .claim("iss", ISSUER)
            .claim("aud", AUDIENCE)
            .claim("sub", "user-1")
            .claim("scope", "openid read:messages")
            .expires_in(3600)
            .sign()
            .expect("token signs")
    };
    let valid = claims(&issuer_key);
    let forged = claims(&rogue_key);
    let unknown_kid = issuer_key
        .token()
        .header("kid", "unknown")
        .claim("exp", 0)
        .sign()
        .expect("token signs");
    assert!(verify(&cold, &valid) && verify(&warm, &valid));
    assert!(!verify(&cold, &forged));
    // Use up the one unknown-kid refetch, so that the case below never fetches.
    actix_web::rt::System::new().block_on(async {
        let _ = cold.verify_token(&unknown_kid).await;
    });

    let mut group = c.benchmark_group("verify");
    group.bench_function("full validation, RS256 (cache off)", |b| {
        b.iter(|| verify(&cold, black_box(&valid)));
    });
    group.bench_function("cache hit", |b| {
        b.iter(|| verify(&warm, black_box(&valid)));
    });
    group.bench_function("rejected: bad signature", |b| {
        b.iter(|| verify(&cold, black_box(&forged)));
    });
    group.bench_function("parse and key lookup: unknown kid", |b| {
        b.iter(|| verify(&cold, black_box(&unknown_kid)));
    });
    group.finish();

    // DPoP: one proof's checks (ES256, the common client key), and one replay-store insert.
    let client = SigningKey::p256_from_pem("client", include_str!("../fixtures/ec-p256.pem"))
        .expect("fixture key");
    let url = "https://api.example/api/private";
    let proof = client
        .dpop_proof("GET", url, &valid)
        .sign()
        .expect("proof signs");
    let rules = ProofRules::default();
    let request = ProofRequest {
        method: "GET",
        url,
        access_token: &valid,
    };
    let now = || {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0.0, |d| d.as_secs_f64())
    };
    assert!(rules.verify(&proof, &request, now()).is_ok());
    let mut dpop = c.benchmark_group("dpop");
    dpop.bench_function("proof verification, ES256", |b| {
        b.iter(|| rules.verify(black_box(&proof), &request, now()).is_ok());
    });
    let store = MemoryReplayStore::new(10_000_000, 4 * 1024 * 1024 * 1024, 10_000_000);
    let mut n: u32 = 0;
    let sender = ProofSender {
        jkt: "jkt",
        issuer: "https://issuer.example/",
        subject: "user",
    };
    dpop.bench_function("memory replay store insert, 300 000 live", |b| {
        b.iter(|| {
            n += 1;
            let key = replay_key("jkt", &n.to_string());
            // A thousand proofs a second, each live 300 s: the store holds 300 000 once warm,
            // dropping one expired entry per insert, as a busy API's would.
            let now = f64::from(n) / 1000.0;
            store
                .check_and_insert(key, sender, now + 300.0, now)
                .now_or_never()
                .is_some()
        });
    });
    dpop.finish();

    // The reference: jsonwebtoken's decode, which rebuilds the RSA key on every call.
    let jwk: jsonwebtoken::jwk::Jwk = serde_json::from_value(issuer_key.jwk()).expect("jwk parses");
    let decoding = jsonwebtoken::DecodingKey::from_jwk(&jwk).expect("key builds");
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
    validation.set_issuer(&[ISSUER]);
    validation.set_audience(&[AUDIENCE]);
    c.bench_function("reference: jsonwebtoken::decode, RS256", |b| {
        b.iter(|| {
            jsonwebtoken::decode::<serde_json::Value>(black_box(&valid), &decoding, &validation)
                .is_ok()
        });
    });
}

criterion_group!(benches, benchmarks);
criterion_main!(benches);
