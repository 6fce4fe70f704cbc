//! One user's unstorable rows never break sync for others: the server applies
//! the clients' naming rules, and a client skips (and reports) a change it
//! cannot store while everything else syncs.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

mod common;

use std::sync::Arc;

use common::db_client::{db_for, default_limits, FakeServer};
use common::*;
use localfirst_core::db::RowValues;
use localfirst_core::local_db::Query;
use serde_json::{json, Value};

fn todo(title: &str) -> RowValues {
    RowValues::new().set("title", title)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_rejects_what_no_client_can_store_and_others_keep_syncing() {
    let server = start(config(&clock())).await;
    let mut mallory = connect_user(server.local_addr(), 1, "mallory").await;
    let long = "t".repeat(100);
    let (rejected, ack) = mallory
        .push(json!([
            insert(1, "todos", "ok-1", json!({"title": "fine"})),
            insert(2, "bad name", "x", json!({})),
            insert(3, "Todos", "x", json!({})),
            insert(4, &long, "x", json!({})),
            insert(5, "tâches", "x", json!({})),
            insert(6, "todos", "nul\u{0}id", json!({})),
            insert(7, "todos", "x", json!({"bad column": 1})),
            insert(8, "todos", "", json!({})),
            {"seq": 9, "table": "TODOS", "op": "update", "id": "ok-1", "payload": {"title": "x"}},
            insert(10, "todos", "ok-2", json!({"title": "also fine"})),
        ]))
        .await;
    let codes: Vec<(i64, &str)> = rejected
        .iter()
        .map(|r| (r["seq"].as_i64().unwrap(), r["code"].as_str().unwrap()))
        .collect();
    assert_eq!(
        codes,
        [
            (2, "invalid-name"),
            (3, "table-name-clash"),
            (4, "invalid-name"),
            (5, "invalid-name"),
            (6, "invalid-row"),
            (7, "invalid-name"),
            (8, "invalid-row"),
            (9, "not-found"),
        ]
    );
    assert_eq!(ack["seqs"], json!([1, 10]));

    // Another user, with a write of their own, syncs everything there is.
    let reader = db_for(&format!("ws://{}", server.local_addr()), 2, clock());
    reader.insert("todos", todo("mine")).unwrap();
    let report = reader.sync_once().await.unwrap();
    assert_eq!(
        (report.acknowledged, report.rejected, report.skipped),
        (1, 0, 0)
    );
    assert_eq!(reader.outbox_len().unwrap(), 0);
    assert_eq!(reader.query(&Query::table("todos")).unwrap().len(), 3);
    assert!(reader.sync_status().skipped_changes.is_empty());
}

fn row(id: &str, extra: Value) -> Value {
    let mut row =
        json!({"id": id, "$createdBy": "u", "$createdAt": 1, "$updatedBy": "u", "$updatedAt": 1});
    row.as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    row
}

fn put(cursor: u64, table: &str, id: &str, row: Value) -> Value {
    json!({"cursor": cursor, "table": table, "id": id, "op": "put", "row": row})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_skips_changes_it_cannot_store_and_keeps_pushing() {
    let changes = json!([
        put(1, "todos", "a", row("a", json!({"title": "first"}))),
        put(2, "bad name", "x", row("x", json!({}))),
        put(3, "todos", "nul\u{0}id", row("nul\u{0}id", json!({}))),
        put(4, "Todos", "y", row("y", json!({}))),
        put(5, "todos", "b", json!({"id": "b", "title": "no stamps"})),
        put(6, "todos", "c", row("c", json!({"bad column": 1}))),
        {"cursor": 7, "table": "todos", "id": "d", "op": "put"},
        {"cursor": 8, "table": "todos", "id": "e", "op": "put", "omitted": "row-too-large"},
        {"cursor": 9, "table": "bad name", "id": "x", "op": "delete"},
        put(10, "todos", "f", row("f", json!({"title": "last"}))),
    ]);
    let page = json!({"type": "changes", "changes": changes, "cursor": 10, "more": false});
    let fake = FakeServer::start(default_limits(), vec![page]).await;
    let db = db_for(&fake.url(), 1, clock());
    let mine = db.insert("todos", todo("mine")).unwrap();

    let report = db.sync_once().await.unwrap();
    assert_eq!((report.pulled, report.skipped), (2, 8), "{report:?}");
    assert_eq!(report.acknowledged, 1);
    assert_eq!(db.outbox_len().unwrap(), 0, "the outbox never stalls");
    let heard: Vec<Value> = fake.heard.lock().unwrap().pushed.clone();
    assert_eq!(heard.len(), 1);
    assert_eq!(heard[0]["id"], mine.id());
    let mut ids: Vec<String> = db
        .query(&Query::table("todos"))
        .unwrap()
        .iter()
        .map(|r| r.id())
        .collect();
    let mut expected_ids = vec!["a".to_owned(), "f".to_owned(), mine.id()];
    ids.sort();
    expected_ids.sort();
    assert_eq!(ids, expected_ids);
    let sync_url = localfirst_core::sync::sync_url(&fake.url(), APP);
    assert_eq!(
        db.sync_cursor(&sync_url).unwrap(),
        10,
        "past the skipped changes"
    );

    let skipped: Vec<(u64, String)> = db
        .sync_status()
        .skipped_changes
        .iter()
        .map(|s| (s.cursor, s.code.clone()))
        .collect();
    let expected = [
        (2, "invalid-name"),
        (3, "invalid-row"),
        (4, "table-name-clash"),
        (5, "invalid-row"),
        (6, "invalid-name"),
        (7, "invalid-row"),
        (8, "row-too-large"),
        (9, "invalid-name"),
    ];
    let expected: Vec<(u64, String)> = expected
        .iter()
        .map(|(c, code)| (*c, (*code).to_owned()))
        .collect();
    assert_eq!(skipped, expected);

    // The next sync starts after them.
    db.insert("todos", todo("later")).unwrap();
    let again = db.sync_once().await.unwrap();
    assert_eq!((again.acknowledged, again.skipped), (1, 0));
    assert_eq!(fake.heard.lock().unwrap().pulls, [0, 10]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_live_client_skips_an_unstorable_change_and_stays_connected() {
    let changes = json!([
        put(1, "bad name", "x", row("x", json!({}))),
        put(2, "todos", "a", row("a", json!({"title": "after"}))),
    ]);
    let page = json!({"type": "changes", "changes": changes, "cursor": 2, "more": false});
    let fake = FakeServer::start(default_limits(), vec![page]).await;
    let db = db_for(&fake.url(), 1, clock());
    db.start_sync_with(localfirst_core::sync::Backoff::default())
        .unwrap();
    let seen = Arc::new(db.clone());
    common::db_client::eventually("the good row arrives", || {
        seen.get("todos", "a").unwrap().is_some()
    })
    .await;
    let written = db.insert("todos", todo("pushed live")).unwrap();
    common::db_client::eventually("the write leaves", || seen.outbox_len().unwrap() == 0).await;
    assert_eq!(db.sync_status().skipped_changes.len(), 1);
    assert_eq!(db.sync_status().last_error, None);
    assert_eq!(fake.heard.lock().unwrap().pushed[0]["id"], written.id());
    db.logout().unwrap();
}

/// Names a client sent come back in rejection messages as JSON strings, cut to 64
/// characters: no control character, no Rust debug text (`\u{7}`) and no text of
/// unbounded length reaches the client, whichever check refused the entry.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rejection_messages_quote_the_names_they_show() {
    let server = start(config(&clock())).await;
    let mut mallory = connect_user(server.local_addr(), 1, "mallory").await;
    let long = "x\u{7}".repeat(5_000);
    let (rejected, _) = mallory
        .push(json!([
            insert(1, "bad\u{7}name", "x", json!({})),
            insert(2, &long, "x", json!({})),
            insert(3, "todos", "x", json!({"col\nbreak": 1})),
            insert(4, "todos", "x", json!({"$sys\ncol": 1})),
            {"seq": 5, "table": "todos", "op": "update", "id": "x\u{3000}", "payload": {}},
        ]))
        .await;
    let mut anonymous = connect(
        server.local_addr(),
        &[bearer(&token_for(
            2,
            localfirst_core::token::Issuer::Anonymous,
            APP,
        ))],
    )
    .await;
    anonymous.hello("anon").await;
    let (refused, _) = anonymous
        .push(json!([insert(1, "bad\nname", "x", json!({}))]))
        .await;
    let messages: Vec<&str> = rejected
        .iter()
        .chain(&refused)
        .map(|r| r["message"].as_str().unwrap())
        .collect();
    assert_eq!(messages.len(), 6, "{rejected:?} {refused:?}");
    for message in &messages {
        assert!(!message.chars().any(char::is_control), "{message:?}");
        assert!(!message.contains("\\u{"), "{message}");
        assert!(message.chars().count() < 600, "{message}");
    }
    assert!(
        messages[0].contains(r#""bad\u0007name""#),
        "{}",
        messages[0]
    );
    assert!(messages[3].contains(r#""$sys\ncol""#), "{}", messages[3]);
}
