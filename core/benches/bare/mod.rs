//! The bare primitives the identity benchmarks measure the core against, shared by
//! `identity.rs` (criterion) and `instructions.rs` (instruction counts).

use ed25519_dalek::SigningKey;
use sha2::{Digest as _, Sha512};

/// The signing key the core derives from a seed, with the bare crates: SHA-512 of the
/// domain and the seed, its first 32 bytes as the Ed25519 secret key.
pub fn signing_key(seed: &[u8; 32]) -> SigningKey {
    let digest = Sha512::new()
        .chain_update(b"jazz-auth-sign-v1")
        .chain_update(seed)
        .finalize();
    let mut key = [0u8; 32];
    key.copy_from_slice(&digest[..32]);
    SigningKey::from_bytes(&key)
}
