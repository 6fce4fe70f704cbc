//! Server storage: one trait, [`ServerStore`], every backend implements.
//!
//! All state lives in the database, none only in one process, so several server
//! processes can share one PostgreSQL database:
//!
//! - the current rows (`table`, `id` → JSON object);
//! - a global change log whose cursor increases monotonically (a change is
//!   visible to [`ServerStore::changes_since`] only once committed);
//! - idempotency records keyed by `(user id, client id, seq)` holding each
//!   entry's outcome and its content digest
//!   ([`PushEntry::content_digest`]), so a resent batch is applied once and
//!   answered the same, while another entry under a used key (two devices
//!   sharing a client id) is refused with `client-id-reused`, never acknowledged;
//! - a notification stream ([`ServerStore::subscribe`]) carrying new cursors
//!   (in-process for SQLite; LISTEN/NOTIFY for PostgreSQL).
//!
//! The trait is async and object safe (methods return a [`StoreFuture`]), so the
//! server holds an `Arc<dyn ServerStore>`. The SQLite backend runs its blocking
//! calls on tokio's blocking pool.

pub mod postgres;
pub mod sqlite;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use localfirst_core::policy::Row;
use localfirst_core::{Code, ErrorCode};
use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;

pub use postgres::{PostgresOptions, PostgresStore};
pub use sqlite::SqliteStore;

/// The future every [`ServerStore`] method returns.
pub type StoreFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, StoreError>> + Send + 'a>>;

pub use localfirst_core::sync::protocol::{ChangeOp, PushEntry, WriteOp};

/// What a [`Decide`] function resolves an entry to, given the current row.
#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    /// Store this row (the whole row, system columns included).
    Put(Row),
    /// Delete the existing row.
    Delete,
    /// Nothing to change (e.g. deleting a row that is already gone); acknowledged.
    Nothing,
}

/// Why an entry was refused; recorded so that a resend gets the same answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rejection {
    /// The catalogue code (`policy-denied`, `row-exists`, ...), as sent and stored.
    pub code: String,
    /// Human-readable explanation.
    pub message: String,
}

impl Rejection {
    /// A rejection with a code and message.
    pub fn new(code: Code, message: impl Into<String>) -> Rejection {
        Rejection {
            code: code.as_str().to_owned(),
            message: message.into(),
        }
    }

    /// The answer to an entry whose key `(user id, client id, seq)` holds a
    /// record of other content, and to the entries after it in its batch.
    /// Never recorded: the key stays the first writer's.
    pub fn client_id_reused() -> Rejection {
        Rejection::new(
            Code::ClientIdReused,
            "another entry was recorded under this client id and seq: the client id is \
             used by two devices; take a new one and send again",
        )
    }
}

/// Whether a record with digest `recorded` belongs to a pushed entry with
/// `digest`: false when the content differs (a reused client id). Records from
/// before digests were kept (`recorded` is `None`) answer as they always did.
pub(crate) fn matches_record(recorded: Option<&[u8]>, digest: &[u8; 32]) -> bool {
    recorded.is_none_or(|stored| stored == digest.as_slice())
}

/// The rejection of a row put into `table` while the store already holds
/// `existing`, a name differing only in letter case (compared by the core's
/// [`table_name_key`](localfirst_core::local_db::table_name_key)): no client
/// could store both, since SQLite table names ignore case. Stores check this
/// for every put, after the [`Decide`] function accepted it.
pub fn table_clash(table: &str, existing: &str) -> Rejection {
    let error = localfirst_core::local_db::StorageError::TableNameClash {
        table: table.to_owned(),
        existing: existing.to_owned(),
    };
    Rejection::new(error.code(), error.to_string())
}

/// Decides one entry inside the store's transaction, from the current row
/// (`None` when absent). Runs under the backend's write lock, so it must be pure
/// and quick (policy checks, row building).
pub type Decide =
    Arc<dyn Fn(&PushEntry, Option<&Row>) -> Result<Decision, Rejection> + Send + Sync>;

/// The outcome of one pushed entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Applied now (or decided as nothing to do).
    Applied,
    /// Applied by an earlier send of the same key; not applied again.
    Duplicate,
    /// Refused (now or by an earlier send of the same key).
    Rejected(Rejection),
}

/// The result of [`ServerStore::push`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushResult {
    /// One `(seq, outcome)` per entry, in input order.
    pub outcomes: Vec<(i64, Outcome)>,
    /// The latest cursor after the batch committed.
    pub cursor: u64,
}

/// Who pushes: the idempotency scope of a batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Writer {
    /// The session's user id.
    pub user_id: String,
    /// The client's persistent id.
    pub client_id: String,
}

/// One committed change of the global log.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    /// Position in the log (strictly increasing).
    pub cursor: u64,
    /// The table.
    pub table: String,
    /// The row id.
    pub id: String,
    /// Put or delete.
    pub op: ChangeOp,
    /// The row after the change (`None` for a delete).
    pub row: Option<Row>,
    /// The row before the change (`None` for an insert), for read filtering.
    pub old: Option<Row>,
}

/// A page of the change log.
#[derive(Debug, Clone, PartialEq)]
pub struct ChangePage {
    /// Changes in cursor order.
    pub changes: Vec<Change>,
    /// The cursor of the last change returned, or the requested cursor if none.
    pub cursor: u64,
    /// Whether more changes follow.
    pub more: bool,
}

/// A storage failure. The server answers with an `error` frame coded `storage`.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database failed.
    #[error("database error: {0}")]
    Database(String),
    /// A stored value could not be decoded.
    #[error("corrupt stored data: {0}")]
    Corrupt(String),
    /// The store was closed.
    #[error("the store is closed")]
    Closed,
    /// The storage location could not be prepared.
    #[error("cannot open storage: {0}")]
    Open(String),
}

impl ErrorCode for StoreError {
    fn code(&self) -> Code {
        match self {
            StoreError::Database(_) => Code::ServerStorageDatabase,
            StoreError::Corrupt(_) => Code::ServerStorageCorrupt,
            StoreError::Closed => Code::ServerStorageClosed,
            StoreError::Open(_) => Code::ServerStorageOpen,
        }
    }
}

/// Server storage. Implementations keep no state that matters only in one
/// process except the local side of [`ServerStore::subscribe`].
pub trait ServerStore: Send + Sync + 'static {
    /// Applies a batch atomically, in order. Each entry whose key
    /// `(writer.user_id, writer.client_id, seq)` has an outcome recorded for the
    /// same content digest gets that outcome again (applied →
    /// [`Outcome::Duplicate`]) and is not decided again; the others go through
    /// `decide` with the current row, and are applied or rejected, and their
    /// outcome is recorded with their digest. An entry whose key is recorded
    /// with another digest, and every entry after it in the batch, is refused
    /// with [`Rejection::client_id_reused`] and neither decided nor recorded.
    /// Notifies subscribers when anything changed.
    fn push<'a>(
        &'a self,
        writer: &'a Writer,
        entries: Vec<PushEntry>,
        decide: Decide,
    ) -> StoreFuture<'a, PushResult>;

    /// Up to `limit` changes with a cursor greater than `after`, in order.
    fn changes_since(&self, after: u64, limit: usize) -> StoreFuture<'_, ChangePage> {
        self.changes_within(after, limit, usize::MAX)
    }

    /// Like [`changes_since`](ServerStore::changes_since), and stops before the
    /// change that would take the page's stored text (each change's row and old
    /// row) over `max_bytes`, with `more` set; the first change comes whatever
    /// its size, so paging always progresses. Bounds what one page reads into
    /// memory.
    fn changes_within(
        &self,
        after: u64,
        limit: usize,
        max_bytes: usize,
    ) -> StoreFuture<'_, ChangePage>;

    /// The latest cursor (0 when the log is empty).
    fn latest_cursor(&self) -> StoreFuture<'_, u64>;

    /// The current value of one row.
    fn get_row<'a>(&'a self, table: &'a str, id: &'a str) -> StoreFuture<'a, Option<Row>>;

    /// A receiver of new latest cursors, one message per committed batch that
    /// changed something (a lagging receiver just reads the log from its cursor).
    fn subscribe(&self) -> broadcast::Receiver<u64>;

    /// Flushes and closes; later calls fail with [`StoreError::Closed`].
    fn close(&self) -> StoreFuture<'_, ()>;
}
