//! Push, pull, live changes, idempotency, policies, restarts: a real server on
//! 127.0.0.1 and real WebSocket clients.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed unwrap is a failed test

mod common;

use common::*;
use localfirst_core::policy::PolicySet;
use localfirst_core::token::Issuer;
use serde_json::json;

#[tokio::test]
async fn local_first_client_pushes_and_pulls() {
    let clock = clock();
    let server = start(config(&clock)).await;
    let mut client = connect(server.local_addr(), &[bearer(&local_first(1))]).await;
    let welcome = client.hello("device-1").await;
    assert_eq!(welcome["type"], "welcome");
    assert_eq!(welcome["version"], 1);
    assert_eq!(welcome["session"]["userId"], user_id(1));
    assert_eq!(welcome["session"]["authMode"], "local-first");
    assert_eq!(welcome["cursor"], 0);

    let (rejected, ack) = client
        .push(json!([
            insert(1, "notes", "n1", json!({"text": "hello"})),
            {"seq": 2, "table": "notes", "op": "update", "id": "n1", "payload": {"text": "hello!"}},
            insert(3, "notes", "n2", json!({"text": "bye"})),
            {"seq": 4, "table": "notes", "op": "delete", "id": "n2"},
        ]))
        .await;
    assert!(rejected.is_empty(), "{rejected:?}");
    assert_eq!(ack["seqs"], json!([1, 2, 3, 4]));
    assert_eq!(ack["cursor"], 4);

    let (changes, cursor) = client.pull_all(0).await;
    assert_eq!(cursor, 4);
    assert_eq!(changes.len(), 4);
    let rows = apply(&changes);
    assert_eq!(rows.len(), 1);
    let row = &rows["notes/n1"];
    assert_eq!(row["text"], "hello!");
    assert_eq!(row["id"], "n1");
    assert_eq!(row["$createdBy"], user_id(1));
    assert_eq!(row["$updatedBy"], user_id(1));
    assert_eq!(row["$createdAt"], NOW);
    // Pulling from the cursor again returns nothing new.
    let (again, same) = client.pull_all(cursor).await;
    assert!(again.is_empty());
    assert_eq!(same, cursor);
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn two_clients_of_one_user_converge() {
    let clock = clock();
    let server = start(config(&clock)).await;
    let addr = server.local_addr();
    let mut phone = connect_user(addr, 1, "phone").await;
    let mut laptop = connect_user(addr, 1, "laptop").await;
    phone
        .push(json!([insert(1, "notes", "p1", json!({"from": "phone"}))]))
        .await;
    laptop
        .push(json!([insert(1, "notes", "l1", json!({"from": "laptop"}))]))
        .await;
    phone
        .push(json!([{"seq": 2, "table": "notes", "op": "update", "id": "l1", "payload": {"seen": true}}]))
        .await;
    let (a, _) = phone.pull_all(0).await;
    let (b, _) = laptop.pull_all(0).await;
    let (rows_a, rows_b) = (apply(&a), apply(&b));
    assert_eq!(rows_a, rows_b);
    assert_eq!(rows_a.len(), 2);
    assert_eq!(rows_a["notes/l1"]["seen"], true);
    assert_eq!(rows_a["notes/l1"]["$updatedBy"], user_id(1));
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_subscribed_client_receives_live_changes() {
    let clock = clock();
    let server = start(config(&clock)).await;
    let addr = server.local_addr();
    let mut writer = connect_user(addr, 1, "writer").await;
    let mut reader = connect_user(addr, 2, "reader").await;
    reader.send(json!({"type": "pull", "cursor": 0})).await;
    let initial = reader.recv().await;
    assert_eq!(initial["type"], "changes");
    assert_eq!(initial["changes"], json!([]));

    writer
        .push(json!([insert(1, "notes", "n1", json!({"text": "live"}))]))
        .await;
    let live = reader.recv().await;
    assert_eq!(live["type"], "changes", "{live}");
    assert_eq!(live["live"], true);
    assert_eq!(live["changes"][0]["id"], "n1");
    assert_eq!(live["changes"][0]["row"]["text"], "live");
    assert_eq!(live["cursor"], 1);
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_resent_batch_is_applied_once() {
    let clock = clock();
    let server = start(config(&clock)).await;
    let addr = server.local_addr();
    let batch = json!([
        insert(7, "notes", "n1", json!({"v": 1})),
        {"seq": 8, "table": "notes", "op": "update", "id": "n1", "payload": {"v": 2}},
    ]);
    let mut first = connect_user(addr, 1, "device").await;
    let (_, ack) = first.push(batch.clone()).await;
    assert_eq!(ack["seqs"], json!([7, 8]));
    drop(first); // the ack is "lost": the client reconnects and resends
    let mut second = connect_user(addr, 1, "device").await;
    let (rejected, ack) = second.push(batch).await;
    assert!(rejected.is_empty(), "{rejected:?}");
    assert_eq!(ack["seqs"], json!([7, 8]));
    let (changes, cursor) = second.pull_all(0).await;
    assert_eq!(changes.len(), 2, "applied exactly once: {changes:?}");
    assert_eq!(cursor, 2);
    assert_eq!(apply(&changes)["notes/n1"]["v"], 2);
    server.shutdown().await.unwrap();
}

const OWNER_POLICIES: &str = r#"{
  "tables": {
    "notes": {
      "read": {"eq": [{"column": "owner"}, {"session": "userId"}]},
      "insert": {"eq": [{"column": "owner"}, {"session": "userId"}]},
      "update": {"eq": [{"column": "owner"}, {"session": "userId"}]},
      "delete": {"eq": [{"column": "owner"}, {"session": "userId"}]}
    }
  }
}"#;

#[tokio::test]
async fn policies_reject_writes_and_filter_reads() {
    let clock = clock();
    let mut config = config(&clock);
    config.policies = Some(PolicySet::from_json(OWNER_POLICIES).unwrap());
    let server = start(config).await;
    let addr = server.local_addr();
    let mut alice = connect_user(addr, 1, "alice").await;
    let mut mallory = connect_user(addr, 2, "mallory").await;
    // A client that skips local checks: writes a row owned by someone else.
    let (rejected, ack) = mallory
        .push(json!([
            insert(1, "notes", "forged", json!({"owner": user_id(1)})),
            insert(2, "notes", "own", json!({"owner": user_id(2)})),
            insert(3, "secrets", "x", json!({"owner": user_id(2)})),
        ]))
        .await;
    assert_eq!(rejected.len(), 2, "{rejected:?}");
    assert_eq!(rejected[0]["seq"], 1);
    assert_eq!(rejected[0]["code"], "policy-denied");
    assert_eq!(rejected[1]["seq"], 3);
    assert_eq!(ack["seqs"], json!([2]));
    alice
        .push(json!([insert(
            1,
            "notes",
            "a1",
            json!({"owner": user_id(1)})
        )]))
        .await;
    // Mallory may not take over Alice's row either; she cannot read it, so the
    // answer is the one for a missing row (docs/PROTOCOL.md).
    let (rejected, _) = mallory
        .push(json!([{"seq": 4, "table": "notes", "op": "update", "id": "a1", "payload": {"owner": user_id(2)}}]))
        .await;
    assert_eq!(rejected[0]["code"], "not-found");
    // System columns are the server's.
    let (rejected, _) = mallory
        .push(json!([insert(
            5,
            "notes",
            "m2",
            json!({"owner": user_id(2), "$createdBy": user_id(1)})
        )]))
        .await;
    assert_eq!(rejected[0]["code"], "invalid-entry");

    let (seen_by_mallory, _) = mallory.pull_all(0).await;
    let (seen_by_alice, _) = alice.pull_all(0).await;
    assert_eq!(
        apply(&seen_by_mallory).keys().collect::<Vec<_>>(),
        ["notes/own"]
    );
    assert_eq!(
        apply(&seen_by_alice).keys().collect::<Vec<_>>(),
        ["notes/a1"]
    );
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_row_leaving_the_read_view_arrives_as_a_delete() {
    let clock = clock();
    let mut config = config(&clock);
    config.policies = Some(
        PolicySet::from_json(
            r#"{"tables": {"notes": {"read": {"eq": [{"column": "shared"}, {"literal": true}]},
                "insert": "always", "update": "always"}}}"#,
        )
        .unwrap(),
    );
    let server = start(config).await;
    let addr = server.local_addr();
    let mut owner = connect_user(addr, 1, "owner").await;
    let mut other = connect_user(addr, 2, "other").await;
    owner
        .push(json!([insert(1, "notes", "n", json!({"shared": true}))]))
        .await;
    owner
        .push(json!([{"seq": 2, "table": "notes", "op": "update", "id": "n", "payload": {"shared": false}}]))
        .await;
    let (changes, _) = other.pull_all(0).await;
    assert_eq!(changes.len(), 2);
    assert_eq!(changes[0]["op"], "put");
    assert_eq!(changes[1]["op"], "delete");
    assert!(changes[1].get("row").is_none());
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn anonymous_sessions_read_but_never_write() {
    let clock = clock();
    let server = start(config(&clock)).await;
    let addr = server.local_addr();
    let mut writer = connect_user(addr, 1, "w").await;
    writer
        .push(json!([insert(1, "notes", "n1", json!({"text": "public"}))]))
        .await;
    let anonymous = token_for(9, Issuer::Anonymous, APP);
    let mut guest = connect(addr, &[bearer(&anonymous)]).await;
    let welcome = guest.hello("guest").await;
    assert_eq!(welcome["session"]["authMode"], "anonymous");
    let (changes, _) = guest.pull_all(0).await;
    assert_eq!(apply(&changes)["notes/n1"]["text"], "public");
    let (rejected, ack) = guest
        .push(json!([
            insert(1, "notes", "g1", json!({})),
            {"seq": 2, "table": "notes", "op": "delete", "id": "n1"},
        ]))
        .await;
    assert_eq!(ack["seqs"], json!([]));
    assert_eq!(rejected.len(), 2);
    assert!(rejected
        .iter()
        .all(|r| r["code"] == "anonymous-write-denied"));
    let (after, _) = writer.pull_all(0).await;
    assert_eq!(apply(&after).len(), 1);
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn data_survives_a_restart_on_the_same_data_dir() {
    let dir = tempfile::tempdir().unwrap();
    let clock = clock();
    let mut first = config(&clock);
    first.in_memory = false;
    first.data_dir = Some(dir.path().to_owned());
    let server = start(first.clone()).await;
    let mut client = connect_user(server.local_addr(), 1, "d").await;
    client
        .push(json!([insert(1, "notes", "kept", json!({"v": 1}))]))
        .await;
    drop(client);
    server.shutdown().await.unwrap();

    let server = start(first).await;
    let mut client = connect_user(server.local_addr(), 1, "d").await;
    let (changes, cursor) = client.pull_all(0).await;
    assert_eq!(cursor, 1);
    assert_eq!(apply(&changes)["notes/kept"]["v"], 1);
    // The idempotency records survived too.
    let (_, ack) = client
        .push(json!([insert(1, "notes", "kept", json!({"v": 1}))]))
        .await;
    assert_eq!(ack["seqs"], json!([1]));
    assert_eq!(client.pull_all(0).await.0.len(), 1);
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn shutdown_tells_open_sockets_and_stops_accepting() {
    let clock = clock();
    let server = start(config(&clock)).await;
    let addr = server.local_addr();
    let mut client = connect_user(addr, 1, "d").await;
    assert_eq!(server.connections(), 1);
    let stopping = tokio::spawn(server.shutdown());
    let frame = client.recv().await;
    assert_eq!(frame["code"], "shutting-down");
    assert_eq!(client.closed().await.map(|c| c.0), Some(1001));
    stopping.await.unwrap().unwrap();
    assert!(tokio::net::TcpStream::connect(addr).await.is_err());
}

#[tokio::test]
async fn unusable_configurations_fail_to_start() {
    use localfirst_core::ErrorCode as _;
    let clock = clock();
    let mut no_storage = config(&clock);
    no_storage.in_memory = false;
    let mut no_app = config(&clock);
    no_app.app_id = " ".into();
    for bad in [no_storage, no_app] {
        let error = localfirst_server::serve(bad).await.unwrap_err();
        assert_eq!(error.code(), "server-config", "{error}");
    }
    // A PostgreSQL URL selects the PostgreSQL store; an unreachable database
    // (nothing listens on port 1) fails the start with a storage error.
    let mut postgres = config(&clock);
    postgres.database_url = Some("postgres://postgres@127.0.0.1:1/x".into());
    let error = localfirst_server::serve(postgres).await.unwrap_err();
    assert_eq!(error.code(), "server-storage-open", "{error}");
}
