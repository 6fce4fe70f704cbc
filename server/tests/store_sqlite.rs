//! The shared store suite against the SQLite backend (file and in-memory).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed unwrap is a failed test

mod common;

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use common::store_suite::{self, Store};
use localfirst_server::{ServerStore as _, SqliteStore};

#[tokio::test]
async fn sqlite_in_memory_passes_the_store_suite() {
    store_suite::run_all(
        || Arc::new(SqliteStore::open_in_memory().unwrap()) as Store,
        None,
    )
    .await;
}

#[tokio::test]
async fn sqlite_file_passes_the_store_suite() {
    let root = tempfile::tempdir().unwrap();
    let dirs: Arc<Mutex<Vec<PathBuf>>> = Arc::default();
    let counter = Arc::new(Mutex::new(0));
    let last_dir: Arc<Mutex<Option<PathBuf>>> = Arc::default();
    let factory = {
        let (root, dirs, last_dir) = (root.path().to_owned(), dirs.clone(), last_dir.clone());
        move || {
            let mut n = counter.lock().unwrap();
            *n += 1;
            let dir = root.join(format!("s{n}"));
            dirs.lock().unwrap().push(dir.clone());
            *last_dir.lock().unwrap() = Some(dir.clone());
            Arc::new(SqliteStore::open_dir(&dir).unwrap()) as Store
        }
    };
    let reopen = move |_: &Store| {
        let dir = last_dir.lock().unwrap().clone().unwrap();
        Arc::new(SqliteStore::open_dir(&dir).unwrap()) as Store
    };
    store_suite::run_all(factory, Some(&reopen)).await;
    assert!(dirs.lock().unwrap().len() >= 7);
}

/// The mode bits of `path` (Unix).
#[cfg(unix)]
fn mode(path: &std::path::Path) -> u32 {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[cfg(unix)]
#[tokio::test]
async fn database_files_and_new_folders_are_private() {
    let root = tempfile::tempdir().unwrap();
    let parent = root.path().join("var");
    let dir = parent.join("server");
    let store = SqliteStore::open_dir(&dir).unwrap();
    store.latest_cursor().await.unwrap();
    assert_eq!(mode(&parent), 0o700, "a created parent");
    assert_eq!(mode(&dir), 0o700, "the data folder");
    let db = dir.join(localfirst_server::store::sqlite::DB_FILE);
    for suffix in ["", "-wal", "-shm"] {
        let path = std::path::PathBuf::from(format!("{}{suffix}", db.display()));
        assert!(path.exists(), "{} is missing", path.display());
        assert_eq!(mode(&path), 0o600, "{}", path.display());
    }
    drop(store);

    // A file left readable by others is made private when it is opened again.
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o644)).unwrap();
    let store = SqliteStore::open_dir(&dir).unwrap();
    store.latest_cursor().await.unwrap();
    assert_eq!(mode(&db), 0o600);
}
