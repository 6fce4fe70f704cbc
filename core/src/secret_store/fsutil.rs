//! File-system helpers shared by the stores that keep files (the file store and the
//! Keystore envelope store): private directories, atomic replacement, directory flushes,
//! and the mapping of I/O errors to [`StoreError`].

use std::fs::{self, File};
use std::io::{ErrorKind, Write as _};
use std::path::Path;
use std::time::{Duration, Instant};

use super::StoreError;

/// Maps an I/O error to `secret-store-permission-denied` or `secret-store-io`, naming what was being done and where.
pub(crate) fn io_error(context: &str, path: &Path, error: &std::io::Error) -> StoreError {
    let reason = format!("{context} {}: {error}", path.display());
    match error.kind() {
        ErrorKind::PermissionDenied => StoreError::PermissionDenied { reason },
        _ => StoreError::Io { reason },
    }
}

/// Creates `dir` and its missing parents, the new directory with mode `0700` (Unix).
/// An existing directory is left as it is.
#[cfg_attr(
    not(any(
        target_os = "android",
        all(feature = "jni-store", any(test, feature = "testing"))
    )),
    allow(dead_code)
)]
pub(crate) fn create_private_dir(dir: &Path) -> Result<(), StoreError> {
    if dir.is_dir() {
        return Ok(());
    }
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt as _;
        builder.mode(0o700);
    }
    builder
        .create(dir)
        .map_err(|e| io_error("cannot create the directory", dir, &e))
}

/// Takes an advisory lock (`flock` on Unix) on `file`, exclusive or shared,
/// trying again with short, growing pauses until `timeout` has passed: a blocking
/// wait could hang forever on a stuck holder. `Ok(false)` when the lock was still
/// held by another open file after `timeout`; a zero timeout tries once.
pub(crate) fn lock_within(
    file: &File,
    exclusive: bool,
    timeout: Duration,
) -> std::io::Result<bool> {
    let start = Instant::now();
    let mut pause = Duration::from_micros(200);
    loop {
        let attempt = if exclusive {
            fs4::FileExt::try_lock(file)
        } else {
            fs4::FileExt::try_lock_shared(file)
        };
        match attempt {
            Ok(()) => return Ok(true),
            Err(fs4::TryLockError::WouldBlock) => {}
            Err(fs4::TryLockError::Error(e)) => return Err(e),
        }
        let waited = start.elapsed();
        if waited >= timeout {
            return Ok(false);
        }
        std::thread::sleep(pause.min(timeout - waited));
        pause = (pause * 2).min(Duration::from_millis(10));
    }
}

/// A wait as people read it: `10 s`, `1.5 s`, `250 ms`.
pub(crate) fn show_duration(duration: Duration) -> String {
    if duration.as_millis() < 1000 {
        format!("{} ms", duration.as_millis())
    } else if duration.subsec_millis() == 0 {
        format!("{} s", duration.as_secs())
    } else {
        format!("{:.1} s", duration.as_secs_f64())
    }
}

/// Flushes directory entry changes (rename, unlink) to disk.
pub(crate) fn sync_dir(dir: &Path) -> Result<(), StoreError> {
    #[cfg(unix)]
    {
        File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(|e| io_error("cannot flush the directory", dir, &e))
    }
    #[cfg(not(unix))]
    {
        let _ = (dir, File::open);
        Ok(())
    }
}

/// A temporary file `<temp_prefix>…​.tmp` in `dir` (mode `0600`, removed on drop) holding
/// `bytes`, flushed to disk.
fn flushed_temp_file(
    dir: &Path,
    temp_prefix: &str,
    bytes: &[u8],
) -> Result<tempfile::NamedTempFile, StoreError> {
    let mut temp = tempfile::Builder::new()
        .prefix(temp_prefix)
        .suffix(".tmp")
        .tempfile_in(dir)
        .map_err(|e| io_error("cannot create a temporary file in", dir, &e))?;
    temp.write_all(bytes)
        .and_then(|()| temp.as_file().sync_all())
        .map_err(|e| io_error("cannot write", temp.path(), &e))?;
    Ok(temp)
}

/// Replaces `path` (inside `dir`) with `bytes`: a temporary file named
/// `<temp_prefix>…​.tmp` created with mode `0600`, flushed, renamed over `path`, then the
/// directory flushed. A crash leaves the old or the new contents, never a mix; the
/// temporary file is removed if anything fails before the rename.
pub(crate) fn write_atomically(
    dir: &Path,
    path: &Path,
    temp_prefix: &str,
    bytes: &[u8],
) -> Result<(), StoreError> {
    let temp = flushed_temp_file(dir, temp_prefix, bytes)?;
    temp.persist(path)
        .map_err(|e| io_error("cannot move the new file into", path, &e.error))?;
    sync_dir(dir)
}

/// Like [`write_atomically`], but never replaces: the flushed temporary file is moved
/// to `path` only if nothing is there (`renameat2(RENAME_NOREPLACE)` or a hard link on
/// Unix, a move without replace on Windows, as done by `tempfile`'s
/// `persist_noclobber`). Returns `Ok(false)`, having written nothing, when `path`
/// already exists; the temporary file is removed in every case but success.
pub(crate) fn create_atomically(
    dir: &Path,
    path: &Path,
    temp_prefix: &str,
    bytes: &[u8],
) -> Result<bool, StoreError> {
    let temp = flushed_temp_file(dir, temp_prefix, bytes)?;
    match temp.persist_noclobber(path) {
        Ok(_) => {}
        // The returned temporary file is deleted when the error is dropped.
        Err(e) if e.error.kind() == ErrorKind::AlreadyExists => return Ok(false),
        Err(e) => return Err(io_error("cannot move the new file into", path, &e.error)),
    }
    sync_dir(dir)?;
    Ok(true)
}

/// [`write_atomically`] into `path`'s own directory (created private if missing), with a
/// hidden temporary name derived from the file name.
#[cfg_attr(
    not(any(
        target_os = "android",
        all(feature = "jni-store", any(test, feature = "testing"))
    )),
    allow(dead_code)
)]
pub(crate) fn replace_file(path: &Path, bytes: &[u8]) -> Result<(), StoreError> {
    let (Some(dir), Some(name)) = (path.parent(), path.file_name()) else {
        return Err(StoreError::Io {
            reason: format!("{} is not a file path", path.display()),
        });
    };
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    create_private_dir(dir)?;
    write_atomically(dir, path, &format!(".{}.", name.to_string_lossy()), bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_files(dir: &Path) -> Vec<String> {
        fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|name| name.ends_with(".tmp"))
            .collect()
    }

    #[test]
    fn create_atomically_never_replaces() {
        let dir = tempfile::TempDir::new().unwrap();
        let path = dir.path().join("item");
        assert!(create_atomically(dir.path(), &path, ".item.", b"first").unwrap());
        assert_eq!(fs::read(&path).unwrap(), b"first");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
        }
        assert!(!create_atomically(dir.path(), &path, ".item.", b"second").unwrap());
        assert_eq!(fs::read(&path).unwrap(), b"first");
        // Something other than a file in the way is not replaced either.
        let blocked = dir.path().join("blocked");
        fs::create_dir(&blocked).unwrap();
        assert!(!create_atomically(dir.path(), &blocked, ".blocked.", b"x").unwrap());
        assert!(blocked.is_dir());
        assert_eq!(temp_files(dir.path()), Vec::<String>::new());
    }

    #[test]
    fn write_atomically_replaces() {
        let dir = tempfile::TempDir::new().unwrap();
        let path = dir.path().join("item");
        write_atomically(dir.path(), &path, ".item.", b"first").unwrap();
        write_atomically(dir.path(), &path, ".item.", b"second").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"second");
        assert_eq!(temp_files(dir.path()), Vec::<String>::new());
    }
}
