//! A file-backed secret store for desktop apps, command-line tools and tests.
//!
//! One directory holds one file per [`StorageKey`]. The guarantees:
//!
//! - **Atomic writes.** A save writes a temporary file in the same directory,
//!   flushes it to disk, renames it over the secret file and flushes the
//!   directory. A crash (even `SIGKILL` or power loss after the flush) leaves
//!   either the old or the new secret, never a mix.
//! - **Private.** The directory is created with mode `0700` and secret files
//!   are written with mode `0600` (Unix). An existing directory that other
//!   users may write to is refused with `secret-store-permission-denied`, since they could
//!   swap the files underneath us.
//! - **Cross-process `get_or_create`.** [`AuthSecretStore::lock_exclusive`]
//!   takes an exclusive advisory lock on a `.lock` file beside the secret
//!   file (after the in-process lock), so concurrent processes sharing the
//!   directory all get the same secret. It waits at most the lock timeout
//!   ([`DEFAULT_LOCK_TIMEOUT`], or [`FileStoreOptions::lock_timeout`]) for
//!   both locks together, then fails with `secret-store-locked`: a process
//!   that holds the lock and hangs never blocks the others forever.
//! - **Reads create nothing.** [`FileStore::open_existing`] opens a store only
//!   if its directory exists (`None` otherwise, which reads as "no secret"), so
//!   loading or clearing never creates a directory; [`FileStore::open`], for
//!   writers, creates it.
//! - **Creating never replaces.** The write of `get_or_create_secret`
//!   ([`AuthSecretStore::create_secret`]) moves its flushed temporary file
//!   into place with a rename that refuses to overwrite (`tempfile`'s
//!   `persist_noclobber`: `renameat2(RENAME_NOREPLACE)`, else a hard link, on
//!   Unix; a move without replace on Windows). If a file appeared since the
//!   load, for instance from a `save_secret` in a process that does not take
//!   the lock, that file wins and its secret is returned. File systems that
//!   offer neither operation make creating fail with `secret-store-io`; they are not
//!   supported.
//! - **Failures are never absence.** Only a missing file is "no secret". A
//!   file that is empty, truncated, or holds anything but the expected format
//!   is `secret-store-corrupted`; unreadable files are `secret-store-permission-denied` or `secret-store-io`.
//!
//! File format (UTF-8 text, two lines):
//!
//! ```text
//! localfirst-secret-v1
//! <the secret as 43 characters of unpadded base64url>
//! ```
//!
//! File names: the storage key with every byte other than `a-z 0-9 - _`
//! written as `%XX` (upper-case hex), plus `.secret`
//! (`jazz-auth-secret%3Amy-app.secret`, `jazz-auth-secret%3A%4Dy%41pp.secret`
//! for the app id `MyApp`). Upper-case letters are escaped too because macOS
//! and Windows file systems ignore letter case by default: with them kept,
//! `MyApp` and `myapp` would share one file. The only upper-case letters left
//! are hex digits of escapes, so two keys give names that differ even after
//! case folding. Keys whose encoded form exceeds 200 bytes use the hex SHA-256
//! of the key instead (`<64 hex>.long.secret`), keeping names within
//! file-system limits.

use std::fs::{self, File, OpenOptions};
use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use sha2::{Digest as _, Sha256};
use zeroize::Zeroizing;

use super::fsutil::{
    create_atomically, io_error, lock_within, show_duration, sync_dir, write_atomically,
};
use super::{AuthSecretStore, StorageKey, StoreError, StoreLock};
use crate::secret::{Secret, SECRET_B64_LEN};

/// First line of every secret file.
pub const FILE_HEADER: &str = "localfirst-secret-v1";

/// Longest encoded storage key used verbatim as a file name stem.
const MAX_READABLE_STEM: usize = 200;

/// How long a [`FileStore`] waits for its lock (held by another process or thread)
/// before failing with `secret-store-locked`, unless
/// [`FileStoreOptions::lock_timeout`] says otherwise.
pub const DEFAULT_LOCK_TIMEOUT: Duration = Duration::from_secs(10);

/// A secret store keeping one file per storage key in a directory.
#[derive(Clone)]
pub struct FileStore {
    dir: PathBuf,
    key: StorageKey,
    stem: String,
    lock_timeout: Duration,
}

/// How a [`FileStore`] is opened: [`FileStoreOptions::new`], then
/// [`open`](Self::open) or [`open_existing`](Self::open_existing).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileStoreOptions {
    lock_timeout: Duration,
}

impl Default for FileStoreOptions {
    fn default() -> FileStoreOptions {
        FileStoreOptions {
            lock_timeout: DEFAULT_LOCK_TIMEOUT,
        }
    }
}

impl FileStoreOptions {
    /// The defaults: a lock timeout of [`DEFAULT_LOCK_TIMEOUT`].
    pub fn new() -> FileStoreOptions {
        FileStoreOptions::default()
    }

    /// Waits at most `timeout` for the store's lock (zero: one attempt).
    pub fn lock_timeout(mut self, timeout: Duration) -> FileStoreOptions {
        self.lock_timeout = timeout;
        self
    }

    /// Opens the store for `key` in `dir`, creating the directory (mode `0700`)
    /// if needed. See [`FileStore::open`].
    pub fn open(&self, dir: impl AsRef<Path>, key: StorageKey) -> Result<FileStore, StoreError> {
        match self.open_dir(dir.as_ref(), key, true)? {
            Some(store) => Ok(store),
            None => Err(StoreError::Io {
                reason: format!(
                    "the store directory {} vanished while it was opened",
                    dir.as_ref().display()
                ),
            }),
        }
    }

    /// Opens the store for `key` in `dir` if the directory exists; `None` (and
    /// nothing created) when it does not. See [`FileStore::open_existing`].
    pub fn open_existing(
        &self,
        dir: impl AsRef<Path>,
        key: StorageKey,
    ) -> Result<Option<FileStore>, StoreError> {
        self.open_dir(dir.as_ref(), key, false)
    }

    fn open_dir(
        &self,
        dir: &Path,
        key: StorageKey,
        create: bool,
    ) -> Result<Option<FileStore>, StoreError> {
        if !prepare_dir(dir, create)? {
            return Ok(None);
        }
        let dir = fs::canonicalize(dir)
            .map_err(|e| io_error("cannot resolve the store directory", dir, &e))?;
        let stem = encode_stem(&key);
        let store = FileStore {
            dir,
            key,
            stem,
            lock_timeout: self.lock_timeout,
        };
        {
            let _lock = store.lock_exclusive()?;
            store.remove_temp_files()?;
        }
        Ok(Some(store))
    }
}

fn encode_stem(key: &StorageKey) -> String {
    let mut out = String::new();
    for byte in key.as_str().bytes() {
        // Upper-case letters are escaped: see the module documentation.
        if byte.is_ascii_lowercase() || byte.is_ascii_digit() || byte == b'-' || byte == b'_' {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    if out.len() <= MAX_READABLE_STEM {
        return out;
    }
    let digest = Sha256::digest(key.as_str().as_bytes());
    let mut hex = String::with_capacity(64 + 5);
    for byte in digest {
        hex.push_str(&format!("{byte:02x}"));
    }
    hex.push_str(".long");
    hex
}

/// Checks the store directory (and creates it when `create`); `false` when it does
/// not exist and was not created.
#[cfg(unix)]
fn prepare_dir(dir: &Path, create: bool) -> Result<bool, StoreError> {
    use std::os::unix::fs::{DirBuilderExt as _, PermissionsExt as _};

    match fs::metadata(dir) {
        Ok(meta) => {
            if !meta.is_dir() {
                return Err(StoreError::Io {
                    reason: format!("{} exists and is not a directory", dir.display()),
                });
            }
            let mode = meta.permissions().mode();
            if mode & 0o022 != 0 {
                return Err(StoreError::PermissionDenied {
                    reason: format!(
                        "{} is writable by other users (mode {:o}); use a private directory",
                        dir.display(),
                        mode & 0o7777
                    ),
                });
            }
            Ok(true)
        }
        Err(error) if error.kind() == ErrorKind::NotFound && !create => Ok(false),
        Err(error) if error.kind() == ErrorKind::NotFound => {
            fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(dir)
                .map_err(|e| io_error("cannot create the store directory", dir, &e))?;
            fs::set_permissions(dir, fs::Permissions::from_mode(0o700))
                .map_err(|e| io_error("cannot restrict the store directory", dir, &e))?;
            Ok(true)
        }
        Err(error) => Err(io_error("cannot inspect the store directory", dir, &error)),
    }
}

#[cfg(not(unix))]
fn prepare_dir(dir: &Path, create: bool) -> Result<bool, StoreError> {
    match fs::metadata(dir) {
        Ok(meta) if meta.is_dir() => Ok(true),
        Ok(_) => Err(StoreError::Io {
            reason: format!("{} exists and is not a directory", dir.display()),
        }),
        Err(error) if error.kind() == ErrorKind::NotFound && !create => Ok(false),
        Err(error) if error.kind() == ErrorKind::NotFound => fs::create_dir_all(dir)
            .map(|()| true)
            .map_err(|e| io_error("cannot create the store directory", dir, &e)),
        Err(error) => Err(io_error("cannot inspect the store directory", dir, &error)),
    }
}

/// Encodes a secret in the file format. The buffer wipes itself on drop.
pub fn encode_file(secret: &Secret) -> Zeroizing<Vec<u8>> {
    let text = secret.to_base64url();
    let mut out = Zeroizing::new(Vec::with_capacity(FILE_HEADER.len() + SECRET_B64_LEN + 2));
    out.extend_from_slice(FILE_HEADER.as_bytes());
    out.push(b'\n');
    out.extend_from_slice(text.as_bytes());
    out.push(b'\n');
    out
}

/// Decodes the file format strictly; anything else is [`StoreError::Corrupted`].
/// The reason never quotes the file's content.
pub fn decode_file(bytes: &[u8]) -> Result<Secret, StoreError> {
    let corrupted = |why: &str| StoreError::Corrupted {
        reason: format!("secret file {why}"),
    };
    if bytes.is_empty() {
        return Err(corrupted("is empty"));
    }
    let text = std::str::from_utf8(bytes).map_err(|_| corrupted("is not UTF-8 text"))?;
    let after_header = text
        .strip_prefix(FILE_HEADER)
        .ok_or_else(|| corrupted(&format!("does not start with `{FILE_HEADER}`")))?;
    if after_header.contains('\r') {
        return Err(corrupted(
            "has CRLF (Windows) line endings; the format takes LF only",
        ));
    }
    let body = match after_header.strip_prefix('\n') {
        Some(body) if !body.is_empty() => body,
        Some(_) => return Err(corrupted("holds only the header line, no secret")),
        None if after_header.is_empty() => {
            return Err(corrupted("holds only the header line, no secret"))
        }
        None => {
            return Err(corrupted(&format!(
                "does not start with the line `{FILE_HEADER}`"
            )))
        }
    };
    let encoded = body
        .strip_suffix('\n')
        .ok_or_else(|| corrupted("is truncated (no final newline)"))?;
    Secret::parse_base64url(encoded)
        .map_err(|e| corrupted(&format!("does not hold a valid secret ({e})")))
}

/// Longest secret file read: the format is 66 bytes; anything larger is refused
/// without reading it all.
const MAX_FILE_LEN: u64 = 1024;

/// Reads a secret file without reading more than [`MAX_FILE_LEN`] bytes and
/// without opening anything but a regular file: the type is checked before the
/// open (a FIFO without a writer would block the open itself) and again on the
/// opened file. Oversized or non-regular files are `InvalidData`. The directory
/// is private (`0700`), so only its owner could swap a file between the check
/// and the open.
fn read_bounded(path: &Path) -> std::io::Result<Zeroizing<Vec<u8>>> {
    use std::io::Read as _;

    let not_regular = || std::io::Error::new(ErrorKind::InvalidData, "is not a regular file");
    let meta = fs::metadata(path)?;
    if meta.is_dir() {
        // Not something stored by anyone: an I/O problem, as reading it would report.
        return Err(std::io::Error::other("is a directory"));
    }
    if !meta.is_file() {
        return Err(not_regular());
    }
    let file = File::open(path)?;
    if !file.metadata()?.is_file() {
        return Err(not_regular());
    }
    // Allocated once at full size: no reallocation leaves an unwiped copy behind.
    let mut bytes = Zeroizing::new(Vec::with_capacity(MAX_FILE_LEN as usize + 1));
    file.take(MAX_FILE_LEN + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > MAX_FILE_LEN {
        return Err(std::io::Error::new(
            ErrorKind::InvalidData,
            format!("is larger than {MAX_FILE_LEN} bytes"),
        ));
    }
    Ok(bytes)
}

/// Holds the cross-process lock file; closing it releases the lock.
struct LockFileGuard(File);

impl Drop for LockFileGuard {
    fn drop(&mut self) {
        // Closing the descriptor releases the lock as well; an explicit unlock
        // just makes it immediate. Nothing useful can be done if it fails.
        let _ = fs4::FileExt::unlock(&self.0);
    }
}

impl FileStore {
    /// Opens the store for `key` in `dir`, creating the directory (mode `0700`)
    /// if needed. Reads no secret; removes temporary copies left by an
    /// interrupted save of this key (under the exclusive lock, waited for at most
    /// [`DEFAULT_LOCK_TIMEOUT`]; [`FileStoreOptions`] sets another wait).
    pub fn open(dir: impl AsRef<Path>, key: StorageKey) -> Result<FileStore, StoreError> {
        FileStoreOptions::new().open(dir, key)
    }

    /// Opens the store for `key` in `dir` as [`open`](Self::open) does, but only if
    /// the directory exists: `Ok(None)` otherwise, with nothing created. For
    /// callers that only read or clear, where a missing directory means "no secret".
    pub fn open_existing(
        dir: impl AsRef<Path>,
        key: StorageKey,
    ) -> Result<Option<FileStore>, StoreError> {
        FileStoreOptions::new().open_existing(dir, key)
    }

    /// The (canonical) directory holding the files.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The file holding this store's secret.
    pub fn path(&self) -> PathBuf {
        self.dir.join(format!("{}.secret", self.stem))
    }

    /// The lock file guarding `get_or_create_secret` across processes.
    pub fn lock_path(&self) -> PathBuf {
        self.dir.join(format!("{}.lock", self.stem))
    }

    /// Temporary files of this key are `.<stem>.secret.<random>.tmp`.
    fn temp_prefix(&self) -> String {
        format!(".{}.secret.", self.stem)
    }

    /// Whether `name` is a temporary file of this key: the current form
    /// `.<stem>.secret.<random>.tmp` or the earlier `.<stem>.<random>.tmp`.
    fn is_own_temp_file(&self, name: &str) -> bool {
        let Some(middle) = name
            .strip_prefix('.')
            .and_then(|n| n.strip_prefix(self.stem.as_str()))
            .and_then(|n| n.strip_prefix('.'))
            .and_then(|n| n.strip_suffix(".tmp"))
        else {
            return false;
        };
        let random = middle.strip_prefix("secret.").unwrap_or(middle);
        !random.is_empty() && random.bytes().all(|b| b.is_ascii_alphanumeric())
    }

    /// Removes temporary files left by saves that were interrupted (they may
    /// hold a copy of a secret). Called with the exclusive lock held, by every
    /// operation that writes or removes (open, save, create, clear), so a crash
    /// leaves a copy behind only until the next one.
    fn remove_temp_files(&self) -> Result<(), StoreError> {
        let entries = fs::read_dir(&self.dir)
            .map_err(|e| io_error("cannot list the store directory", &self.dir, &e))?;
        let mut removed = false;
        for entry in entries {
            let entry =
                entry.map_err(|e| io_error("cannot list the store directory", &self.dir, &e))?;
            let name = entry.file_name();
            let Some(name) = name.to_str() else { continue };
            if self.is_own_temp_file(name) {
                match fs::remove_file(entry.path()) {
                    Ok(()) => removed = true,
                    Err(e) if e.kind() == ErrorKind::NotFound => {}
                    Err(e) => return Err(io_error("cannot remove", &entry.path(), &e)),
                }
            }
        }
        if removed {
            sync_dir(&self.dir)?;
        }
        Ok(())
    }
}

impl std::fmt::Debug for FileStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileStore")
            .field("dir", &self.dir)
            .field("key", &self.key)
            .field("lock_timeout", &self.lock_timeout)
            .finish()
    }
}

impl AuthSecretStore for FileStore {
    fn storage_key(&self) -> StorageKey {
        self.key.clone()
    }

    fn load_secret(&self) -> Result<Option<Secret>, StoreError> {
        let path = self.path();
        match read_bounded(&path) {
            Ok(bytes) => decode_file(&bytes).map(Some),
            Err(error) if error.kind() == ErrorKind::NotFound => Ok(None),
            Err(error) if error.kind() == ErrorKind::InvalidData => Err(StoreError::Corrupted {
                reason: format!("{}: {error}", path.display()),
            }),
            Err(error) => Err(io_error("cannot read", &path, &error)),
        }
    }

    fn save_secret(&self, secret: Secret) -> Result<(), StoreError> {
        let path = self.path();
        let contents = encode_file(&secret);
        drop(secret);
        let _lock = self.lock_exclusive()?;
        self.remove_temp_files()?;
        write_atomically(&self.dir, &path, &self.temp_prefix(), &contents)
    }

    /// Writes the file only if none exists (a rename that refuses to overwrite);
    /// if one does, returns its secret or the error reading it.
    fn create_secret(&self, secret: Secret) -> Result<Secret, StoreError> {
        let path = self.path();
        let contents = encode_file(&secret);
        // Called by `get_or_create_secret` with the exclusive lock held.
        self.remove_temp_files()?;
        if create_atomically(&self.dir, &path, &self.temp_prefix(), &contents)? {
            return Ok(secret);
        }
        drop(secret);
        self.load_secret()?.ok_or_else(|| StoreError::Io {
            reason: format!(
                "{} existed when creating the secret but was gone when read back; retry",
                path.display()
            ),
        })
    }

    fn clear_secret(&self) -> Result<(), StoreError> {
        let path = self.path();
        let _lock = self.lock_exclusive()?;
        match fs::remove_file(&path) {
            Ok(()) => {}
            Err(error) if error.kind() == ErrorKind::NotFound => {}
            Err(error) => return Err(io_error("cannot remove", &path, &error)),
        }
        self.remove_temp_files()?;
        sync_dir(&self.dir)
    }

    fn lock_scope(&self) -> String {
        format!("file:{}:{}", self.dir.display(), self.stem)
    }

    fn lock_exclusive(&self) -> Result<StoreLock, StoreError> {
        // Threads of this process queue on the in-process lock first, so at most
        // one descriptor per process waits on the file lock. One deadline bounds
        // both waits.
        let started = Instant::now();
        let deadline = started.checked_add(self.lock_timeout);
        let path = self.lock_path();
        let locked = || StoreError::Locked {
            reason: format!(
                "{} stayed locked by another process or thread for {}",
                path.display(),
                show_duration(self.lock_timeout)
            ),
        };
        let in_process =
            StoreLock::in_process_until(self.lock_scope(), deadline).ok_or_else(locked)?;
        let mut options = OpenOptions::new();
        options.read(true).write(true).create(true).truncate(false);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt as _;
            options.mode(0o600);
        }
        let file = options
            .open(&path)
            .map_err(|e| io_error("cannot open the lock file", &path, &e))?;
        let left = self.lock_timeout.saturating_sub(started.elapsed());
        if !lock_within(&file, true, left).map_err(|e| io_error("cannot lock", &path, &e))? {
            return Err(locked());
        }
        Ok(in_process.with_guard(Box::new(LockFileGuard(file))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_are_safe_and_distinct() {
        let names: Vec<String> = [
            StorageKey::default(),
            StorageKey::for_app("my-app"),
            StorageKey::for_app("my app"),
            StorageKey::explicit("../escape").unwrap(),
            StorageKey::explicit(".").unwrap(),
            StorageKey::explicit("a/b").unwrap(),
            StorageKey::for_app("MyApp"),
        ]
        .iter()
        .map(encode_stem)
        .collect();
        assert_eq!(names[0], "jazz-auth-secret");
        assert_eq!(names[1], "jazz-auth-secret%3Amy-app");
        assert_eq!(names[2], "jazz-auth-secret%3Amy%2520app");
        assert_eq!(names[3], "%2E%2E%2Fescape");
        assert_eq!(names[4], "%2E");
        assert_eq!(names[6], "jazz-auth-secret%3A%4Dy%41pp");
        for name in &names {
            assert!(!name.contains('/') && !name.starts_with('.'), "{name}");
        }
        let unique: std::collections::HashSet<_> = names.iter().collect();
        assert_eq!(unique.len(), names.len());
    }

    #[test]
    fn names_differing_only_in_case_stay_distinct_when_folded() {
        for (a, b) in [
            ("MyApp", "myapp"),
            ("KEY", "key"),
            ("aBc", "AbC"),
            ("X", "x"),
        ] {
            let (a, b) = (StorageKey::for_app(a), StorageKey::for_app(b));
            let (a, b) = (encode_stem(&a), encode_stem(&b));
            assert_ne!(a.to_lowercase(), b.to_lowercase(), "{a} / {b}");
            // Outside `%XX` escapes, no character has a case to fold.
            for name in [&a, &b] {
                let mut bytes = name.bytes();
                while let Some(byte) = bytes.next() {
                    if byte == b'%' {
                        let hex: Vec<u8> = bytes.by_ref().take(2).collect();
                        assert!(hex.iter().all(u8::is_ascii_hexdigit), "{name}");
                    } else {
                        assert!(!byte.is_ascii_uppercase(), "{name}");
                    }
                }
            }
        }
    }

    #[test]
    fn long_keys_are_hashed() {
        let long = StorageKey::for_app(&"x".repeat(300));
        let stem = encode_stem(&long);
        assert_eq!(stem.len(), 64 + ".long".len());
        assert!(stem.ends_with(".long"));
        let other = StorageKey::for_app(&"y".repeat(300));
        assert_ne!(encode_stem(&other), stem);
    }

    #[test]
    fn format_round_trips_and_rejects_damage() {
        let secret = Secret::from_bytes([9u8; 32]);
        let encoded = encode_file(&secret);
        assert_eq!(decode_file(&encoded).unwrap(), secret);
        // Every strict prefix (a torn write) is corrupted, never a secret.
        for cut in 0..encoded.len() {
            let err = decode_file(&encoded[..cut]).unwrap_err();
            assert!(matches!(err, StoreError::Corrupted { .. }), "cut {cut}");
        }
        let mut flipped = encoded.to_vec();
        flipped[FILE_HEADER.len() + 5] = b'+';
        assert!(matches!(
            decode_file(&flipped),
            Err(StoreError::Corrupted { .. })
        ));
        let mut extra = encoded.to_vec();
        extra.extend_from_slice(b"more\n");
        assert!(matches!(
            decode_file(&extra),
            Err(StoreError::Corrupted { .. })
        ));
        assert!(matches!(
            decode_file(&[0xff, 0xfe, 0x00]),
            Err(StoreError::Corrupted { .. })
        ));
    }

    #[test]
    fn damage_is_named_as_it_is() {
        let reason = |bytes: &[u8]| match decode_file(bytes) {
            Err(StoreError::Corrupted { reason }) => reason,
            other => panic!("{other:?}"),
        };
        let secret = Secret::from_bytes([9u8; 32]).to_base64url();
        for header_only in ["localfirst-secret-v1", "localfirst-secret-v1\n"] {
            assert!(
                reason(header_only.as_bytes()).contains("only the header line"),
                "{header_only:?}"
            );
        }
        let crlf = format!("localfirst-secret-v1\r\n{}\r\n", secret.as_str());
        assert!(reason(crlf.as_bytes()).contains("CRLF"));
        assert!(!reason(crlf.as_bytes()).contains(secret.as_str()));
        assert!(reason(b"localfirst-secret-v2\nx\n").contains("does not start with"));
        assert!(reason(b"other\n").contains("does not start with"));
        let no_newline = format!("localfirst-secret-v1\n{}", secret.as_str());
        assert!(reason(no_newline.as_bytes()).contains("no final newline"));
    }
}
