//! A data directory copied to a second device (a backup restore, a phone
//! migration) keeps the client id and the outbox counter. Both devices then
//! write different rows under the same `(clientId, seq)` keys: every row must
//! reach the server once, and the device whose key was used first by the other
//! takes a new client id and sends its pending writes again. Real files, a real
//! server on 127.0.0.1, the core `Db` with its sync engine.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use common::{clock, config, start, APP};
use localfirst_core::db::{AuthConfig, Db, DbConfig, DbDeps, RowValues, StorageMode};
use localfirst_core::local_db::Query;
use localfirst_core::secret::Secret;
use localfirst_core::sync::Backoff;
use localfirst_server::RunningServer;

const USER: u8 = 5;

fn device(server: &RunningServer, dir: &Path) -> Db {
    let storage = StorageMode::DataDir(dir.to_string_lossy().into_owned());
    let auth = AuthConfig::LocalFirst(Secret::from_bytes([USER; 32]));
    let config =
        DbConfig::new(APP, storage, auth).with_server_url(format!("ws://{}", server.local_addr()));
    Db::open(config, DbDeps::with_clock(clock())).unwrap()
}

fn write(db: &Db, titles: &[&str]) {
    for title in titles {
        db.insert("todos", RowValues::new().set("title", *title))
            .unwrap();
    }
}

/// Copies a directory tree file by file, as a backup restore does.
fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for item in std::fs::read_dir(from).unwrap() {
        let item = item.unwrap();
        let target = to.join(item.file_name());
        if item.file_type().unwrap().is_dir() {
            copy_tree(&item.path(), &target);
        } else {
            std::fs::copy(item.path(), target).unwrap();
        }
    }
}

/// Title → how many rows carry it.
fn titles(db: &Db) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for row in db.query(&Query::table("todos")).unwrap() {
        let title = row.to_json_value()["title"].as_str().unwrap().to_owned();
        *counts.entry(title).or_default() += 1;
    }
    counts
}

fn once_each(all: &[&str]) -> BTreeMap<String, usize> {
    all.iter().map(|t| ((*t).to_owned(), 1)).collect()
}

/// How many changes the server's log holds (one per row when nothing was
/// applied twice).
async fn server_changes(server: &RunningServer) -> usize {
    let mut client = common::connect_user(server.local_addr(), 200, "observer").await;
    client.pull_all(0).await.0.len()
}

/// Writes and syncs on the original, writes one more, and copies the data
/// directory while that write is pending. Returns the two devices and the
/// client id they share.
async fn original_and_copy(server: &RunningServer, root: &Path) -> (Db, Db, String) {
    let (dir_a, dir_b) = (root.join("a"), root.join("b"));
    let original = device(server, &dir_a);
    write(&original, &["synced-1", "synced-2"]);
    original.sync_once().await.unwrap();
    write(&original, &["pending-at-copy"]);
    let client_id = original.client_id().unwrap();
    drop(original);
    copy_tree(&dir_a, &dir_b);
    let (a, b) = (device(server, &dir_a), device(server, &dir_b));
    assert_eq!(b.client_id().unwrap(), client_id);
    assert_eq!(
        b.outbox_len().unwrap(),
        1,
        "the copy holds the pending write"
    );
    (a, b, client_id)
}

const ALL: [&str; 8] = [
    "synced-1",
    "synced-2",
    "pending-at-copy",
    "a-1",
    "a-2",
    "b-1",
    "b-2",
    "b-3",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_copied_data_directory_loses_and_duplicates_nothing() {
    let server = start(config(&clock())).await;
    let root = tempfile::tempdir().unwrap();
    let (a, b, client_id) = original_and_copy(&server, root.path()).await;
    write(&a, &["a-1", "a-2"]);
    write(&b, &["b-1", "b-2", "b-3"]);

    let report = a.sync_once().await.unwrap();
    assert_eq!((report.acknowledged, report.rejected), (3, 0));
    // The copy's first own write reuses a key the original just used: it is
    // refused (not acknowledged), the copy takes a new client id and resends.
    let report = b.sync_once().await.unwrap();
    assert_eq!(
        report.rejected, 0,
        "a reused key is no rejection of the write"
    );
    assert_eq!(b.outbox_len().unwrap(), 0);
    assert_eq!(a.outbox_len().unwrap(), 0);
    assert_eq!(a.client_id().unwrap(), client_id);
    assert_ne!(b.client_id().unwrap(), client_id, "the copy took a new id");

    // A third device of the user sees every row once; the log has one change per row.
    let third = device(&server, &root.path().join("c"));
    third.sync_once().await.unwrap();
    assert_eq!(titles(&third), once_each(&ALL));
    assert_eq!(server_changes(&server).await, ALL.len());
    a.sync_once().await.unwrap();
    assert_eq!(titles(&a), once_each(&ALL));
    assert_eq!(titles(&b), once_each(&ALL));

    // Later writes of both devices go through as usual.
    write(&a, &["a-later"]);
    write(&b, &["b-later"]);
    a.sync_once().await.unwrap();
    b.sync_once().await.unwrap();
    assert_eq!(server_changes(&server).await, ALL.len() + 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_copy_syncing_first_in_the_background_wins_its_keys() {
    let server = start(config(&clock())).await;
    let root = tempfile::tempdir().unwrap();
    let (a, b, client_id) = original_and_copy(&server, root.path()).await;
    write(&b, &["b-1", "b-2", "b-3"]);
    write(&a, &["a-1", "a-2"]);
    let fast = Backoff {
        base: Duration::from_millis(20),
        max_exponent: 3,
        cap: Duration::from_millis(200),
        jitter_percent: 10,
    };
    b.start_sync_with(fast).unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while b.outbox_len().unwrap() > 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the copy never synced"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // Now the original finds its keys taken and renews its id.
    a.start_sync_with(fast).unwrap();
    while a.outbox_len().unwrap() > 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the original never synced"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_ne!(a.client_id().unwrap(), client_id);
    assert_eq!(b.client_id().unwrap(), client_id);
    a.stop_sync();
    b.stop_sync();

    let third = device(&server, &root.path().join("c"));
    third.sync_once().await.unwrap();
    assert_eq!(titles(&third), once_each(&ALL));
    assert_eq!(server_changes(&server).await, ALL.len());
}
