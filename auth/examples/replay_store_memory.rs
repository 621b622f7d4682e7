//! How much memory the in-memory DPoP replay store takes at its default bound: it is filled
//! until it refuses, once with every proof from another client (the most owner entries) and
//! once from one client, and the process's resident memory is read before and after (Linux's
//! `/proc/self/status`). The benchmark (`tests/bench/run.sh`) runs it; run it alone with
//! `cargo run --release -p oauth2-jwt-bearer --example replay_store_memory`.

use oauth2_jwt_bearer::dpop::{MemoryReplayStore, ProofSender, ReplayError};
use oauth2_jwt_bearer::{DEFAULT_REPLAY_CAPACITY, DEFAULT_REPLAY_MAX_BYTES};

/// The resident set in KiB (`VmRSS`), or 0 where `/proc` is not there.
fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|line| line.strip_prefix("VmRSS:"))
                .and_then(|rest| rest.trim().trim_end_matches(" kB").parse().ok())
        })
        .unwrap_or(0)
}

/// Fills a store with the default bounds; `clients` gives each proof's client by its number.
fn fill(clients: impl Fn(u64) -> String) -> (u64, usize, u64) {
    let before = rss_kib();
    let store = MemoryReplayStore::new(
        DEFAULT_REPLAY_CAPACITY,
        DEFAULT_REPLAY_MAX_BYTES,
        DEFAULT_REPLAY_CAPACITY,
    );
    let mut proofs = 0;
    loop {
        let client = clients(proofs);
        let sender = ProofSender {
            jkt: &client,
            issuer: "https://issuer.example/",
            subject: &client,
        };
        let key = oauth2_jwt_bearer::dpop::replay_key(&client, &proofs.to_string());
        let seen = futures_util::FutureExt::now_or_never(
            oauth2_jwt_bearer::dpop::ReplayStore::check_and_insert(&store, key, sender, 1e12, 0.0),
        );
        match seen {
            Some(Ok(_)) => proofs += 1,
            Some(Err(ReplayError::Full)) => break,
            other => panic!("unexpected answer {other:?} after {proofs} proofs"),
        }
    }
    let after = rss_kib();
    (proofs, store.bytes(), after.saturating_sub(before))
}

fn main() {
    println!(
        "replay store at its default bound ({} MiB):",
        DEFAULT_REPLAY_MAX_BYTES / (1024 * 1024)
    );
    for (label, clients) in [
        (
            "every proof from another client",
            Box::new(|n: u64| format!("client-{n}")) as Box<dyn Fn(u64) -> String>,
        ),
        ("one client", Box::new(|_| "client".to_owned())),
    ] {
        let (proofs, bytes, rss_kib) = fill(clients);
        println!(
            "  {label}: {proofs} live proofs, tables {} KiB, RSS grew {rss_kib} KiB",
            bytes / 1024
        );
    }
}
