//! The SQLite backend: embedded, the default. One connection behind a mutex;
//! every call runs on tokio's blocking pool. Notifications are in-process (one
//! server process per SQLite file).

use std::path::Path;
use std::sync::{Arc, Mutex};

use localfirst_core::local_db::table_name_key;
use localfirst_core::policy::Row;
use rusqlite::{params, Connection, OptionalExtension, Transaction};
use tokio::sync::broadcast;

use super::{
    matches_record, table_clash, Change, ChangeOp, ChangePage, Decide, Decision, Outcome,
    PushEntry, PushResult, Rejection, ServerStore, StoreError, StoreFuture, Writer,
};

/// File name of the database inside the data directory.
pub const DB_FILE: &str = "server.sqlite3";

/// How many cursor notifications a slow subscriber may lag behind.
const NOTIFY_CAPACITY: usize = 1024;

/// SQLite-backed [`ServerStore`].
#[derive(Clone)]
pub struct SqliteStore {
    inner: Arc<Inner>,
}

struct Inner {
    conn: Mutex<Option<Connection>>,
    notify: broadcast::Sender<u64>,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore").finish_non_exhaustive()
    }
}

impl SqliteStore {
    /// Opens (creating if needed) `server.sqlite3` in `data_dir`. As on the client, a
    /// new folder gets mode `0700` and the database file (so its `-wal` and `-shm` too)
    /// `0600`; an existing file readable by others is made private.
    pub fn open_dir(data_dir: &Path) -> Result<SqliteStore, StoreError> {
        let private = |e: localfirst_core::local_db::StorageError| StoreError::Open(e.to_string());
        localfirst_core::local_db::create_namespace_dir(data_dir).map_err(private)?;
        let path = data_dir.join(DB_FILE);
        localfirst_core::local_db::prepare_database_file(&path).map_err(private)?;
        let conn = Connection::open(path).map_err(db)?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(db)?;
        conn.pragma_update(None, "synchronous", "FULL")
            .map_err(db)?;
        SqliteStore::from_connection(conn)
    }

    /// A private in-memory database (lost when the store is dropped).
    pub fn open_in_memory() -> Result<SqliteStore, StoreError> {
        SqliteStore::from_connection(Connection::open_in_memory().map_err(db)?)
    }

    fn from_connection(mut conn: Connection) -> Result<SqliteStore, StoreError> {
        conn.busy_timeout(std::time::Duration::from_secs(5))
            .map_err(db)?;
        let tx = conn.transaction().map_err(db)?;
        let registered: bool = tx
            .query_row(
                "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'lf_tables')",
                [],
                |r| r.get(0),
            )
            .map_err(db)?;
        tx.execute_batch(SCHEMA).map_err(db)?;
        migrate(&tx)?;
        if !registered {
            register_existing_tables(&tx)?;
        }
        tx.commit().map_err(db)?;
        let (notify, _) = broadcast::channel(NOTIFY_CAPACITY);
        Ok(SqliteStore {
            inner: Arc::new(Inner {
                conn: Mutex::new(Some(conn)),
                notify,
            }),
        })
    }

    /// Runs `f` with the connection on the blocking pool.
    fn run<T, F>(&self, f: F) -> StoreFuture<'static, T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let inner = Arc::clone(&self.inner);
        Box::pin(async move {
            tokio::task::spawn_blocking(move || {
                let mut guard = inner
                    .conn
                    .lock()
                    .map_err(|_| StoreError::Database("connection lock poisoned".into()))?;
                let conn = guard.as_mut().ok_or(StoreError::Closed)?;
                f(conn)
            })
            .await
            .map_err(|e| StoreError::Database(format!("storage task failed: {e}")))?
        })
    }
}

impl ServerStore for SqliteStore {
    fn push<'a>(
        &'a self,
        writer: &'a Writer,
        entries: Vec<PushEntry>,
        decide: Decide,
    ) -> StoreFuture<'a, PushResult> {
        let writer = writer.clone();
        let notify = self.inner.notify.clone();
        let fut = self.run(move |conn| push_blocking(conn, &writer, &entries, &decide));
        Box::pin(async move {
            let (result, changed) = fut.await?;
            if changed {
                // No receivers is fine: nobody is listening.
                let _ = notify.send(result.cursor);
            }
            Ok(result)
        })
    }

    fn changes_within(
        &self,
        after: u64,
        limit: usize,
        max_bytes: usize,
    ) -> StoreFuture<'_, ChangePage> {
        self.run(move |conn| changes_blocking(conn, after, limit, max_bytes))
    }

    fn latest_cursor(&self) -> StoreFuture<'_, u64> {
        self.run(|conn| latest(conn))
    }

    fn get_row<'a>(&'a self, table: &'a str, id: &'a str) -> StoreFuture<'a, Option<Row>> {
        let (table, id) = (table.to_owned(), id.to_owned());
        self.run(move |conn| {
            let tx = conn.transaction().map_err(db)?;
            let row = current_row(&tx, &table, &id)?;
            tx.commit().map_err(db)?;
            Ok(row)
        })
    }

    fn subscribe(&self) -> broadcast::Receiver<u64> {
        self.inner.notify.subscribe()
    }

    fn close(&self) -> StoreFuture<'_, ()> {
        let inner = Arc::clone(&self.inner);
        Box::pin(async move {
            tokio::task::spawn_blocking(move || {
                let mut guard = inner
                    .conn
                    .lock()
                    .map_err(|_| StoreError::Database("connection lock poisoned".into()))?;
                if let Some(conn) = guard.take() {
                    // Fold the WAL back into the main file, then close.
                    let _ = conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE);");
                    conn.close().map_err(|(_, e)| db(e))?;
                }
                Ok(())
            })
            .await
            .map_err(|e| StoreError::Database(format!("storage task failed: {e}")))?
        })
    }
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS lf_rows (
    tbl TEXT NOT NULL,
    id TEXT NOT NULL,
    data TEXT NOT NULL,
    PRIMARY KEY (tbl, id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS lf_changes (
    cursor INTEGER PRIMARY KEY AUTOINCREMENT,
    tbl TEXT NOT NULL,
    id TEXT NOT NULL,
    op TEXT NOT NULL,
    row TEXT,
    old TEXT
);
CREATE TABLE IF NOT EXISTS lf_tables (
    name_key TEXT PRIMARY KEY,
    name TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS lf_applied (
    user_id TEXT NOT NULL,
    client_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    code TEXT,
    message TEXT,
    digest BLOB,
    PRIMARY KEY (user_id, client_id, seq)
) WITHOUT ROWID;
";

/// Brings a database of an earlier version up to [`SCHEMA`]: idempotency
/// records gained the entry's content digest (older records keep `NULL`, and
/// answer a resend of their key as before). The table-name registry is created
/// by [`SCHEMA`] and filled by [`register_existing_tables`].
fn migrate(conn: &Connection) -> Result<(), StoreError> {
    let has_digest: bool = conn
        .query_row(
            "SELECT EXISTS (SELECT 1 FROM pragma_table_info('lf_applied') WHERE name = 'digest')",
            [],
            |r| r.get(0),
        )
        .map_err(db)?;
    if !has_digest {
        conn.execute_batch("ALTER TABLE lf_applied ADD COLUMN digest BLOB;")
            .map_err(db)?;
    }
    Ok(())
}

fn db(error: rusqlite::Error) -> StoreError {
    StoreError::Database(error.to_string())
}

fn row_text(row: &Row) -> Result<String, StoreError> {
    serde_json::to_string(row).map_err(|e| StoreError::Corrupt(e.to_string()))
}

fn parse_row(text: &str) -> Result<Row, StoreError> {
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt(e.to_string()))
}

fn parse_opt(text: Option<String>) -> Result<Option<Row>, StoreError> {
    text.as_deref().map(parse_row).transpose()
}

/// Fills the table-name registry from the rows of a database written before it
/// existed (once, when the registry is created).
fn register_existing_tables(tx: &Transaction<'_>) -> Result<(), StoreError> {
    let names: Vec<String> = tx
        .prepare("SELECT DISTINCT tbl FROM lf_rows")
        .map_err(db)?
        .query_map([], |r| r.get(0))
        .map_err(db)?
        .collect::<Result<_, _>>()
        .map_err(db)?;
    for name in names {
        tx.execute(
            "INSERT OR IGNORE INTO lf_tables (name_key, name) VALUES (?1, ?2)",
            params![table_name_key(&name), name],
        )
        .map_err(db)?;
    }
    Ok(())
}

/// Registers `table` unless a table of the same key is registered; returns
/// that table's name when it differs from `table` (a clash).
fn register_table(tx: &Transaction<'_>, table: &str) -> Result<Option<String>, StoreError> {
    let key = table_name_key(table);
    let existing: Option<String> = tx
        .prepare_cached("SELECT name FROM lf_tables WHERE name_key = ?1")
        .map_err(db)?
        .query_row([&key], |r| r.get(0))
        .optional()
        .map_err(db)?;
    match existing {
        Some(name) if name != table => Ok(Some(name)),
        Some(_) => Ok(None),
        None => {
            tx.prepare_cached("INSERT INTO lf_tables (name_key, name) VALUES (?1, ?2)")
                .map_err(db)?
                .execute(params![key, table])
                .map_err(db)?;
            Ok(None)
        }
    }
}

fn latest(conn: &Connection) -> Result<u64, StoreError> {
    let cursor: i64 = conn
        .prepare_cached("SELECT COALESCE(MAX(cursor), 0) FROM lf_changes")
        .map_err(db)?
        .query_row([], |r| r.get(0))
        .map_err(db)?;
    Ok(u64::try_from(cursor).unwrap_or(0))
}

fn current_row(tx: &Transaction<'_>, table: &str, id: &str) -> Result<Option<Row>, StoreError> {
    let text: Option<String> = tx
        .prepare_cached("SELECT data FROM lf_rows WHERE tbl = ?1 AND id = ?2")
        .map_err(db)?
        .query_row(params![table, id], |r| r.get(0))
        .optional()
        .map_err(db)?;
    parse_opt(text)
}

/// Applies one undecided entry inside `tx`; returns its outcome and whether it changed data.
fn apply_entry(
    tx: &Transaction<'_>,
    entry: &PushEntry,
    decide: &Decide,
) -> Result<(Outcome, bool), StoreError> {
    let old = current_row(tx, &entry.table, &entry.id)?;
    let decision = match decide(entry, old.as_ref()) {
        Ok(decision) => decision,
        Err(rejection) => return Ok((Outcome::Rejected(rejection), false)),
    };
    let (op, new) = match decision {
        Decision::Nothing => return Ok((Outcome::Applied, false)),
        Decision::Put(row) => {
            if let Some(existing) = register_table(tx, &entry.table)? {
                return Ok((
                    Outcome::Rejected(table_clash(&entry.table, &existing)),
                    false,
                ));
            }
            let text = row_text(&row)?;
            tx.prepare_cached(
                "INSERT INTO lf_rows (tbl, id, data) VALUES (?1, ?2, ?3)
                 ON CONFLICT (tbl, id) DO UPDATE SET data = excluded.data",
            )
            .map_err(db)?
            .execute(params![entry.table, entry.id, text])
            .map_err(db)?;
            (ChangeOp::Put, Some(text))
        }
        Decision::Delete => {
            tx.prepare_cached("DELETE FROM lf_rows WHERE tbl = ?1 AND id = ?2")
                .map_err(db)?
                .execute(params![entry.table, entry.id])
                .map_err(db)?;
            (ChangeOp::Delete, None)
        }
    };
    let old_text = old.as_ref().map(row_text).transpose()?;
    tx.prepare_cached("INSERT INTO lf_changes (tbl, id, op, row, old) VALUES (?1, ?2, ?3, ?4, ?5)")
        .map_err(db)?
        .execute(params![entry.table, entry.id, op_name(op), new, old_text])
        .map_err(db)?;
    Ok((Outcome::Applied, true))
}

fn op_name(op: ChangeOp) -> &'static str {
    match op {
        ChangeOp::Put => "put",
        ChangeOp::Delete => "delete",
    }
}

fn push_blocking(
    conn: &mut Connection,
    writer: &Writer,
    entries: &[PushEntry],
    decide: &Decide,
) -> Result<(PushResult, bool), StoreError> {
    let tx = conn
        .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
        .map_err(db)?;
    let mut outcomes = Vec::with_capacity(entries.len());
    let mut changed = false;
    // Set at the first key recorded with other content: that entry and every
    // later one of the batch are refused, and nothing of them is recorded.
    let mut reused = false;
    for entry in entries {
        let digest = entry.content_digest();
        type Recorded = (Option<String>, Option<String>, Option<Vec<u8>>);
        let recorded: Option<Recorded> = if reused {
            None
        } else {
            tx.prepare_cached(
                "SELECT code, message, digest FROM lf_applied
                 WHERE user_id = ?1 AND client_id = ?2 AND seq = ?3",
            )
            .map_err(db)?
            .query_row(params![writer.user_id, writer.client_id, entry.seq], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })
            .optional()
            .map_err(db)?
        };
        if let Some((_, _, stored)) = &recorded {
            reused |= !matches_record(stored.as_deref(), &digest);
        }
        let outcome = match recorded {
            _ if reused => Outcome::Rejected(Rejection::client_id_reused()),
            Some((None, _, _)) => Outcome::Duplicate,
            Some((Some(code), message, _)) => Outcome::Rejected(Rejection {
                code,
                message: message.unwrap_or_default(),
            }),
            None => {
                let (outcome, did_change) = apply_entry(&tx, entry, decide)?;
                changed |= did_change;
                let (code, message) = match &outcome {
                    Outcome::Rejected(r) => (Some(r.code.as_str()), Some(r.message.as_str())),
                    _ => (None, None),
                };
                tx.prepare_cached(
                    "INSERT INTO lf_applied (user_id, client_id, seq, code, message, digest)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                )
                .map_err(db)?
                .execute(params![
                    writer.user_id,
                    writer.client_id,
                    entry.seq,
                    code,
                    message,
                    digest.as_slice()
                ])
                .map_err(db)?;
                outcome
            }
        };
        outcomes.push((entry.seq, outcome));
    }
    let cursor = latest(&tx)?;
    tx.commit().map_err(db)?;
    Ok((PushResult { outcomes, cursor }, changed))
}

fn changes_blocking(
    conn: &Connection,
    after: u64,
    limit: usize,
    max_bytes: usize,
) -> Result<ChangePage, StoreError> {
    let after_i = i64::try_from(after).unwrap_or(i64::MAX);
    let fetch = i64::try_from(limit.saturating_add(1)).unwrap_or(i64::MAX);
    let mut stmt = conn
        .prepare_cached(
            "SELECT cursor, tbl, id, op, row, old FROM lf_changes
             WHERE cursor > ?1 ORDER BY cursor LIMIT ?2",
        )
        .map_err(db)?;
    // Rows are read one by one, so what does not fit is never loaded.
    let mut rows = stmt.query(params![after_i, fetch]).map_err(db)?;
    let mut changes = Vec::new();
    let (mut bytes, mut more) = (0usize, false);
    while let Some(r) = rows.next().map_err(db)? {
        let row: Option<String> = r.get(4).map_err(db)?;
        let old: Option<String> = r.get(5).map_err(db)?;
        let size = row.as_ref().map_or(0, String::len) + old.as_ref().map_or(0, String::len);
        bytes = bytes.saturating_add(size);
        if changes.len() == limit || (!changes.is_empty() && bytes > max_bytes) {
            more = true;
            break;
        }
        let op: String = r.get(3).map_err(db)?;
        let op = match op.as_str() {
            "put" => ChangeOp::Put,
            "delete" => ChangeOp::Delete,
            other => return Err(StoreError::Corrupt(format!("unknown change op {other}"))),
        };
        changes.push(Change {
            cursor: u64::try_from(r.get::<_, i64>(0).map_err(db)?).unwrap_or(0),
            table: r.get(1).map_err(db)?,
            id: r.get(2).map_err(db)?,
            op,
            row: parse_opt(row)?,
            old: parse_opt(old)?,
        });
    }
    let cursor = changes.last().map_or(after, |c| c.cursor);
    Ok(ChangePage {
        changes,
        cursor,
        more,
    })
}
