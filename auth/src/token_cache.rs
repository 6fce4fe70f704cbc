//! A bounded cache of verified tokens, so a client that reconnects with the same
//! token skips signature verification.
//!
//! Entries are keyed by the SHA-256 of the token: the raw token is never stored. An
//! entry is never returned at or after its `exp` (compared with the `now` the caller
//! passes, from its injected clock). When full, inserting evicts the least recently
//! used entry. All methods take `&self` and are safe to call from many threads.
//!
//! ```
//! use localfirst_core::session::{AuthMode, Session};
//! use localfirst_auth::token_cache::VerifiedTokenCache;
//!
//! let cache = VerifiedTokenCache::new(1000);
//! cache.insert("header.claims.signature", Session::new("user-1", AuthMode::External), 2_000);
//! assert_eq!(cache.get("header.claims.signature", 1_999).map(|s| s.user_id), Some("user-1".into()));
//! assert!(cache.get("header.claims.signature", 2_000).is_none());
//! ```

use std::collections::{BTreeMap, HashMap};
use std::sync::{Mutex, MutexGuard};

use localfirst_core::session::Session;
use sha2::{Digest, Sha256};

/// The SHA-256 of a token: the key under which the cache stores it.
pub type TokenHash = [u8; 32];

/// A thread-safe, bounded, expiring cache of verified sessions keyed by token hash.
pub struct VerifiedTokenCache {
    capacity: usize,
    inner: Mutex<Inner>,
}

impl VerifiedTokenCache {
    /// A cache holding at most `capacity` tokens (0 disables caching).
    pub fn new(capacity: usize) -> VerifiedTokenCache {
        VerifiedTokenCache {
            capacity,
            inner: Mutex::new(Inner::default()),
        }
    }

    /// The session verified for `token`, unless absent or expired (`now >= exp`).
    /// An expired entry is removed; a hit becomes the most recently used entry.
    pub fn get(&self, token: &str, now: u64) -> Option<Session> {
        let hash = token_hash(token);
        let mut inner = self.lock();
        let entry = inner.map.get(&hash)?;
        let (exp, tick) = (entry.exp, entry.tick);
        if now >= exp {
            inner.remove(&hash);
            return None;
        }
        let new_tick = inner.next_tick();
        inner.order.remove(&tick);
        inner.order.insert(new_tick, hash);
        let entry = inner.map.get_mut(&hash)?;
        entry.tick = new_tick;
        Some(entry.session.clone())
    }

    /// Remembers that `token` verified to `session` and expires at `exp` (Unix
    /// seconds). Replaces an entry for the same token; evicts the least recently used
    /// entry when full.
    pub fn insert(&self, token: &str, session: Session, exp: u64) {
        if self.capacity == 0 {
            return;
        }
        let hash = token_hash(token);
        let mut inner = self.lock();
        inner.remove(&hash);
        while inner.map.len() >= self.capacity {
            let Some((_, oldest)) = inner.order.pop_first() else {
                break;
            };
            inner.map.remove(&oldest);
        }
        let tick = inner.next_tick();
        inner.order.insert(tick, hash);
        inner.map.insert(hash, Entry { session, exp, tick });
    }

    /// Whether an entry (expired or not) is stored under `hash`.
    pub fn contains_hash(&self, hash: &TokenHash) -> bool {
        self.lock().map.contains_key(hash)
    }

    /// Number of entries stored (expired ones included until they are looked up or evicted).
    pub fn len(&self) -> usize {
        self.lock().map.len()
    }

    /// Whether the cache holds no entry.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The maximum number of entries.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// The SHA-256 of `token`, as used for cache keys.
pub fn token_hash(token: &str) -> TokenHash {
    Sha256::digest(token.as_bytes()).into()
}

impl std::fmt::Debug for VerifiedTokenCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VerifiedTokenCache")
            .field("capacity", &self.capacity)
            .field("len", &self.len())
            .finish()
    }
}

#[derive(Default)]
struct Inner {
    map: HashMap<TokenHash, Entry>,
    /// Recency: tick → hash, oldest first.
    order: BTreeMap<u64, TokenHash>,
    tick: u64,
}

struct Entry {
    session: Session,
    exp: u64,
    tick: u64,
}

impl Inner {
    fn next_tick(&mut self) -> u64 {
        self.tick += 1;
        self.tick
    }

    fn remove(&mut self, hash: &TokenHash) {
        if let Some(entry) = self.map.remove(hash) {
            self.order.remove(&entry.tick);
        }
    }
}
