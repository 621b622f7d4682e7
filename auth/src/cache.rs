//! The verified-token cache. Clients reuse an access token for its whole life, so a token that
//! passed the full validation is remembered, keyed by its SHA-256, with its claims, its time
//! window and the key set that verified it.
//!
//! A hit is accepted only while that same key set is current (so a key removed or replaced by a
//! refresh invalidates its entries), and after the time checks run again. Nothing else is
//! cached: a rejected token is validated in full every time. The capacity is bounded (S3-FIFO
//! eviction); 0 turns the cache off.

use std::sync::{Arc, Weak};

use aws_lc_rs::digest::{SHA256, digest};
use quick_cache::sync::Cache;

use crate::claims::Claims;
use crate::jwks::keys::KeySet;
use crate::validation::Validity;

/// The SHA-256 of a token.
pub(crate) type TokenDigest = [u8; 32];

/// A bounded map from token digest to verified claims.
pub(crate) struct TokenCache(Option<Cache<TokenDigest, Arc<Entry>>>);

/// What a cache hit needs.
pub(crate) struct Entry {
    pub(crate) claims: Claims,
    pub(crate) validity: Validity,
    /// Which trusted issuer verified it (its index in the authenticator).
    pub(crate) issuer: usize,
    key_set: Weak<KeySet>,
}

impl Entry {
    /// Whether `current` is the key set that verified this entry.
    pub(crate) fn verified_with(&self, current: &Arc<KeySet>) -> bool {
        std::ptr::eq(self.key_set.as_ptr(), Arc::as_ptr(current))
    }
}

impl TokenCache {
    /// A cache of at most `capacity` tokens; 0 turns it off.
    pub(crate) fn new(capacity: usize) -> Self {
        Self((capacity > 0).then(|| Cache::new(capacity)))
    }

    /// The key of `token`, or `None` when the cache is off.
    pub(crate) fn digest(&self, token: &[u8]) -> Option<TokenDigest> {
        self.0.as_ref()?;
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
            cache.insert(
                key,
                Arc::new(Entry {
                    claims,
                    validity,
                    issuer,
                    key_set: Arc::downgrade(key_set),
                }),
            );
        }
    }
}
