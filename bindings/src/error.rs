//! The one error that crosses the boundary: [`LocalFirstError`] (Kotlin
//! `LocalFirstException`), thrown by every fallible export and by every foreign trait
//! the app implements, with the catalogue's [`ErrorCode`], a human `reason` and the
//! core's typed [`ErrorDetails`].
//!
//! Nothing here looks inside a module's error: the core builds the report
//! (`ErrorCode::report`), this module only changes its types. [`ErrorCode`] is declared
//! from the catalogue's own list (`localfirst_core::error_codes!`), so it has every code
//! and no other.

use localfirst_core::error::{Code, ErrorCode as _, ErrorDetails, ErrorReport};
use localfirst_core::policy::Operation;

macro_rules! ffi_error_code {
    ($( $(#[$doc:meta])* $variant:ident = $text:literal, )+) => {
        /// A code of the error catalogue (docs/ERRORS.md): the same codes as Rust's
        /// `localfirst_core::error::Code`, in the same order. `toString()` / `description`
        /// is the code's text, e.g. `secret-store-unavailable`. A later version may add
        /// codes: match with a fallback branch.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, uniffi::Enum)]
        #[uniffi::export(Display)]
        pub enum ErrorCode {
            $( $(#[$doc])* $variant, )+
        }

        impl From<Code> for ErrorCode {
            fn from(code: Code) -> ErrorCode {
                match code {
                    $( Code::$variant => ErrorCode::$variant, )+
                }
            }
        }

        impl From<ErrorCode> for Code {
            fn from(code: ErrorCode) -> Code {
                match code {
                    $( ErrorCode::$variant => Code::$variant, )+
                }
            }
        }
    };
}

localfirst_core::error_codes!(ffi_error_code);

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(Code::from(*self).as_str())
    }
}

/// The code whose text is `text` (`secret-store-unavailable`), or `null` when `text` is
/// not a code of this version's catalogue.
#[uniffi::export]
pub fn error_code_from_text(text: String) -> Option<ErrorCode> {
    text.parse::<Code>().ok().map(ErrorCode::from)
}

/// Typed facts some errors carry beyond their code, for the app to act on. Each variant
/// names the codes that carry it; every other error has none.
#[uniffi::remote(Enum)]
pub enum ErrorDetails {
    /// `invalid-length` of a recovery phrase: how many words it has.
    PhraseLength {
        /// The number of words found.
        got: u64,
    },
    /// `invalid-word`: the first word that is not in the word list.
    InvalidWord {
        /// Its one-based position in the phrase.
        position: u64,
        /// The word as given (lower-cased).
        word: String,
    },
    /// `verification-failed`: the authenticator data's flags byte.
    AuthenticatorFlags {
        /// The flags byte found.
        flags: u8,
    },
    /// `vault-timeout`: the bound each vault call had.
    VaultTimeout {
        /// The timeout, in milliseconds.
        timeout_ms: u64,
    },
    /// `vault-identity-conflict`: the two identities; nothing was replaced.
    IdentityConflict {
        /// The user id the device holds (empty when it holds none).
        device_user_id: String,
        /// The user id the vault holds.
        vault_user_id: String,
    },
    /// `policy-denied`, `anonymous-write-denied`: what was refused.
    TableOperation {
        /// The table.
        table: String,
        /// The refused operation.
        operation: Operation,
    },
    /// `not-found`, `already-exists`: which row.
    Row {
        /// The table.
        table: String,
        /// The row id.
        id: String,
    },
    /// `table-name-clash`: the name given and the existing table it differs from only
    /// in letter case.
    TableNameClash {
        /// The table name given.
        table: String,
        /// The existing table's name.
        existing: String,
    },
    /// `sync-auth-rejected`, `sync-protocol`: the code the sync server sent (`expired`,
    /// `storage`, ...) or the client's protocol check found, as text (a newer server may
    /// send one this version does not know).
    SyncCode {
        /// The code, as sent.
        code: String,
    },
}

/// An operation on a table, as policies name it.
#[uniffi::remote(Enum)]
pub enum Operation {
    /// Seeing an existing row.
    Read,
    /// Creating a row.
    Insert,
    /// Changing a row.
    Update,
    /// Removing a row.
    Delete,
}

/// Why a call failed (Kotlin `LocalFirstException`, Swift `LocalFirstError`): every export
/// that can fail throws it, and every interface the app implements (secret stores,
/// vaults, listeners, the JWT refresher, the account-discard migrator) throws it too.
///
/// Read it with `code()` (an [`ErrorCode`]; match on it), `reason()` (for people; never
/// match on it) and `details()` (typed facts, when the error has them). Throw one from
/// app code as `LocalFirstException.Failed(ErrorCode.X, "why")` /
/// `LocalFirstError.failed(code: .x, reason: "why", details: nil)`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, uniffi::Error)]
pub enum LocalFirstError {
    /// The call failed; `code` says why.
    #[error("[{code}] {reason}")]
    Failed {
        /// The catalogue code.
        code: ErrorCode,
        /// What went wrong, for people.
        reason: String,
        /// Typed facts about the failure, when there are any.
        details: Option<ErrorDetails>,
    },
}

#[uniffi::export]
impl LocalFirstError {
    /// The catalogue code (docs/ERRORS.md): match on it.
    pub fn code(&self) -> ErrorCode {
        match self {
            LocalFirstError::Failed { code, .. } => *code,
        }
    }

    /// What went wrong, for people (never match on it).
    pub fn reason(&self) -> String {
        match self {
            LocalFirstError::Failed { reason, .. } => reason.clone(),
        }
    }

    /// Typed facts about the failure, or `null`.
    pub fn details(&self) -> Option<ErrorDetails> {
        match self {
            LocalFirstError::Failed { details, .. } => details.clone(),
        }
    }

    /// The details as JSON (`{"kind":"invalidWord","position":3,"word":"..."}`, the form
    /// the Node package and the Expo module give JavaScript), or `null`.
    pub fn details_json(&self) -> Option<String> {
        self.details()
            .and_then(|details| serde_json::to_string(&details).ok())
    }
}

impl LocalFirstError {
    /// The error as the core sees it.
    pub(crate) fn report(&self) -> ErrorReport {
        ErrorReport {
            code: Code::from(self.code()),
            reason: self.reason(),
            details: self.details(),
        }
    }
}

impl From<ErrorReport> for LocalFirstError {
    fn from(report: ErrorReport) -> LocalFirstError {
        LocalFirstError::Failed {
            code: ErrorCode::from(report.code),
            reason: report.reason,
            details: report.details,
        }
    }
}

/// Every core error converts through the core's report (code, message, details).
macro_rules! from_core_errors {
    ($($error:ty),+ $(,)?) => {
        $(
            impl From<$error> for LocalFirstError {
                fn from(error: $error) -> LocalFirstError {
                    LocalFirstError::from(error.report())
                }
            }
        )+
    };
}

from_core_errors!(
    localfirst_core::secret::SecretError,
    localfirst_core::phrase::PhraseError,
    localfirst_core::token::TokenError,
    localfirst_core::secret_store::StoreError,
    localfirst_core::recovery::passkey::PasskeyError,
    localfirst_core::recovery::vault::VaultError,
    localfirst_core::db::DbError,
);

/// A foreign implementation threw something other than a `LocalFirstError` (or its
/// answer could not be read): code `callback-failed`, with what was thrown as the
/// reason, instead of a panic.
impl From<uniffi::UnexpectedUniFFICallbackError> for LocalFirstError {
    fn from(error: uniffi::UnexpectedUniFFICallbackError) -> LocalFirstError {
        LocalFirstError::from(ErrorReport::new(Code::CallbackFailed, error.reason))
    }
}
