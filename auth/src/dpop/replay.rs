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
    /// The store is full of proofs that are still live (its entry or byte bound).
    #[error("the DPoP replay store is full")]
    Full,
    /// One client (a proof key, or a token subject across all its keys) holds its whole share
    /// of the store with live proofs.
    #[error("this client's share of the DPoP replay store is full")]
    ClientQuota,
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
    /// A short code for public probes and metric labels: `full`, `client_quota`,
    /// `eviction_policy`, `unreachable`, `timeout` or `overloaded`.
    pub fn reason(&self) -> &'static str {
        match self {
            Self::Full => "full",
            Self::ClientQuota => "client_quota",
            Self::Evicting { .. } => "eviction_policy",
            Self::Unreachable(_) => "unreachable",
            Self::Timeout(_) => "timeout",
            Self::Overloaded(_) => "overloaded",
        }
    }
}

/// Who sent a proof, for per-client quotas: one account must not fill a store, whether it uses
/// one proof key or many.
#[derive(Debug, Clone, Copy)]
pub struct ProofSender<'a> {
    /// The proof key's RFC 7638 thumbprint.
    pub jkt: &'a str,
    /// The access token's issuer.
    pub issuer: &'a str,
    /// The access token's `sub` (empty when it has none).
    pub subject: &'a str,
}

/// Remembers used proofs.
pub trait ReplayStore: Debug + Send + Sync {
    /// Records `key` until `expires_at` (a NumericDate) unless it is recorded already; `sender`
    /// is who sent it, for per-client quotas. `now` is the current time.
    fn check_and_insert<'a>(
        &'a self,
        key: [u8; 32],
        sender: ProofSender<'a>,
        expires_at: f64,
        now: f64,
    ) -> BoxFuture<'a, Result<Seen, ReplayError>>;

    /// Whether the store can answer now, for a readiness probe. Default: always.
    fn ready(&self) -> BoxFuture<'_, Result<(), ReplayError>> {
        Box::pin(std::future::ready(Ok(())))
    }
}

/// A store in this process's memory: bounded in entries, in bytes and per client (each proof
/// key, and each token subject across all its keys), expired entries dropped, and a live entry
/// never evicted (a full store refuses instead).
#[derive(Debug)]
pub struct MemoryReplayStore {
    capacity: usize,
    max_bytes: usize,
    per_client: usize,
    state: Mutex<State>,
}

/// A live entry: its expiry (in milliseconds) and the hashes of its two owners, the proof key
/// and the token subject.
type Entry = (u64, u64, u64);

#[derive(Debug, Default)]
struct State {
    /// Each live key, with its expiry and owners.
    entries: HashMap<[u8; 32], Entry>,
    /// The earliest expiry first, to drop expired entries without a scan.
    expiries: BinaryHeap<Reverse<(u64, [u8; 32])>>,
    /// How many live entries each owner has, by the owner's hash.
    owners: HashMap<u64, usize>,
    /// Hashes owners (the standard hasher, keyed per process).
    hasher: std::hash::RandomState,
}

impl MemoryReplayStore {
    /// A store of at most `capacity` live proofs in at most `max_bytes` of memory, at most
    /// `per_client` of them from one proof key or one token subject.
    pub fn new(capacity: usize, max_bytes: usize, per_client: usize) -> Self {
        Self {
            capacity,
            max_bytes,
            per_client,
            state: Mutex::new(State::default()),
        }
    }

    /// How many proofs are recorded and still live (as of the last call).
    pub fn len(&self) -> usize {
        self.lock().entries.len()
    }

    /// Whether no proof is recorded.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The bytes its tables hold now (their allocations, which grow by doubling and do not
    /// shrink).
    pub fn bytes(&self) -> usize {
        self.lock().bytes(0, 0)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn insert(
        &self,
        key: [u8; 32],
        sender: ProofSender<'_>,
        expires_at: f64,
        now: f64,
    ) -> Result<Seen, ReplayError> {
        let (expires, now) = (millis(expires_at), millis(now));
        let mut state = self.lock();
        state.drop_expired(now);
        if state.entries.contains_key(&key) {
            return Ok(Seen::Replayed);
        }
        if expires <= now {
            // It could not be accepted any more: nothing to remember.
            return Ok(Seen::New);
        }
        // Distinct prefixes, so that a key and a subject never share a count.
        let jkt = std::hash::BuildHasher::hash_one(&state.hasher, (0u8, sender.jkt));
        let subject =
            std::hash::BuildHasher::hash_one(&state.hasher, (1u8, sender.issuer, sender.subject));
        let count = |owner| state.owners.get(&owner).copied().unwrap_or(0);
        // A full store first: then it is no one client's doing.
        let new_owners = usize::from(count(jkt) == 0) + usize::from(count(subject) == 0);
        if !self.has_room(&state, new_owners) {
            return Err(ReplayError::Full);
        }
        if count(jkt) >= self.per_client || count(subject) >= self.per_client {
            return Err(ReplayError::ClientQuota);
        }
        state.entries.insert(key, (expires, jkt, subject));
        state.expiries.push(Reverse((expires, key)));
        for owner in [jkt, subject] {
            *state.owners.entry(owner).or_insert(0) += 1;
        }
        Ok(Seen::New)
    }

    /// Whether one more entry (with `new_owners` owners not seen yet) fits both bounds.
    fn has_room(&self, state: &State, new_owners: usize) -> bool {
        state.entries.len() < self.capacity && state.bytes(1, new_owners) <= self.max_bytes
    }
}

/// A time as whole milliseconds, saturating: a NaN or negative time is 0 (already expired), a
/// huge one the end.
fn millis(at: f64) -> u64 {
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let ms = (at * 1000.0) as u64;
    ms
}

impl State {
    fn drop_expired(&mut self, now: u64) {
        while let Some(Reverse((expires, key))) = self.expiries.peek().copied() {
            if expires > now {
                break;
            }
            self.expiries.pop();
            if let Some((_, jkt, subject)) = self.entries.remove(&key) {
                for owner in [jkt, subject] {
                    if let Some(count) = self.owners.get_mut(&owner) {
                        *count -= 1;
                        if *count == 0 {
                            self.owners.remove(&owner);
                        }
                    }
                }
            }
        }
    }

    /// The bytes the three tables would hold with `more` entries and `new_owners` owners
    /// added: each at the capacity it would grow to (doubling), since a growth allocates the
    /// whole new table.
    fn bytes(&self, more: usize, new_owners: usize) -> usize {
        let entries = grown(self.entries.len(), self.entries.capacity(), more);
        let expiries = grown(self.expiries.len(), self.expiries.capacity(), more);
        let owners = grown(self.owners.len(), self.owners.capacity(), new_owners);
        table_bytes::<([u8; 32], Entry)>(entries)
            + expiries * std::mem::size_of::<Reverse<(u64, [u8; 32])>>()
            + table_bytes::<(u64, usize)>(owners)
    }
}

/// The capacity a table of `len` elements and `capacity` will have once it holds `more` more:
/// as it is, or doubled (at least enough).
fn grown(len: usize, capacity: usize, more: usize) -> usize {
    if len + more <= capacity {
        capacity
    } else {
        (len + more).max(capacity.saturating_mul(2))
    }
}

/// The bytes of a hash table (the standard library's, hashbrown) that holds `capacity`
/// elements of `T`: a power-of-two number of buckets, one-eighth spare, each a `T` and a
/// control byte.
fn table_bytes<T>(capacity: usize) -> usize {
    if capacity == 0 {
        return 0;
    }
    let buckets = (capacity.saturating_mul(8) / 7).max(4).next_power_of_two();
    buckets.saturating_mul(std::mem::size_of::<T>() + 1)
}

impl ReplayStore for MemoryReplayStore {
    fn check_and_insert<'a>(
        &'a self,
        key: [u8; 32],
        sender: ProofSender<'a>,
        expires_at: f64,
        now: f64,
    ) -> BoxFuture<'a, Result<Seen, ReplayError>> {
        Box::pin(std::future::ready(
            self.insert(key, sender, expires_at, now),
        ))
    }

    /// Full (no room for one more proof) is not ready: DPoP requests get 503 until proofs
    /// expire. One client over its quota is not the store's fault, and does not count.
    fn ready(&self) -> BoxFuture<'_, Result<(), ReplayError>> {
        let state = self.lock();
        let ready = if self.has_room(&state, 2) {
            Ok(())
        } else {
            Err(ReplayError::Full)
        };
        Box::pin(std::future::ready(ready))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIB: usize = 1024 * 1024;

    /// A proof of `jkt` with `jti`, for a token of the subject `sub`.
    fn check_as(
        store: &MemoryReplayStore,
        (jkt, sub): (&str, &str),
        jti: &str,
        expires: f64,
        now: f64,
    ) -> Result<Seen, ReplayError> {
        let sender = ProofSender {
            jkt,
            issuer: "https://issuer.example/",
            subject: sub,
        };
        futures_util::FutureExt::now_or_never(store.check_and_insert(
            replay_key(jkt, jti),
            sender,
            expires,
            now,
        ))
        .expect("the memory store answers at once")
    }

    /// A proof of `jkt`, whose token's subject is named after it.
    fn check(
        store: &MemoryReplayStore,
        jkt: &str,
        jti: &str,
        expires: f64,
        now: f64,
    ) -> Result<Seen, ReplayError> {
        check_as(store, (jkt, jkt), jti, expires, now)
    }

    fn ready(store: &MemoryReplayStore) -> Result<(), ReplayError> {
        futures_util::FutureExt::now_or_never(store.ready()).unwrap()
    }

    #[test]
    fn a_second_use_is_a_replay_until_the_proof_expires() {
        let store = MemoryReplayStore::new(10, MIB, 10);

        assert_eq!(check(&store, "a", "1", 100.0, 0.0), Ok(Seen::New));
        assert_eq!(check(&store, "a", "1", 100.0, 50.0), Ok(Seen::Replayed));
        // Another key's proof with the same jti is its own.
        assert_eq!(check(&store, "b", "1", 100.0, 50.0), Ok(Seen::New));
        // Past its expiry the entry is dropped (the proof's iat check refuses it by then).
        assert_eq!(check(&store, "a", "1", 200.0, 100.0), Ok(Seen::New));
        assert_eq!(store.len(), 1, "b's entry expired too");
    }

    #[test]
    fn a_full_store_refuses_never_evicts_a_live_entry_and_is_not_ready() {
        let store = MemoryReplayStore::new(2, MIB, 10);
        assert_eq!(check(&store, "a", "1", 100.0, 0.0), Ok(Seen::New));
        assert_eq!(ready(&store), Ok(()));
        assert_eq!(check(&store, "b", "1", 100.0, 0.0), Ok(Seen::New));

        assert_eq!(check(&store, "c", "1", 100.0, 0.0), Err(ReplayError::Full));
        assert_eq!(ready(&store), Err(ReplayError::Full));
        assert_eq!(check(&store, "a", "1", 100.0, 0.0), Ok(Seen::Replayed));
        assert_eq!(check(&store, "c", "1", 200.0, 100.0), Ok(Seen::New));
        assert_eq!(ready(&store), Ok(()));
    }

    #[test]
    fn one_client_cannot_fill_the_store_for_everyone() {
        let store = MemoryReplayStore::new(100, MIB, 3);
        for jti in ["1", "2", "3"] {
            assert_eq!(check(&store, "greedy", jti, 100.0, 0.0), Ok(Seen::New));
        }

        assert_eq!(
            check(&store, "greedy", "4", 100.0, 0.0),
            Err(ReplayError::ClientQuota)
        );
        assert_eq!(check(&store, "modest", "1", 100.0, 0.0), Ok(Seen::New));
        assert_eq!(
            ready(&store),
            Ok(()),
            "one client's quota is not the store's"
        );
        assert_eq!(check(&store, "greedy", "4", 200.0, 100.0), Ok(Seen::New));
    }

    #[test]
    fn one_account_with_many_keys_meets_one_quota() {
        let store = MemoryReplayStore::new(100, MIB, 3);
        for key in ["k1", "k2", "k3"] {
            assert_eq!(
                check_as(&store, (key, "alice"), "1", 100.0, 0.0),
                Ok(Seen::New)
            );
        }

        assert_eq!(
            check_as(&store, ("k4", "alice"), "1", 100.0, 0.0),
            Err(ReplayError::ClientQuota)
        );
        assert_eq!(
            check_as(&store, ("k5", "bob"), "1", 100.0, 0.0),
            Ok(Seen::New)
        );
    }

    #[test]
    fn the_byte_bound_holds_the_tables_allocations_whatever_the_entry_bound() {
        let max_bytes = 64 * 1024;
        let store = MemoryReplayStore::new(1_000_000, max_bytes, 1_000_000);
        let mut accepted = 0;
        while check(&store, &format!("client-{accepted}"), "1", 100.0, 0.0).is_ok() {
            accepted += 1;
            assert!(store.bytes() <= max_bytes, "{} bytes", store.bytes());
        }

        assert!(accepted > 100, "{accepted} entries in 64 KiB");
        assert_eq!(
            check(&store, "late", "1", 100.0, 0.0),
            Err(ReplayError::Full)
        );
        assert_eq!(ready(&store), Err(ReplayError::Full));
    }

    #[test]
    fn keys_bind_the_jti_to_its_proof_key() {
        assert_ne!(replay_key("a", "1"), replay_key("b", "1"));
        assert_ne!(replay_key("ab", "c"), replay_key("a", "bc"));
        assert_eq!(replay_key("a", "1"), replay_key("a", "1"));
    }
}
