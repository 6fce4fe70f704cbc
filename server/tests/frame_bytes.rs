//! Frames bounded in bytes: `changes` pages never exceed `maxFrameBytes`, the
//! engine's pushes fit the server's limit, and a row that no frame could carry
//! is never accepted (`maxRowBytes`).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::db_client::{db_for, FakeServer};
use common::*;
use futures_util::StreamExt as _;
use localfirst_core::db::RowValues;
use localfirst_core::local_db::Query;
use localfirst_core::policy::Row;
use localfirst_core::ErrorCode as _;
use localfirst_server::store::{Decide, Decision, PushEntry, ServerStore, WriteOp, Writer};
use localfirst_server::{RunningServer, SqliteStore};
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::Message;

const KIB: usize = 1024;
/// The default frame limit.
const MAX_FRAME: usize = 1024 * KIB;

fn url(server: &RunningServer) -> String {
    format!("ws://{}", server.local_addr())
}

fn big(n: usize, bytes: usize) -> RowValues {
    RowValues::new()
        .set("n", n as u64)
        .set("blob", "x".repeat(bytes))
}

/// The next text frame, raw.
async fn next_text(client: &mut Client) -> String {
    loop {
        let message = tokio::time::timeout(Duration::from_secs(30), client.ws.next())
            .await
            .expect("no frame within 30 s")
            .expect("socket closed")
            .unwrap();
        if let Message::Text(text) = message {
            return text.to_string();
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reader_syncs_twenty_rows_of_900_kib() {
    let server = start(config(&clock())).await;
    let writer = db_for(&url(&server), 1, clock());
    for n in 0..20 {
        writer.insert("files", big(n, 900 * KIB)).unwrap();
        assert_eq!(writer.sync_once().await.unwrap().acknowledged, 1);
    }
    // One page of the log holds all 20 rows (18.4 MB): the reader gets them in
    // frames it accepts, and its own write leaves.
    let reader = db_for(&url(&server), 2, clock());
    reader
        .insert("notes", RowValues::new().set("text", "mine"))
        .unwrap();
    let report = reader.sync_once().await.unwrap();
    assert_eq!((report.pulled, report.acknowledged), (21, 1), "{report:?}");
    assert_eq!(reader.outbox_len().unwrap(), 0);
    assert_eq!(reader.query(&Query::table("files")).unwrap().len(), 20);
    assert_eq!(
        reader.query(&Query::table("files")).unwrap(),
        writer.query(&Query::table("files")).unwrap()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_engine_pushes_big_rows_in_frames_the_server_accepts() {
    let server = start(config(&clock())).await;
    let writer = db_for(&url(&server), 1, clock());
    writer
        .insert_many("files", (0..20).map(|n| big(n, 900 * KIB)).collect())
        .unwrap();
    let report = writer.sync_once().await.unwrap();
    assert_eq!(
        (report.acknowledged, report.rejected),
        (20, 0),
        "{report:?}"
    );
    assert_eq!(writer.outbox_len().unwrap(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_changes_frame_stays_within_the_announced_limit() {
    let server = start(config(&clock())).await;
    let mut writer = connect(server.local_addr(), &[bearer(&local_first(1))]).await;
    let welcome = writer.hello("writer").await;
    assert_eq!(welcome["limits"]["maxFrameBytes"], MAX_FRAME);
    assert_eq!(welcome["limits"]["maxRowBytes"], MAX_FRAME - 4 * KIB);
    let mut live = connect_user(server.local_addr(), 2, "live").await;
    live.send(json!({"type": "pull", "cursor": 0})).await;
    assert_eq!(live.recv().await["changes"], json!([]));
    for n in 0..20 {
        let blob = "y".repeat(900 * KIB);
        let (rejected, _) = writer
            .push(json!([insert(
                n,
                "files",
                &format!("f{n}"),
                json!({"blob": blob})
            )]))
            .await;
        assert!(rejected.is_empty(), "{rejected:?}");
    }
    let mut reader = connect_user(server.local_addr(), 3, "reader").await;
    let (mut seen, mut cursor, mut frames) = (Vec::new(), 0u64, 0);
    loop {
        reader
            .send(json!({"type": "pull", "cursor": cursor, "live": false}))
            .await;
        let text = next_text(&mut reader).await;
        assert!(text.len() <= MAX_FRAME, "a frame of {} bytes", text.len());
        let frame: Value = serde_json::from_str(&text).unwrap();
        frames += 1;
        for change in frame["changes"].as_array().unwrap() {
            seen.push(change["id"].as_str().unwrap().to_owned());
        }
        cursor = frame["cursor"].as_u64().unwrap();
        if frame["more"] == false {
            break;
        }
    }
    let expected: Vec<String> = (0..20).map(|n| format!("f{n}")).collect();
    assert_eq!(seen, expected);
    assert_eq!(frames, 20, "one 900 KiB row per 1 MiB frame");
    // Live frames obey the same limit.
    let mut live_seen = Vec::new();
    while live_seen.len() < 20 {
        let text = next_text(&mut live).await;
        assert!(
            text.len() <= MAX_FRAME,
            "a live frame of {} bytes",
            text.len()
        );
        let frame: Value = serde_json::from_str(&text).unwrap();
        for change in frame["changes"].as_array().unwrap() {
            live_seen.push(change["id"].as_str().unwrap().to_owned());
        }
    }
    assert_eq!(live_seen, expected);
}

#[tokio::test]
async fn a_write_making_a_row_above_max_row_bytes_is_rejected() {
    let server = start(config(&clock())).await;
    let mut client = connect_user(server.local_addr(), 1, "d").await;
    // The push fits into a frame; the row it makes does not fit the row limit.
    let too_big = "z".repeat(MAX_FRAME - 2 * KIB);
    let half = "h".repeat(600 * KIB);
    let mut answers = Vec::new();
    for entry in [
        insert(1, "files", "big", json!({"blob": too_big})),
        insert(2, "files", "grows", json!({"a": half})),
        json!({"seq": 3, "table": "files", "op": "update", "id": "grows", "payload": {"b": half}}),
    ] {
        let (rejected, ack) = client.push(json!([entry])).await;
        answers.push(match rejected.first() {
            Some(r) => r["code"].as_str().unwrap().to_owned(),
            None => format!("ack {}", ack["seqs"]),
        });
    }
    assert_eq!(answers, ["row-too-large", "ack [2]", "row-too-large"]);
    let (changes, _) = client.pull_all(0).await;
    let rows = apply(&changes);
    assert_eq!(rows.len(), 1);
    assert!(
        rows["files/grows"].get("b").is_none(),
        "the update did not apply"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_engine_drops_an_entry_no_frame_can_carry_and_pushes_the_rest() {
    let server = start(config(&clock())).await;
    let db = db_for(&url(&server), 1, clock());
    let huge = db.insert("files", big(0, 2 * MAX_FRAME)).unwrap();
    let small = db
        .insert("notes", RowValues::new().set("text", "small"))
        .unwrap();
    let report = db.sync_once().await.unwrap();
    assert_eq!((report.acknowledged, report.rejected), (1, 1), "{report:?}");
    assert_eq!(db.outbox_len().unwrap(), 0);
    let rejections = db.sync_status().last_rejections;
    assert_eq!(rejections.len(), 1);
    assert_eq!(rejections[0].code, "row-too-large");
    assert_eq!(rejections[0].id, huge.id());
    assert_eq!(
        db.get("files", &huge.id()).unwrap(),
        None,
        "rolled back locally"
    );
    assert!(db.get("notes", &small.id()).unwrap().is_some());
}

/// Puts each payload as a whole row with system columns, whatever its size
/// (what a server before the row limit did).
fn unlimited() -> Decide {
    Arc::new(|entry: &PushEntry, _: Option<&Row>| {
        let mut row = entry.payload.clone().unwrap_or_default();
        for (key, value) in [
            ("id", json!(entry.id)),
            ("$createdBy", json!("old")),
            ("$createdAt", json!(NOW)),
            ("$updatedBy", json!("old")),
            ("$updatedAt", json!(NOW)),
        ] {
            row.insert(key.to_owned(), value);
        }
        Ok(Decision::Put(row))
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stored_row_too_large_for_any_frame_is_sent_without_it() {
    let store = Arc::new(SqliteStore::open_in_memory().unwrap());
    let writer = Writer {
        user_id: "old".into(),
        client_id: "old".into(),
    };
    let entry = |seq: i64, id: &str, payload: Value| PushEntry {
        seq,
        table: "files".into(),
        op: WriteOp::Insert,
        id: id.into(),
        payload: payload.as_object().cloned(),
        at: None,
    };
    let entries = vec![
        entry(1, "huge", json!({"blob": "q".repeat(3 * MAX_FRAME / 2)})),
        entry(2, "fine", json!({"blob": "small"})),
    ];
    store.push(&writer, entries, unlimited()).await.unwrap();
    let mut config = config(&clock());
    config.store = Some(store as Arc<dyn ServerStore>);
    let server = start(config).await;
    let db = db_for(&url(&server), 1, clock());
    let report = db.sync_once().await.unwrap();
    assert_eq!((report.pulled, report.skipped), (1, 1), "{report:?}");
    assert!(db.get("files", "fine").unwrap().is_some());
    let skipped = db.sync_status().skipped_changes;
    assert_eq!(skipped[0].id, "huge");
    assert_eq!(skipped[0].code, "row-too-large");
}

#[tokio::test]
async fn frame_limits_clients_cannot_take_refuse_to_start() {
    for bad in [8 * KIB, 32 * MAX_FRAME] {
        let mut config = config(&clock());
        config.limits.max_frame_bytes = bad;
        let error = localfirst_server::serve(config).await.unwrap_err();
        assert_eq!(error.code(), "server-config", "{error}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_engine_refuses_a_server_announcing_frame_limits_outside_the_protocols() {
    // Frames above what it accepts, or so small that every entry would be dropped.
    for max in [32 * MAX_FRAME, 100] {
        let limits = json!({"maxFrameBytes": max, "maxBatch": 1000, "maxPull": 1000});
        let fake = FakeServer::start(limits, Vec::new()).await;
        let db = db_for(&fake.url(), 1, clock());
        db.insert("notes", RowValues::new().set("text", "waits"))
            .unwrap();
        let error = db.sync_once().await.unwrap_err();
        assert_eq!(error.code(), "sync-protocol", "{error}");
        assert!(error.to_string().contains("frame-too-large"), "{error}");
        assert_eq!(db.outbox_len().unwrap(), 1, "nothing dropped");
        assert!(db.sync_status().last_rejections.is_empty());
        assert!(fake.heard.lock().unwrap().pushed.is_empty());
    }
}
