//! The store: opening, reading and writing, the reset protocol.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, MutexGuard, Weak};

use rusqlite::{Connection, OptionalExtension, TransactionBehavior};

use super::hub::{hub_for, lock, ChangeSink, Hub, NEXT_ID};
use super::names::{filter_column, sql_table};
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

/// The local database of one namespace, as seen by one `Db`.
pub(crate) struct LocalStore {
    pub(super) location: StoreLocation,
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

    /// Locks the state, reporting a pending or newly detected reset (after
    /// reopening a fresh database).
    pub(super) fn checked(&self) -> Result<MutexGuard<'_, StoreState>, StorageError> {
        self.checked_with(true)
    }

    pub(super) fn checked_with(
        &self,
        verify_file: bool,
    ) -> Result<MutexGuard<'_, StoreState>, StorageError> {
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

    pub(super) fn remove_files(&self) -> Result<(), StorageError> {
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
