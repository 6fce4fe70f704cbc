//! The records a `Db` hands out: [`AuthState`], [`Row`], [`SyncStatus`] (with
//! its [`SyncRejection`]s) and [`SyncReport`], and their conversions from the core.

use localfirst_core::auth::AuthState as CoreAuthState;
use localfirst_core::db::Row as CoreRow;
use localfirst_core::session::AuthMode as CoreAuthMode;
use localfirst_core::sync::{
    SkippedChange as CoreSkippedChange, SyncRejection as CoreSyncRejection,
    SyncReport as CoreSyncReport, SyncState as CoreSyncState, SyncStatus as CoreSyncStatus,
};

/// How a `Db` authenticates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum AuthMode {
    /// An ephemeral identity; read-only.
    Anonymous,
    /// A persistent identity from a stored secret.
    LocalFirst,
    /// Tokens from an external provider (JWT or cookie session).
    External,
}

/// A snapshot of the `Db`'s auth.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct AuthState {
    /// How the `Db` authenticates.
    pub auth_mode: AuthMode,
    /// The session's user id, if there is a session.
    pub user_id: Option<String>,
    /// The session's claims as a JSON object (`{}` without a session).
    pub claims_json: String,
    /// Set while the server refuses the credential: `expired`, `missing`,
    /// `invalid` or `disabled`.
    pub error: Option<String>,
}

/// One row: its metadata and its column values as a JSON object.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Row {
    /// The row id.
    pub id: String,
    /// Who created it.
    pub created_by: String,
    /// When it was created (Unix milliseconds, as in the core).
    pub created_at: u64,
    /// Who changed it last.
    pub updated_by: String,
    /// When it was changed last.
    pub updated_at: u64,
    /// The column values, a JSON object.
    pub values_json: String,
}

/// What the sync engine is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum SyncState {
    /// Not running.
    Disabled,
    /// Opening the socket and handshaking.
    Connecting,
    /// Connected and subscribed to live changes.
    Connected,
    /// The last attempt failed; retrying after a backoff.
    Offline,
    /// The server refused the credential; waiting for a new token.
    Paused,
}

/// One write the server refused for good (dropped from the outbox; a refused
/// insert's local copy is removed too).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct SyncRejection {
    /// The outbox sequence number.
    pub seq: i64,
    /// The table.
    pub table: String,
    /// The row id.
    pub id: String,
    /// The server's stable code (`policy-denied`, `row-exists`, ...).
    pub code: String,
    /// The server's explanation.
    pub message: String,
}

/// One change from the server this client could not store and skipped (the
/// cursor moved past it; everything else synced).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct SkippedChange {
    /// The change's position in the server's log.
    pub cursor: u64,
    /// The table.
    pub table: String,
    /// The row id.
    pub id: String,
    /// Why (`invalid-name`, `table-name-clash`, `invalid-row`, `row-too-large`).
    pub code: String,
    /// Explanation.
    pub message: String,
}

/// A snapshot of the sync engine.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct SyncStatus {
    /// What the engine is doing.
    pub state: SyncState,
    /// Outbox entries not yet acknowledged.
    pub pending: u64,
    /// The persisted server cursor.
    pub cursor: u64,
    /// The last failure's stable code, if any.
    pub last_error_code: Option<String>,
    /// The last failure's message, if any.
    pub last_error_message: Option<String>,
    /// Writes the server refused since this `Db` opened, most recent last (the
    /// core keeps the last 100). A refused credential is not a rejected write:
    /// it shows in `AuthState.error` and `last_error_code`.
    pub last_rejections: Vec<SyncRejection>,
    /// Changes from the server this client could not store and skipped since
    /// this `Db` opened, most recent last (the core keeps the last 100).
    pub skipped_changes: Vec<SkippedChange>,
}

/// What one `syncOnce` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Record)]
pub struct SyncReport {
    /// Entries sent (resends included).
    pub pushed: u64,
    /// Entries the server acknowledged.
    pub acknowledged: u64,
    /// Entries the server refused.
    pub rejected: u64,
    /// Changes applied locally.
    pub pulled: u64,
    /// Changes from the server that could not be stored and were skipped.
    pub skipped: u64,
    /// The persisted cursor afterwards.
    pub cursor: u64,
}

impl From<CoreSyncReport> for SyncReport {
    fn from(report: CoreSyncReport) -> SyncReport {
        SyncReport {
            pushed: report.pushed,
            acknowledged: report.acknowledged,
            rejected: report.rejected,
            pulled: report.pulled,
            skipped: report.skipped,
            cursor: report.cursor,
        }
    }
}

impl From<CoreSyncStatus> for SyncStatus {
    fn from(status: CoreSyncStatus) -> SyncStatus {
        let (last_error_code, last_error_message) = match status.last_error {
            Some((code, message)) => (Some(code), Some(message)),
            None => (None, None),
        };
        SyncStatus {
            state: match status.state {
                CoreSyncState::Disabled => SyncState::Disabled,
                CoreSyncState::Connecting => SyncState::Connecting,
                CoreSyncState::Connected => SyncState::Connected,
                CoreSyncState::Offline => SyncState::Offline,
                CoreSyncState::Paused => SyncState::Paused,
            },
            pending: status.pending,
            cursor: status.cursor,
            last_error_code,
            last_error_message,
            last_rejections: status
                .last_rejections
                .into_iter()
                .map(SyncRejection::from)
                .collect(),
            skipped_changes: status
                .skipped_changes
                .into_iter()
                .map(SkippedChange::from)
                .collect(),
        }
    }
}

impl From<CoreSkippedChange> for SkippedChange {
    fn from(skipped: CoreSkippedChange) -> SkippedChange {
        SkippedChange {
            cursor: skipped.cursor,
            table: skipped.table,
            id: skipped.id,
            code: skipped.code,
            message: skipped.message,
        }
    }
}

impl From<CoreSyncRejection> for SyncRejection {
    fn from(rejection: CoreSyncRejection) -> SyncRejection {
        SyncRejection {
            seq: rejection.seq,
            table: rejection.table,
            id: rejection.id,
            code: rejection.code,
            message: rejection.message,
        }
    }
}

impl From<CoreAuthState> for AuthState {
    fn from(state: CoreAuthState) -> AuthState {
        let (user_id, claims_json) = match state.session {
            Some(session) => (
                Some(session.user_id),
                serde_json::Value::Object(session.claims).to_string(),
            ),
            None => (None, "{}".to_owned()),
        };
        AuthState {
            auth_mode: match state.auth_mode {
                CoreAuthMode::Anonymous => AuthMode::Anonymous,
                CoreAuthMode::LocalFirst => AuthMode::LocalFirst,
                CoreAuthMode::External => AuthMode::External,
            },
            user_id,
            claims_json,
            error: state.error.map(|e| e.as_str().to_owned()),
        }
    }
}

impl From<CoreRow> for Row {
    fn from(row: CoreRow) -> Row {
        Row {
            id: row.id(),
            created_by: row.created_by(),
            created_at: row.created_at(),
            updated_by: row.updated_by(),
            updated_at: row.updated_at(),
            values_json: row.values_json(),
        }
    }
}

/// The rows as the bindings hand them out.
pub(crate) fn rows(rows: Vec<CoreRow>) -> Vec<Row> {
    rows.into_iter().map(Row::from).collect()
}
