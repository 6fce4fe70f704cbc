//! One timeline on every device: a row keeps the writer's `$createdAt` and
//! `$updatedAt` (its clock, bounded by the server against skew), so the row an
//! app got back from `insert` is the row every device syncs.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

mod common;

use std::sync::Arc;

use common::db_client::db_for;
use common::*;
use localfirst_core::clock::FixedClock;
use localfirst_core::db::RowValues;
use localfirst_server::{RunningServer, MAX_CLOCK_AHEAD_SECS};
use serde_json::json;

const DAY: u64 = 24 * 3600;

fn url(server: &RunningServer) -> String {
    format!("ws://{}", server.local_addr())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_row_written_offline_keeps_its_time_on_every_device() {
    // Written on Monday (the device's clock), synced on Wednesday (the server's).
    let server_clock = Arc::new(FixedClock::new(NOW + 2 * DAY));
    let server = start(config(&server_clock)).await;
    let phone_clock = Arc::new(FixedClock::new(NOW));
    let phone = db_for(&url(&server), 1, phone_clock.clone());
    let inserted = phone
        .insert("todos", RowValues::new().set("title", "milk"))
        .unwrap();
    assert_eq!(inserted.created_at(), NOW);
    phone_clock.advance(3600);
    let updated = phone
        .update("todos", &inserted.id(), RowValues::new().set("done", true))
        .unwrap();
    // Back online two days later.
    phone_clock.set(NOW + 2 * DAY);
    assert_eq!(phone.sync_once().await.unwrap().acknowledged, 2);
    // The writer's copy is unchanged by the sync, field for field.
    assert_eq!(
        phone.get("todos", &inserted.id()).unwrap(),
        Some(updated.clone())
    );

    let laptop = db_for(&url(&server), 1, server_clock.clone());
    laptop.sync_once().await.unwrap();
    let synced = laptop.get("todos", &inserted.id()).unwrap().unwrap();
    assert_eq!(synced, updated);
    assert_eq!(
        (synced.created_at(), synced.updated_at()),
        (NOW, NOW + 3600)
    );
}

#[tokio::test]
async fn a_time_far_ahead_of_the_server_is_clamped() {
    let server = start(config(&clock())).await;
    let mut client = connect_user(server.local_addr(), 1, "ahead").await;
    client
        .push(
            json!([{"seq": 1, "table": "todos", "op": "insert", "id": "a",
                      "payload": {}, "at": NOW + DAY}]),
        )
        .await;
    let (changes, _) = client.pull_all(0).await;
    let row = &apply(&changes)["todos/a"];
    assert_eq!(row["$createdAt"], NOW + MAX_CLOCK_AHEAD_SECS);
    assert_eq!(row["$updatedAt"], NOW + MAX_CLOCK_AHEAD_SECS);
}

#[tokio::test]
async fn an_entry_without_a_time_gets_the_servers() {
    let server_clock = clock();
    let server = start(config(&server_clock)).await;
    let mut old_client = connect_user(server.local_addr(), 1, "old").await;
    let mut new_client = connect_user(server.local_addr(), 1, "new").await;
    old_client
        .push(json!([insert(1, "todos", "a", json!({}))]))
        .await;
    new_client
        .push(
            json!([{"seq": 1, "table": "todos", "op": "insert", "id": "b",
                      "payload": {}, "at": NOW - DAY}]),
        )
        .await;
    new_client
        .push(
            json!([{"seq": 2, "table": "todos", "op": "update", "id": "a",
                      "payload": {"x": 1}, "at": NOW - 10}]),
        )
        .await;
    let (changes, _) = old_client.pull_all(0).await;
    let rows = apply(&changes);
    assert_eq!(rows["todos/a"]["$createdAt"], NOW);
    assert_eq!(rows["todos/a"]["$updatedAt"], NOW - 10);
    assert_eq!(rows["todos/b"]["$createdAt"], NOW - DAY);
    assert_eq!(rows["todos/b"]["$updatedAt"], NOW - DAY);
    assert_eq!(rows["todos/b"]["$createdBy"], user_id(1));
}
