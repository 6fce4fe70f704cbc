//! The files of a namespace: the private directory (also the lock that orders
//! opening, operations and wiping across processes), the database file created
//! with mode `0600`, and wiping without opening SQLite.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;

use super::hub::existing_hub;
use super::{io_error, namespace_dir, StorageError, BUSY_TIMEOUT, DB_FILE_NAME};
use crate::secret_store::fsutil::{lock_within, show_duration};

/// What [`wipe_namespace`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WipeOutcome {
    /// Database files existed and were deleted.
    Wiped,
    /// There was no database: nothing was deleted, and nothing was created.
    NothingThere,
}

/// Deletes the database files of `app_id`'s namespace under `data_dir`
/// (`local.sqlite3` and its `-wal`, `-shm`, `-journal`) without opening them
/// with SQLite, so it works on a database that will not open (corrupt, not a
/// database, a newer schema).
///
/// It coordinates like a store's own wipe: it takes the namespace lock
/// exclusively (waiting, up to the busy timeout,
/// for operations of every process to finish), bumps the in-process generation
/// so live stores of this process reopen and report `storage-reset`, and
/// notifies them. Stores in other processes notice the new file on their next
/// operation and report `storage-reset` too.
///
/// A missing namespace directory is left missing: the result is
/// [`WipeOutcome::NothingThere`] and nothing is created. The identity secret
/// is never touched.
pub fn wipe_namespace(data_dir: &Path, app_id: &str) -> Result<WipeOutcome, StorageError> {
    let dir = namespace_dir(data_dir, app_id);
    if !dir.is_dir() {
        return Ok(WipeOutcome::NothingThere);
    }
    let lock = NamespaceLock::open(&dir)?;
    let hub = dir
        .canonicalize()
        .ok()
        .and_then(|canonical| existing_hub(&hub_key(&canonical)));
    let existed = {
        let _guard = lock.exclusive()?;
        if let Some(hub) = &hub {
            hub.generation.fetch_add(1, Ordering::SeqCst);
        }
        remove_database_files(&dir)?
    };
    if let Some(hub) = hub {
        hub.notify_reset();
    }
    Ok(if existed {
        WipeOutcome::Wiped
    } else {
        WipeOutcome::NothingThere
    })
}

/// Whether `app_id`'s namespace under `data_dir` has a database file. Checks
/// only; creates nothing.
pub fn namespace_exists(data_dir: &Path, app_id: &str) -> bool {
    namespace_dir(data_dir, app_id).join(DB_FILE_NAME).is_file()
}

/// The registry key of a namespace directory (already canonical).
pub(super) fn hub_key(canonical_dir: &Path) -> String {
    format!("dir:{}", canonical_dir.display())
}

/// Creates a private directory (a namespace's, the sync server's data folder) and its
/// missing parents with mode `0700` (Unix); an existing directory is left as it is.
pub fn create_namespace_dir(dir: &Path) -> Result<(), StorageError> {
    crate::secret_store::fsutil::create_private_dir(dir).map_err(|e| StorageError::Io {
        path: dir.display().to_string(),
        reason: e.to_string(),
    })
}

/// Makes sure a SQLite database file exists with mode `0600` before SQLite opens it
/// (SQLite gives `-wal` and `-shm` the mode of the database file, whatever the
/// umask). An existing file readable by others is made private. Used for the local
/// databases and for the sync server's.
pub fn prepare_database_file(path: &Path) -> Result<(), StorageError> {
    let mut options = std::fs::OpenOptions::new();
    options.read(true).write(true).create(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let file = options.open(path).map_err(|e| io_error(path, &e))?;
    make_private(&file, path)
}

/// Deletes the database files in `dir`; returns whether any existed.
///
/// Whatever sits at one of those names goes: a file, a symbolic link (the link,
/// never its target) or a directory with its contents. The namespace directory
/// belongs to the library, and a directory named `local.sqlite3` can only keep the
/// namespace from opening, so a wipe clears it instead of failing on it.
pub(super) fn remove_database_files(dir: &Path) -> Result<bool, StorageError> {
    let mut existed = false;
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let path = dir.join(format!("{DB_FILE_NAME}{suffix}"));
        let removed = match std::fs::symlink_metadata(&path) {
            Ok(meta) if meta.is_dir() => std::fs::remove_dir_all(&path),
            Ok(_) => std::fs::remove_file(&path),
            Err(e) => Err(e),
        };
        match removed {
            Ok(()) => existed = true,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(io_error(&path, &e)),
        }
    }
    Ok(existed)
}

/// The lock of one namespace: an advisory `flock` on the namespace directory
/// itself, open for the life of a store. The directory is never deleted (a wipe
/// removes only the database files), so every process locks the same inode,
/// and no lock file appears beside the database.
///
/// Operations (reads and writes) hold it shared; opening a database (creating
/// it, switching it to WAL, creating or migrating the schema) and wiping hold
/// it exclusively. So a wipe never runs while any process is inside an
/// operation or opening, and an operation never starts on a file a wipe is
/// deleting. `flock` locks belong to an open file, so two stores of one process
/// exclude each other too. Without Unix there is no directory lock: only the
/// in-process generation and the file's existence are checked.
#[derive(Debug)]
pub(super) struct NamespaceLock {
    #[cfg_attr(not(unix), allow(dead_code))]
    dir: Option<File>,
    path: PathBuf,
}

/// Holds a [`NamespaceLock`] until dropped.
#[derive(Debug)]
pub(super) struct LockGuard<'a> {
    lock: &'a NamespaceLock,
}

impl NamespaceLock {
    /// Opens the existing namespace directory `dir` for locking.
    pub(super) fn open(dir: &Path) -> Result<NamespaceLock, StorageError> {
        #[cfg(unix)]
        let handle = Some(File::open(dir).map_err(|e| io_error(dir, &e))?);
        #[cfg(not(unix))]
        let handle = None;
        Ok(NamespaceLock {
            dir: handle,
            path: dir.to_path_buf(),
        })
    }

    /// Takes the lock shared (for an operation).
    pub(super) fn shared(&self) -> Result<LockGuard<'_>, StorageError> {
        self.acquire(false)
    }

    /// Takes the lock exclusively (for opening or wiping).
    pub(super) fn exclusive(&self) -> Result<LockGuard<'_>, StorageError> {
        self.acquire(true)
    }

    /// Tries the lock until it is granted or the busy timeout has passed
    /// (`busy`, as SQLite's own timeout gives).
    fn acquire(&self, exclusive: bool) -> Result<LockGuard<'_>, StorageError> {
        let Some(dir) = &self.dir else {
            return Ok(LockGuard { lock: self });
        };
        match lock_within(dir, exclusive, BUSY_TIMEOUT) {
            Ok(true) => Ok(LockGuard { lock: self }),
            Ok(false) => Err(StorageError::Busy {
                reason: format!(
                    "the namespace {} stayed locked for {}",
                    self.path.display(),
                    show_duration(BUSY_TIMEOUT)
                ),
            }),
            Err(e) => Err(io_error(&self.path, &e)),
        }
    }
}

impl Drop for LockGuard<'_> {
    fn drop(&mut self) {
        // Closing the file would release it too; an unlock error leaves it held
        // until then, which only delays others.
        if let Some(dir) = &self.lock.dir {
            let _ = fs4::FileExt::unlock(dir);
        }
    }
}

/// Sets mode `0600` on a file whose mode lets anyone else in (Unix).
fn make_private(file: &File, path: &Path) -> Result<(), StorageError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = file
            .metadata()
            .map_err(|e| io_error(path, &e))?
            .permissions()
            .mode();
        if mode & 0o077 != 0 {
            // Best effort: a file of another owner cannot be changed, and is
            // still usable if its mode lets us in.
            let _ = file.set_permissions(std::fs::Permissions::from_mode(0o600));
        }
    }
    #[cfg(not(unix))]
    let _ = (file, path);
    Ok(())
}
