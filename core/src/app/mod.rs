//! What the shells export: every operation an app performs through a binding
//! (Swift, Kotlin, Node, Expo), in one place, each written once here and in a
//! shape UniFFI and napi-rs forward in one line (owned arguments or plain
//! references, no generics or lifetimes, records and enums, coded errors).
//!
//! A shell never repeats a rule: it checks the foreign types of its input,
//! converts, does the platform's I/O and calls these.
//!
//! | operation | what it decides | errors |
//! | --- | --- | --- |
//! | [`storage_key_for`] | which key holds a secret: an explicit key, or the app / user / session ids; both is refused | [`StoreError`] (`invalid-storage-key`) |
//! | [`app_secret`] | the secret an app acts with: created on a write, never on a read | [`StoreError`] |
//! | [`validate_app_id`] | whether an app id is usable (what `Db::open` applies) | [`DbError`](crate::db::DbError) (`invalid-config`) |
//! | [`identity_proof_for`] | an identity proof's default lifetime (60 s), its limit (600 s, the default verifier's) and its audience | [`TokenError`] (`invalid-ttl`, `invalid-argument`) |
//! | [`import_jazz_secret`] | moving Jazz's stored secret into our store: validate, copy only into an empty store, read back, and whether to delete Jazz's copy | [`StoreError`] |
//! | [`VaultDriver`] | the whole provider-vault flow as a sans-IO state machine: the shell reads and writes the vault, with the timeout the driver names | [`VaultError`] |
//!
//! Every item is also reachable under its own module (`secret_store`, `db`,
//! `token`, `recovery::vault`); the names here are the ones the bindings use.

use crate::clock::Clock;
use crate::secret::Secret;
use crate::token::TokenError;

pub use crate::db::{validate_app_id, MAX_APP_ID_BYTES};
pub use crate::recovery::vault::{
    AdoptedIdentity, VaultAction, VaultAnswer, VaultCompletion, VaultDriver, VaultError,
    VaultIdentity, VaultOutcome, VaultValue, DEFAULT_VAULT_TIMEOUT,
};
pub use crate::secret_store::{
    app_secret, import_jazz_secret, storage_key_for, JazzImport, JazzImportOutcome, SecretPurpose,
    StorageKey, StoreError, DEFAULT_STORAGE_KEY,
};
pub use crate::token::{DEFAULT_PROOF_TTL_SECONDS, MAX_IDENTITY_PROOF_TTL_SECONDS};

/// Mints an identity proof for `audience` from `secret`, issued now by `clock`,
/// living `ttl_seconds` ([`DEFAULT_PROOF_TTL_SECONDS`], 60 s, when `None`).
///
/// The rule of [`crate::token::identity_proof`], which every mint path applies:
/// 1 to [`MAX_IDENTITY_PROOF_TTL_SECONDS`] (600) seconds, else `invalid-ttl`
/// (a longer proof would be refused by our default verifier, so it is not minted);
/// a blank audience is `invalid-argument`. The backend verifies the proof with
/// `verify_local_first_identity_proof(token, audience)`.
pub fn identity_proof_for(
    secret: &Secret,
    ttl_seconds: Option<u64>,
    audience: String,
    clock: &dyn Clock,
) -> Result<String, TokenError> {
    crate::token::identity_proof(
        secret,
        ttl_seconds.unwrap_or(DEFAULT_PROOF_TTL_SECONDS),
        &audience,
        clock,
    )
}
