//! The local store: one SQLite database per app namespace, rows as JSON, a
//! durable outbox, and the reset protocol shared by every `Db` of a namespace.
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
//! very long encodings are shortened with a SHA-256 of the app id.
//! The database runs in WAL mode with `synchronous=NORMAL` and a busy timeout,
//! so several connections (threads, `Db`s, processes) can write at once without
//! losing anything.
//!
//! Each app table `T` is the SQLite table `t_T (id, data, created_by, created_at,
//! updated_by, updated_at)`: `data` is the JSON object of the user's columns, the
//! four system columns (`$createdBy`, `$createdAt`, `$updatedBy`, `$updatedAt`)
//! are real columns stamped by the store and never taken from the caller. Tables
//! are created on first write. [`LocalStore::create_index`] adds an expression
//! index on a JSON column so filters on it use the index.
//!
//! # Outbox
//!
//! Every local insert, update and delete appends an [`OutboxEntry`] in the same
//! transaction as the change, so the outbox is exactly as durable as the data.
//! Sync reads it in order ([`LocalStore::outbox_pending`]) and acknowledges what
//! the server accepted ([`LocalStore::outbox_ack`]).
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
//! [`LocalStore::delete_storage`] deletes the database files of the namespace.
//! It first takes SQLite's write lock on the live database (so no writer of any
//! process is mid-commit), then bumps the in-process generation of the namespace
//! and unlinks the files. Every other store of the namespace checks, at the start
//! of each write transaction (after taking the write lock) and before each read,
//! that the generation is unchanged and that the database path still names the
//! file it has open (device and inode, on Unix). If not, the operation fails with
//! [`StorageError::Reset`], the store reopens a fresh database, and the next
//! operation works on it. A store that learns of a reset in the background (while
//! refreshing a subscription) still reports `Reset` once, on its next operation.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, Weak};
use std::time::Duration;

use rusqlite::types::Value as SqlValue;
use rusqlite::{Connection, OpenFlags, OptionalExtension, TransactionBehavior};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::Digest as _;

use crate::error::{Code, ErrorCode};

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

const SCHEMA_VERSION: i64 = 3;

/// `lf_meta` key of the next outbox sequence number (schema 2). Sequence numbers are
/// assigned from this counter, read once and written once per write transaction, so
/// they are never reused even after acknowledged entries are deleted.
const NEXT_SEQ_KEY: &str = "outbox_next_seq";

/// The newest outbox position held by any record (0 when the outbox is empty).
/// Records never overlap, so the record with the highest `seq` holds it; a batch
/// record covers `seq .. seq + len(batch)`.
const LAST_OUTBOX_SEQ: &str =
    "SELECT COALESCE((SELECT seq + COALESCE(json_array_length(batch), 1) - 1
                    FROM lf_outbox ORDER BY seq DESC LIMIT 1), 0)";

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
    #[error("invalid {kind} name {name:?}: use letters, digits and '_', starting with a letter or '_', at most 64 bytes")]
    InvalidName {
        /// A table or a column.
        kind: NameKind,
        /// The name given.
        name: String,
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
    #[error("no row {id:?} in table {table:?}")]
    NotFound {
        /// The table.
        table: String,
        /// The id.
        id: String,
    },
    /// A row with this id already exists.
    #[error("a row {id:?} already exists in table {table:?}")]
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

fn io_error(path: &Path, error: &std::io::Error) -> StorageError {
    StorageError::Io {
        path: path.display().to_string(),
        reason: error.to_string(),
    }
}

// ---------------------------------------------------------------------------
// Names and namespaces

/// Longest namespace directory name [`encode_app_id`] produces, in bytes. Longer
/// encodings are shortened with a hash (file systems allow 255 bytes per name).
pub const MAX_NAMESPACE_DIR_LEN: usize = 200;

/// How much of a too-long encoding is kept, readable, before the hash.
const HASHED_PREFIX_LEN: usize = 120;

/// Encodes an app id into a directory name.
///
/// Bytes outside `a-z 0-9 - _` (upper-case letters included) become `%XX` with
/// upper-case hex digits, so the name is injective even on case-insensitive
/// file systems (`MyApp` → `%4Dy%41pp`, `myapp` → `myapp`), ASCII only (no
/// Unicode normalisation can merge two names), and never `.`, `..` or a path.
/// An encoding longer than [`MAX_NAMESPACE_DIR_LEN`] is cut to a readable
/// prefix followed by `~` and the SHA-256 of the exact app id in lower-case
/// hex; `~` never occurs in an unshortened name, so the two forms cannot clash.
pub fn encode_app_id(app_id: &str) -> String {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = String::with_capacity(app_id.len());
    for byte in app_id.bytes() {
        if byte.is_ascii_lowercase() || byte.is_ascii_digit() || byte == b'-' || byte == b'_' {
            out.push(char::from(byte));
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(byte >> 4)]));
            out.push(char::from(HEX[usize::from(byte & 0x0f)]));
        }
    }
    if out.len() <= MAX_NAMESPACE_DIR_LEN {
        return out;
    }
    // Cut before an escape rather than through it (escapes are 3 bytes).
    let mut cut = HASHED_PREFIX_LEN;
    if let Some(pos) = out[cut - 2..cut].find('%') {
        cut = cut - 2 + pos;
    }
    out.truncate(cut);
    out.push('~');
    for byte in sha2::Sha256::digest(app_id.as_bytes()) {
        out.push(char::from(HEX[usize::from(byte >> 4)].to_ascii_lowercase()));
        out.push(char::from(
            HEX[usize::from(byte & 0x0f)].to_ascii_lowercase(),
        ));
    }
    out
}

/// The directory of `app_id`'s namespace under `data_dir`.
pub fn namespace_dir(data_dir: &Path, app_id: &str) -> PathBuf {
    data_dir.join(encode_app_id(app_id))
}

/// Whether `name` is a valid table or column name.
pub fn is_valid_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    match bytes.next() {
        Some(first) if first.is_ascii_alphabetic() || first == b'_' => {}
        _ => return false,
    }
    name.len() <= MAX_NAME_LEN && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

fn check_table(table: &str) -> Result<(), StorageError> {
    if is_valid_name(table) {
        Ok(())
    } else {
        Err(StorageError::InvalidName {
            kind: NameKind::Table,
            name: table.to_owned(),
        })
    }
}

fn check_column(column: &str) -> Result<(), StorageError> {
    if is_valid_name(column) && column != "id" {
        Ok(())
    } else {
        Err(StorageError::InvalidName {
            kind: NameKind::Column,
            name: column.to_owned(),
        })
    }
}

fn check_id(id: &str) -> Result<(), StorageError> {
    if id.is_empty() || id.len() > MAX_ID_LEN || id.chars().any(char::is_control) {
        return Err(StorageError::InvalidRow {
            reason: format!("a row id must be 1 to {MAX_ID_LEN} bytes without control characters"),
        });
    }
    Ok(())
}

fn sql_table(table: &str) -> String {
    format!("\"t_{table}\"")
}

/// The SQL expression reading `column` (already validated).
fn column_expr(column: &str) -> String {
    match column {
        "id" => "id".to_owned(),
        CREATED_BY => "created_by".to_owned(),
        CREATED_AT => "created_at".to_owned(),
        UPDATED_BY => "updated_by".to_owned(),
        UPDATED_AT => "updated_at".to_owned(),
        other => format!("json_extract(data, '$.{other}')"),
    }
}

fn filter_column(column: &str) -> Result<String, StorageError> {
    match column {
        "id" | CREATED_BY | CREATED_AT | UPDATED_BY | UPDATED_AT => Ok(column_expr(column)),
        other => {
            check_column(other)?;
            Ok(column_expr(other))
        }
    }
}

/// A fresh random row id (UUIDv4, lowercase hyphenated).
pub fn new_row_id() -> Result<String, StorageError> {
    let mut bytes = [0u8; 16];
    getrandom::getrandom(&mut bytes).map_err(|_| StorageError::Rng)?;
    Ok(uuid::Builder::from_random_bytes(bytes)
        .into_uuid()
        .hyphenated()
        .to_string())
}

// ---------------------------------------------------------------------------
// Rows

/// Validates user-supplied columns: an object whose keys are valid column names
/// (`id` handled by the caller; `$` system columns refused).
fn check_user_columns(values: &Row) -> Result<(), StorageError> {
    for key in values.keys() {
        if key.starts_with('$') {
            return Err(StorageError::InvalidRow {
                reason: format!("column {key:?} is a system column and cannot be written"),
            });
        }
        if key != "id" {
            check_column(key)?;
        }
    }
    Ok(())
}

/// Builds the row an insert would store: validates `values`, takes `id` from it
/// (or generates one) and stamps the system columns with `actor` and `now`.
pub fn build_insert_row(values: Row, actor: &str, now: u64) -> Result<Row, StorageError> {
    check_user_columns(&values)?;
    // The caller's map becomes the row: no copy of the user's columns.
    let mut row = values;
    // A given string id stays where it is when moving it to the end would not change
    // the key order (a sorted map, or `id` already last); otherwise it is moved, as
    // a remove and re-insert always did.
    let moves =
        map_keeps_insertion_order() && row.keys().next_back().map(String::as_str) != Some("id");
    match row.get("id") {
        Some(Value::String(id)) if !moves => check_id(id)?,
        Some(Value::String(_)) => {
            if let Some(Value::String(id)) = row.remove("id") {
                check_id(&id)?;
                row.insert("id".into(), Value::String(id));
            }
        }
        Some(Value::Null) | None => {
            row.remove("id");
            row.insert("id".into(), Value::String(new_row_id()?));
        }
        Some(_) => {
            return Err(StorageError::InvalidRow {
                reason: "id must be a string".into(),
            })
        }
    }
    stamp(&mut row, CREATED_BY, CREATED_AT, actor, now);
    stamp(&mut row, UPDATED_BY, UPDATED_AT, actor, now);
    Ok(row)
}

/// Whether [`Row`] keeps keys in insertion order (serde_json's `preserve_order`
/// feature, which any crate of the build may turn on) rather than sorted.
fn map_keeps_insertion_order() -> bool {
    static KEEPS: OnceLock<bool> = OnceLock::new();
    *KEEPS.get_or_init(|| {
        let mut probe = Row::new();
        probe.insert("b".into(), Value::Null);
        probe.insert("a".into(), Value::Null);
        probe.keys().next().map(String::as_str) == Some("b")
    })
}

fn stamp(row: &mut Row, by: &str, at: &str, actor: &str, now: u64) {
    row.insert(by.into(), Value::String(actor.to_owned()));
    row.insert(at.into(), Value::from(now));
}

/// Applies a patch to `old`: each patch key replaces the column (JSON `null`
/// stores null); `$updatedBy`/`$updatedAt` are re-stamped. `id` may not change.
pub fn apply_patch(old: &Row, patch: &Row, actor: &str, now: u64) -> Result<Row, StorageError> {
    check_user_columns(patch)?;
    if let Some(id) = patch.get("id") {
        if Some(id) != old.get("id") {
            return Err(StorageError::InvalidRow {
                reason: "the id of a row cannot change".into(),
            });
        }
    }
    let mut row = old.clone();
    for (key, value) in patch {
        if key != "id" {
            row.insert(key.clone(), value.clone());
        }
    }
    stamp(&mut row, UPDATED_BY, UPDATED_AT, actor, now);
    Ok(row)
}

fn is_system_column(key: &str) -> bool {
    matches!(
        key,
        "id" | CREATED_BY | CREATED_AT | UPDATED_BY | UPDATED_AT
    )
}

/// Serialises the user columns of a row (everything but `id` and the system
/// columns) without copying them.
struct UserColumns<'a>(&'a Row);

impl Serialize for UserColumns<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap as _;
        let mut map = serializer.serialize_map(None)?;
        for (key, value) in self.0.iter().filter(|(k, _)| !is_system_column(k)) {
            map.serialize_entry(key, value)?;
        }
        map.end()
    }
}

fn row_id(row: &Row) -> Result<&str, StorageError> {
    row.get("id")
        .and_then(Value::as_str)
        .ok_or_else(|| StorageError::InvalidRow {
            reason: "the row has no string id".into(),
        })
}

fn stamp_value<'a>(row: &'a Row, key: &str) -> Result<&'a Value, StorageError> {
    row.get(key).ok_or_else(|| StorageError::InvalidRow {
        reason: format!("the row has no {key}"),
    })
}

fn to_json_text(value: &impl Serialize) -> Result<String, StorageError> {
    serde_json::to_string(value).map_err(|e| StorageError::InvalidRow {
        reason: e.to_string(),
    })
}

fn read_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Row> {
    let id: String = r.get(0)?;
    let data: String = r.get(1)?;
    let created_by: String = r.get(2)?;
    let created_at: i64 = r.get(3)?;
    let updated_by: String = r.get(4)?;
    let updated_at: i64 = r.get(5)?;
    let columns: Map<String, Value> = serde_json::from_str(&data).map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(1, rusqlite::types::Type::Text, Box::new(e))
    })?;
    let mut row = Map::with_capacity(columns.len() + 5);
    row.insert("id".into(), Value::String(id));
    row.extend(columns);
    row.insert(CREATED_BY.into(), Value::String(created_by));
    row.insert(CREATED_AT.into(), Value::from(created_at));
    row.insert(UPDATED_BY.into(), Value::String(updated_by));
    row.insert(UPDATED_AT.into(), Value::from(updated_at));
    Ok(row)
}

const ROW_COLUMNS: &str = "id, data, created_by, created_at, updated_by, updated_at";

// ---------------------------------------------------------------------------
// Filters and queries

/// A comparison of one column against values.
#[derive(Debug, Clone, PartialEq)]
pub enum Comparison {
    /// Equal (`null` matches a missing or null column).
    Eq(Value),
    /// Equal to one of the values.
    In(Vec<Value>),
    /// Less than.
    Lt(Value),
    /// Less than or equal.
    Lte(Value),
    /// Greater than.
    Gt(Value),
    /// Greater than or equal.
    Gte(Value),
}

/// One condition of a [`Filter`].
#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    /// A user column, `id`, or a system column (`$createdBy`, ...).
    pub column: String,
    /// The comparison.
    pub comparison: Comparison,
}

/// A conjunction of column conditions.
///
/// JSON form (used by the CLI and bindings): an object mapping a column to a
/// value (equality) or to an object of operators, all of which must hold:
///
/// ```json
/// {"owner": "u1", "score": {"gte": 3, "lt": 10}, "tag": {"in": ["a", "b"]}, "$createdBy": "u1"}
/// ```
///
/// Values are scalars (string, number, boolean, null). Comparisons follow
/// SQLite's typing: a string never equals a number; booleans compare as 0/1.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Filter {
    /// All of these must hold.
    pub conditions: Vec<Condition>,
}

impl Filter {
    /// A filter matching every row.
    pub fn all() -> Filter {
        Filter::default()
    }

    fn with(mut self, column: &str, comparison: Comparison) -> Filter {
        self.conditions.push(Condition {
            column: column.to_owned(),
            comparison,
        });
        self
    }

    /// Adds `column == value`.
    pub fn eq(self, column: &str, value: impl Into<Value>) -> Filter {
        self.with(column, Comparison::Eq(value.into()))
    }

    /// Adds `column IN values`.
    pub fn is_in(self, column: &str, values: Vec<Value>) -> Filter {
        self.with(column, Comparison::In(values))
    }

    /// Adds `column < value`.
    pub fn lt(self, column: &str, value: impl Into<Value>) -> Filter {
        self.with(column, Comparison::Lt(value.into()))
    }

    /// Adds `column <= value`.
    pub fn lte(self, column: &str, value: impl Into<Value>) -> Filter {
        self.with(column, Comparison::Lte(value.into()))
    }

    /// Adds `column > value`.
    pub fn gt(self, column: &str, value: impl Into<Value>) -> Filter {
        self.with(column, Comparison::Gt(value.into()))
    }

    /// Adds `column >= value`.
    pub fn gte(self, column: &str, value: impl Into<Value>) -> Filter {
        self.with(column, Comparison::Gte(value.into()))
    }

    /// Parses the JSON form (see the type's documentation).
    pub fn from_json(value: &Value) -> Result<Filter, StorageError> {
        let bad = |reason: String| StorageError::InvalidFilter { reason };
        let object = match value {
            Value::Null => return Ok(Filter::all()),
            Value::Object(object) => object,
            _ => return Err(bad("a filter must be a JSON object".into())),
        };
        let mut filter = Filter::all();
        for (column, spec) in object {
            filter_column(column)?;
            match spec {
                Value::Object(ops) => {
                    if ops.is_empty() {
                        return Err(bad(format!("no operator given for {column:?}")));
                    }
                    for (op, operand) in ops {
                        let comparison = match op.as_str() {
                            "eq" => Comparison::Eq(operand.clone()),
                            "in" => match operand {
                                Value::Array(items) => Comparison::In(items.clone()),
                                _ => return Err(bad(format!("\"in\" on {column:?} needs an array"))),
                            },
                            "lt" => Comparison::Lt(operand.clone()),
                            "lte" => Comparison::Lte(operand.clone()),
                            "gt" => Comparison::Gt(operand.clone()),
                            "gte" => Comparison::Gte(operand.clone()),
                            other => {
                                return Err(bad(format!(
                                    "unknown operator {other:?} on {column:?} (use eq, in, lt, lte, gt, gte)"
                                )))
                            }
                        };
                        filter = filter.with(column, comparison);
                    }
                }
                scalar => filter = filter.with(column, Comparison::Eq(scalar.clone())),
            }
        }
        filter.validate()?;
        Ok(filter)
    }

    /// The JSON form of this filter.
    pub fn to_json(&self) -> Value {
        let mut object = Map::new();
        for condition in &self.conditions {
            let (op, operand) = match &condition.comparison {
                Comparison::Eq(v) => ("eq", v.clone()),
                Comparison::In(vs) => ("in", Value::Array(vs.clone())),
                Comparison::Lt(v) => ("lt", v.clone()),
                Comparison::Lte(v) => ("lte", v.clone()),
                Comparison::Gt(v) => ("gt", v.clone()),
                Comparison::Gte(v) => ("gte", v.clone()),
            };
            let entry = object
                .entry(condition.column.clone())
                .or_insert_with(|| Value::Object(Map::new()));
            if let Value::Object(ops) = entry {
                ops.insert(op.to_owned(), operand);
            }
        }
        Value::Object(object)
    }

    /// Checks names and value types without touching a database.
    pub fn validate(&self) -> Result<(), StorageError> {
        for condition in &self.conditions {
            filter_column(&condition.column)?;
            let column = &condition.column;
            match &condition.comparison {
                Comparison::Eq(v) => scalar(v, column, true)?,
                Comparison::In(vs) => {
                    for v in vs {
                        scalar(v, column, true)?;
                    }
                }
                Comparison::Lt(v) | Comparison::Lte(v) | Comparison::Gt(v) | Comparison::Gte(v) => {
                    scalar(v, column, false)?
                }
            }
        }
        Ok(())
    }

    /// Appends ` AND ...` SQL for this filter to `sql`, pushing bound values.
    fn write_sql(&self, sql: &mut String, params: &mut Vec<SqlValue>) -> Result<(), StorageError> {
        for condition in &self.conditions {
            let expr = filter_column(&condition.column)?;
            let column = &condition.column;
            match &condition.comparison {
                Comparison::Eq(Value::Null) => {
                    sql.push_str(&format!(" AND {expr} IS NULL"));
                }
                Comparison::Eq(v) => {
                    params.push(sql_value(v, column, true)?);
                    sql.push_str(&format!(" AND {expr} = ?{}", params.len()));
                }
                Comparison::In(values) => {
                    let mut slots = Vec::new();
                    let mut with_null = false;
                    for v in values {
                        if v.is_null() {
                            with_null = true;
                            continue;
                        }
                        params.push(sql_value(v, column, true)?);
                        slots.push(format!("?{}", params.len()));
                    }
                    let list = format!("{expr} IN ({})", slots.join(", "));
                    match (slots.is_empty(), with_null) {
                        (true, false) => sql.push_str(" AND 0"),
                        (true, true) => sql.push_str(&format!(" AND {expr} IS NULL")),
                        (false, false) => sql.push_str(&format!(" AND {list}")),
                        (false, true) => sql.push_str(&format!(" AND ({list} OR {expr} IS NULL)")),
                    }
                }
                Comparison::Lt(v) | Comparison::Lte(v) | Comparison::Gt(v) | Comparison::Gte(v) => {
                    let op = match &condition.comparison {
                        Comparison::Lt(_) => "<",
                        Comparison::Lte(_) => "<=",
                        Comparison::Gt(_) => ">",
                        _ => ">=",
                    };
                    params.push(sql_value(v, column, false)?);
                    sql.push_str(&format!(" AND {expr} {op} ?{}", params.len()));
                }
            }
        }
        Ok(())
    }
}

fn scalar(value: &Value, column: &str, null_ok: bool) -> Result<(), StorageError> {
    sql_value(value, column, null_ok).map(|_| ())
}

fn sql_value(value: &Value, column: &str, null_ok: bool) -> Result<SqlValue, StorageError> {
    let bad = |what: &str| StorageError::InvalidFilter {
        reason: format!("{what} cannot be compared (column {column:?})"),
    };
    Ok(match value {
        Value::Null if null_ok => SqlValue::Null,
        Value::Null => return Err(bad("null")),
        Value::Bool(b) => SqlValue::Integer(i64::from(*b)),
        Value::Number(n) => match (n.as_i64(), n.as_f64()) {
            (Some(i), _) => SqlValue::Integer(i),
            (None, Some(f)) => SqlValue::Real(f),
            _ => return Err(bad("a number this large")),
        },
        Value::String(s) => SqlValue::Text(s.clone()),
        Value::Array(_) => return Err(bad("an array")),
        Value::Object(_) => return Err(bad("an object")),
    })
}

/// Sort order of a query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderBy {
    /// A user column, `id` or a system column.
    pub column: String,
    /// Largest first.
    pub descending: bool,
}

/// Which rows of which table.
#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    /// The table.
    pub table: String,
    /// The conditions (all must hold).
    pub filter: Filter,
    /// Sort order; insertion order when `None`.
    pub order_by: Option<OrderBy>,
    /// At most this many rows.
    pub limit: Option<usize>,
}

impl Query {
    /// Every row of `table`, in insertion order.
    pub fn table(table: &str) -> Query {
        Query {
            table: table.to_owned(),
            filter: Filter::all(),
            order_by: None,
            limit: None,
        }
    }

    /// Replaces the filter.
    pub fn filter(mut self, filter: Filter) -> Query {
        self.filter = filter;
        self
    }

    /// Sorts by `column`.
    pub fn order_by(mut self, column: &str, descending: bool) -> Query {
        self.order_by = Some(OrderBy {
            column: column.to_owned(),
            descending,
        });
        self
    }

    /// Keeps at most `limit` rows.
    pub fn limit(mut self, limit: usize) -> Query {
        self.limit = Some(limit);
        self
    }

    /// Checks names and values without touching a database.
    pub fn validate(&self) -> Result<(), StorageError> {
        check_table(&self.table)?;
        self.filter.validate()?;
        if let Some(order) = &self.order_by {
            filter_column(&order.column)?;
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------
// Outbox

/// What a local mutation did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OutboxOp {
    /// A row was created; the payload holds its user columns.
    Insert,
    /// A row was patched; the payload holds the patch.
    Update,
    /// A row was deleted; no payload.
    Delete,
}

impl OutboxOp {
    fn as_str(self) -> &'static str {
        match self {
            OutboxOp::Insert => "insert",
            OutboxOp::Update => "update",
            OutboxOp::Delete => "delete",
        }
    }

    fn from_str(text: &str) -> Option<OutboxOp> {
        match text {
            "insert" => Some(OutboxOp::Insert),
            "update" => Some(OutboxOp::Update),
            "delete" => Some(OutboxOp::Delete),
            _ => None,
        }
    }
}

/// One recorded local mutation, waiting to be synced.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OutboxEntry {
    /// Position in the outbox (strictly increasing, never reused).
    pub seq: i64,
    /// The table.
    pub table: String,
    /// The row id.
    pub row_id: String,
    /// What happened.
    pub op: OutboxOp,
    /// Insert: the user columns; update: the patch; delete: `None`.
    pub payload: Option<Value>,
    /// The user id that made the change.
    pub actor: String,
    /// When (Unix seconds, from the injected clock).
    pub at: u64,
}

// ---------------------------------------------------------------------------
// Snapshots of one actor's rows (for discarding a replaced identity)

/// One row of an [`ActorSnapshot`], with the stored text it was read from.
#[derive(Debug, Clone)]
struct SnapshotRow {
    table: String,
    row: Row,
    data: String,
    updated_by: String,
    updated_at: i64,
}

/// The rows one actor created, read in a single transaction, and the newest
/// outbox position at that moment.
///
/// [`WriteTx::discard_snapshot`] removes exactly these rows, and only where they
/// are still unchanged, so rows the actor wrote (or changed) after the snapshot
/// are never discarded unseen.
#[derive(Debug, Clone)]
pub struct ActorSnapshot {
    actor: String,
    tables: Vec<String>,
    rows: Vec<SnapshotRow>,
    last_seq: i64,
}

impl ActorSnapshot {
    /// The actor whose rows these are.
    pub fn actor(&self) -> &str {
        &self.actor
    }

    /// Every table of the namespace at snapshot time, in name order.
    pub fn tables(&self) -> &[String] {
        &self.tables
    }

    /// The actor's rows of `table`, in insertion order.
    pub fn rows(&self, table: &str) -> Result<Vec<Row>, StorageError> {
        check_table(table)?;
        Ok(self
            .rows
            .iter()
            .filter(|r| r.table == table)
            .map(|r| r.row.clone())
            .collect())
    }

    /// Number of rows in the snapshot (all tables).
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Whether the actor had no rows.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }
}

/// What [`WriteTx::discard_snapshot`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DiscardOutcome {
    /// Snapshot rows removed.
    pub removed: usize,
    /// Rows of the actor still present afterwards: written or changed after the
    /// snapshot, so kept.
    pub remaining: usize,
}

// ---------------------------------------------------------------------------
// Namespace hub (in-process coordination)

/// Receives change notifications for a namespace (implemented by the client).
pub trait ChangeSink: Send + Sync {
    /// Rows of these tables were committed (by any store of the namespace in this process).
    fn tables_changed(&self, tables: &BTreeSet<String>);
    /// The namespace's storage was deleted.
    fn storage_reset(&self);
}

/// Shared state of every store of one namespace in this process.
struct Hub {
    generation: AtomicU64,
    sinks: Mutex<Vec<(u64, Weak<dyn ChangeSink>)>>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // A poisoned lock means a thread panicked while holding it; the data it
    // guards (plain bookkeeping) is still consistent, so carry on.
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}

impl Hub {
    fn live_sinks(&self) -> Vec<Arc<dyn ChangeSink>> {
        let mut sinks = lock(&self.sinks);
        sinks.retain(|(_, s)| s.strong_count() > 0);
        sinks.iter().filter_map(|(_, s)| s.upgrade()).collect()
    }

    fn notify_changed(&self, tables: &BTreeSet<String>) {
        for sink in self.live_sinks() {
            sink.tables_changed(tables);
        }
    }

    fn notify_reset(&self) {
        for sink in self.live_sinks() {
            sink.storage_reset();
        }
    }
}

fn registry() -> &'static Mutex<HashMap<String, Weak<Hub>>> {
    static REGISTRY: OnceLock<Mutex<HashMap<String, Weak<Hub>>>> = OnceLock::new();
    REGISTRY.get_or_init(|| Mutex::new(HashMap::new()))
}

fn hub_for(key: &str) -> Arc<Hub> {
    let mut map = lock(registry());
    map.retain(|_, hub| hub.strong_count() > 0);
    if let Some(hub) = map.get(key).and_then(Weak::upgrade) {
        return hub;
    }
    let hub = Arc::new(Hub {
        generation: AtomicU64::new(0),
        sinks: Mutex::new(Vec::new()),
    });
    map.insert(key.to_owned(), Arc::downgrade(&hub));
    hub
}

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

// ---------------------------------------------------------------------------
// The store

/// Where a store keeps its database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreLocation {
    /// `<namespace dir>/local.sqlite3` on disk.
    Directory(PathBuf),
    /// A private in-memory database (lost when the store closes).
    Memory,
}

/// Identity of an open file: (device, inode) on Unix.
type FileId = (u64, u64);

#[cfg(unix)]
fn file_id(path: &Path) -> Result<Option<FileId>, StorageError> {
    use std::os::unix::fs::MetadataExt as _;
    match std::fs::metadata(path) {
        Ok(meta) => Ok(Some((meta.dev(), meta.ino()))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io_error(path, &e)),
    }
}

#[cfg(not(unix))]
fn file_id(path: &Path) -> Result<Option<FileId>, StorageError> {
    // Without inode numbers only existence can be checked; resets by other
    // processes are detected when the file is missing.
    match std::fs::metadata(path) {
        Ok(_) => Ok(Some((0, 0))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io_error(path, &e)),
    }
}

struct Open {
    conn: Connection,
    /// The file the connection has open (None in memory).
    file: Option<FileId>,
    /// The hub generation the connection belongs to.
    generation: u64,
    /// Tables known to exist in this database.
    tables: HashSet<String>,
}

struct StoreState {
    open: Option<Open>,
    /// A reset was noticed in the background and not yet reported to a caller.
    reset_unreported: bool,
    closed: bool,
    data_version: Option<i64>,
}

/// The local database of one namespace, as seen by one `Db`.
pub struct LocalStore {
    location: StoreLocation,
    hub: Arc<Hub>,
    id: u64,
    state: Mutex<StoreState>,
}

impl std::fmt::Debug for LocalStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalStore")
            .field("location", &self.location)
            .finish()
    }
}

fn configure(conn: &Connection) -> Result<(), StorageError> {
    conn.busy_timeout(BUSY_TIMEOUT)?;
    let _mode: String = conn.query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    Ok(())
}

fn create_schema(conn: &Connection) -> Result<(), StorageError> {
    let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if version > SCHEMA_VERSION {
        return Err(StorageError::UnsupportedSchema {
            found: version,
            supported: SCHEMA_VERSION,
        });
    }
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS lf_meta (key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL);
         CREATE TABLE IF NOT EXISTS lf_tables (name TEXT PRIMARY KEY NOT NULL);
         CREATE TABLE IF NOT EXISTS lf_outbox (
             seq INTEGER PRIMARY KEY,
             table_name TEXT NOT NULL,
             row_id TEXT NOT NULL,
             op TEXT NOT NULL,
             payload TEXT,
             actor TEXT NOT NULL,
             at INTEGER NOT NULL,
             batch TEXT,
             pending INTEGER NOT NULL DEFAULT 1);",
    )?;
    // Schemas 1 and 2 had no batch records: add the two columns in place. Every
    // existing record is a single entry, which is what the defaults say.
    let has_batch: bool = conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM pragma_table_info('lf_outbox') WHERE name = 'batch')",
        [],
        |r| r.get(0),
    )?;
    if !has_batch {
        conn.execute_batch(
            "ALTER TABLE lf_outbox ADD COLUMN batch TEXT;
             ALTER TABLE lf_outbox ADD COLUMN pending INTEGER NOT NULL DEFAULT 1;",
        )?;
    }
    if version == 1 {
        // Schema 1 numbered the outbox with AUTOINCREMENT: continue after the highest
        // number it ever handed out (kept in sqlite_sequence even when acknowledged).
        conn.execute(
            "INSERT OR IGNORE INTO lf_meta (key, value)
             SELECT ?1, CAST(MAX(
                 COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'lf_outbox'), 0),
                 COALESCE((SELECT MAX(seq) FROM lf_outbox), 0)) + 1 AS TEXT)",
            [NEXT_SEQ_KEY],
        )?;
    }
    conn.pragma_update(None, "user_version", SCHEMA_VERSION)?;
    Ok(())
}

/// SQLite's counter of commits made by *other* connections.
fn data_version(conn: &Connection) -> Result<i64, StorageError> {
    Ok(conn.query_row("PRAGMA data_version", [], |r| r.get(0))?)
}

fn open_flags() -> OpenFlags {
    OpenFlags::SQLITE_OPEN_READ_WRITE
        | OpenFlags::SQLITE_OPEN_CREATE
        | OpenFlags::SQLITE_OPEN_NO_MUTEX
}

fn open_memory(generation: u64) -> Result<Open, StorageError> {
    let conn = Connection::open_in_memory()?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    create_schema(&conn)?;
    Ok(Open {
        conn,
        file: None,
        generation,
        tables: HashSet::new(),
    })
}

/// Opens the namespace database and records which file it is. The file id is
/// taken before opening and again while holding the write lock; only when both
/// agree is it certain that the connection has the file the path names.
fn open_file(dir: &Path, generation: u64) -> Result<Open, StorageError> {
    std::fs::create_dir_all(dir).map_err(|e| io_error(dir, &e))?;
    let path = dir.join(DB_FILE_NAME);
    for _ in 0..8 {
        let before = file_id(&path)?;
        let mut conn = Connection::open_with_flags(&path, open_flags())?;
        configure(&conn)?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        create_schema(&tx)?;
        let during = file_id(&path)?;
        tx.commit()?;
        if before.is_some() && before == during {
            return Ok(Open {
                conn,
                file: during,
                generation,
                tables: HashSet::new(),
            });
        }
        // The file was created just now or replaced meanwhile: open again so
        // that the before/during check can prove which file we hold.
    }
    Err(StorageError::Busy {
        reason: "the database file kept being replaced while opening".into(),
    })
}

impl LocalStore {
    /// Opens (creating if needed) the store at `location`.
    pub fn open(location: StoreLocation) -> Result<LocalStore, StorageError> {
        let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
        let key = match &location {
            StoreLocation::Directory(dir) => {
                std::fs::create_dir_all(dir).map_err(|e| io_error(dir, &e))?;
                let canonical = dir.canonicalize().map_err(|e| io_error(dir, &e))?;
                format!("dir:{}", canonical.display())
            }
            StoreLocation::Memory => format!("memory:{id}"),
        };
        let hub = hub_for(&key);
        let generation = hub.generation.load(Ordering::SeqCst);
        let open = match &location {
            StoreLocation::Directory(dir) => open_file(dir, generation)?,
            StoreLocation::Memory => open_memory(generation)?,
        };
        let data_version = Some(data_version(&open.conn)?);
        Ok(LocalStore {
            location,
            hub,
            id,
            state: Mutex::new(StoreState {
                open: Some(open),
                reset_unreported: false,
                closed: false,
                data_version,
            }),
        })
    }

    /// Where this store keeps its database.
    pub fn location(&self) -> &StoreLocation {
        &self.location
    }

    /// The database file, for on-disk stores.
    pub fn database_path(&self) -> Option<PathBuf> {
        match &self.location {
            StoreLocation::Directory(dir) => Some(dir.join(DB_FILE_NAME)),
            StoreLocation::Memory => None,
        }
    }

    /// Registers `sink` for change and reset notifications of this namespace.
    pub fn register_sink(&self, sink: Weak<dyn ChangeSink>) {
        lock(&self.hub.sinks).push((self.id, sink));
    }

    fn unregister_sink(&self) {
        lock(&self.hub.sinks).retain(|(id, _)| *id != self.id);
    }

    fn reopen(&self, state: &mut StoreState) -> Result<(), StorageError> {
        state.open = None;
        state.data_version = None;
        let generation = self.hub.generation.load(Ordering::SeqCst);
        let open = match &self.location {
            StoreLocation::Directory(dir) => open_file(dir, generation)?,
            StoreLocation::Memory => open_memory(generation)?,
        };
        state.data_version = Some(data_version(&open.conn)?);
        state.open = Some(open);
        Ok(())
    }

    /// Whether the open connection still belongs to the live database.
    fn is_current(&self, open: &Open) -> Result<bool, StorageError> {
        if open.generation != self.hub.generation.load(Ordering::SeqCst) {
            return Ok(false);
        }
        match (&self.location, open.file) {
            (StoreLocation::Directory(dir), Some(file)) => {
                Ok(file_id(&dir.join(DB_FILE_NAME))? == Some(file))
            }
            _ => Ok(true),
        }
    }

    /// Locks the state, reporting a pending or newly detected reset (after
    /// reopening a fresh database).
    fn checked(&self) -> Result<MutexGuard<'_, StoreState>, StorageError> {
        self.checked_with(true)
    }

    fn checked_with(&self, verify_file: bool) -> Result<MutexGuard<'_, StoreState>, StorageError> {
        let mut state = lock(&self.state);
        if state.closed {
            return Err(StorageError::Closed);
        }
        if state.reset_unreported {
            state.reset_unreported = false;
            return Err(StorageError::Reset);
        }
        let current = match &state.open {
            Some(open) if verify_file => self.is_current(open)?,
            Some(open) => open.generation == self.hub.generation.load(Ordering::SeqCst),
            None => false,
        };
        if !current {
            self.reopen(&mut state)?;
            return Err(StorageError::Reset);
        }
        Ok(state)
    }

    /// Runs `f` in one write transaction (taking the write lock first), commits,
    /// then notifies every store of the namespace in this process of the tables
    /// touched. If the namespace was reset, nothing runs and `Reset` is returned.
    pub fn write<T, E>(&self, f: impl FnOnce(&mut WriteTx<'_>) -> Result<T, E>) -> Result<T, E>
    where
        E: From<StorageError>,
    {
        let (value, touched) = {
            // The file check happens below, under the write lock.
            let mut state = self.checked_with(false)?;
            let generation = self.hub.generation.load(Ordering::SeqCst);
            let location = &self.location;
            let Some(open) = state.open.as_mut() else {
                return Err(StorageError::Closed.into());
            };
            let tx = open
                .conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(StorageError::from)?;
            // Holding the write lock: a reset cannot be in progress now, so this
            // check is decisive.
            let still_current = open.generation == generation
                && match (location, open.file) {
                    (StoreLocation::Directory(dir), Some(file)) => {
                        file_id(&dir.join(DB_FILE_NAME))? == Some(file)
                    }
                    _ => true,
                };
            if !still_current {
                drop(tx);
                self.reopen(&mut state)?;
                return Err(StorageError::Reset.into());
            }
            let mut write = WriteTx::new(tx, &mut open.tables);
            let value = f(&mut write)?;
            (value, write.commit()?)
        };
        if !touched.is_empty() {
            self.hub.notify_changed(&touched);
        }
        Ok(value)
    }

    /// Runs `f` against the live database for reading.
    pub fn read<T, E>(&self, f: impl FnOnce(&ReadTx<'_>) -> Result<T, E>) -> Result<T, E>
    where
        E: From<StorageError>,
    {
        let state = self.checked()?;
        let Some(open) = state.open.as_ref() else {
            return Err(StorageError::Closed.into());
        };
        f(&ReadTx { conn: &open.conn })
    }

    /// Rows of `query`.
    pub fn query(&self, query: &Query) -> Result<Vec<Row>, StorageError> {
        self.read(|r| r.query(query))
    }

    /// The row `id` of `table`.
    pub fn get(&self, table: &str, id: &str) -> Result<Option<Row>, StorageError> {
        self.read(|r| r.get(table, id))
    }

    /// Creates (if missing) an index on `column` of `table`, so equality and range
    /// filters on it are fast. System columns and `id` are indexed already.
    pub fn create_index(&self, table: &str, column: &str) -> Result<(), StorageError> {
        self.write(|w| {
            w.ensure_table(table)?;
            let expr = filter_column(column)?;
            let name = format!(
                "\"x{}_{}_{}\"",
                table.len(),
                table,
                column.trim_start_matches('$')
            );
            w.tx.execute_batch(&format!(
                "CREATE INDEX IF NOT EXISTS {name} ON {} ({expr})",
                sql_table(table)
            ))?;
            Ok(())
        })
    }

    /// Outbox entries in order, oldest first: all of them, or only `actor`'s.
    pub fn outbox_pending(
        &self,
        actor: Option<&str>,
        limit: usize,
    ) -> Result<Vec<OutboxEntry>, StorageError> {
        self.read(|r| r.outbox(actor, limit))
    }

    /// Removes acknowledged entries of `actor`; returns how many were removed.
    /// Sequence numbers of other actors' entries are ignored: one principal can
    /// never acknowledge (and so drop) another principal's pending writes.
    pub fn outbox_ack(&self, actor: &str, seqs: &[i64]) -> Result<usize, StorageError> {
        self.write(|w| w.ack_outbox(actor, seqs))
    }

    /// Reads every row `actor` created, in all tables, and the newest outbox
    /// sequence number, in one read transaction (a consistent view).
    pub fn snapshot_actor(&self, actor: &str) -> Result<ActorSnapshot, StorageError> {
        let state = self.checked()?;
        let Some(open) = state.open.as_ref() else {
            return Err(StorageError::Closed);
        };
        let tx = open.conn.unchecked_transaction()?;
        let tables = ReadTx { conn: &tx }.tables()?;
        let mut rows = Vec::new();
        for table in &tables {
            let sql = format!(
                "SELECT {ROW_COLUMNS} FROM {} WHERE created_by = ?1 ORDER BY rowid",
                sql_table(table)
            );
            let mut stmt = tx.prepare(&sql)?;
            let found = stmt
                .query_map([actor], |r| {
                    Ok(SnapshotRow {
                        table: table.clone(),
                        data: r.get(1)?,
                        updated_by: r.get(4)?,
                        updated_at: r.get(5)?,
                        row: read_row(r)?,
                    })
                })?
                .collect::<Result<Vec<_>, _>>()?;
            rows.extend(found);
        }
        let last_seq: i64 = tx.query_row(LAST_OUTBOX_SEQ, [], |r| r.get(0))?;
        tx.commit()?;
        Ok(ActorSnapshot {
            actor: actor.to_owned(),
            tables,
            rows,
            last_seq,
        })
    }

    /// Number of entries in the outbox (each row of a batch record counts).
    pub fn outbox_len(&self) -> Result<u64, StorageError> {
        self.read(|r| {
            let n: i64 = r.conn.query_row(
                "SELECT COALESCE(SUM(pending), 0) FROM lf_outbox",
                [],
                |row| row.get(0),
            )?;
            Ok(u64::try_from(n).unwrap_or(0))
        })
    }

    /// A value of the namespace's metadata.
    pub fn meta(&self, key: &str) -> Result<Option<String>, StorageError> {
        self.read(|r| {
            Ok(r.conn
                .query_row("SELECT value FROM lf_meta WHERE key = ?1", [key], |row| {
                    row.get(0)
                })
                .optional()?)
        })
    }

    /// Sets (or with `None` removes) a metadata value. Not a row mutation: no outbox entry.
    pub fn set_meta(&self, key: &str, value: Option<&str>) -> Result<(), StorageError> {
        self.write(|w| w.set_meta(key, value))
    }

    /// Whether another connection committed since the store opened or the last call (SQLite's
    /// `data_version`): how changes from other processes are noticed.
    pub fn poll_external_changes(&self) -> Result<bool, StorageError> {
        let mut state = self.checked()?;
        let Some(open) = state.open.as_ref() else {
            return Err(StorageError::Closed);
        };
        let version = data_version(&open.conn)?;
        let changed = state.data_version.is_some_and(|v| v != version);
        state.data_version = Some(version);
        Ok(changed)
    }

    /// Deletes the namespace's database files (incl. `-wal`/`-shm`). Waits for
    /// the write lock first so no writer is mid-commit, bumps the namespace
    /// generation so other stores notice, then reopens a fresh database (with
    /// `reopen`) or closes this store for good. Other stores are notified after.
    pub fn delete_storage(&self, reopen: bool) -> Result<(), StorageError> {
        {
            let mut state = lock(&self.state);
            if state.closed {
                return Err(StorageError::Closed);
            }
            // Make sure we lock the live file, not one deleted earlier.
            let current = match &state.open {
                Some(open) => self.is_current(open)?,
                None => false,
            };
            if !current {
                self.reopen(&mut state)?;
            }
            if let Some(open) = state.open.as_ref() {
                open.conn.execute_batch("BEGIN IMMEDIATE")?;
            }
            self.hub.generation.fetch_add(1, Ordering::SeqCst);
            let removal = self.remove_files();
            if let Some(open) = state.open.as_ref() {
                let _ = open.conn.execute_batch("ROLLBACK");
            }
            state.open = None;
            state.data_version = None;
            state.reset_unreported = false;
            removal?;
            if reopen {
                self.reopen(&mut state)?;
            } else {
                state.closed = true;
            }
        }
        if !reopen {
            self.unregister_sink();
        }
        self.hub.notify_reset();
        Ok(())
    }

    fn remove_files(&self) -> Result<(), StorageError> {
        let StoreLocation::Directory(dir) = &self.location else {
            return Ok(());
        };
        for suffix in ["", "-wal", "-shm", "-journal"] {
            let path = dir.join(format!("{DB_FILE_NAME}{suffix}"));
            match std::fs::remove_file(&path) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(io_error(&path, &e)),
            }
        }
        Ok(())
    }

    /// Closes the connection; every later call returns [`StorageError::Closed`].
    pub fn close(&self) {
        {
            let mut state = lock(&self.state);
            state.open = None;
            state.closed = true;
        }
        self.unregister_sink();
    }

    /// Notes a reset that was detected outside a caller's operation, so the next
    /// operation reports it. Used by the client when a background refresh hit
    /// [`StorageError::Reset`].
    pub fn mark_reset_unreported(&self) {
        lock(&self.state).reset_unreported = true;
    }
}

impl Drop for LocalStore {
    fn drop(&mut self) {
        self.unregister_sink();
    }
}

// ---------------------------------------------------------------------------
// Transactions

/// Read access to the live database.
pub struct ReadTx<'a> {
    conn: &'a Connection,
}

fn table_exists(conn: &Connection, table: &str) -> Result<bool, StorageError> {
    Ok(conn
        .prepare_cached("SELECT 1 FROM lf_tables WHERE name = ?1")?
        .exists([table])?)
}

fn get_row(conn: &Connection, table: &str, id: &str) -> Result<Option<Row>, StorageError> {
    check_table(table)?;
    if !table_exists(conn, table)? {
        return Ok(None);
    }
    let sql = format!(
        "SELECT {ROW_COLUMNS} FROM {} WHERE id = ?1",
        sql_table(table)
    );
    Ok(conn
        .prepare_cached(&sql)?
        .query_row([id], read_row)
        .optional()?)
}

fn run_query(conn: &Connection, query: &Query) -> Result<Vec<Row>, StorageError> {
    query.validate()?;
    if !table_exists(conn, &query.table)? {
        return Ok(Vec::new());
    }
    let mut sql = format!(
        "SELECT {ROW_COLUMNS} FROM {} WHERE 1",
        sql_table(&query.table)
    );
    let mut params = Vec::new();
    query.filter.write_sql(&mut sql, &mut params)?;
    match &query.order_by {
        Some(order) => {
            let expr = filter_column(&order.column)?;
            let dir = if order.descending { "DESC" } else { "ASC" };
            sql.push_str(&format!(" ORDER BY {expr} {dir}, rowid {dir}"));
        }
        None => sql.push_str(" ORDER BY rowid"),
    }
    if let Some(limit) = query.limit {
        sql.push_str(&format!(
            " LIMIT {}",
            i64::try_from(limit).unwrap_or(i64::MAX)
        ));
    }
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt
        .query_map(rusqlite::params_from_iter(params), read_row)?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

/// The entries of a batch record, one per sequence number from the record's
/// `seq` on: `[row id, payload]`, or `null` once acknowledged or discarded.
type BatchEntries = Vec<Option<(String, Value)>>;

fn parse_batch(text: &str) -> Result<BatchEntries, StorageError> {
    serde_json::from_str(text).map_err(|e| StorageError::Corrupt {
        reason: format!("outbox batch is not valid: {e}"),
    })
}

fn parse_op(op: &str) -> Result<OutboxOp, StorageError> {
    OutboxOp::from_str(op).ok_or_else(|| StorageError::Corrupt {
        reason: format!("unknown outbox operation {op:?}"),
    })
}

/// Offset of entry `index` of a batch record from the record's `seq`.
fn batch_offset(index: usize) -> i64 {
    i64::try_from(index).unwrap_or(i64::MAX)
}

/// Outbox entries in order, oldest first, at most `limit`: every record
/// expanded, a batch record into one entry per pending row.
fn read_outbox(
    conn: &Connection,
    actor: Option<&str>,
    limit: usize,
) -> Result<Vec<OutboxEntry>, StorageError> {
    let mut entries = Vec::new();
    if limit == 0 {
        return Ok(entries);
    }
    const COLUMNS: &str =
        "SELECT seq, table_name, row_id, op, payload, actor, at, batch FROM lf_outbox";
    let mut stmt = match actor {
        Some(_) => conn.prepare_cached(&format!("{COLUMNS} WHERE actor = ?1 ORDER BY seq"))?,
        None => conn.prepare_cached(&format!("{COLUMNS} ORDER BY seq"))?,
    };
    let mut records = match actor {
        Some(actor) => stmt.query([actor])?,
        None => stmt.query([])?,
    };
    while let Some(r) = records.next()? {
        let seq: i64 = r.get(0)?;
        let table: String = r.get(1)?;
        let op = parse_op(&r.get::<_, String>(3)?)?;
        let actor: String = r.get(5)?;
        let at = u64::try_from(r.get::<_, i64>(6)?).unwrap_or(0);
        match r.get::<_, Option<String>>(7)? {
            None => {
                let payload = r
                    .get::<_, Option<String>>(4)?
                    .map(|p| serde_json::from_str(&p))
                    .transpose()
                    .map_err(|e| StorageError::Corrupt {
                        reason: format!("outbox payload is not JSON: {e}"),
                    })?;
                entries.push(OutboxEntry {
                    seq,
                    table,
                    row_id: r.get(2)?,
                    op,
                    payload,
                    actor,
                    at,
                });
            }
            Some(batch) => {
                for (index, entry) in parse_batch(&batch)?.into_iter().enumerate() {
                    let Some((row_id, payload)) = entry else {
                        continue;
                    };
                    if entries.len() >= limit {
                        break;
                    }
                    entries.push(OutboxEntry {
                        seq: seq.saturating_add(batch_offset(index)),
                        table: table.clone(),
                        row_id,
                        op,
                        payload: Some(payload),
                        actor: actor.clone(),
                        at,
                    });
                }
            }
        }
        if entries.len() >= limit {
            break;
        }
    }
    Ok(entries)
}

impl ReadTx<'_> {
    /// The row `id` of `table`, if any.
    pub fn get(&self, table: &str, id: &str) -> Result<Option<Row>, StorageError> {
        get_row(self.conn, table, id)
    }

    /// Rows matching `query`.
    pub fn query(&self, query: &Query) -> Result<Vec<Row>, StorageError> {
        run_query(self.conn, query)
    }

    /// The tables that exist, in name order.
    pub fn tables(&self) -> Result<Vec<String>, StorageError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT name FROM lf_tables ORDER BY name")?;
        let names = stmt
            .query_map([], |r| r.get(0))?
            .collect::<Result<Vec<String>, _>>()?;
        Ok(names)
    }

    /// Outbox entries, oldest first.
    pub fn outbox(
        &self,
        actor: Option<&str>,
        limit: usize,
    ) -> Result<Vec<OutboxEntry>, StorageError> {
        read_outbox(self.conn, actor, limit)
    }
}

/// Appends one outbox record: a single entry (`batch` NULL, `pending` 1) or a
/// batch record (`row_id` empty, `payload` NULL, the entries in `batch`).
const OUTBOX_INSERT: &str =
    "INSERT INTO lf_outbox (seq, table_name, row_id, op, payload, actor, at, batch, pending)
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)";

/// Most rows one INSERT statement of [`WriteTx::insert_rows`] stores (6 bound
/// values each, far below SQLite's limit on parameters), and most entries one
/// outbox batch record holds.
const INSERT_CHUNK: usize = 64;

/// `INSERT INTO t_<table> (...) VALUES (?, ?, ?, ?, ?, ?), ...` for `rows` rows.
fn insert_sql(table: &str, rows: usize) -> String {
    let mut sql = format!("INSERT INTO {} ({ROW_COLUMNS}) VALUES ", sql_table(table));
    for i in 0..rows {
        if i > 0 {
            sql.push(',');
        }
        sql.push_str("(?,?,?,?,?,?)");
    }
    sql
}

/// The stored values of one inserted row.
struct InsertValues<'r> {
    id: &'r str,
    /// Where the row's `data` text is in the chunk's buffer.
    data: std::ops::Range<usize>,
    created_by: &'r str,
    created_at: i64,
    updated_by: &'r str,
    updated_at: i64,
}

/// Reads a built row's stored values in one pass over its keys, appending its
/// `data` text (the user columns, as `serde_json` writes the map) to `buffer`.
fn row_values<'r>(row: &'r Row, buffer: &mut Vec<u8>) -> Result<InsertValues<'r>, StorageError> {
    let json_error = |e: serde_json::Error| StorageError::InvalidRow {
        reason: e.to_string(),
    };
    let start = buffer.len();
    let (mut id, mut created_by, mut created_at, mut updated_by, mut updated_at) =
        (None, None, None, None, None);
    buffer.push(b'{');
    let mut first = true;
    for (key, value) in row {
        match key.as_str() {
            "id" => id = value.as_str(),
            CREATED_BY => created_by = Some(value),
            CREATED_AT => created_at = Some(value),
            UPDATED_BY => updated_by = Some(value),
            UPDATED_AT => updated_at = Some(value),
            _ => {
                if !first {
                    buffer.push(b',');
                }
                first = false;
                serde_json::to_writer(&mut *buffer, key).map_err(json_error)?;
                buffer.push(b':');
                serde_json::to_writer(&mut *buffer, value).map_err(json_error)?;
            }
        }
    }
    buffer.push(b'}');
    let missing = |key: &str| StorageError::InvalidRow {
        reason: format!("the row has no {key}"),
    };
    Ok(InsertValues {
        id: id.ok_or_else(|| StorageError::InvalidRow {
            reason: "the row has no string id".into(),
        })?,
        data: start..buffer.len(),
        created_by: created_by
            .ok_or_else(|| missing(CREATED_BY))?
            .as_str()
            .unwrap_or_default(),
        created_at: created_at
            .ok_or_else(|| missing(CREATED_AT))?
            .as_i64()
            .unwrap_or_default(),
        updated_by: updated_by
            .ok_or_else(|| missing(UPDATED_BY))?
            .as_str()
            .unwrap_or_default(),
        updated_at: updated_at
            .ok_or_else(|| missing(UPDATED_AT))?
            .as_i64()
            .unwrap_or_default(),
    })
}

impl InsertValues<'_> {
    /// The row's `data` text, out of the chunk's texts.
    fn data<'t>(&self, texts: &'t str) -> &'t str {
        texts.get(self.data.clone()).unwrap_or_default()
    }
}

/// Appends `text` to `out` as a JSON string.
fn push_json_string(out: &mut String, text: &str) -> Result<(), StorageError> {
    if text.bytes().all(|b| b >= 0x20 && b != b'"' && b != b'\\') {
        out.push('"');
        out.push_str(text);
        out.push('"');
    } else {
        out.push_str(&to_json_text(&text)?);
    }
    Ok(())
}

/// Consecutive inserted rows with the same creator and creation time, recorded
/// in the outbox as one record: a batch record when there are several, a single
/// entry otherwise.
struct InsertRun<'r> {
    first_seq: i64,
    actor: &'r str,
    at: i64,
    first_id: &'r str,
    /// Where the first row's payload starts in `text`.
    first_payload: usize,
    count: usize,
    /// The batch column being built: `[[id,payload],[id,payload]` (no closing bracket yet).
    text: String,
}

impl<'r> InsertRun<'r> {
    fn new(capacity: usize) -> InsertRun<'r> {
        InsertRun {
            first_seq: 0,
            actor: "",
            at: 0,
            first_id: "",
            first_payload: 0,
            count: 0,
            text: String::with_capacity(capacity),
        }
    }

    /// Whether a row by `actor` at `at` continues this run.
    fn continues(&self, actor: &str, at: i64) -> bool {
        self.count == 0 || (self.actor == actor && self.at == at)
    }

    fn push(
        &mut self,
        seq: i64,
        id: &'r str,
        payload: &str,
        actor: &'r str,
        at: i64,
    ) -> Result<(), StorageError> {
        if self.count == 0 {
            self.first_seq = seq;
            self.actor = actor;
            self.at = at;
            self.first_id = id;
            self.text.clear();
            self.text.push('[');
        } else {
            self.text.push(',');
        }
        self.text.push('[');
        push_json_string(&mut self.text, id)?;
        self.text.push(',');
        if self.count == 0 {
            self.first_payload = self.text.len();
        }
        self.text.push_str(payload);
        self.text.push(']');
        self.count += 1;
        Ok(())
    }

    /// Writes the run's outbox record and starts an empty run.
    fn flush(
        &mut self,
        outbox: &mut rusqlite::CachedStatement<'_>,
        table: &str,
    ) -> Result<(), StorageError> {
        match self.count {
            0 => {}
            1 => {
                let payload = self
                    .text
                    .get(self.first_payload..self.text.len().saturating_sub(1))
                    .unwrap_or_default();
                outbox.execute(rusqlite::params![
                    self.first_seq,
                    table,
                    self.first_id,
                    OutboxOp::Insert.as_str(),
                    payload,
                    self.actor,
                    self.at,
                    Option::<&str>::None,
                    1i64
                ])?;
            }
            count => {
                self.text.push(']');
                outbox.execute(rusqlite::params![
                    self.first_seq,
                    table,
                    "",
                    OutboxOp::Insert.as_str(),
                    Option::<&str>::None,
                    self.actor,
                    self.at,
                    self.text,
                    i64::try_from(count).unwrap_or(i64::MAX)
                ])?;
            }
        }
        self.count = 0;
        Ok(())
    }
}

/// One write transaction. Every row mutation also appends to the outbox.
pub struct WriteTx<'a> {
    tx: rusqlite::Transaction<'a>,
    tables: &'a mut HashSet<String>,
    touched: BTreeSet<String>,
    /// The next outbox sequence number, once this transaction has read it; written
    /// back by [`WriteTx::commit`] when it moved.
    next_seq: Option<(i64, bool)>,
}

impl<'a> WriteTx<'a> {
    fn new(tx: rusqlite::Transaction<'a>, tables: &'a mut HashSet<String>) -> WriteTx<'a> {
        WriteTx {
            tx,
            tables,
            touched: BTreeSet::new(),
            next_seq: None,
        }
    }

    /// Hands out the next outbox sequence number (read from `lf_meta` on first use).
    fn take_seq(&mut self) -> Result<i64, StorageError> {
        let next = match self.next_seq {
            Some((next, _)) => next,
            None => {
                let stored: Option<String> = self
                    .tx
                    .prepare_cached("SELECT value FROM lf_meta WHERE key = ?1")?
                    .query_row([NEXT_SEQ_KEY], |r| r.get(0))
                    .optional()?;
                match stored {
                    Some(text) => text.parse::<i64>().map_err(|_| StorageError::Corrupt {
                        reason: format!("outbox counter {text:?} is not a number"),
                    })?,
                    None => {
                        self.tx
                            .query_row(LAST_OUTBOX_SEQ, [], |r| r.get::<_, i64>(0))?
                            + 1
                    }
                }
            }
        };
        self.next_seq = Some((next + 1, true));
        Ok(next)
    }

    /// Writes the outbox counter back (if it moved) and commits; returns the tables
    /// whose rows changed.
    fn commit(self) -> Result<BTreeSet<String>, StorageError> {
        if let Some((next, true)) = self.next_seq {
            self.tx
                .prepare_cached(
                    "INSERT INTO lf_meta (key, value) VALUES (?1, ?2)
                     ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                )?
                .execute(rusqlite::params![NEXT_SEQ_KEY, next.to_string()])?;
        }
        self.tx.commit()?;
        Ok(self.touched)
    }

    /// The row `id` of `table`, if any (sees this transaction's writes).
    pub fn get(&self, table: &str, id: &str) -> Result<Option<Row>, StorageError> {
        get_row(&self.tx, table, id)
    }

    /// Rows matching `query` (sees this transaction's writes).
    pub fn query(&self, query: &Query) -> Result<Vec<Row>, StorageError> {
        run_query(&self.tx, query)
    }

    /// The tables that exist, in name order.
    pub fn tables(&self) -> Result<Vec<String>, StorageError> {
        ReadTx { conn: &self.tx }.tables()
    }

    fn ensure_table(&mut self, table: &str) -> Result<(), StorageError> {
        check_table(table)?;
        if self.tables.contains(table) {
            return Ok(());
        }
        if !table_exists(&self.tx, table)? {
            let t = sql_table(table);
            self.tx.execute_batch(&format!(
                "CREATE TABLE IF NOT EXISTS {t} (
                     id TEXT PRIMARY KEY NOT NULL,
                     data TEXT NOT NULL,
                     created_by TEXT NOT NULL,
                     created_at INTEGER NOT NULL,
                     updated_by TEXT NOT NULL,
                     updated_at INTEGER NOT NULL);
                 CREATE INDEX IF NOT EXISTS \"x{len}_{table}_createdBy\" ON {t} (created_by);",
                len = table.len()
            ))?;
            self.tx.execute(
                "INSERT OR IGNORE INTO lf_tables (name) VALUES (?1)",
                [table],
            )?;
        }
        self.tables.insert(table.to_owned());
        Ok(())
    }

    fn append_outbox(
        &mut self,
        table: &str,
        id: &str,
        op: OutboxOp,
        payload: Option<&str>,
        actor: &Value,
        at: &Value,
    ) -> Result<(), StorageError> {
        let seq = self.take_seq()?;
        self.tx
            .prepare_cached(OUTBOX_INSERT)?
            .execute(rusqlite::params![
                seq,
                table,
                id,
                op.as_str(),
                payload,
                actor.as_str().unwrap_or_default(),
                at.as_i64().unwrap_or_default(),
                Option::<&str>::None,
                1i64
            ])?;
        Ok(())
    }

    /// Stores a row built by [`build_insert_row`] and records it in the outbox.
    pub fn insert_row(&mut self, table: &str, row: &Row) -> Result<(), StorageError> {
        self.insert_rows(table, std::slice::from_ref(row))
    }

    /// Stores rows built by [`build_insert_row`] into `table` and records each
    /// in the outbox, preparing the two statements once for the whole batch.
    /// Consecutive rows with the same creator and creation time share one batch
    /// record (one entry per row, consecutive sequence numbers); a lone row gets
    /// a single-entry record.
    ///
    /// On an error, part of the rows (and not necessarily their outbox entries)
    /// may already be written in this transaction: it must not be committed
    /// ([`LocalStore::write`] rolls back when its closure fails).
    pub fn insert_rows(&mut self, table: &str, rows: &[Row]) -> Result<(), StorageError> {
        if rows.is_empty() {
            return Ok(());
        }
        self.ensure_table(table)?;
        // Sequence numbers for the whole batch: the first from the counter, the rest
        // consecutive; the counter is moved past them before the statements run.
        let first_seq = self.take_seq()?;
        let batch = i64::try_from(rows.len()).unwrap_or(i64::MAX);
        self.next_seq = Some((first_seq.saturating_add(batch), true));
        // Rows go in with multi-row INSERTs of up to INSERT_CHUNK rows (fewer
        // statement runs); the statements are prepared once per size and cached.
        let full_sql = insert_sql(table, INSERT_CHUNK.min(rows.len()));
        let rest = rows.len() % INSERT_CHUNK;
        let rest_sql = (rest > 0 && rows.len() > INSERT_CHUNK).then(|| insert_sql(table, rest));
        let mut outbox = self.tx.prepare_cached(OUTBOX_INSERT)?;
        let mut run = InsertRun::new(if rows.len() > 1 {
            INSERT_CHUNK.min(rows.len()) * 160
        } else {
            0
        });
        let mut values: Vec<InsertValues<'_>> = Vec::with_capacity(INSERT_CHUNK.min(rows.len()));
        // The chunk's `data` texts, serialised one after the other into one buffer.
        let mut buffer: Vec<u8> = Vec::with_capacity(INSERT_CHUNK.min(rows.len()) * 128);
        for (index, chunk) in rows.chunks(INSERT_CHUNK).enumerate() {
            let chunk_seq = first_seq.saturating_add(batch_offset(index * INSERT_CHUNK));
            values.clear();
            buffer.clear();
            for row in chunk {
                values.push(row_values(row, &mut buffer)?);
            }
            let texts = std::str::from_utf8(&buffer).map_err(|e| StorageError::InvalidRow {
                reason: e.to_string(),
            })?;
            for (seq, v) in (chunk_seq..).zip(&values) {
                if !run.continues(v.created_by, v.created_at) {
                    run.flush(&mut outbox, table)?;
                }
                run.push(seq, v.id, v.data(texts), v.created_by, v.created_at)?;
            }
            let sql = match &rest_sql {
                Some(rest_sql) if chunk.len() < INSERT_CHUNK => rest_sql,
                _ => &full_sql,
            };
            let mut insert = self.tx.prepare_cached(sql)?;
            for (i, v) in values.iter().enumerate() {
                let at = i * 6;
                insert.raw_bind_parameter(at + 1, v.id)?;
                insert.raw_bind_parameter(at + 2, v.data(texts))?;
                insert.raw_bind_parameter(at + 3, v.created_by)?;
                insert.raw_bind_parameter(at + 4, v.created_at)?;
                insert.raw_bind_parameter(at + 5, v.updated_by)?;
                insert.raw_bind_parameter(at + 6, v.updated_at)?;
            }
            match insert.raw_execute() {
                Ok(_) => {}
                Err(e)
                    if e.sqlite_error_code() == Some(rusqlite::ErrorCode::ConstraintViolation) =>
                {
                    // The failed statement changed nothing; find the first row that
                    // collides, one row at a time, to name it.
                    drop(insert);
                    return Err(self
                        .first_duplicate(table, &values, texts)
                        .unwrap_or_else(|| e.into()));
                }
                Err(e) => return Err(e.into()),
            }
            // One batch record per chunk at most: records stay small (cheap to
            // write, read and rewrite on a partial acknowledgement).
            run.flush(&mut outbox, table)?;
        }
        drop(outbox);
        self.touched.insert(table.to_owned());
        Ok(())
    }

    /// After a multi-row INSERT failed on a constraint: inserts `values` one by
    /// one (the transaction is abandoned by the caller anyway) and returns
    /// [`StorageError::AlreadyExists`] for the first that collides.
    fn first_duplicate(
        &self,
        table: &str,
        values: &[InsertValues<'_>],
        texts: &str,
    ) -> Option<StorageError> {
        let mut insert = self.tx.prepare_cached(&insert_sql(table, 1)).ok()?;
        for v in values {
            let result = insert.execute(rusqlite::params![
                v.id,
                v.data(texts),
                v.created_by,
                v.created_at,
                v.updated_by,
                v.updated_at
            ]);
            match result {
                Ok(_) => {}
                Err(e)
                    if e.sqlite_error_code() == Some(rusqlite::ErrorCode::ConstraintViolation) =>
                {
                    return Some(StorageError::AlreadyExists {
                        table: table.to_owned(),
                        id: v.id.to_owned(),
                    })
                }
                Err(e) => return Some(e.into()),
            }
        }
        None
    }

    /// Stores `new` (from [`apply_patch`]) over the existing row and records
    /// `patch` in the outbox.
    pub fn update_row(&mut self, table: &str, new: &Row, patch: &Row) -> Result<(), StorageError> {
        self.ensure_table(table)?;
        let id = row_id(new)?;
        let data = to_json_text(&UserColumns(new))?;
        let updated_by = stamp_value(new, UPDATED_BY)?;
        let updated_at = stamp_value(new, UPDATED_AT)?;
        let sql = format!(
            "UPDATE {} SET data = ?2, updated_by = ?3, updated_at = ?4 WHERE id = ?1",
            sql_table(table)
        );
        let changed = self.tx.prepare_cached(&sql)?.execute(rusqlite::params![
            id,
            data,
            updated_by.as_str().unwrap_or_default(),
            updated_at.as_i64().unwrap_or_default(),
        ])?;
        if changed == 0 {
            return Err(StorageError::NotFound {
                table: table.to_owned(),
                id: id.to_owned(),
            });
        }
        let patch_text = to_json_text(&UserColumns(patch))?;
        self.append_outbox(
            table,
            id,
            OutboxOp::Update,
            Some(&patch_text),
            updated_by,
            updated_at,
        )?;
        self.touched.insert(table.to_owned());
        Ok(())
    }

    /// Deletes row `id` and records it in the outbox as done by `actor` at `now`.
    pub fn delete_row(
        &mut self,
        table: &str,
        id: &str,
        actor: &str,
        now: u64,
    ) -> Result<(), StorageError> {
        check_table(table)?;
        let missing = || StorageError::NotFound {
            table: table.to_owned(),
            id: id.to_owned(),
        };
        if !self.tables.contains(table) && !table_exists(&self.tx, table)? {
            return Err(missing());
        }
        let sql = format!("DELETE FROM {} WHERE id = ?1", sql_table(table));
        if self.tx.prepare_cached(&sql)?.execute([id])? == 0 {
            return Err(missing());
        }
        self.append_outbox(
            table,
            id,
            OutboxOp::Delete,
            None,
            &Value::String(actor.to_owned()),
            &Value::from(now),
        )?;
        self.touched.insert(table.to_owned());
        Ok(())
    }

    /// Sets (or with `None` removes) a metadata value in this transaction.
    pub fn set_meta(&mut self, key: &str, value: Option<&str>) -> Result<(), StorageError> {
        match value {
            Some(v) => self.tx.execute(
                "INSERT INTO lf_meta (key, value) VALUES (?1, ?2)
                 ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                [key, v],
            )?,
            None => self
                .tx
                .execute("DELETE FROM lf_meta WHERE key = ?1", [key])?,
        };
        Ok(())
    }

    /// Removes the rows of `snapshot` that are still exactly as they were read
    /// (same data, same last writer and time), without recording outbox entries
    /// (a local discard, not a mutation to sync), and the actor's outbox entries
    /// up to the snapshot whose row is gone. Rows the actor wrote or changed
    /// after the snapshot, and their outbox entries, stay.
    pub fn discard_snapshot(
        &mut self,
        snapshot: &ActorSnapshot,
    ) -> Result<DiscardOutcome, StorageError> {
        let actor = snapshot.actor.as_str();
        let mut removed = 0;
        for row in &snapshot.rows {
            let id = row_id(&row.row)?;
            let n = self
                .tx
                .prepare_cached(&format!(
                    "DELETE FROM {} WHERE id = ?1 AND created_by = ?2 AND data = ?3
                     AND updated_by = ?4 AND updated_at = ?5",
                    sql_table(&row.table)
                ))?
                .execute(rusqlite::params![
                    id,
                    actor,
                    row.data,
                    row.updated_by,
                    row.updated_at
                ])?;
            if n > 0 {
                self.touched.insert(row.table.clone());
            }
            removed += n;
        }
        let mut kept: HashSet<(String, String)> = HashSet::new();
        for table in self.tables()? {
            let mut stmt = self.tx.prepare(&format!(
                "SELECT id FROM {} WHERE created_by = ?1",
                sql_table(&table)
            ))?;
            let ids = stmt
                .query_map([actor], |r| r.get::<_, String>(0))?
                .collect::<Result<Vec<_>, _>>()?;
            kept.extend(ids.into_iter().map(|id| (table.clone(), id)));
        }
        let records = self
            .tx
            .prepare(
                "SELECT seq, table_name, row_id, batch FROM lf_outbox
                 WHERE actor = ?1 AND seq <= ?2",
            )?
            .query_map(rusqlite::params![actor, snapshot.last_seq], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, Option<String>>(3)?,
                ))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        for (seq, table, id, batch) in records {
            match batch {
                None => {
                    if !kept.contains(&(table, id)) {
                        self.delete_record(seq)?;
                    }
                }
                Some(text) => {
                    // Only the entries up to the snapshot: a batch is written in one
                    // transaction, so a record is never split by it, but be exact.
                    let mut entries = parse_batch(&text)?;
                    let mut changed = false;
                    for (index, entry) in entries.iter_mut().enumerate() {
                        if seq.saturating_add(batch_offset(index)) > snapshot.last_seq {
                            break;
                        }
                        let gone = match entry {
                            Some((id, _)) => !kept.contains(&(table.clone(), id.clone())),
                            None => false,
                        };
                        if gone {
                            *entry = None;
                            changed = true;
                        }
                    }
                    if changed {
                        self.store_batch(seq, &entries)?;
                    }
                }
            }
        }
        Ok(DiscardOutcome {
            removed,
            remaining: kept.len(),
        })
    }

    /// A value of the namespace's metadata, as seen by this transaction.
    pub fn meta(&self, key: &str) -> Result<Option<String>, StorageError> {
        Ok(self
            .tx
            .query_row("SELECT value FROM lf_meta WHERE key = ?1", [key], |row| {
                row.get(0)
            })
            .optional()?)
    }

    /// Removes `actor`'s outbox entries with these sequence numbers; returns how
    /// many were removed (other actors' entries are left alone). An entry inside
    /// a batch record is removed from the batch; the record goes with its last entry.
    pub fn ack_outbox(&mut self, actor: &str, seqs: &[i64]) -> Result<usize, StorageError> {
        // Batch records touched so far, by their `seq`: entries, and whether changed.
        let mut batches: HashMap<i64, (BatchEntries, bool)> = HashMap::new();
        let mut removed = 0;
        for &seq in seqs {
            // The record that would hold `seq`: records never overlap, so it is the
            // one with the highest `seq` not above it. Other actors' are left alone.
            let record = self
                .tx
                .prepare_cached(
                    "SELECT seq, batch IS NOT NULL, actor = ?2 FROM lf_outbox
                     WHERE seq <= ?1 ORDER BY seq DESC LIMIT 1",
                )?
                .query_row(rusqlite::params![seq, actor], |r| {
                    Ok((
                        r.get::<_, i64>(0)?,
                        r.get::<_, bool>(1)?,
                        r.get::<_, bool>(2)?,
                    ))
                })
                .optional()?;
            let record = match record {
                Some((record, is_batch, true)) => Some((record, is_batch)),
                _ => None,
            };
            match record {
                // A single-entry record: only its own number.
                Some((record, false)) if record == seq => removed += self.delete_record(record)?,
                Some((record, true)) => {
                    let (entries, changed) = match batches.entry(record) {
                        std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
                        std::collections::hash_map::Entry::Vacant(e) => {
                            let text: String = self.tx.query_row(
                                "SELECT batch FROM lf_outbox WHERE seq = ?1",
                                [record],
                                |r| r.get(0),
                            )?;
                            e.insert((parse_batch(&text)?, false))
                        }
                    };
                    let slot = usize::try_from(seq.saturating_sub(record))
                        .ok()
                        .and_then(|index| entries.get_mut(index));
                    if let Some(entry @ Some(_)) = slot {
                        *entry = None;
                        *changed = true;
                        removed += 1;
                    }
                }
                _ => {}
            }
        }
        for (record, (entries, changed)) in batches {
            if changed {
                self.store_batch(record, &entries)?;
            }
        }
        Ok(removed)
    }

    /// Deletes the outbox record `seq`; returns how many records went (0 or 1).
    fn delete_record(&mut self, seq: i64) -> Result<usize, StorageError> {
        Ok(self
            .tx
            .prepare_cached("DELETE FROM lf_outbox WHERE seq = ?1")?
            .execute([seq])?)
    }

    /// Writes back the entries of batch record `seq` after some were removed, or
    /// deletes the record when none is left.
    fn store_batch(&mut self, seq: i64, entries: &BatchEntries) -> Result<(), StorageError> {
        let pending = entries.iter().filter(|e| e.is_some()).count();
        if pending == 0 {
            self.delete_record(seq)?;
        } else {
            self.tx
                .prepare_cached("UPDATE lf_outbox SET batch = ?2, pending = ?3 WHERE seq = ?1")?
                .execute(rusqlite::params![
                    seq,
                    to_json_text(entries)?,
                    i64::try_from(pending).unwrap_or(i64::MAX)
                ])?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(value: Value) -> Row {
        value.as_object().cloned().unwrap()
    }

    #[test]
    fn app_ids_cannot_escape_the_data_dir() {
        assert_eq!(encode_app_id("my-app"), "my-app");
        assert_eq!(encode_app_id("../etc"), "%2E%2E%2Fetc");
        assert_eq!(encode_app_id(".."), "%2E%2E");
        assert_eq!(encode_app_id("a/b\\c"), "a%2Fb%5Cc");
        let dir = namespace_dir(Path::new("/data"), "../../x");
        assert_eq!(dir, Path::new("/data/%2E%2E%2F%2E%2E%2Fx"));
    }

    #[test]
    fn names_are_validated() {
        assert!(is_valid_name("messages"));
        assert!(is_valid_name("_a1"));
        for bad in ["", "1a", "a-b", "a b", "t\"", &"a".repeat(65)] {
            assert!(!is_valid_name(bad), "{bad}");
        }
    }

    #[test]
    fn insert_rows_are_stamped_and_cannot_forge_system_columns() {
        let row = build_insert_row(obj(json!({"text": "hi"})), "u1", 5).unwrap();
        assert_eq!(row["$createdBy"], "u1");
        assert_eq!(row["$updatedAt"], 5);
        assert_eq!(row["id"].as_str().unwrap().len(), 36);
        let forged = build_insert_row(obj(json!({"$createdBy": "x"})), "u1", 5).unwrap_err();
        assert_eq!(forged.code(), "invalid-row");
        assert_eq!(
            build_insert_row(obj(json!({"id": 3})), "u1", 5)
                .unwrap_err()
                .code(),
            "invalid-row"
        );
        assert_eq!(
            build_insert_row(obj(json!({"bad-col": 1})), "u1", 5)
                .unwrap_err()
                .code(),
            "invalid-name"
        );
    }

    #[test]
    fn insert_rows_keep_the_key_order_a_move_of_id_gave() {
        // Whatever the map type (sorted, or insertion order when serde_json's
        // `preserve_order` is on), the built row has the keys in the order that
        // removing and re-inserting `id` always produced.
        for values in [
            json!({"id": "x", "b": 1, "a": 2}),
            json!({"b": 1, "a": 2, "id": "x"}),
            json!({"b": 1, "id": "x", "a": 2}),
            json!({"b": 1, "a": 2}),
            json!({"id": null, "b": 1}),
        ] {
            let values = obj(values);
            let row = build_insert_row(values.clone(), "me", 5).unwrap();
            let mut moved = values.clone();
            let id = match moved.remove("id") {
                Some(Value::String(id)) => Value::String(id),
                _ => row["id"].clone(),
            };
            moved.insert("id".into(), id);
            stamp(&mut moved, CREATED_BY, CREATED_AT, "me", 5);
            stamp(&mut moved, UPDATED_BY, UPDATED_AT, "me", 5);
            assert_eq!(
                row.keys().collect::<Vec<_>>(),
                moved.keys().collect::<Vec<_>>(),
                "{values:?}"
            );
            assert_eq!(row, moved);
        }
    }

    #[test]
    fn patches_keep_creation_stamps_and_id() {
        let old = build_insert_row(obj(json!({"id": "r", "a": 1})), "u1", 5).unwrap();
        let new = apply_patch(&old, &obj(json!({"b": 2})), "u2", 9).unwrap();
        assert_eq!(new["a"], 1);
        assert_eq!(new["b"], 2);
        assert_eq!(new["$createdBy"], "u1");
        assert_eq!(new["$updatedBy"], "u2");
        assert_eq!(new["$updatedAt"], 9);
        assert!(apply_patch(&old, &obj(json!({"id": "other"})), "u2", 9).is_err());
    }

    #[test]
    fn filters_round_trip_and_reject_bad_input() {
        let json = json!({"owner": "u1", "n": {"gte": 3, "lt": 10}, "tag": {"in": ["a", null]}});
        let filter = Filter::from_json(&json).unwrap();
        assert_eq!(filter.conditions.len(), 4);
        assert_eq!(Filter::from_json(&filter.to_json()).unwrap(), filter);
        for bad in [
            json!([1]),
            json!({"n": {"near": 1}}),
            json!({"n": {}}),
            json!({"n": [1]}),
            json!({"n": {"in": 3}}),
            json!({"n": {"lt": null}}),
            json!({"bad col": 1}),
            json!({"$secret": 1}),
        ] {
            let code = Filter::from_json(&bad).unwrap_err().code();
            assert!(code.as_str().starts_with("invalid-"), "{bad}: {code}");
        }
    }

    #[test]
    fn memory_store_round_trip() {
        let store = LocalStore::open(StoreLocation::Memory).unwrap();
        let row = build_insert_row(obj(json!({"id": "a", "n": 1})), "u", 1).unwrap();
        store.write(|w| w.insert_row("t", &row)).unwrap();
        assert_eq!(store.get("t", "a").unwrap(), Some(row));
        let dup = build_insert_row(obj(json!({"id": "a"})), "u", 1).unwrap();
        assert_eq!(
            store.write(|w| w.insert_row("t", &dup)).unwrap_err().code(),
            "already-exists"
        );
        assert_eq!(store.outbox_len().unwrap(), 1);
        assert!(store.query(&Query::table("missing")).unwrap().is_empty());
    }
}
