//! Replay detection for DPoP proofs (RFC 9449 §11.1): a proof's `jti` is recorded once every
//! other check has passed, until the proof could no longer be accepted anyway, and a second use
//! is refused. The store is a small trait, so that replicas can share one (Redis); the memory
//! store here serves one process.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::fmt::Debug;
use std::sync::{Mutex, PoisonError};

use aws_lc_rs::digest::{Context, SHA256};
use futures_util::future::BoxFuture;

/// The key a proof is remembered by: SHA-256 of its key's thumbprint and its `jti`, so that one
/// client cannot use up another's `jti`.
pub fn replay_key(jkt: &str, jti: &str) -> [u8; 32] {
    let mut context = Context::new(&SHA256);
    context.update(jkt.as_bytes());
    // A separator that a base64url thumbprint never holds, so that no two pairs collide.
    context.update(b"\x00");
    context.update(jti.as_bytes());
    let mut key = [0; 32];
    key.copy_from_slice(context.finish().as_ref());
    key
}

/// What a store says of a proof.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Seen {
    /// First use: now recorded.
    New,
    /// Recorded before: a replay.
    Replayed,
}

/// Why a store could not answer. Whatever the reason, the proof is not accepted (503 with
/// `Retry-After`): an unchecked proof is never let through. The message holds details for the
/// log (a server's address, its client library's words); [`ReplayError::reason`] is what a
/// public probe may show.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ReplayError {
    /// The store, or one client's share of it, is full of proofs that are still live.
    #[error("the DPoP replay store is full")]
    Full,
    /// The store's server may evict keys before they expire (Redis's `maxmemory-policy` is not
    /// `noeviction`), so an attacker's own proofs could push a recorded one out and let it be
    /// replayed: the store is not used.
    #[error(
        "the DPoP replay store's server may evict recorded proofs: its maxmemory-policy is \
         {policy:?}; set it to \"noeviction\" (or accept the risk with the store's \
         allow_eviction option, dpop.redis_allow_eviction)"
    )]
    Evicting {
        /// The server's policy, as it names it.
        policy: String,
    },
    /// The store cannot be reached, or refused the command.
    #[error("the DPoP replay store cannot be reached: {0}")]
    Unreachable(String),
    /// The store did not answer within its command timeout.
    #[error("the DPoP replay store did not answer in time: {0}")]
    Timeout(String),
    /// Too many commands are waiting for the store already.
    #[error("the DPoP replay store is overloaded: {0}")]
    Overloaded(String),
}

impl ReplayError {
    /// A short code for public probes and metric labels: `full`, `eviction_policy`,
    /// `unreachable`, `timeout` or `overloaded`.
    pub fn reason(&self) -> &'static str {
        match self {
            Self::Full => "full",
            Self::Evicting { .. } => "eviction_policy",
            Self::Unreachable(_) => "unreachable",
            Self::Timeout(_) => "timeout",
            Self::Overloaded(_) => "overloaded",
        }
    }
}

/// Remembers used proofs.
pub trait ReplayStore: Debug + Send + Sync {
    /// Records `key` until `expires_at` (a NumericDate) unless it is recorded already; `owner`
    /// is the proof key's thumbprint, for a per-client quota. `now` is the current time.
    fn check_and_insert<'a>(
        &'a self,
        key: [u8; 32],
        owner: &'a str,
        expires_at: f64,
        now: f64,
    ) -> BoxFuture<'a, Result<Seen, ReplayError>>;

    /// Whether the store can answer now, for a readiness probe. Default: always.
    fn ready(&self) -> BoxFuture<'_, Result<(), ReplayError>> {
        Box::pin(std::future::ready(Ok(())))
    }
}

/// A store in this process's memory: bounded in entries and per client, expired entries
/// dropped, and a live entry never evicted (a full store refuses instead).
#[derive(Debug)]
pub struct MemoryReplayStore {
    capacity: usize,
    per_owner: usize,
    state: Mutex<State>,
}

/// About 100 bytes per live proof: the key, its expiry and its owner's hash, in the map and in
/// the expiry heap.
#[derive(Debug, Default)]
struct State {
    /// Each live key, with its expiry (in milliseconds) and its owner's hash.
    entries: HashMap<[u8; 32], (u64, u64)>,
    /// The earliest expiry first, to drop expired entries without a scan.
    expiries: BinaryHeap<Reverse<(u64, [u8; 32])>>,
    /// How many live entries each owner has, by the owner's hash.
    owners: HashMap<u64, usize>,
    /// Hashes owners (the standard hasher, keyed per process).
    hasher: std::hash::RandomState,
}

impl MemoryReplayStore {
    /// A store of at most `capacity` live proofs, at most `per_owner` of them from one key.
    pub fn new(capacity: usize, per_owner: usize) -> Self {
        Self {
            capacity,
            per_owner,
            state: Mutex::new(State::default()),
        }
    }

    /// How many proofs are recorded and still live (as of the last call).
    pub fn len(&self) -> usize {
        self.state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entries
            .len()
    }

    /// Whether no proof is recorded.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn insert(
        &self,
        key: [u8; 32],
        owner: &str,
        expires_at: f64,
        now: f64,
    ) -> Result<Seen, ReplayError> {
        let millis = |at: f64| {
            // Saturating: a NaN or negative time is 0 (already expired), a huge one the end.
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            let ms = (at * 1000.0) as u64;
            ms
        };
        let (expires, now) = (millis(expires_at), millis(now));
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        state.drop_expired(now);
        if state.entries.contains_key(&key) {
            return Ok(Seen::Replayed);
        }
        if expires <= now {
            // It could not be accepted any more: nothing to remember.
            return Ok(Seen::New);
        }
        let owner_hash = std::hash::BuildHasher::hash_one(&state.hasher, owner);
        let owner_entries = state.owners.get(&owner_hash).copied().unwrap_or(0);
        if state.entries.len() >= self.capacity || owner_entries >= self.per_owner {
            return Err(ReplayError::Full);
        }
        state.entries.insert(key, (expires, owner_hash));
        state.expiries.push(Reverse((expires, key)));
        *state.owners.entry(owner_hash).or_insert(0) += 1;
        Ok(Seen::New)
    }
}

impl State {
    fn drop_expired(&mut self, now: u64) {
        while let Some(Reverse((expires, key))) = self.expiries.peek().copied() {
            if expires > now {
                break;
            }
            self.expiries.pop();
            if let Some((_, owner)) = self.entries.remove(&key)
                && let Some(count) = self.owners.get_mut(&owner)
            {
                *count -= 1;
                if *count == 0 {
                    self.owners.remove(&owner);
                }
            }
        }
    }
}

impl ReplayStore for MemoryReplayStore {
    fn check_and_insert<'a>(
        &'a self,
        key: [u8; 32],
        owner: &'a str,
        expires_at: f64,
        now: f64,
    ) -> BoxFuture<'a, Result<Seen, ReplayError>> {
        Box::pin(std::future::ready(self.insert(key, owner, expires_at, now)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(
        store: &MemoryReplayStore,
        owner: &str,
        jti: &str,
        expires: f64,
        now: f64,
    ) -> Result<Seen, ReplayError> {
        futures_util::FutureExt::now_or_never(store.check_and_insert(
            replay_key(owner, jti),
            owner,
            expires,
            now,
        ))
        .expect("the memory store answers at once")
    }

    #[test]
    fn a_second_use_is_a_replay_until_the_proof_expires() {
        let store = MemoryReplayStore::new(10, 10);

        assert_eq!(check(&store, "a", "1", 100.0, 0.0), Ok(Seen::New));
        assert_eq!(check(&store, "a", "1", 100.0, 50.0), Ok(Seen::Replayed));
        // Another key's proof with the same jti is its own.
        assert_eq!(check(&store, "b", "1", 100.0, 50.0), Ok(Seen::New));
        // Past its expiry the entry is dropped (the proof's iat check refuses it by then).
        assert_eq!(check(&store, "a", "1", 200.0, 100.0), Ok(Seen::New));
        assert_eq!(store.len(), 1, "b's entry expired too");
    }

    #[test]
    fn a_full_store_refuses_and_never_evicts_a_live_entry() {
        let store = MemoryReplayStore::new(2, 10);
        assert_eq!(check(&store, "a", "1", 100.0, 0.0), Ok(Seen::New));
        assert_eq!(check(&store, "b", "1", 100.0, 0.0), Ok(Seen::New));

        assert_eq!(check(&store, "c", "1", 100.0, 0.0), Err(ReplayError::Full));
        assert_eq!(check(&store, "a", "1", 100.0, 0.0), Ok(Seen::Replayed));
        assert_eq!(check(&store, "c", "1", 200.0, 100.0), Ok(Seen::New));
    }

    #[test]
    fn one_client_cannot_fill_the_store_for_everyone() {
        let store = MemoryReplayStore::new(100, 3);
        for jti in ["1", "2", "3"] {
            assert_eq!(check(&store, "greedy", jti, 100.0, 0.0), Ok(Seen::New));
        }

        assert_eq!(
            check(&store, "greedy", "4", 100.0, 0.0),
            Err(ReplayError::Full)
        );
        assert_eq!(check(&store, "modest", "1", 100.0, 0.0), Ok(Seen::New));
        assert_eq!(check(&store, "greedy", "4", 200.0, 100.0), Ok(Seen::New));
    }

    #[test]
    fn keys_bind_the_jti_to_its_proof_key() {
        assert_ne!(replay_key("a", "1"), replay_key("b", "1"));
        assert_ne!(replay_key("ab", "c"), replay_key("a", "bc"));
        assert_eq!(replay_key("a", "1"), replay_key("a", "1"));
    }
}
