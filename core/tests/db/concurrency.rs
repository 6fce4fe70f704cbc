//! Several Dbs on one namespace: concurrent writers (threads and processes) lose
//! nothing, and a storage reset by one is reported — never silently written
//! into a deleted file — by the others, in this process and in other processes.

use std::path::Path;
use std::process::Command;
use std::sync::{Arc, Barrier};

use crate::support::*;
use localfirst_core::db::{DbDeps, DbError};
use localfirst_core::local_db::{Filter, Query};
use serde_json::json;

const CHILD_ACTION: &str = "LOCALFIRST_DB_TEST_CHILD";
const CHILD_DIR: &str = "LOCALFIRST_DB_TEST_DIR";

/// Runs `action` in a separate process (this test binary, re-executed).
fn in_child_process(action: &str, dir: &Path) {
    let output = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "concurrency::child_process_entry",
            "--ignored",
            "--nocapture",
        ])
        .env(CHILD_ACTION, action)
        .env(CHILD_DIR, dir)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success() && stdout.contains("1 passed"),
        "child {action} failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// The body of the child processes; does nothing when run directly.
#[test]
#[ignore = "run by the cross-process tests in a child process"]
fn child_process_entry() {
    let (Ok(action), Ok(dir)) = (std::env::var(CHILD_ACTION), std::env::var(CHILD_DIR)) else {
        return;
    };
    let db = local_first(Path::new(&dir), "app", 9, &DbDeps::default());
    match action.as_str() {
        "delete-storage" => {
            db.delete_client_storage().unwrap();
            db.insert("t", row(json!({"id": "from-child"}))).unwrap();
        }
        "logout-wipe" => db.logout_and_wipe().unwrap(),
        "write-1000" => {
            for i in 0..1000 {
                db.insert("t", row(json!({"who": "child", "i": i})))
                    .unwrap();
            }
        }
        "write-one" => {
            db.insert("t", row(json!({"id": "child-row"}))).unwrap();
        }
        other => panic!("unknown child action {other}"),
    }
}

#[test]
fn two_dbs_writing_at_once_lose_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let deps = DbDeps::default();
    let a = Arc::new(local_first(dir.path(), "app", 1, &deps));
    let b = Arc::new(local_first(dir.path(), "app", 2, &deps));
    let barrier = Arc::new(Barrier::new(4));
    let mut threads = Vec::new();
    for (t, db) in [a.clone(), a.clone(), b.clone(), b.clone()]
        .into_iter()
        .enumerate()
    {
        let barrier = barrier.clone();
        threads.push(std::thread::spawn(move || {
            barrier.wait();
            for i in 0..150 {
                db.insert("t", row(json!({"thread": t, "i": i}))).unwrap();
            }
            let batch = (0..50)
                .map(|i| row(json!({"thread": t, "batch": i})))
                .collect();
            db.insert_many("t", batch).unwrap();
        }));
    }
    for thread in threads {
        thread.join().unwrap();
    }
    assert_eq!(a.query(&Query::table("t")).unwrap().len(), 800);
    assert_eq!(b.query(&Query::table("t")).unwrap().len(), 800);
    for t in 0..4 {
        let rows = a
            .query(&Query::table("t").filter(Filter::all().eq("thread", t)))
            .unwrap();
        assert_eq!(rows.len(), 200, "thread {t}");
    }
    assert_eq!(a.outbox_len().unwrap(), 800);
    assert_eq!(
        a.pending_outbox(10_000).unwrap().len(),
        400,
        "a's own entries"
    );
}

#[test]
fn concurrent_patches_to_one_row_compose() {
    let dir = tempfile::tempdir().unwrap();
    let deps = DbDeps::default();
    let a = Arc::new(local_first(dir.path(), "app", 1, &deps));
    let b = Arc::new(local_first(dir.path(), "app", 2, &deps));
    a.insert("counters", row(json!({"id": "c", "x": 0, "y": 0})))
        .unwrap();
    let barrier = Arc::new(Barrier::new(2));
    let threads: Vec<_> = [(a.clone(), "x"), (b.clone(), "y")]
        .into_iter()
        .map(|(db, column)| {
            let barrier = barrier.clone();
            std::thread::spawn(move || {
                barrier.wait();
                for i in 1..=100 {
                    db.update("counters", "c", row(json!({column: i}))).unwrap();
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let row = a.get("counters", "c").unwrap().unwrap();
    assert_eq!(
        (row["x"].clone(), row["y"].clone()),
        (json!(100), json!(100))
    );
    assert_eq!(a.outbox_len().unwrap(), 201);
}

#[test]
fn a_reset_in_this_process_is_reported_once_to_other_dbs() {
    let dir = tempfile::tempdir().unwrap();
    let deps = DbDeps::default();
    let a = local_first(dir.path(), "app", 1, &deps);
    let b = local_first(dir.path(), "app", 2, &deps);
    let c = local_first(dir.path(), "app", 3, &deps);
    a.insert("t", row(json!({"id": "old"}))).unwrap();
    let seen: Recorder<Vec<String>> = Recorder::new();
    let s = seen.clone();
    let _sub = subscribe(&b, Query::table("t"), move |rows: Vec<Row>| {
        s.push(ids(&rows))
    })
    .unwrap();

    a.delete_client_storage().unwrap();
    // b's subscription shows the fresh (empty) database at once.
    assert_eq!(seen.all(), vec![vec!["old".to_owned()], vec![]]);
    // b's next call reports the reset (nothing written), the one after works.
    assert_eq!(
        b.insert("t", row(json!({"id": "b1"}))).unwrap_err(),
        DbError::StorageReset
    );
    assert_eq!(b.get("t", "b1").unwrap(), None);
    b.insert("t", row(json!({"id": "b1"}))).unwrap();
    // c had no subscription: it learns on its first call.
    assert_eq!(
        c.query(&Query::table("t")).unwrap_err(),
        DbError::StorageReset
    );
    assert_eq!(ids(&c.query(&Query::table("t")).unwrap()), ["b1"]);
    assert_eq!(ids(&a.query(&Query::table("t")).unwrap()), ["b1"]);

    // A wipe at logout is a reset for the others too.
    a.logout_and_wipe().unwrap();
    assert_eq!(
        c.insert("t", row(json!({}))).unwrap_err(),
        DbError::StorageReset
    );
    assert!(c.query(&Query::table("t")).unwrap().is_empty());
}

#[test]
fn a_reset_by_another_process_is_detected_not_written_into_a_deleted_file() {
    let dir = tempfile::tempdir().unwrap();
    let db = local_first(dir.path(), "app", 1, &DbDeps::default());
    db.insert("t", row(json!({"id": "before"}))).unwrap();

    in_child_process("delete-storage", dir.path());

    assert_eq!(
        db.query(&Query::table("t")).unwrap_err(),
        DbError::StorageReset
    );
    assert_eq!(ids(&db.query(&Query::table("t")).unwrap()), ["from-child"]);
    db.insert("t", row(json!({"id": "after"}))).unwrap();

    // A write is the first call after a reset: refused, then applied to the live file.
    in_child_process("logout-wipe", dir.path());
    assert_eq!(
        db.insert("t", row(json!({"id": "lost?"}))).unwrap_err(),
        DbError::StorageReset
    );
    db.insert("t", row(json!({"id": "kept"}))).unwrap();
    drop(db);
    // What the path holds now is what a fresh Db sees: the write went to the live file.
    let reopened = local_first(dir.path(), "app", 1, &DbDeps::default());
    assert_eq!(ids(&reopened.query(&Query::table("t")).unwrap()), ["kept"]);
}

#[test]
fn a_process_and_this_one_writing_at_once_lose_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = Arc::new(local_first(dir.path(), "app", 1, &DbDeps::default()));
    let path = dir.path().to_path_buf();
    let child = std::thread::spawn(move || in_child_process("write-1000", &path));
    let count = |who: &str| {
        db.query(&Query::table("t").filter(Filter::all().eq("who", who)))
            .unwrap()
            .len()
    };
    // Start writing once the other process is writing, so the two overlap.
    while count("child") == 0 && !child.is_finished() {
        std::thread::yield_now();
    }
    let child_rows_when_started = count("child");
    for i in 0..300 {
        db.insert("t", row(json!({"who": "parent", "i": i})))
            .unwrap();
    }
    child.join().unwrap();
    assert!(child_rows_when_started < 1000, "the writers overlapped");
    assert_eq!((count("parent"), count("child")), (300, 1000));
    assert_eq!(db.outbox_len().unwrap(), 1300);
}

#[test]
fn refresh_picks_up_commits_of_other_processes() {
    let dir = tempfile::tempdir().unwrap();
    let db = local_first(dir.path(), "app", 1, &DbDeps::default());
    let seen: Recorder<Vec<String>> = Recorder::new();
    let s = seen.clone();
    let _sub = subscribe(&db, Query::table("t"), move |rows: Vec<Row>| {
        s.push(ids(&rows))
    })
    .unwrap();
    assert!(!db.refresh().unwrap(), "nothing happened since open");
    in_child_process("write-one", dir.path());
    assert!(db.refresh().unwrap());
    assert_eq!(seen.all(), vec![vec![], vec!["child-row".to_owned()]]);
    assert!(!db.refresh().unwrap());
    assert_eq!(seen.len(), 2);
}
