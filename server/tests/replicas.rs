//! Two server processes' worth of replicas (two in-process servers, each on its
//! own loopback port) on one PostgreSQL database, one WebSocket client on each.
//!
//! Needs `LOCALFIRST_TEST_DATABASE_URL` (see `scripts/with-postgres.sh`); each
//! test works in its own schema.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed unwrap is a failed test

mod common;
mod pg_support;

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use common::*;
use localfirst_server::RunningServer;
use serde_json::{json, Value};

/// Two servers on the same database schema.
async fn two_replicas(url: &str) -> (RunningServer, RunningServer) {
    let clock = clock();
    let mut first = config(&clock);
    first.database_url = Some(url.to_owned());
    let mut second = config(&clock);
    second.database_url = Some(url.to_owned());
    (start(first).await, start(second).await)
}

/// Reads live `changes` frames until `count` changes arrived; returns them.
async fn live_changes(client: &mut Client, count: usize) -> Vec<Value> {
    let mut all = Vec::new();
    while all.len() < count {
        let frame = client.recv().await;
        assert_eq!(frame["type"], "changes", "{frame}");
        assert_eq!(frame["live"], true, "{frame}");
        all.extend(frame["changes"].as_array().unwrap().iter().cloned());
    }
    all
}

/// Subscribes from cursor 0 and checks the (empty) first page.
async fn subscribe_from_start(client: &mut Client) {
    client.send(json!({"type": "pull", "cursor": 0})).await;
    let initial = client.recv().await;
    assert_eq!(initial["type"], "changes", "{initial}");
    assert_eq!(initial["changes"], json!([]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_through_one_replica_arrives_live_at_the_other_and_both_converge() {
    let Some(base) = pg_support::base_url("a_write_through_one_replica_arrives_live...") else {
        return;
    };
    let (schema, url) = pg_support::fresh_schema(&base).await;
    let (one, two) = two_replicas(&url).await;
    assert_ne!(one.local_addr(), two.local_addr());
    let mut alice = connect_user(one.local_addr(), 1, "alice-phone").await;
    let mut bob = connect_user(two.local_addr(), 2, "bob-laptop").await;
    subscribe_from_start(&mut alice).await;
    subscribe_from_start(&mut bob).await;

    // Alice writes through replica one; Bob, on replica two, hears it live.
    let (rejected, ack) = alice
        .push(json!([insert(
            1,
            "notes",
            "a1",
            json!({"text": "from one"})
        )]))
        .await;
    assert!(rejected.is_empty(), "{rejected:?}");
    assert_eq!(ack["cursor"], 1);
    let heard = live_changes(&mut bob, 1).await;
    assert_eq!(heard[0]["id"], "a1");
    assert_eq!(heard[0]["row"]["text"], "from one");
    assert_eq!(heard[0]["row"]["$createdBy"], user_id(1));
    // Alice hears her own write too (live on her socket).
    assert_eq!(live_changes(&mut alice, 1).await[0]["id"], "a1");

    // Bob writes through replica two; Alice, on replica one, hears it live.
    let (rejected, ack) = bob
        .push(json!([
            insert(1, "notes", "b1", json!({"text": "from two"})),
            {"seq": 2, "table": "notes", "op": "update", "id": "a1", "payload": {"seen": true}},
        ]))
        .await;
    assert!(rejected.is_empty(), "{rejected:?}");
    assert_eq!(ack["cursor"], 3);
    let heard = live_changes(&mut alice, 2).await;
    let ids: Vec<&str> = heard.iter().map(|c| c["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["b1", "a1"]);
    assert_eq!(heard[1]["row"]["seen"], true);
    live_changes(&mut bob, 2).await;

    // Both replicas serve the same log; clients converge on the same rows.
    let mut alice_fresh = connect_user(one.local_addr(), 1, "alice-tablet").await;
    let mut bob_fresh = connect_user(two.local_addr(), 2, "bob-phone").await;
    let (from_one, cursor_one) = alice_fresh.pull_all(0).await;
    let (from_two, cursor_two) = bob_fresh.pull_all(0).await;
    assert_eq!(cursor_one, 3);
    assert_eq!(cursor_two, 3);
    assert_eq!(from_one, from_two);
    let rows = apply(&from_one);
    assert_eq!(rows.len(), 2);
    assert_eq!(rows["notes/a1"]["seen"], true);
    assert_eq!(rows["notes/b1"]["text"], "from two");

    // A batch resent to the *other* replica after a lost ack is applied once.
    let mut alice_again = connect_user(two.local_addr(), 1, "alice-phone").await;
    let (rejected, ack) = alice_again
        .push(json!([insert(
            1,
            "notes",
            "a1",
            json!({"text": "from one"})
        )]))
        .await;
    assert!(rejected.is_empty(), "{rejected:?}");
    assert_eq!(ack["seqs"], json!([1]));
    assert_eq!(ack["cursor"], 3);

    one.shutdown().await.unwrap();
    two.shutdown().await.unwrap();
    pg_support::drop_schema(&base, &schema).await;
}

/// Pushes `ROWS` rows from a client on `from` and waits until a live
/// subscriber on `to` has every one exactly once; returns rows per second.
async fn rows_per_second(from: std::net::SocketAddr, to: std::net::SocketAddr) -> f64 {
    const ROWS: i64 = 4000;
    const BATCH: i64 = 200;
    let mut writer = connect_user(from, 1, "writer").await;
    let mut reader = connect_user(to, 2, "reader").await;
    subscribe_from_start(&mut reader).await;

    let started = Instant::now();
    let reading = tokio::spawn(async move {
        let changes = live_changes(&mut reader, ROWS as usize).await;
        (changes, started.elapsed())
    });
    for batch in 0..ROWS / BATCH {
        let entries: Vec<Value> = (0..BATCH)
            .map(|i| {
                let seq = batch * BATCH + i + 1;
                insert(seq, "notes", &format!("n{seq}"), json!({"i": seq}))
            })
            .collect();
        let (rejected, _) = writer.push(Value::Array(entries)).await;
        assert!(rejected.is_empty());
    }
    let (changes, elapsed) = tokio::time::timeout(Duration::from_secs(120), reading)
        .await
        .expect("the reader did not get every row")
        .unwrap();
    assert_eq!(changes.len(), ROWS as usize);
    let ids: BTreeSet<&str> = changes.iter().map(|c| c["id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), ROWS as usize, "every row arrives exactly once");
    ROWS as f64 / elapsed.as_secs_f64()
}

/// Rows/s synced from a writer on replica one to a live subscriber on replica
/// two, beside the baseline of one in-memory SQLite server in the same run
/// (printed; run with `--nocapture`, in release mode for real numbers).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rows_per_second_through_two_replicas() {
    let Some(base) = pg_support::base_url("rows_per_second_through_two_replicas") else {
        return;
    };
    let single = start(config(&clock())).await;
    let baseline = rows_per_second(single.local_addr(), single.local_addr()).await;
    single.shutdown().await.unwrap();

    let (schema, url) = pg_support::fresh_schema(&base).await;
    let (one, two) = two_replicas(&url).await;
    let replicated = rows_per_second(one.local_addr(), two.local_addr()).await;
    println!(
        "rows/s synced (4000 rows, batches of 200): one server on SQLite in memory {baseline:.0}; \
         two replicas on PostgreSQL {replicated:.0} ({:.2}x)",
        replicated / baseline
    );
    one.shutdown().await.unwrap();
    two.shutdown().await.unwrap();
    pg_support::drop_schema(&base, &schema).await;
}
