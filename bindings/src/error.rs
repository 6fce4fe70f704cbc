//! The exceptions that cross the boundary: one type per area, each variant
//! carrying the catalogue's stable `code` and a human-readable `reason`.
//!
//! Kotlin names these `SecretException`, `PhraseException`, `TokenException`,
//! `SecretStoreException`; Swift keeps the `...Error` names.

use localfirst_core::error::ErrorCode;
use localfirst_core::phrase::PhraseError as CorePhraseError;
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
