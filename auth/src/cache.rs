//! The verified-token cache. Clients reuse an access token for its whole life, so a token that
//! passed the full validation is remembered, keyed by its SHA-256, with its claims, its time
//! window and the key set that verified it.
//!
//! A hit is accepted only while that same key set is current (so a key removed or replaced by a
//! refresh invalidates its entries), and after the time checks run again. Nothing else is
//! cached: a rejected token is validated in full every time.
//!
//! The cache is bounded in bytes (S3-FIFO eviction): each entry weighs what its claims take in
//! memory, which can be many times the token's own size, and at least `budget / capacity`, so
//! that the entry count stays bounded too. Tokens over [`MAX_CACHED_TOKEN_BYTES`] are never
//! cached. A capacity of 0 turns the cache off.

use std::sync::{Arc, Weak};

use aws_lc_rs::digest::{SHA256, digest};
use quick_cache::Weighter;
use quick_cache::sync::Cache;

use crate::claims::Claims;
use crate::keys::KeySet;
use crate::validation::Validity;

/// The SHA-256 of a token.
pub(crate) type TokenDigest = [u8; 32];

/// The largest token remembered: a larger one is checked in full each time, so that a few
/// huge tokens cannot take the budget of many ordinary ones.
pub(crate) const MAX_CACHED_TOKEN_BYTES: usize = 4 * 1024;

/// What one entry costs beyond its claims: the entry, its `Arc`s, the digest and the cache's
/// own bookkeeping, rounded up.
const ENTRY_OVERHEAD_BYTES: u64 = 256;

/// A map from token digest to verified claims, bounded in bytes.
pub(crate) struct TokenCache(Option<Cache<TokenDigest, Arc<Entry>, ByBytes>>);

/// Weighs an entry by its memory, and at least `floor`.
#[derive(Debug, Clone)]
struct ByBytes {
    floor: u64,
}

impl Weighter<TokenDigest, Arc<Entry>> for ByBytes {
    fn weight(&self, _: &TokenDigest, entry: &Arc<Entry>) -> u64 {
        entry.bytes.max(self.floor)
    }
}

/// What a cache hit needs.
pub(crate) struct Entry {
    pub(crate) claims: Claims,
    pub(crate) validity: Validity,
    /// Which trusted issuer verified it (its index in the authenticator).
    pub(crate) issuer: usize,
    key_set: Weak<KeySet>,
    /// The memory this entry holds, computed once when it is made.
    bytes: u64,
}

impl Entry {
    /// Whether `current` is the key set that verified this entry.
    pub(crate) fn verified_with(&self, current: &Arc<KeySet>) -> bool {
        std::ptr::eq(self.key_set.as_ptr(), Arc::as_ptr(current))
    }
}

impl TokenCache {
    /// A cache of at most `capacity` tokens weighing at most `max_bytes`; a capacity or budget
    /// of 0 turns it off.
    pub(crate) fn new(capacity: usize, max_bytes: usize) -> Self {
        let budget = u64::try_from(max_bytes).unwrap_or(u64::MAX);
        let count = u64::try_from(capacity).unwrap_or(u64::MAX);
        Self((count > 0 && budget > 0).then(|| {
            let floor = (budget / count).max(1);
            Cache::with_weighter(capacity, budget, ByBytes { floor })
        }))
    }

    /// The key of `token`, or `None` when the cache is off or the token is too large to cache.
    pub(crate) fn digest(&self, token: &[u8]) -> Option<TokenDigest> {
        self.0.as_ref()?;
        if token.len() > MAX_CACHED_TOKEN_BYTES {
            return None;
        }
        let mut key = [0; 32];
        key.copy_from_slice(digest(&SHA256, token).as_ref());
        Some(key)
    }

    /// The entry for `key`; [`Entry::verified_with`] says whether it still counts.
    pub(crate) fn get(&self, key: &TokenDigest) -> Option<Arc<Entry>> {
        self.0.as_ref()?.get(key)
    }

    /// How many tokens are remembered.
    pub(crate) fn len(&self) -> usize {
        self.0.as_ref().map_or(0, Cache::len)
    }

    /// What the remembered tokens weigh, in bytes.
    pub(crate) fn weight(&self) -> u64 {
        self.0.as_ref().map_or(0, Cache::weight)
    }

    /// Remembers a token that passed the full validation with `key_set`.
    pub(crate) fn insert(
        &self,
        key: TokenDigest,
        claims: Claims,
        validity: Validity,
        issuer: usize,
        key_set: &Arc<KeySet>,
    ) {
        if let Some(cache) = &self.0 {
            let bytes = ENTRY_OVERHEAD_BYTES.saturating_add(claims.heap_bytes());
            cache.insert(
                key,
                Arc::new(Entry {
                    claims,
                    validity,
                    issuer,
                    key_set: Arc::downgrade(key_set),
                    bytes,
                }),
            );
        }
    }
}
