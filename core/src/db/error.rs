//! [`DbError`]: why a `Db` operation failed.

use crate::auth::{AuthError, PrincipalChangeKind};
use crate::error::{Code, ErrorCode, ErrorDetails};
use crate::local_db::StorageError;
use crate::policy::{Operation, PolicyError};
use crate::token::TokenError;

/// Why a `Db` operation failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum DbError {
    /// Sync cannot run: no server URL, `sync_when` keeps the data local, or the
    /// credential is currently refused (auth paused).
    #[error("sync is not available: {reason}")]
    SyncUnavailable {
        /// Why.
        reason: String,
    },
    /// The server refused the credential (`expired`, `missing`, `invalid`, `disabled`).
    #[error("the sync server refused the credential ({code}): {message}")]
    SyncAuthRejected {
        /// The server's code.
        code: String,
        /// The server's message.
        message: String,
    },
    /// The server could not be reached, or the connection broke.
    #[error("sync network failure: {reason}")]
    SyncNetwork {
        /// What happened.
        reason: String,
    },
    /// The server answered with an `error` frame or something unexpected.
    #[error("sync protocol error ({code}): {message}")]
    SyncProtocol {
        /// The server's code.
        code: String,
        /// The message.
        message: String,
    },
    /// An invalid config value.
    #[error("invalid config: {reason}")]
    Config {
        /// What is wrong.
        reason: String,
    },
    /// An invalid argument to a call.
    #[error("invalid argument: {reason}")]
    InvalidArgument {
        /// What is wrong.
        reason: String,
    },
    /// Anonymous sessions cannot write; checked before any policy.
    #[error("anonymous sessions cannot {operation} rows (table {table:?}); sign in or use local-first auth")]
    AnonymousWriteDenied {
        /// The table.
        table: String,
        /// The refused operation.
        operation: Operation,
    },
    /// The call would change the principal of a live `Db`. Recreate the `Db`.
    #[error("the principal of a Db is fixed ({current} -> {}): {detail}; recreate the Db with the new auth config", requested.as_deref().unwrap_or("<none>"))]
    PrincipalChange {
        /// The current user id.
        current: String,
        /// The requested user id (`None` for a sign-out).
        requested: Option<String>,
        /// What kind of change was refused.
        detail: PrincipalChangeKind,
    },
    /// Another auth failure (undecodable token, empty cookie session).
    #[error(transparent)]
    Auth(AuthError),
    /// The policy set does not grant the operation.
    #[error("policy denies {operation} on table {table:?}")]
    PolicyDenied {
        /// The table.
        table: String,
        /// The operation.
        operation: Operation,
    },
    /// The policy set could not be loaded.
    #[error(transparent)]
    Policy(PolicyError),
    /// No such row.
    #[error("no row {id:?} in table {table:?}")]
    NotFound {
        /// The table.
        table: String,
        /// The id.
        id: String,
    },
    /// The namespace's storage was deleted; the operation was not applied and a
    /// fresh database is open now.
    #[error("the local storage was reset (deleted by this or another Db); the operation was not applied")]
    StorageReset,
    /// The `Db` was logged out; create a new one.
    #[error("this Db was logged out; create a new Db")]
    LoggedOut,
    /// A storage failure.
    #[error(transparent)]
    Storage(StorageError),
    /// A token could not be minted.
    #[error(transparent)]
    Token(TokenError),
    /// The account-discard migrator failed; nothing was discarded.
    #[error("migrating the discarded local-first account failed: {reason}")]
    MigrationFailed {
        /// The migrator's message.
        reason: String,
    },
    /// The system random number generator failed (anonymous identity).
    #[error("the system random number generator failed")]
    Rng,
    /// The background runtime that runs JWT refreshes could not be started.
    #[error("the background runtime could not be started: {reason}")]
    Runtime {
        /// The operating system's message.
        reason: String,
    },
}

impl ErrorCode for DbError {
    fn code(&self) -> Code {
        match self {
            DbError::SyncUnavailable { .. } => Code::SyncUnavailable,
            DbError::SyncAuthRejected { .. } => Code::SyncAuthRejected,
            DbError::SyncNetwork { .. } => Code::SyncNetwork,
            DbError::SyncProtocol { .. } => Code::SyncProtocol,
            DbError::Config { .. } => Code::InvalidConfig,
            DbError::InvalidArgument { .. } => Code::InvalidArgument,
            DbError::AnonymousWriteDenied { .. } => Code::AnonymousWriteDenied,
            DbError::PrincipalChange { .. } => Code::PrincipalChange,
            DbError::Auth(e) => e.code(),
            DbError::PolicyDenied { .. } => Code::PolicyDenied,
            DbError::Policy(e) => e.code(),
            DbError::NotFound { .. } => Code::NotFound,
            DbError::StorageReset => Code::StorageReset,
            DbError::LoggedOut => Code::LoggedOut,
            DbError::Storage(e) => e.code(),
            DbError::Token(e) => e.code(),
            DbError::MigrationFailed { .. } => Code::MigrationFailed,
            DbError::Rng => Code::RngFailure,
            DbError::Runtime { .. } => Code::RuntimeUnavailable,
        }
    }

    fn details(&self) -> Option<ErrorDetails> {
        match self {
            DbError::SyncAuthRejected { code, .. } | DbError::SyncProtocol { code, .. } => {
                Some(ErrorDetails::SyncCode { code: code.clone() })
            }
            DbError::AnonymousWriteDenied { table, operation }
            | DbError::PolicyDenied { table, operation } => {
                Some(ErrorDetails::table_operation(table, *operation))
            }
            DbError::NotFound { table, id } => Some(ErrorDetails::row(table, id)),
            DbError::Auth(e) => e.details(),
            DbError::Policy(e) => e.details(),
            DbError::Storage(e) => e.details(),
            DbError::Token(e) => e.details(),
            _ => None,
        }
    }
}

impl From<StorageError> for DbError {
    fn from(error: StorageError) -> DbError {
        match error {
            StorageError::NotFound { table, id } => DbError::NotFound { table, id },
            StorageError::Reset => DbError::StorageReset,
            StorageError::Closed => DbError::LoggedOut,
            other => DbError::Storage(other),
        }
    }
}

impl From<AuthError> for DbError {
    fn from(error: AuthError) -> DbError {
        match error {
            AuthError::PrincipalChange {
                current,
                requested,
                detail,
            } => DbError::PrincipalChange {
                current,
                requested,
                detail,
            },
            other => DbError::Auth(other),
        }
    }
}

impl From<PolicyError> for DbError {
    fn from(error: PolicyError) -> DbError {
        match error {
            PolicyError::Denied { table, operation } => DbError::PolicyDenied { table, operation },
            other => DbError::Policy(other),
        }
    }
}

impl From<TokenError> for DbError {
    fn from(error: TokenError) -> DbError {
        DbError::Token(error)
    }
}
