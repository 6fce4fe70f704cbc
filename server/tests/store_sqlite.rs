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

/// A database written before records kept a content digest: it opens, its
/// records answer resends as before (whatever the content: the old record
/// cannot tell), and new records tell a reused client id apart.
#[tokio::test]
async fn a_database_from_before_content_digests_is_migrated() {
    let dir = tempfile::tempdir().unwrap();
    {
        let conn = rusqlite::Connection::open(dir.path().join("server.sqlite3")).unwrap();
        conn.execute_batch(
            "CREATE TABLE lf_rows (tbl TEXT NOT NULL, id TEXT NOT NULL, data TEXT NOT NULL,
                 PRIMARY KEY (tbl, id)) WITHOUT ROWID;
             CREATE TABLE lf_changes (cursor INTEGER PRIMARY KEY AUTOINCREMENT,
                 tbl TEXT NOT NULL, id TEXT NOT NULL, op TEXT NOT NULL, row TEXT, old TEXT);
             CREATE TABLE lf_applied (user_id TEXT NOT NULL, client_id TEXT NOT NULL,
                 seq INTEGER NOT NULL, code TEXT, message TEXT,
                 PRIMARY KEY (user_id, client_id, seq)) WITHOUT ROWID;
             INSERT INTO lf_rows VALUES ('notes', 'a', '{\"n\":1}');
             INSERT INTO lf_changes (tbl, id, op, row) VALUES ('notes', 'a', 'put', '{\"n\":1}');
             INSERT INTO lf_applied VALUES ('u1', 'c1', 1, NULL, NULL);",
        )
        .unwrap();
    }
    let store: Store = Arc::new(SqliteStore::open_dir(dir.path()).unwrap());
    store_suite::records_without_digest_answer_as_before(store).await;
}

#[tokio::test]
async fn a_database_from_before_the_table_registry_registers_its_tables_on_open() {
    use localfirst_server::store::{ServerStore as _, WriteOp};
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open_dir(dir.path()).unwrap();
    let writer = localfirst_server::store::Writer {
        user_id: "u1".into(),
        client_id: "c1".into(),
    };
    let rows = vec![store_suite::entry_in(
        "todos",
        1,
        WriteOp::Insert,
        "a",
        Some(serde_json::json!({})),
    )];
    store
        .push(&writer, rows, store_suite::simple_decide())
        .await
        .unwrap();
    store.close().await.unwrap();
    // What an older server left: rows, no registry.
    let conn = rusqlite::Connection::open(dir.path().join("server.sqlite3")).unwrap();
    conn.execute_batch("DROP TABLE lf_tables").unwrap();
    drop(conn);
    let store = SqliteStore::open_dir(dir.path()).unwrap();
    let clash = vec![store_suite::entry_in(
        "TODOS",
        2,
        WriteOp::Insert,
        "b",
        Some(serde_json::json!({})),
    )];
    let result = store
        .push(&writer, clash, store_suite::simple_decide())
        .await
        .unwrap();
    assert!(
        matches!(&result.outcomes[0].1, localfirst_server::store::Outcome::Rejected(r) if r.code == "table-name-clash"),
        "{:?}",
        result.outcomes
    );
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
