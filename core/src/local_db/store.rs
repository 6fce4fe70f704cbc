//! The store: opening, reading and writing, the reset protocol.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, MutexGuard, Weak};

use rusqlite::{Connection, OptionalExtension, TransactionBehavior};

use super::files::{
    create_namespace_dir, hub_key, remove_database_files, LockGuard, NamespaceLock,
};
use super::hub::{hub_for, lock, ChangeSink, Hub, NEXT_ID};
use super::names::{filter_column, index_name, sql_table};
use super::outbox::OutboxEntry;
use super::query::Query;
use super::schema::{data_version, open_file, open_memory};
use super::tx::{ReadTx, WriteTx};
use super::{io_error, Row, StorageError, DB_FILE_NAME};

// ---------------------------------------------------------------------------
// The store

/// Where a store keeps its database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum StoreLocation {
    /// `<namespace dir>/local.sqlite3` on disk.
    Directory(PathBuf),
    /// A private in-memory database (lost when the store closes).
    Memory,
}

/// The local database of one namespace, as seen by one `Db`.
pub(crate) struct LocalStore {
    pub(super) location: StoreLocation,
    /// The namespace's lock file (on disk only).
    pub(super) lock: Option<NamespaceLock>,
    pub(super) hub: Arc<Hub>,
    pub(super) id: u64,
    pub(super) state: Mutex<StoreState>,
}

impl std::fmt::Debug for LocalStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalStore")
            .field("location", &self.location)
            .finish()
    }
}

impl LocalStore {
    /// Opens (creating if needed) the store at `location`. A new namespace
    /// directory (and missing parents) gets mode `0700`.
    pub fn open(location: StoreLocation) -> Result<LocalStore, StorageError> {
        let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
        let (key, namespace_lock) = match &location {
            StoreLocation::Directory(dir) => {
                create_namespace_dir(dir)?;
                let canonical = dir.canonicalize().map_err(|e| io_error(dir, &e))?;
                (hub_key(&canonical), Some(NamespaceLock::open(dir)?))
            }
            StoreLocation::Memory => (format!("memory:{id}"), None),
        };
        let hub = hub_for(&key);
        let open = open_database(&location, namespace_lock.as_ref(), &hub)?;
        let data_version = Some(data_version(&open.conn)?);
        Ok(LocalStore {
            location,
            lock: namespace_lock,
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

    pub(super) fn unregister_sink(&self) {
        lock(&self.hub.sinks).retain(|(id, _)| *id != self.id);
    }

    pub(super) fn reopen(&self, state: &mut StoreState) -> Result<(), StorageError> {
        state.open = None;
        state.data_version = None;
        let open = open_database(&self.location, self.lock.as_ref(), &self.hub)?;
        state.data_version = Some(data_version(&open.conn)?);
        state.open = Some(open);
        Ok(())
    }

    /// Whether the open connection still belongs to the live database.
    pub(super) fn is_current(&self, open: &Open) -> Result<bool, StorageError> {
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

    /// Locks the state and takes the namespace lock shared, reporting a pending
    /// or newly detected reset (after reopening a fresh database). While the
    /// returned guards live no wipe can run, so the connection stays on the
    /// live file: it is checked before SQLite is touched, never after.
    pub(super) fn checked(&self) -> Result<Checked<'_>, StorageError> {
        let mut state = lock(&self.state);
        if state.closed {
            return Err(StorageError::Closed);
        }
        if state.reset_unreported {
            state.reset_unreported = false;
            return Err(StorageError::Reset);
        }
        let held = match &self.lock {
            Some(namespace_lock) => Some(namespace_lock.shared()?),
            None => None,
        };
        let current = match &state.open {
            Some(open) => self.is_current(open)?,
            None => false,
        };
        if !current {
            drop(held);
            self.reopen(&mut state)?;
            return Err(StorageError::Reset);
        }
        Ok(Checked { state, _held: held })
    }

    /// Runs `f` in one write transaction (taking the write lock first), commits,
    /// then notifies every store of the namespace in this process of the tables
    /// touched. If the namespace was reset, nothing runs and `Reset` is returned.
    pub fn write<T, E>(&self, f: impl FnOnce(&mut WriteTx<'_>) -> Result<T, E>) -> Result<T, E>
    where
        E: From<StorageError>,
    {
        let (value, touched) = {
            let mut checked = self.checked()?;
            let Some(open) = checked.state.open.as_mut() else {
                return Err(StorageError::Closed.into());
            };
            let tx = open
                .conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(StorageError::from)?;
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
        let checked = self.checked()?;
        let Some(open) = checked.state.open.as_ref() else {
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
            let name = index_name(table, column);
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
        let mut checked = self.checked()?;
        let state = &mut *checked.state;
        let Some(open) = state.open.as_ref() else {
            return Err(StorageError::Closed);
        };
        let version = data_version(&open.conn)?;
        let changed = state.data_version.is_some_and(|v| v != version);
        state.data_version = Some(version);
        Ok(changed)
    }

    /// Deletes the namespace's database files (incl. `-wal`/`-shm`). Takes the
    /// namespace lock exclusively first, so no operation of any process is
    /// running and none starts, bumps the namespace generation so other stores
    /// of this process notice, then reopens a fresh database (with `reopen`) or
    /// closes this store for good. Other stores are notified after.
    pub fn delete_storage(&self, reopen: bool) -> Result<(), StorageError> {
        {
            let mut state = lock(&self.state);
            if state.closed {
                return Err(StorageError::Closed);
            }
            {
                let _held = match &self.lock {
                    Some(namespace_lock) => Some(namespace_lock.exclusive()?),
                    None => None,
                };
                self.hub.generation.fetch_add(1, Ordering::SeqCst);
                state.open = None;
                state.data_version = None;
                state.reset_unreported = false;
                if let StoreLocation::Directory(dir) = &self.location {
                    remove_database_files(dir)?;
                }
            }
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

/// Identity of an open file: (device, inode) on Unix.
pub(super) type FileId = (u64, u64);

#[cfg(unix)]
pub(super) fn file_id(path: &Path) -> Result<Option<FileId>, StorageError> {
    use std::os::unix::fs::MetadataExt as _;
    match std::fs::metadata(path) {
        Ok(meta) => Ok(Some((meta.dev(), meta.ino()))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io_error(path, &e)),
    }
}

#[cfg(not(unix))]
pub(super) fn file_id(path: &Path) -> Result<Option<FileId>, StorageError> {
    // Without inode numbers only existence can be checked; resets by other
    // processes are detected when the file is missing.
    match std::fs::metadata(path) {
        Ok(_) => Ok(Some((0, 0))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io_error(path, &e)),
    }
}

pub(super) struct Open {
    pub(super) conn: Connection,
    /// The file the connection has open (None in memory).
    pub(super) file: Option<FileId>,
    /// The hub generation the connection belongs to.
    pub(super) generation: u64,
    /// Tables known to exist in this database.
    pub(super) tables: HashSet<String>,
}

pub(super) struct StoreState {
    pub(super) open: Option<Open>,
    /// A reset was noticed in the background and not yet reported to a caller.
    pub(super) reset_unreported: bool,
    pub(super) closed: bool,
    pub(super) data_version: Option<i64>,
}

/// A store's state, locked, with the namespace lock held shared (on disk).
pub(super) struct Checked<'s> {
    pub(super) state: MutexGuard<'s, StoreState>,
    _held: Option<LockGuard<'s>>,
}

/// Opens the database at `location` for a store of `hub`.
fn open_database(
    location: &StoreLocation,
    namespace_lock: Option<&NamespaceLock>,
    hub: &Hub,
) -> Result<Open, StorageError> {
    match (location, namespace_lock) {
        (StoreLocation::Directory(dir), Some(namespace_lock)) => {
            open_file(dir, namespace_lock, &hub.generation)
        }
        (StoreLocation::Directory(dir), None) => Err(StorageError::Io {
            path: dir.display().to_string(),
            reason: "no lock file for this namespace".into(),
        }),
        (StoreLocation::Memory, _) => open_memory(hub.generation.load(Ordering::SeqCst)),
    }
}

impl Drop for LocalStore {
    fn drop(&mut self) {
        self.unregister_sink();
    }
}
