//! The parsed keys of DPoP proofs, by the exact bytes of their protected header: a client sends
//! the same header (`typ`, `alg`, `jwk`) with each of its proofs, so that parsing the header,
//! the key and its thumbprint is done once per client, not once per request. Only a header
//! whose proof passed its signature check is kept, so a forged header never lands here; the
//! cache is bounded in bytes.

use std::sync::Arc;

use quick_cache::Weighter;
use quick_cache::sync::Cache;

use crate::algorithm::Algorithm;
use crate::keys::Key;

/// A proof header's parsed key, its algorithm and its RFC 7638 thumbprint.
pub(crate) struct ProofKey {
    pub(crate) key: Key,
    pub(crate) alg: Algorithm,
    pub(crate) jkt: String,
}

/// What an entry is weighed at besides its header and thumbprint: the parsed key (an RSA
/// modulus of up to 512 bytes, with aws-lc-rs's own structures) and the cache's bookkeeping.
const KEY_WEIGHT: u64 = 1024;

/// The weight of an entry: its header's bytes, its thumbprint's, and [`KEY_WEIGHT`].
#[derive(Clone)]
struct ByBytes;

impl Weighter<Box<str>, Arc<ProofKey>> for ByBytes {
    fn weight(&self, header: &Box<str>, entry: &Arc<ProofKey>) -> u64 {
        (header.len() + entry.jkt.len()) as u64 + KEY_WEIGHT
    }
}

/// The proof keys seen, bounded in bytes.
pub(crate) struct ProofKeys {
    cache: Cache<Box<str>, Arc<ProofKey>, ByBytes>,
}

impl std::fmt::Debug for ProofKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProofKeys")
            .field("entries", &self.cache.len())
            .field("bytes", &self.cache.weight())
            .finish()
    }
}

impl ProofKeys {
    /// A cache of at most `max_bytes`; `None` for 0, which turns it off.
    pub(crate) fn new(max_bytes: usize) -> Option<Self> {
        let max_bytes = u64::try_from(max_bytes).unwrap_or(u64::MAX);
        (max_bytes > 0).then(|| {
            // quick_cache sizes its tables by an estimate of the entry count.
            let estimated = usize::try_from(max_bytes / (KEY_WEIGHT + 256)).unwrap_or(usize::MAX);
            Self {
                cache: Cache::with_weighter(estimated.max(1), max_bytes, ByBytes),
            }
        })
    }

    /// The key of a proof whose header is exactly `header`, if one passed before.
    pub(crate) fn get(&self, header: &str) -> Option<Arc<ProofKey>> {
        self.cache.get(header)
    }

    /// Keeps the key of `header`, whose proof has just passed its signature check.
    pub(crate) fn insert(&self, header: &str, key: Arc<ProofKey>) {
        self.cache.insert(Box::from(header), key);
    }
}
