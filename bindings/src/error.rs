//! The exceptions that cross the boundary: one type per area, each variant
//! carrying the catalogue's stable `code` and a human-readable `reason`.
//!
//! Kotlin names these `SecretException`, `PhraseException`, `TokenException`,
//! `SecretStoreException`, `PasskeyException`, `VaultException`,
//! `VaultAccessException`; Swift keeps the `...Error` names.

use localfirst_core::error::ErrorCode;
use localfirst_core::phrase::PhraseError as CorePhraseError;
use localfirst_core::recovery::passkey::PasskeyError as CorePasskeyError;
use localfirst_core::recovery::vault::{
    VaultAccessError as VaultAccessFailure, VaultError as CoreVaultError,
};
use localfirst_core::secret::SecretError as CoreSecretError;
use localfirst_core::secret_store::StoreError;
use localfirst_core::token::TokenError as CoreTokenError;

/// A secret could not be parsed or generated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, uniffi::Error)]
pub enum SecretError {
    /// The text is not strict unpadded base64url of exactly 32 bytes
    /// (codes `secret-padding`, `secret-invalid-character`, `secret-invalid-length`,
    /// `secret-non-canonical`).
    #[error("[{code}] {reason}")]
    Invalid {
        /// The stable error code.
        code: String,
        /// What is wrong, never containing the secret.
        reason: String,
    },
    /// The system random number generator failed (code `rng-failure`).
    #[error("[{code}] {reason}")]
    Rng {
        /// The stable error code.
        code: String,
        /// What failed.
        reason: String,
    },
}

/// A recovery phrase could not be turned into a secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, uniffi::Error)]
pub enum PhraseError {
    /// Not exactly 24 words (code `invalid-length`).
    #[error("[{code}] {reason}")]
    InvalidLength {
        /// The stable error code.
        code: String,
        /// "Expected 24 words, got N".
        reason: String,
        /// Number of words found.
        got: u64,
    },
    /// A word is not in the English BIP39 list (code `invalid-word`).
    #[error("[{code}] {reason}")]
    InvalidWord {
        /// The stable error code.
        code: String,
        /// Names the position and the word.
        reason: String,
        /// One-based position of the word.
        position: u64,
        /// The word as given (lower-cased).
        word: String,
    },
    /// The words are valid but the checksum is not (code `invalid-checksum`).
    #[error("[{code}] {reason}")]
    InvalidChecksum {
        /// The stable error code.
        code: String,
        /// What is wrong.
        reason: String,
    },
    /// The phrase does not carry a 32-byte secret (code `invalid-secret`), or any
    /// other phrase failure the core adds later (its own code).
    #[error("[{code}] {reason}")]
    InvalidSecret {
        /// The stable error code.
        code: String,
        /// What is wrong.
        reason: String,
    },
}

/// A token could not be minted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, uniffi::Error)]
pub enum TokenError {
    /// The lifetime is zero or ends beyond the largest timestamp (code `invalid-ttl`).
    #[error("[{code}] {reason}")]
    InvalidTtl {
        /// The stable error code.
        code: String,
        /// What is wrong.
        reason: String,
    },
    /// Any other token failure; `code` tells which.
    #[error("[{code}] {reason}")]
    Invalid {
        /// The stable error code.
        code: String,
        /// What is wrong.
        reason: String,
    },
}

/// A secret store operation failed. None of these means "no secret": a store
/// implemented in Swift or Kotlin throws these, never returns `null`, when a
/// read fails.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, uniffi::Error)]
pub enum SecretStoreError {
    /// The store cannot be read right now (device locked, interaction not allowed).
    /// Code `secret-store-unavailable`.
    #[error("[{code}] {reason}")]
    Unavailable {
        /// The stable error code.
        code: String,
        /// Backend detail, never containing secret material.
        reason: String,
    },
    /// The key protecting the secret is gone. Code `secret-store-key-invalidated`.
    #[error("[{code}] {reason}")]
    KeyInvalidated {
        /// The stable error code.
        code: String,
        /// Backend detail.
        reason: String,
    },
    /// Something is stored but it is not a 32-byte secret. Code `secret-store-corrupted`.
    #[error("[{code}] {reason}")]
    Corrupted {
        /// The stable error code.
        code: String,
        /// Backend detail.
        reason: String,
    },
    /// The process may not read or write the store. Code `secret-store-permission-denied`.
    #[error("[{code}] {reason}")]
    PermissionDenied {
        /// The stable error code.
        code: String,
        /// Backend detail.
        reason: String,
    },
    /// An I/O error. Code `secret-store-io`.
    #[error("[{code}] {reason}")]
    Io {
        /// The stable error code.
        code: String,
        /// Backend detail.
        reason: String,
    },
    /// Any other backend failure, including an unexpected exception thrown by a
    /// foreign store. Code `secret-store-backend`.
    #[error("[{code}] {reason}")]
    Backend {
        /// The stable error code.
        code: String,
        /// Backend detail.
        reason: String,
    },
    /// An explicit storage key that is blank or longer than 255 bytes.
    /// Code `invalid-storage-key`.
    #[error("[{code}] {reason}")]
    InvalidStorageKey {
        /// The stable error code.
        code: String,
        /// What is wrong.
        reason: String,
    },
    /// The random number generator failed while creating a secret. Code `rng-failure`.
    #[error("[{code}] {reason}")]
    Rng {
        /// The stable error code.
        code: String,
        /// What failed.
        reason: String,
    },
}

fn code_of(error: &impl ErrorCode) -> String {
    error.code().as_str().to_owned()
}

impl From<CoreSecretError> for SecretError {
    fn from(error: CoreSecretError) -> SecretError {
        let (code, reason) = (code_of(&error), error.to_string());
        match error {
            CoreSecretError::Rng => SecretError::Rng { code, reason },
            _ => SecretError::Invalid { code, reason },
        }
    }
}

impl From<CorePhraseError> for PhraseError {
    fn from(error: CorePhraseError) -> PhraseError {
        let (code, reason) = (code_of(&error), error.to_string());
        match error {
            CorePhraseError::InvalidLength { got } => PhraseError::InvalidLength {
                code,
                reason,
                got: u64::try_from(got).unwrap_or(u64::MAX),
            },
            CorePhraseError::InvalidWord { position, word } => PhraseError::InvalidWord {
                code,
                reason,
                position: u64::try_from(position).unwrap_or(u64::MAX),
                word,
            },
            CorePhraseError::InvalidChecksum => PhraseError::InvalidChecksum { code, reason },
            _ => PhraseError::InvalidSecret { code, reason },
        }
    }
}

impl From<CoreTokenError> for TokenError {
    fn from(error: CoreTokenError) -> TokenError {
        let (code, reason) = (code_of(&error), error.to_string());
        match error {
            CoreTokenError::InvalidTtl => TokenError::InvalidTtl { code, reason },
            _ => TokenError::Invalid { code, reason },
        }
    }
}

impl From<StoreError> for SecretStoreError {
    fn from(error: StoreError) -> SecretStoreError {
        let (code, reason) = (code_of(&error), error.to_string());
        match error {
            StoreError::Unavailable { reason } => SecretStoreError::Unavailable { code, reason },
            StoreError::KeyInvalidated { reason } => {
                SecretStoreError::KeyInvalidated { code, reason }
            }
            StoreError::Corrupted { reason } => SecretStoreError::Corrupted { code, reason },
            StoreError::PermissionDenied { reason } => {
                SecretStoreError::PermissionDenied { code, reason }
            }
            StoreError::Io { reason } => SecretStoreError::Io { code, reason },
            StoreError::InvalidStorageKey => SecretStoreError::InvalidStorageKey { code, reason },
            StoreError::Rng => SecretStoreError::Rng { code, reason },
            StoreError::Backend { reason } => SecretStoreError::Backend { code, reason },
            _ => SecretStoreError::Backend { code, reason },
        }
    }
}

/// A foreign store's exception, back into the core's error. The variant decides;
/// the `code` a foreign implementation put in is not trusted.
impl From<SecretStoreError> for StoreError {
    fn from(error: SecretStoreError) -> StoreError {
        match error {
            SecretStoreError::Unavailable { reason, .. } => StoreError::Unavailable { reason },
            SecretStoreError::KeyInvalidated { reason, .. } => {
                StoreError::KeyInvalidated { reason }
            }
            SecretStoreError::Corrupted { reason, .. } => StoreError::Corrupted { reason },
            SecretStoreError::PermissionDenied { reason, .. } => {
                StoreError::PermissionDenied { reason }
            }
            SecretStoreError::Io { reason, .. } => StoreError::Io { reason },
            SecretStoreError::Backend { reason, .. } => StoreError::Backend { reason },
            SecretStoreError::InvalidStorageKey { .. } => StoreError::InvalidStorageKey,
            SecretStoreError::Rng { .. } => StoreError::Rng,
        }
    }
}

/// An exception a foreign store threw that is not a `SecretStoreError` becomes a
/// backend error instead of a panic.
impl From<uniffi::UnexpectedUniFFICallbackError> for SecretStoreError {
    fn from(error: uniffi::UnexpectedUniFFICallbackError) -> SecretStoreError {
        SecretStoreError::from(StoreError::Backend {
            reason: format!("foreign secret store threw: {}", error.reason),
        })
    }
}

/// A passkey backup or restore failed (Kotlin `PasskeyException`). The core reports
/// the malformed-input cases; the platform layers (`PasskeyBackup` in Swift and
/// Kotlin) report their own failures with [`passkey_platform_error`](crate::passkey_platform_error),
/// so every platform carries the same codes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, uniffi::Error)]
pub enum PasskeyError {
    /// No passkey support here (OS too old, no provider, domain not associated).
    /// Code `not-supported`.
    #[error("[{code}] {reason}")]
    NotSupported {
        /// The stable error code.
        code: String,
        /// Platform detail.
        reason: String,
    },
    /// The secret to back up is not 32 bytes of strict base64url. Code `invalid-secret`.
    #[error("[{code}] {reason}")]
    InvalidSecret {
        /// The stable error code.
        code: String,
        /// What is wrong, never containing the secret.
        reason: String,
    },
    /// The platform could not create the credential. Code `create-failed`.
    #[error("[{code}] {reason}")]
    CreateFailed {
        /// The stable error code.
        code: String,
        /// Platform detail.
        reason: String,
    },
    /// The platform could not get an assertion. Code `get-failed`.
    #[error("[{code}] {reason}")]
    GetFailed {
        /// The stable error code.
        code: String,
        /// Platform detail.
        reason: String,
    },
    /// No passkey of the relying-party id was chosen or found. Code `no-credential`.
    #[error("[{code}] {reason}")]
    NoCredential {
        /// The stable error code.
        code: String,
        /// What happened.
        reason: String,
    },
    /// The assertion is malformed or its user handle is not a 32-byte secret.
    /// Code `invalid-credential`.
    #[error("[{code}] {reason}")]
    InvalidCredential {
        /// The stable error code.
        code: String,
        /// What is wrong (never secret material).
        reason: String,
    },
    /// The authenticator data lacks user presence or user verification.
    /// Code `verification-failed`.
    #[error("[{code}] {reason}")]
    VerificationFailed {
        /// The stable error code.
        code: String,
        /// What is wrong.
        reason: String,
        /// The flags byte found.
        flags: u8,
    },
    /// An app name, relying-party id, display name or challenge is not valid.
    /// Code `invalid-argument`.
    #[error("[{code}] {reason}")]
    InvalidArgument {
        /// The stable error code.
        code: String,
        /// Which argument and why.
        reason: String,
    },
    /// The random number generator failed while drawing a challenge, or any other
    /// failure the core adds later (its own code).
    #[error("[{code}] {reason}")]
    Rng {
        /// The stable error code.
        code: String,
        /// What failed.
        reason: String,
    },
}

/// The vault flow failed (Kotlin `VaultException`). Except where a variant says so,
/// nothing was created or replaced on the device.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, uniffi::Error)]
pub enum VaultError {
    /// The vault's load or store failed. Code `vault-unavailable`.
    #[error("[{code}] {reason}")]
    Unavailable {
        /// The stable error code.
        code: String,
        /// The vault's message.
        reason: String,
    },
    /// A vault call did not finish within the timeout. Code `vault-timeout`.
    #[error("[{code}] {reason}")]
    Timeout {
        /// The stable error code.
        code: String,
        /// What timed out.
        reason: String,
        /// The timeout, in milliseconds.
        timeout_ms: u64,
    },
    /// The vault holds a value that is not a secret; nothing was replaced.
    /// Code `vault-corrupt`.
    #[error("[{code}] {reason}")]
    Corrupt {
        /// The stable error code.
        code: String,
        /// Why the value was refused (never the value).
        reason: String,
    },
    /// The backup write succeeded but reading back found nothing.
    /// Code `vault-write-unconfirmed`.
    #[error("[{code}] {reason}")]
    WriteUnconfirmed {
        /// The stable error code.
        code: String,
        /// What happened.
        reason: String,
    },
    /// The vault holds another identity than the device; nothing was replaced.
    /// Ask the user, then `adoptVaultIdentity(vault, store, vaultUserId)` replaces
    /// the device's. Code `vault-identity-conflict`.
    #[error("[{code}] {reason}")]
    IdentityConflict {
        /// The stable error code.
        code: String,
        /// Names both user ids.
        reason: String,
        /// The identity the device holds (empty when it holds none).
        device_user_id: String,
        /// The identity the vault holds.
        vault_user_id: String,
    },
    /// The device's secret store failed; `code` is the store's
    /// (`secret-store-unavailable`, ...).
    #[error("[{code}] {reason}")]
    Store {
        /// The stable error code.
        code: String,
        /// The store's message.
        reason: String,
    },
    /// No runtime to run the vault flow on (code `runtime-unavailable`), or any other
    /// failure the core adds later (its own code).
    #[error("[{code}] {reason}")]
    Runtime {
        /// The stable error code.
        code: String,
        /// What failed.
        reason: String,
    },
}

/// What an app's `SecretVault` throws when its provider fails (Kotlin
/// `VaultAccessException`): the flow reports it as `vault-unavailable`. Any other
/// exception a vault throws is treated the same way.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, uniffi::Error)]
pub enum VaultAccessError {
    /// The provider call failed (network, refused credential, unexpected answer).
    #[error("{reason}")]
    Failed {
        /// What failed (never secret material).
        reason: String,
    },
}

impl From<CorePasskeyError> for PasskeyError {
    fn from(error: CorePasskeyError) -> PasskeyError {
        let (code, reason) = (code_of(&error), error.to_string());
        match error {
            CorePasskeyError::NotSupported { .. } => PasskeyError::NotSupported { code, reason },
            CorePasskeyError::InvalidSecret => PasskeyError::InvalidSecret { code, reason },
            CorePasskeyError::CreateFailed { .. } => PasskeyError::CreateFailed { code, reason },
            CorePasskeyError::GetFailed { .. } => PasskeyError::GetFailed { code, reason },
            CorePasskeyError::NoCredential => PasskeyError::NoCredential { code, reason },
            CorePasskeyError::InvalidCredential { .. } => {
                PasskeyError::InvalidCredential { code, reason }
            }
            CorePasskeyError::VerificationFailed { flags } => PasskeyError::VerificationFailed {
                code,
                reason,
                flags,
            },
            CorePasskeyError::InvalidArgument { .. } => {
                PasskeyError::InvalidArgument { code, reason }
            }
            _ => PasskeyError::Rng { code, reason },
        }
    }
}

impl From<CoreVaultError> for VaultError {
    fn from(error: CoreVaultError) -> VaultError {
        let (code, reason) = (code_of(&error), error.to_string());
        match error {
            CoreVaultError::Unavailable { .. } => VaultError::Unavailable { code, reason },
            CoreVaultError::Timeout { timeout } => VaultError::Timeout {
                code,
                reason,
                timeout_ms: u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX),
            },
            CoreVaultError::Corrupt { .. } => VaultError::Corrupt { code, reason },
            CoreVaultError::WriteUnconfirmed => VaultError::WriteUnconfirmed { code, reason },
            CoreVaultError::IdentityConflict {
                device_user_id,
                vault_user_id,
            } => VaultError::IdentityConflict {
                code,
                reason,
                device_user_id,
                vault_user_id,
            },
            CoreVaultError::Store(_) => VaultError::Store { code, reason },
            _ => VaultError::Runtime { code, reason },
        }
    }
}

impl From<VaultAccessError> for VaultAccessFailure {
    fn from(error: VaultAccessError) -> VaultAccessFailure {
        match error {
            VaultAccessError::Failed { reason } => VaultAccessFailure::new(reason),
        }
    }
}

/// An exception a foreign vault threw that is not a `VaultAccessError` fails the
/// vault call (`vault-unavailable`) instead of panicking.
impl From<uniffi::UnexpectedUniFFICallbackError> for VaultAccessError {
    fn from(error: uniffi::UnexpectedUniFFICallbackError) -> VaultAccessError {
        VaultAccessError::Failed {
            reason: format!("the vault threw: {}", error.reason),
        }
    }
}
