//! The core's app-facing operations (`localfirst_core::app`), each forwarded in one
//! line with the core's name and argument order: the storage-key choice, the
//! identity-proof mint rule, token verification and the Jazz secret import.

use std::sync::Arc;

use localfirst_core::app as core_app;
use localfirst_core::clock::SystemClock;
use localfirst_core::secret_store::{JazzImport, JazzImportOutcome};
use localfirst_core::token::{self as core_token, Issuer, VerifyOptions};

use crate::error::LocalFirstError;
use crate::identity::AuthSecret;
use crate::store::{AuthSecretStore, ForeignStore, StorageKey};
use crate::token::seconds;

/// The storage key a store's options name: `key` verbatim (1 to 255 bytes, not
/// blank), or Jazz's `jazz-auth-secret[:app[:user[:session]]]` from the ids; no
/// argument at all is the default key. A `key` together with any id is refused with
/// `invalid-storage-key` (as a blank or over-long `key` is), never silently preferred.
#[uniffi::export(default(key = None, app_id = None, user_id = None, session_id = None))]
pub fn storage_key_for(
    key: Option<String>,
    app_id: Option<String>,
    user_id: Option<String>,
    session_id: Option<String>,
) -> Result<Arc<StorageKey>, LocalFirstError> {
    Ok(StorageKey::wrap(core_app::storage_key_for(
        key, app_id, user_id, session_id,
    )?))
}

/// Mints an identity proof for `audience`, issued now, living `ttlSeconds` (default
/// 60): 1 to 600 seconds, else `invalid-ttl` (a longer proof would be refused by our
/// verifier); a blank audience is `invalid-argument`. The backend checks it with
/// `verifyLocalFirstIdentityProof`.
#[uniffi::export(default(ttl_seconds = None))]
pub fn identity_proof_for(
    secret: Arc<AuthSecret>,
    ttl_seconds: Option<i64>,
    audience: String,
) -> Result<String, LocalFirstError> {
    Ok(core_app::identity_proof_for(
        secret.secret(),
        ttl_seconds.map(seconds),
        audience,
        &SystemClock,
    )?)
}

/// Who issued a self-signed token.
#[uniffi::remote(Enum)]
pub enum Issuer {
    /// A persistent local-first identity (`urn:jazz:local-first`).
    LocalFirst,
    /// An ephemeral anonymous identity (`urn:jazz:anonymous`).
    Anonymous,
}

/// What a verified self-signed token establishes.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct VerifiedToken {
    /// The user id (`sub`), proven to match the signing key.
    pub user_id: String,
    /// The issuer.
    pub issuer: Issuer,
    /// The signer's Ed25519 public key, unpadded base64url.
    pub public_key: String,
    /// The audience as the caller passed it (an app id or a UUID).
    pub audience: String,
    /// The audience as the token carries it: `audience` itself if it is a UUID,
    /// otherwise its UUIDv5 (DNS namespace).
    pub audience_uuid: String,
    /// `iat`, Unix seconds.
    pub issued_at: u64,
    /// `exp`, Unix seconds.
    pub expires_at: u64,
}

/// Verifies a self-signed token (local-first or anonymous) now, completely, as the
/// sync server does: shape, header, claims, issuer, signature, subject/key binding,
/// audience and times. `maxTtlSeconds` is the longest accepted lifetime (default
/// 3600); `issuers` the accepted issuers (default both). Throws a `LocalFirstError`
/// whose code names the first failed check (`expired`, `invalid-signature`,
/// `audience-mismatch`, ...).
#[uniffi::export(default(max_ttl_seconds = None, issuers = None))]
pub fn verify_local_first_token(
    token: String,
    audience: String,
    max_ttl_seconds: Option<i64>,
    issuers: Option<Vec<Issuer>>,
) -> Result<VerifiedToken, LocalFirstError> {
    let mut options = VerifyOptions::new(&audience);
    if let Some(max) = max_ttl_seconds {
        options = options.with_max_ttl(seconds(max));
    }
    if let Some(issuers) = &issuers {
        options = options.with_issuers(issuers);
    }
    let verified = core_token::verify(&token, &options, &SystemClock)?;
    Ok(VerifiedToken {
        user_id: verified.user_id.to_string(),
        issuer: verified.issuer,
        public_key: verified.public_key.to_base64url(),
        audience: verified.audience,
        audience_uuid: verified.audience_uuid,
        issued_at: verified.issued_at,
        expires_at: verified.expires_at,
    })
}

/// What `importJazzSecret` found and did.
#[uniffi::remote(Enum)]
pub enum JazzImportOutcome {
    /// Jazz's store holds nothing: nothing to import.
    NotFound,
    /// Our store held nothing; Jazz's secret is now stored there and read back.
    Imported {
        /// The imported identity's user id.
        user_id: String,
    },
    /// Our store already held the same secret.
    AlreadyImported {
        /// The identity's user id.
        user_id: String,
    },
    /// Our store holds another identity; nothing was changed.
    Conflict {
        /// The user id of Jazz's secret.
        user_id: String,
        /// The user id of the secret our store holds.
        existing_user_id: String,
    },
}

/// The result of `importJazzSecret`: what happened, and whether the caller should
/// now delete Jazz's copy.
#[uniffi::remote(Record)]
pub struct JazzImport {
    /// What happened.
    pub outcome: JazzImportOutcome,
    /// `true` exactly when our store holds the very secret Jazz's store holds.
    pub remove_source: bool,
}

/// Imports the secret Jazz stored (`jazzValue`, the text read from Jazz's store;
/// `null` when it holds nothing) into `store`. A value that is not a secret is
/// `secret-store-corrupted` and `store` is untouched; another identity already in
/// `store` is a `Conflict` carrying both user ids. Delete Jazz's copy only when
/// `removeSource`. Blocks on the store: call it off the UI thread.
#[uniffi::export]
pub fn import_jazz_secret(
    store: Arc<dyn AuthSecretStore>,
    jazz_value: Option<String>,
) -> Result<JazzImport, LocalFirstError> {
    Ok(core_app::import_jazz_secret(
        &ForeignStore::new(store),
        jazz_value,
    )?)
}
