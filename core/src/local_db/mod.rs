//! The local database: one SQLite database per app namespace, rows as JSON, a
//! durable outbox, and the reset protocol shared by every `Db` of a namespace.
//! Apps reach it through [`crate::db::Db`]; this module's public items are the
//! query types ([`Query`], [`Filter`]), the row shape ([`Row`] and the system
//! column names), the outbox entry type, namespace naming, and
//! [`wipe_namespace`]. The store itself is internal.
//!
//! # Layout
//!
//! ```text
//! <data_dir>/<encoded app id>/local.sqlite3   (+ -wal, -shm while open)
//! ```
//!
//! The app id is percent-encoded ([`encode_app_id`]): every byte outside
//! `a-z 0-9 - _` becomes `%XX`, so no app id can climb out of `data_dir` and
//! two app ids never share a directory, even on a case-insensitive file system;
//! very long encodings are shortened with a SHA-256 of the app id. Directories
//! the store creates get mode `0700`, the database file (and so `-wal` and
//! `-shm`) mode `0600`, whatever the umask.
//! The database runs in WAL mode with `synchronous=NORMAL` and a busy timeout,
//! so several connections (threads, `Db`s, processes) can write at once without
//! losing anything.
//!
//! Each app table `T` is the SQLite table `t_T (id, data, created_by, created_at,
//! updated_by, updated_at)`: `data` is the JSON object of the user's columns, the
//! four system columns (`$createdBy`, `$createdAt`, `$updatedBy`, `$updatedAt`)
//! are real columns stamped by the store and never taken from the caller. Tables
//! are created on first write; a name differing only in letter case from an
//! existing table is refused ([`StorageError::TableNameClash`]), since SQLite
//! names are case-insensitive. Row keys are always in one order: sorted by
//! their bytes, whatever serde_json features the build has.
//!
//! # Outbox
//!
//! Every local insert, update and delete appends an [`OutboxEntry`] in the same
//! transaction as the change, so the outbox is exactly as durable as the data.
//!
//! The `lf_outbox` table holds records. Most hold one entry. A multi-row insert
//! writes one *batch record* per run of rows with the same creator and time: it
//! covers the consecutive sequence numbers `seq .. seq + n` and keeps the rows'
//! `[id, payload]` pairs in its `batch` column (an acknowledged or discarded entry
//! becomes `null`, so positions never shift) and the number still pending in
//! `pending`. Reading, acknowledging, counting and discarding work per entry, so
//! callers cannot tell a batch record from single ones.
//!
//! # Reset protocol
//!
//! Every process orders its work on a namespace with an advisory lock on the
//! namespace directory: operations hold it shared, opening a database and
//! wiping hold it exclusively. A wipe (a store's own, or [`wipe_namespace`])
//! therefore runs while no operation of any process is in progress; it bumps
//! the in-process generation of the namespace and unlinks the files. Every
//! store checks, under the shared lock and before touching SQLite, that the
//! generation is unchanged and that the database path still names the file it
//! has open (device and inode, on Unix). If not, the operation fails with
//! [`StorageError::Reset`], the store reopens a fresh database, and the next
//! operation works on it. So a writer never runs into a half-deleted database
//! (no `corrupt`, I/O or `busy` errors from a wipe). A store that learns of a
//! reset in the background (while refreshing a subscription) still reports
//! `Reset` once, on its next operation.

mod discard;
mod files;
mod hub;
mod names;
mod outbox;
mod query;
mod remote;
mod rows;
mod schema;
mod store;
#[cfg(test)]
mod tests;
mod tx;

use std::path::Path;
use std::time::Duration;

use serde_json::{Map, Value};

use crate::error::{Code, ErrorCode, ErrorDetails, Quoted};

pub(crate) use discard::ActorSnapshot;
pub use files::{
    create_namespace_dir, namespace_exists, prepare_database_file, wipe_namespace, WipeOutcome,
};
pub(crate) use hub::ChangeSink;
pub use names::{
    check_entry, encode_app_id, is_valid_name, namespace_dir, new_row_id, table_name_key,
    MAX_NAMESPACE_DIR_LEN,
};
pub use outbox::{OutboxEntry, OutboxOp};
pub use query::{Comparison, Condition, Filter, OrderBy, Query};
pub use remote::META_CLIENT_ID;
pub(crate) use rows::{apply_patch, build_insert_row};
pub(crate) use store::{LocalStore, StoreLocation};

/// A row: `id`, the user's columns and the four system columns.
pub type Row = Map<String, Value>;

/// File name of the database inside the namespace directory.
pub const DB_FILE_NAME: &str = "local.sqlite3";

/// System column: user id of the row's creator.
pub const CREATED_BY: &str = "$createdBy";
/// System column: creation time (Unix seconds).
pub const CREATED_AT: &str = "$createdAt";
/// System column: user id of the last writer.
pub const UPDATED_BY: &str = "$updatedBy";
/// System column: time of the last write (Unix seconds).
pub const UPDATED_AT: &str = "$updatedAt";

/// Longest table or column name accepted.
pub const MAX_NAME_LEN: usize = 64;
/// Longest row id accepted, in bytes.
pub const MAX_ID_LEN: usize = 256;
/// How long a writer waits for another connection's write lock.
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// What an [`StorageError::InvalidName`] names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum NameKind {
    /// A table name.
    Table,
    /// A column name.
    Column,
}

impl std::fmt::Display for NameKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            NameKind::Table => "table",
            NameKind::Column => "column",
        })
    }
}

/// Why a storage operation failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StorageError {
    /// A table or column name that is not `[A-Za-z_][A-Za-z0-9_]*` (≤ 64 bytes).
    #[error("invalid {kind} name {}: use letters, digits and '_', starting with a letter or '_', at most 64 bytes", Quoted(.name))]
    InvalidName {
        /// A table or a column.
        kind: NameKind,
        /// The name given.
        name: String,
    },
    /// A table whose name differs only in letter case from an existing table of
    /// the namespace (SQLite names are case-insensitive, so the two would share
    /// one table). Use the existing name.
    #[error("table {} would clash with the existing table {}: table names may not differ only in letter case", Quoted(.table), Quoted(.existing))]
    TableNameClash {
        /// The name given.
        table: String,
        /// The existing table's name.
        existing: String,
    },
    /// Row values that cannot be stored (not an object, reserved column, bad id).
    #[error("invalid row: {reason}")]
    InvalidRow {
        /// What is wrong.
        reason: String,
    },
    /// A filter that cannot be evaluated.
    #[error("invalid filter: {reason}")]
    InvalidFilter {
        /// What is wrong.
        reason: String,
    },
    /// No row with this id.
    #[error("no row {} in table {}", Quoted(.id), Quoted(.table))]
    NotFound {
        /// The table.
        table: String,
        /// The id.
        id: String,
    },
    /// A row with this id already exists.
    #[error("a row {} already exists in table {}", Quoted(.id), Quoted(.table))]
    AlreadyExists {
        /// The table.
        table: String,
        /// The id.
        id: String,
    },
    /// The namespace's database was deleted (by this or another `Db` or process);
    /// the operation did not run. A fresh database is open now: retry if it makes sense.
    #[error("the local storage of this namespace was reset; the operation was not applied")]
    Reset,
    /// The database stayed locked by another writer longer than the busy timeout.
    #[error("the database is busy: {reason}")]
    Busy {
        /// SQLite's message.
        reason: String,
    },
    /// The database file is damaged or not a database.
    #[error("the database is corrupt: {reason}")]
    Corrupt {
        /// SQLite's message.
        reason: String,
    },
    /// The database was written by a newer version of this library.
    #[error("the database has schema version {found}, newer than the supported {supported}")]
    UnsupportedSchema {
        /// Version found in the file.
        found: i64,
        /// Newest version this build understands.
        supported: i64,
    },
    /// Any other SQLite failure.
    #[error("sqlite error: {reason}")]
    Sqlite {
        /// SQLite's message.
        reason: String,
    },
    /// A file-system operation on the namespace failed.
    #[error("I/O error on {path}: {reason}")]
    Io {
        /// The path.
        path: String,
        /// The OS message.
        reason: String,
    },
    /// The store was closed (after a logout).
    #[error("the store is closed")]
    Closed,
    /// The system random number generator failed (a new row id).
    #[error("the system random number generator failed")]
    Rng,
}

impl ErrorCode for StorageError {
    fn code(&self) -> Code {
        match self {
            StorageError::InvalidName { .. } => Code::InvalidName,
            StorageError::TableNameClash { .. } => Code::TableNameClash,
            StorageError::InvalidRow { .. } => Code::InvalidRow,
            StorageError::InvalidFilter { .. } => Code::InvalidFilter,
            StorageError::NotFound { .. } => Code::NotFound,
            StorageError::AlreadyExists { .. } => Code::AlreadyExists,
            StorageError::Reset => Code::StorageReset,
            StorageError::Busy { .. } => Code::Busy,
            StorageError::Corrupt { .. } => Code::Corrupt,
            StorageError::UnsupportedSchema { .. } => Code::UnsupportedSchema,
            StorageError::Sqlite { .. } => Code::Sqlite,
            StorageError::Io { .. } => Code::LocalDbIo,
            StorageError::Closed => Code::LoggedOut,
            StorageError::Rng => Code::RngFailure,
        }
    }

    fn details(&self) -> Option<ErrorDetails> {
        match self {
            StorageError::NotFound { table, id } | StorageError::AlreadyExists { table, id } => {
                Some(ErrorDetails::row(table, id))
            }
            StorageError::TableNameClash { table, existing } => {
                Some(ErrorDetails::TableNameClash {
                    table: table.clone(),
                    existing: existing.clone(),
                })
            }
            _ => None,
        }
    }
}

impl From<rusqlite::Error> for StorageError {
    fn from(error: rusqlite::Error) -> StorageError {
        use rusqlite::ErrorCode as C;
        let reason = error.to_string();
        match error.sqlite_error_code() {
            Some(C::DatabaseBusy | C::DatabaseLocked) => StorageError::Busy { reason },
            Some(C::DatabaseCorrupt | C::NotADatabase) => StorageError::Corrupt { reason },
            _ => StorageError::Sqlite { reason },
        }
    }
}

pub(crate) fn io_error(path: &Path, error: &std::io::Error) -> StorageError {
    StorageError::Io {
        path: path.display().to_string(),
        reason: error.to_string(),
    }
}
