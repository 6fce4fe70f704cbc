//! The verifier's cache of decompressed public keys.
//!
//! Checking a token's signature needs its signer's key as a curve point: decompressing
//! the 32 bytes costs about a tenth of the signature check itself, and the user id
//! (UUIDv5 of the bytes) a little more. Both are pure functions of the key bytes, so the
//! one verifier every path goes through (client, sync server, identity proofs, the Node
//! addon) keeps them for the keys it has seen. Nothing else is skipped: the signature,
//! the subject, the audience and the times are checked on every token, and a cached key
//! gives exactly the point and id decompressing the bytes again would.
//!
//! Bounded and thread-safe: at most [`KEY_CACHE_CAPACITY`] keys, about 250 bytes each, in a
//! sharded cache (`quick_cache`) whose S3-FIFO policy lets a key seen once pass through a
//! small probation queue, so a flood of one-off keys cannot push out the keys of returning
//! users. A key enters only once a signature made with it has verified.

use std::sync::LazyLock;

use quick_cache::sync::Cache;

use crate::identity::{PublicKey, UserId};

/// Most keys the verifier keeps decompressed (about 250 KiB when full).
pub const KEY_CACHE_CAPACITY: usize = 1024;

/// A public key seen before: its point, its user id and the id's canonical text.
#[derive(Clone, Copy)]
pub(super) struct KnownKey {
    /// The decompressed key.
    pub key: PublicKey,
    /// UUIDv5 of the key bytes.
    pub user_id: UserId,
    /// `user_id`, lowercase and hyphenated, as a token's `sub` must spell it.
    user_id_text: [u8; 36],
}

impl KnownKey {
    /// Derives the user id of `key` and its text.
    pub fn new(key: PublicKey) -> KnownKey {
        let user_id = key.user_id();
        let mut user_id_text = [0u8; 36];
        user_id
            .as_uuid()
            .hyphenated()
            .encode_lower(&mut user_id_text);
        KnownKey {
            key,
            user_id,
            user_id_text,
        }
    }

    /// Whether `sub` is this key's user id, spelt canonically.
    pub fn is_subject(&self, sub: &str) -> bool {
        sub.as_bytes() == self.user_id_text
    }
}

/// A bounded, thread-safe map from key bytes to [`KnownKey`].
pub(super) struct KeyCache(Cache<[u8; 32], KnownKey>);

impl KeyCache {
    /// A cache of at most `capacity` keys.
    pub fn new(capacity: usize) -> KeyCache {
        KeyCache(Cache::new(capacity))
    }

    /// The key whose bytes are `bytes`, if it is cached.
    pub fn get(&self, bytes: &[u8; 32]) -> Option<KnownKey> {
        self.0.get(bytes)
    }

    /// Remembers `key` under its bytes.
    pub fn insert(&self, key: KnownKey) {
        self.0.insert(*key.key.as_bytes(), key);
    }

    /// Forgets every key.
    #[cfg(any(test, feature = "testing"))]
    pub fn clear(&self) {
        self.0.clear();
    }

    /// How many keys are cached.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.0.len()
    }
}

/// The cache every verification uses.
pub(super) static KEYS: LazyLock<KeyCache> = LazyLock::new(|| KeyCache::new(KEY_CACHE_CAPACITY));

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::Identity;
    use crate::secret::Secret;

    fn key(n: u32) -> PublicKey {
        let mut seed = [0u8; 32];
        seed[..4].copy_from_slice(&n.to_le_bytes());
        *Identity::from_secret(&Secret::from_bytes(seed)).public_key()
    }

    #[test]
    fn a_known_key_is_what_decompressing_gives() {
        let public = key(7);
        let known = KnownKey::new(public);
        assert_eq!(known.key, public);
        assert_eq!(known.user_id, public.user_id());
        assert!(known.is_subject(&public.user_id().to_string()));
        assert!(!known.is_subject(&public.user_id().to_string().to_uppercase()));
        assert!(!known.is_subject(""));
        let cache = KeyCache::new(8);
        assert!(cache.get(public.as_bytes()).is_none());
        cache.insert(known);
        let cached = cache.get(public.as_bytes()).unwrap();
        assert_eq!(cached.key, public);
        assert_eq!(cached.user_id, public.user_id());
        assert_eq!(
            PublicKey::from_bytes(public.as_bytes()).unwrap(),
            cached.key
        );
    }

    #[test]
    fn a_flood_of_distinct_keys_stays_within_the_capacity() {
        let capacity = 64;
        let cache = KeyCache::new(capacity);
        let returning = KnownKey::new(key(0));
        cache.insert(returning);
        for n in 1..=20 * capacity as u32 {
            cache.insert(KnownKey::new(key(n)));
            assert!(cache.len() <= capacity, "{} keys after {n}", cache.len());
            // A returning user keeps coming back during the flood.
            if n % 16 == 0 {
                assert!(
                    cache.get(returning.key.as_bytes()).is_some(),
                    "evicted at {n}"
                );
            }
        }
        assert!(cache.len() <= capacity);
    }

    #[test]
    fn the_shared_cache_is_bounded() {
        for n in 0..2 * KEY_CACHE_CAPACITY as u32 {
            KEYS.insert(KnownKey::new(key(1_000_000 + n)));
        }
        assert!(KEYS.len() <= KEY_CACHE_CAPACITY, "{}", KEYS.len());
    }
}
