//! Schema creation, migrations and connection setup.

use std::collections::HashSet;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use rusqlite::{Connection, OpenFlags, TransactionBehavior};

use super::files::{prepare_database_file, NamespaceLock};
use super::outbox::NEXT_SEQ_KEY;
use super::store::{file_id, Open};
use super::{StorageError, BUSY_TIMEOUT, DB_FILE_NAME};

/// The schema version this build writes (`PRAGMA user_version`).
pub(super) const SCHEMA_VERSION: i64 = 3;

/// Sets the busy timeout, WAL mode and `synchronous=NORMAL`. SQLite does not
/// always call the busy handler while switching the journal mode, so that
/// pragma is retried until the busy timeout.
pub(super) fn configure(conn: &Connection) -> Result<(), StorageError> {
    conn.busy_timeout(BUSY_TIMEOUT)?;
    let start = Instant::now();
    loop {
        match conn.query_row("PRAGMA journal_mode=WAL", [], |r| r.get::<_, String>(0)) {
            Ok(_) => break,
            Err(e) => match StorageError::from(e) {
                StorageError::Busy { .. } if start.elapsed() < BUSY_TIMEOUT => {
                    std::thread::sleep(Duration::from_millis(5));
                }
                other => return Err(other),
            },
        }
    }
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    Ok(())
}

pub(super) fn create_schema(conn: &Connection) -> Result<(), StorageError> {
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
pub(super) fn data_version(conn: &Connection) -> Result<i64, StorageError> {
    Ok(conn.query_row("PRAGMA data_version", [], |r| r.get(0))?)
}

pub(super) fn open_flags() -> OpenFlags {
    OpenFlags::SQLITE_OPEN_READ_WRITE
        | OpenFlags::SQLITE_OPEN_CREATE
        | OpenFlags::SQLITE_OPEN_NO_MUTEX
}

pub(super) fn open_memory(generation: u64) -> Result<Open, StorageError> {
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

/// Opens the namespace database in the existing directory `dir` and records
/// which file it is, holding the namespace lock exclusively throughout: the
/// database file is created (mode `0600`), switched to WAL and given its schema
/// by one process at a time, and no wipe runs meanwhile. The generation is read
/// under the lock, so it belongs to the file opened.
pub(super) fn open_file(
    dir: &Path,
    lock: &NamespaceLock,
    generation: &AtomicU64,
) -> Result<Open, StorageError> {
    let path = dir.join(DB_FILE_NAME);
    let _guard = lock.exclusive()?;
    let generation = generation.load(Ordering::SeqCst);
    prepare_database_file(&path)?;
    let mut conn = Connection::open_with_flags(&path, open_flags())?;
    configure(&conn)?;
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    create_schema(&tx)?;
    tx.commit()?;
    // The first read attached the WAL and shared memory of this file; a wipe
    // (which needs the lock) cannot have replaced it.
    let file = file_id(&path)?;
    if file.is_none() {
        return Err(StorageError::Io {
            path: path.display().to_string(),
            reason: "the database file vanished while the namespace lock was held".into(),
        });
    }
    Ok(Open {
        conn,
        file,
        generation,
        tables: HashSet::new(),
    })
}
