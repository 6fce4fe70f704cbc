//! The sync engine (`Db::sync_once`) against servers that break the protocol:
//! each test runs a small WebSocket server on 127.0.0.1 with a scripted,
//! hostile answer, and a real `Db` (its SQLite outbox, its persisted cursor).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed unwrap is a failed test

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::{SinkExt as _, StreamExt as _};
use localfirst_core::clock::FixedClock;
use localfirst_core::db::{AuthConfig, Db, DbConfig, DbDeps, DbError, RowValues, StorageMode};
use localfirst_core::secret::Secret;
use localfirst_core::sync::{sync_url, SyncLimits, SyncReport};
use serde_json::{json, Value};
use tokio::net::TcpListener;
use tokio_tungstenite::tungstenite::Message;

const APP: &str = "hostile-app";

/// Largest cursor a client accepts (2^53 - 1).
const MAX_CURSOR: u64 = (1 << 53) - 1;

/// A scripted answer: the frames to send for one client frame.
type Script = dyn Fn(&Value) -> Vec<Value> + Send + Sync;

/// Frame a script returns to make the server close the socket instead.
fn hang_up() -> Value {
    json!({"type": "test-hang-up"})
}

/// A WebSocket server on 127.0.0.1 that answers every client frame with `script`.
async fn hostile(script: Arc<Script>) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let script = Arc::clone(&script);
            tokio::spawn(async move {
                let Ok(mut ws) = tokio_tungstenite::accept_async(stream).await else {
                    return;
                };
                while let Some(Ok(message)) = ws.next().await {
                    let Message::Text(text) = message else {
                        continue;
                    };
                    let frame: Value = serde_json::from_str(text.as_str()).unwrap();
                    for answer in script(&frame) {
                        if answer == hang_up() {
                            let _ = ws.close(None).await;
                            return;
                        }
                        if ws.send(Message::text(answer.to_string())).await.is_err() {
                            return;
                        }
                    }
                }
            });
        }
    });
    addr
}

fn welcome(cursor: u64, max_batch: usize) -> Value {
    welcome_with_frames(cursor, max_batch, 1_048_576)
}

fn welcome_with_frames(cursor: u64, max_batch: usize, max_frame_bytes: usize) -> Value {
    json!({
        "type": "welcome",
        "version": 1,
        "session": {"userId": "u", "authMode": "local-first"},
        "cursor": cursor,
        "limits": {"maxFrameBytes": max_frame_bytes, "maxBatch": max_batch, "maxPull": 1000}
    })
}

fn changes(cursor: u64, more: bool) -> Value {
    json!({"type": "changes", "changes": [], "cursor": cursor, "more": more})
}

fn kind(frame: &Value) -> &str {
    frame["type"].as_str().unwrap_or_default()
}

fn db_for(addr: SocketAddr, limits: SyncLimits) -> Db {
    let config = DbConfig::new(
        APP,
        StorageMode::InMemory,
        AuthConfig::LocalFirst(Secret::from_bytes([7; 32])),
    )
    .with_server_url(format!("ws://{addr}"))
    .with_sync_limits(limits);
    Db::open(
        config,
        DbDeps::with_clock(Arc::new(FixedClock::new(1_700_000_000))),
    )
    .unwrap()
}

/// The cursor `db` keeps for the server at `addr`.
fn stored_cursor(db: &Db, addr: SocketAddr) -> u64 {
    db.sync_cursor(&sync_url(&format!("ws://{addr}"), APP))
        .unwrap()
}

/// Pages that each advance by one and always claim more: honest-looking, endless.
fn endless_pages() -> Arc<Script> {
    Arc::new(|frame: &Value| match kind(frame) {
        "hello" => vec![welcome(MAX_CURSOR, 10)],
        "pull" => vec![changes(frame["cursor"].as_u64().unwrap() + 1, true)],
        _ => vec![],
    })
}

fn write_rows(db: &Db, n: usize) {
    for i in 0..n {
        db.insert(
            "todos",
            RowValues::new().set("n", i64::try_from(i).unwrap()),
        )
        .unwrap();
    }
}

/// One `sync_once`, bounded so that a client that loops forever fails the test.
async fn sync(db: &Db) -> Result<SyncReport, DbError> {
    tokio::time::timeout(Duration::from_secs(60), db.sync_once())
        .await
        .expect("sync_once must end on its own")
}

fn protocol_code(result: Result<SyncReport, DbError>) -> String {
    match result {
        Err(DbError::SyncProtocol { code, .. }) => code,
        other => panic!("expected a sync-protocol error, got {other:?}"),
    }
}

/// Answers hello and pulls honestly (nothing to pull); `on_push` answers pushes.
fn honest_but_pushes(
    max_batch: usize,
    on_push: impl Fn(&[Value]) -> Vec<Value> + Send + Sync + 'static,
) -> Arc<Script> {
    Arc::new(move |frame: &Value| match kind(frame) {
        "hello" => vec![welcome(0, max_batch)],
        "pull" => vec![changes(frame["cursor"].as_u64().unwrap(), false)],
        "push" => on_push(frame["entries"].as_array().unwrap()),
        _ => vec![],
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_ack_for_writes_never_sent_removes_only_the_sent_one() {
    let sent = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&sent);
    let addr = hostile(honest_but_pushes(1, move |entries| {
        seen.lock().unwrap().extend(entries.iter().cloned());
        let all: Vec<i64> = (1..100_000).collect();
        vec![json!({"type": "ack", "seqs": all, "cursor": 0})]
    }))
    .await;
    let db = db_for(addr, SyncLimits::default());
    write_rows(&db, 3);
    assert_eq!(db.outbox_len().unwrap(), 3);

    let code = protocol_code(sync(&db).await);
    assert_eq!(code, "unexpected-ack");
    assert_eq!(
        sent.lock().unwrap().len(),
        1,
        "one batch of maxBatch 1 went out"
    );
    assert_eq!(
        db.outbox_len().unwrap(),
        2,
        "only the entry sent on the socket leaves the outbox"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_entry_too_large_for_any_frame_is_never_in_flight() {
    // The first write cannot fit into a frame of 16 KiB: the engine drops it
    // as rejected `row-too-large` without sending it. A server acknowledging
    // it anyway names an entry that was never in flight.
    let sent = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&sent);
    let addr = hostile(Arc::new(move |frame: &Value| match kind(frame) {
        "hello" => vec![welcome_with_frames(0, 10, 16 * 1024)],
        "pull" => vec![changes(frame["cursor"].as_u64().unwrap(), false)],
        "push" => {
            let entries = frame["entries"].as_array().unwrap();
            seen.lock().unwrap().extend(entries.iter().cloned());
            let mut seqs: Vec<i64> = entries.iter().map(|e| e["seq"].as_i64().unwrap()).collect();
            seqs.push(1);
            vec![json!({"type": "ack", "seqs": seqs, "cursor": 0})]
        }
        _ => vec![],
    }))
    .await;
    let db = db_for(addr, SyncLimits::default());
    let big = db
        .insert("todos", RowValues::new().set("text", "x".repeat(20_000)))
        .unwrap();
    write_rows(&db, 1);

    assert_eq!(protocol_code(sync(&db).await), "unexpected-ack");
    let sent = sent.lock().unwrap().clone();
    assert_eq!(sent.len(), 1, "only the small entry went out: {sent:?}");
    assert_ne!(sent[0]["seq"], 1);
    assert_eq!(db.outbox_len().unwrap(), 0, "dropped, and acknowledged");
    let rejections = db.sync_status().last_rejections;
    assert_eq!(rejections.len(), 1, "{rejections:?}");
    assert_eq!(rejections[0].seq, 1);
    assert_eq!(rejections[0].code, "row-too-large");
    let rows = db
        .query(&localfirst_core::local_db::Query::table("todos"))
        .unwrap();
    assert_eq!(rows.len(), 1, "the refused insert is rolled back");
    assert_ne!(rows[0].id(), big.id());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rejections_of_unsent_writes_drop_nothing() {
    let addr = hostile(honest_but_pushes(1, |entries| {
        let seq = entries[0]["seq"].as_i64().unwrap();
        // The sent entry is acknowledged, two entries it never received are "rejected".
        vec![
            json!({"type": "rejected", "seq": seq + 1, "code": "policy-denied", "message": "no"}),
            json!({"type": "rejected", "seq": seq + 2, "code": "policy-denied", "message": "no"}),
            json!({"type": "ack", "seqs": [seq], "cursor": 0}),
        ]
    }))
    .await;
    let db = db_for(addr, SyncLimits::default());
    write_rows(&db, 3);
    let code = protocol_code(sync(&db).await);
    assert_eq!(code, "unexpected-rejection");
    assert_eq!(db.outbox_len().unwrap(), 3, "nothing was dropped");
    assert!(db.sync_status().last_rejections.is_empty());
    assert_eq!(
        db.query(&localfirst_core::local_db::Query::table("todos"))
            .unwrap()
            .len(),
        3
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_repeated_ack_counts_once() {
    // Each push is acknowledged twice: the second ack arrives while the next
    // batch is in flight and names entries that are not.
    let addr = hostile(honest_but_pushes(2, |entries| {
        let seqs: Vec<i64> = entries.iter().map(|e| e["seq"].as_i64().unwrap()).collect();
        let ack = json!({"type": "ack", "seqs": seqs, "cursor": 0});
        vec![ack.clone(), ack]
    }))
    .await;
    let db = db_for(addr, SyncLimits::default());
    write_rows(&db, 3);
    let code = protocol_code(sync(&db).await);
    assert_eq!(code, "unexpected-ack");
    assert_eq!(
        db.outbox_len().unwrap(),
        1,
        "the second batch was never acknowledged"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn more_without_an_advancing_cursor_fails_instead_of_looping() {
    let pulls = Arc::new(Mutex::new(0u64));
    let counted = Arc::clone(&pulls);
    let addr = hostile(Arc::new(move |frame: &Value| match kind(frame) {
        "hello" => vec![welcome(500, 10)],
        "pull" => {
            *counted.lock().unwrap() += 1;
            vec![changes(frame["cursor"].as_u64().unwrap(), true)]
        }
        _ => vec![],
    }))
    .await;
    let db = db_for(addr, SyncLimits::default());
    let code = protocol_code(sync(&db).await);
    assert_eq!(code, "cursor-not-advancing");
    assert_eq!(
        *pulls.lock().unwrap(),
        1,
        "the client stops at the first such page"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cursor_above_2_pow_53_is_refused_and_not_stored() {
    let addr = hostile(Arc::new(|frame: &Value| match kind(frame) {
        "hello" => vec![welcome(1 << 63, 10)],
        "pull" => vec![changes(1 << 63, false)],
        _ => vec![],
    }))
    .await;
    let db = db_for(addr, SyncLimits::default());
    let code = protocol_code(sync(&db).await);
    assert_eq!(code, "cursor-out-of-range");
    assert_eq!(stored_cursor(&db, addr), 0, "the cursor was not stored");

    // Just above the bound fails too; the bound itself is accepted.
    let addr = hostile(Arc::new(|frame: &Value| match kind(frame) {
        "hello" => vec![welcome(MAX_CURSOR + 1, 10)],
        "pull" => vec![changes(MAX_CURSOR + 1, false)],
        _ => vec![],
    }))
    .await;
    let db = db_for(addr, SyncLimits::default());
    assert_eq!(protocol_code(sync(&db).await), "cursor-out-of-range");
    let addr = hostile(Arc::new(|frame: &Value| match kind(frame) {
        "hello" => vec![welcome(MAX_CURSOR, 10)],
        "pull" => vec![changes(MAX_CURSOR, false)],
        _ => vec![],
    }))
    .await;
    let db = db_for(addr, SyncLimits::default());
    let report = sync(&db).await.unwrap();
    assert_eq!(report.cursor, MAX_CURSOR);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_ack_cursor_above_2_pow_53_is_refused() {
    let addr = hostile(honest_but_pushes(10, |entries| {
        let seqs: Vec<i64> = entries.iter().map(|e| e["seq"].as_i64().unwrap()).collect();
        vec![json!({"type": "ack", "seqs": seqs, "cursor": u64::MAX})]
    }))
    .await;
    let db = db_for(addr, SyncLimits::default());
    write_rows(&db, 1);
    assert_eq!(protocol_code(sync(&db).await), "cursor-out-of-range");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cursor_beyond_the_announced_latest_is_not_stored() {
    // The server announces 10 as its latest, then answers the pull with 1,000,000.
    let addr = hostile(Arc::new(|frame: &Value| match kind(frame) {
        "hello" => vec![welcome(10, 10)],
        "pull" => vec![changes(1_000_000, false)],
        _ => vec![],
    }))
    .await;
    let db = db_for(addr, SyncLimits::default());
    sync(&db).await.unwrap();
    assert_eq!(
        stored_cursor(&db, addr),
        10,
        "kept at what the server announced"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cursor_going_backwards_is_refused() {
    // The client pulls from 0 and gets 40, then from 40 and gets 5 with more.
    let addr = hostile(Arc::new(|frame: &Value| match kind(frame) {
        "hello" => vec![welcome(40, 10)],
        "pull" if frame["cursor"] == 0 => vec![changes(40, true)],
        "pull" => vec![changes(5, true)],
        _ => vec![],
    }))
    .await;
    let db = db_for(addr, SyncLimits::default());
    assert_eq!(protocol_code(sync(&db).await), "cursor-out-of-range");
    assert_eq!(stored_cursor(&db, addr), 40, "never moved backwards");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unasked_changes_frames_are_refused() {
    // One pull, two answers; the push keeps the client listening.
    let addr = hostile(Arc::new(|frame: &Value| match kind(frame) {
        "hello" => vec![welcome(0, 10)],
        "pull" => vec![changes(0, false), changes(0, true)],
        "push" => vec![json!({"type": "ack", "seqs": [1], "cursor": 0})],
        _ => vec![],
    }))
    .await;
    let db = db_for(addr, SyncLimits::default());
    write_rows(&db, 1);
    assert_eq!(protocol_code(sync(&db).await), "unexpected-changes");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_is_bounded_in_pulls() {
    let addr = hostile(endless_pages()).await;
    let limits = SyncLimits {
        max_pulls: 50,
        ..SyncLimits::default()
    };
    let db = db_for(addr, limits);
    assert_eq!(protocol_code(sync(&db).await), "too-many-pulls");
    assert_eq!(
        stored_cursor(&db, addr),
        50,
        "the pages before the bound count"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_is_bounded_in_time() {
    // Pages come quickly but never end; the run's deadline stops it.
    let addr = hostile(endless_pages()).await;
    let limits = SyncLimits {
        run_timeout: Duration::from_millis(500),
        max_pulls: u32::MAX,
    };
    let db = db_for(addr, limits);
    match sync(&db).await {
        Err(DbError::SyncNetwork { reason }) => {
            assert!(reason.contains("sync run"), "{reason}")
        }
        other => panic!("expected sync-network, got {other:?}"),
    }
}

fn reused_rejections(entries: &[Value]) -> Vec<Value> {
    entries
        .iter()
        .map(|e| {
            json!({"type": "rejected", "seq": e["seq"], "code": "client-id-reused", "message": "taken"})
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_refusing_every_client_id_costs_no_write() {
    let hellos = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&hellos);
    let addr = hostile(Arc::new(move |frame: &Value| match kind(frame) {
        "hello" => {
            seen.lock()
                .unwrap()
                .push(frame["clientId"].as_str().unwrap().to_owned());
            vec![welcome(0, 10)]
        }
        "pull" => vec![changes(0, false)],
        "push" => {
            let mut answer = reused_rejections(frame["entries"].as_array().unwrap());
            answer.push(json!({"type": "ack", "seqs": [], "cursor": 0}));
            answer
        }
        _ => vec![],
    }))
    .await;
    let db = db_for(addr, SyncLimits::default());
    write_rows(&db, 3);
    let first_id = db.client_id().unwrap();
    assert_eq!(protocol_code(sync(&db).await), "client-id-reused");
    assert_eq!(db.outbox_len().unwrap(), 3, "every write is still pending");
    assert_eq!(
        db.query(&localfirst_core::local_db::Query::table("todos"))
            .unwrap()
            .len(),
        3
    );
    let hellos = hellos.lock().unwrap().clone();
    assert_eq!(hellos.len(), 3, "one session and two renewals: {hellos:?}");
    assert_eq!(hellos[0], first_id);
    assert!(hellos[1] != hellos[0] && hellos[2] != hellos[1]);
    assert!(
        !hellos.contains(&db.client_id().unwrap()),
        "no refused id is kept"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_new_client_id_before_the_batch_is_acknowledged() {
    // The refusal arrives, the ack never does: the entries before the reused
    // key may have been applied, so the id must stay until the server says so.
    let addr = hostile(honest_but_pushes(10, |entries| {
        let mut answer = reused_rejections(&entries[1..]);
        answer.push(hang_up());
        answer
    }))
    .await;
    let db = db_for(addr, SyncLimits::default());
    write_rows(&db, 3);
    let id = db.client_id().unwrap();
    let result = sync(&db).await;
    assert!(
        matches!(result, Err(DbError::SyncNetwork { .. })),
        "{result:?}"
    );
    assert_eq!(db.client_id().unwrap(), id);
    assert_eq!(db.outbox_len().unwrap(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stored_cursor_beyond_the_servers_latest_is_pulled_again_from_zero() {
    // A cursor stored before (by an earlier version, or from a server that has
    // since lost data) lies beyond what the server now announces.
    let asked = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&asked);
    let addr = hostile(Arc::new(move |frame: &Value| match kind(frame) {
        "hello" => vec![welcome(5, 10)],
        "pull" => {
            seen.lock().unwrap().push(frame["cursor"].as_u64().unwrap());
            vec![json!({
                "type": "changes",
                "changes": [{"cursor": 5, "table": "todos", "id": "r1", "op": "put",
                             "row": {"title": "kept", "$createdBy": "u", "$createdAt": 1,
                                     "$updatedBy": "u", "$updatedAt": 1}}],
                "cursor": 5,
                "more": false
            })]
        }
        _ => vec![],
    }))
    .await;
    let db = db_for(addr, SyncLimits::default());
    let url = sync_url(&format!("ws://{addr}"), APP);
    db.apply_remote_changes(&url, &[], 1_000_000).unwrap();
    let report = sync(&db).await.unwrap();
    assert_eq!(
        asked.lock().unwrap().clone(),
        vec![0],
        "pulled from the start"
    );
    assert_eq!(report.pulled, 1);
    assert_eq!(db.sync_cursor(&url).unwrap(), 5);
}

#[test]
fn the_cursor_seam_refuses_cursors_above_2_pow_53() {
    let db = Db::open(
        DbConfig::new(
            APP,
            StorageMode::InMemory,
            AuthConfig::LocalFirst(Secret::from_bytes([7; 32])),
        ),
        DbDeps::with_clock(Arc::new(FixedClock::new(1_700_000_000))),
    )
    .unwrap();
    let error = db
        .apply_remote_changes("ws://h/sync/a", &[], MAX_CURSOR + 1)
        .unwrap_err();
    assert!(
        matches!(error, DbError::InvalidArgument { .. }),
        "{error:?}"
    );
    assert_eq!(db.sync_cursor("ws://h/sync/a").unwrap(), 0);
    db.apply_remote_changes("ws://h/sync/a", &[], MAX_CURSOR)
        .unwrap();
    assert_eq!(db.sync_cursor("ws://h/sync/a").unwrap(), MAX_CURSOR);
}

/// The server's echo of a row this client already holds, equal in every column,
/// leaves the database untouched (a look-up, no rewrite); a row that differs in
/// any column is still written.
#[test]
fn an_echo_of_an_identical_row_writes_nothing() {
    use localfirst_core::sync::protocol::{ChangeOp, WireChange};
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(
        DbConfig::new(
            APP,
            StorageMode::DataDir(dir.path().to_str().unwrap().to_owned()),
            AuthConfig::LocalFirst(Secret::from_bytes([7; 32])),
        ),
        DbDeps::with_clock(Arc::new(FixedClock::new(1_700_000_000))),
    )
    .unwrap();
    let url = "ws://h/sync/a";
    let change = |title: &str| {
        let row = json!({
            "title": title,
            "$createdBy": "u", "$createdAt": 1, "$updatedBy": "u", "$updatedAt": 2,
        });
        WireChange {
            cursor: 1,
            table: "todos".into(),
            id: "r1".into(),
            op: ChangeOp::Put,
            row: Some(row.as_object().unwrap().clone()),
            omitted: None,
        }
    };
    db.apply_remote_changes(url, &[change("a")], 1).unwrap();
    // Another connection sees every commit that changed the file.
    let observer = rusqlite::Connection::open(db.database_path().unwrap()).unwrap();
    let version = || -> i64 {
        observer
            .query_row("PRAGMA data_version", [], |r| r.get(0))
            .unwrap()
    };
    let before = version();
    let done = db.apply_remote_changes(url, &[change("a")], 1).unwrap();
    assert_eq!(done.applied, 1, "the echo counts as applied");
    assert_eq!(version(), before, "an identical echo rewrote the row");
    db.apply_remote_changes(url, &[change("b")], 1).unwrap();
    assert_ne!(version(), before, "a changed row was not written");
    let row = db.get("todos", "r1").unwrap().unwrap();
    assert_eq!(row.to_json_value()["title"], json!("b"));
}
