//! The shared store suite against PostgreSQL (the second handle is a second
//! replica on the same database), plus cross-replica notifications, listener
//! reconnection and concurrent pushes through two replicas.
//!
//! Needs `LOCALFIRST_TEST_DATABASE_URL` (see `scripts/with-postgres.sh`); each
//! test works in its own schema.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed unwrap is a failed test

mod common;
mod pg_support;

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::store_suite::{self, entry, simple_decide, Store};
use localfirst_server::store::postgres::listener_name;
use localfirst_server::store::{Outcome, PostgresStore, ServerStore, WriteOp, Writer};
use serde_json::json;
use tokio::runtime::Handle;

fn block_on<T>(future: impl std::future::Future<Output = T>) -> T {
    tokio::task::block_in_place(|| Handle::current().block_on(future))
}

fn writer(user: &str, client: &str) -> Writer {
    Writer {
        user_id: user.into(),
        client_id: client.into(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_passes_the_store_suite() {
    let Some(base) = pg_support::base_url("postgres_passes_the_store_suite") else {
        return;
    };
    let schemas: Arc<Mutex<Vec<String>>> = Arc::default();
    let last_url: Arc<Mutex<Option<String>>> = Arc::default();
    let factory = {
        let (base, schemas, last_url) = (base.clone(), schemas.clone(), last_url.clone());
        move || {
            block_on(async {
                let (schema, url) = pg_support::fresh_schema(&base).await;
                schemas.lock().unwrap().push(schema);
                *last_url.lock().unwrap() = Some(url.clone());
                Arc::new(PostgresStore::open(&url).await.unwrap()) as Store
            })
        }
    };
    let reopen = move |_: &Store| {
        let url = last_url.lock().unwrap().clone().unwrap();
        block_on(async { Arc::new(PostgresStore::open(&url).await.unwrap()) as Store })
    };
    store_suite::run_all(factory, Some(&reopen)).await;
    let schemas = schemas.lock().unwrap().clone();
    assert!(schemas.len() >= 7);
    for schema in schemas {
        pg_support::drop_schema(&base, &schema).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn opening_twice_on_a_fresh_schema_is_idempotent() {
    let Some(base) = pg_support::base_url("opening_twice_on_a_fresh_schema_is_idempotent") else {
        return;
    };
    let (schema, url) = pg_support::fresh_schema(&base).await;
    // Replicas starting together: the schema is created once, under a lock.
    let opens: Vec<_> = (0..4)
        .map(|_| {
            let url = url.clone();
            tokio::spawn(async move { PostgresStore::open(&url).await })
        })
        .collect();
    let mut stores = Vec::new();
    for open in opens {
        stores.push(open.await.unwrap().unwrap());
    }
    assert!(stores.iter().all(|s| s.schema() == schema));
    assert_eq!(stores[0].channel(), stores[3].channel());
    assert_eq!(stores[2].latest_cursor().await.unwrap(), 0);
    for store in &stores {
        store.close().await.unwrap();
    }
    pg_support::drop_schema(&base, &schema).await;
}

#[tokio::test]
async fn a_bad_url_or_missing_schema_fails_to_open() {
    let error = PostgresStore::open("not a url").await.unwrap_err();
    assert_eq!(
        localfirst_core::ErrorCode::code(&error),
        "server-storage-open",
        "{error}"
    );
    let Some(base) = pg_support::base_url("a_bad_url_or_missing_schema_fails_to_open") else {
        return;
    };
    let url = pg_support::with_schema(&base, "no_such_schema_here");
    let error = PostgresStore::open(&url).await.unwrap_err();
    assert_eq!(
        localfirst_core::ErrorCode::code(&error),
        "server-storage-open"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_push_through_one_replica_reaches_a_subscriber_of_the_other() {
    let Some(base) = pg_support::base_url("a_push_through_one_replica_reaches_...") else {
        return;
    };
    let (schema, url) = pg_support::fresh_schema(&base).await;
    let a = PostgresStore::open(&url).await.unwrap();
    let b = PostgresStore::open(&url).await.unwrap();
    let mut heard_by_b = b.subscribe();
    let result = a
        .push(
            &writer("u1", "c1"),
            vec![entry(1, WriteOp::Insert, "n1", Some(json!({"text": "hi"})))],
            simple_decide(),
        )
        .await
        .unwrap();
    assert_eq!(result.outcomes, vec![(1, Outcome::Applied)]);
    let heard = tokio::time::timeout(Duration::from_secs(10), heard_by_b.recv())
        .await
        .expect("replica B heard nothing within 10 s")
        .unwrap();
    assert_eq!(heard, result.cursor);
    let page = b.changes_since(0, 10).await.unwrap();
    assert_eq!(page.changes.len(), 1);
    assert_eq!(page.changes[0].row.as_ref().unwrap()["text"], "hi");
    // And the other way round.
    let mut heard_by_a = a.subscribe();
    let back = b
        .push(
            &writer("u2", "c1"),
            vec![entry(1, WriteOp::Insert, "n2", Some(json!({})))],
            simple_decide(),
        )
        .await
        .unwrap();
    let heard = tokio::time::timeout(Duration::from_secs(10), heard_by_a.recv())
        .await
        .expect("replica A heard nothing within 10 s")
        .unwrap();
    assert_eq!(heard, back.cursor);
    assert_eq!(back.cursor, result.cursor + 1);
    a.close().await.unwrap();
    b.close().await.unwrap();
    pg_support::drop_schema(&base, &schema).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_listener_reconnects_and_catches_up() {
    let Some(base) = pg_support::base_url("a_dropped_listener_reconnects_and_catches_up") else {
        return;
    };
    let (schema, url) = pg_support::fresh_schema(&base).await;
    let a = PostgresStore::open(&url).await.unwrap();
    let b = PostgresStore::open(&url).await.unwrap();
    let mut heard_by_b = b.subscribe();
    // Kill both replicas' listener connections (they share the channel).
    let (admin, connection) = tokio_postgres::connect(&base, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    let killed = admin
        .query(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1",
            &[&listener_name(b.channel())],
        )
        .await
        .unwrap();
    assert_eq!(killed.len(), 2, "both listeners were found and ended");
    // Written while B's listener is (probably) down: B catches up on reconnect.
    let result = a
        .push(
            &writer("u1", "c1"),
            vec![entry(1, WriteOp::Insert, "n1", Some(json!({})))],
            simple_decide(),
        )
        .await
        .unwrap();
    let heard = tokio::time::timeout(Duration::from_secs(15), heard_by_b.recv())
        .await
        .expect("replica B heard nothing within 15 s of its listener dropping")
        .unwrap();
    assert_eq!(heard, result.cursor);
    // Once reconnected, later writes are heard live again.
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let rows = admin
            .query(
                "SELECT 1 FROM pg_stat_activity WHERE application_name = $1",
                &[&listener_name(b.channel())],
            )
            .await
            .unwrap();
        if rows.len() == 2 {
            break;
        }
        assert!(Instant::now() < deadline, "listeners did not come back");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let later = a
        .push(
            &writer("u1", "c1"),
            vec![entry(2, WriteOp::Insert, "n2", Some(json!({})))],
            simple_decide(),
        )
        .await
        .unwrap();
    let heard = tokio::time::timeout(Duration::from_secs(10), heard_by_b.recv())
        .await
        .expect("no live notification after the reconnect")
        .unwrap();
    assert_eq!(heard, later.cursor);
    a.close().await.unwrap();
    b.close().await.unwrap();
    pg_support::drop_schema(&base, &schema).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_pushes_through_two_replicas_make_one_gap_free_log() {
    const WRITERS_PER_REPLICA: usize = 4;
    const BATCHES: i64 = 15;
    const PER_BATCH: i64 = 4;
    let Some(base) = pg_support::base_url("concurrent_pushes_through_two_replicas_...") else {
        return;
    };
    let (schema, url) = pg_support::fresh_schema(&base).await;
    let a: Store = Arc::new(PostgresStore::open(&url).await.unwrap());
    let b: Store = Arc::new(PostgresStore::open(&url).await.unwrap());
    let total = (2 * WRITERS_PER_REPLICA) as u64 * (BATCHES * PER_BATCH) as u64;

    // A reader following the log through replica B while the writes happen: it
    // must see every cursor exactly once, in order, never skipping one.
    let reader = {
        let b = Arc::clone(&b);
        tokio::spawn(async move {
            let mut cursor = 0;
            let mut seen = Vec::new();
            let deadline = Instant::now() + Duration::from_secs(120);
            while (seen.len() as u64) < total {
                assert!(Instant::now() < deadline, "reader stuck at {cursor}");
                let page = b.changes_since(cursor, 7).await.unwrap();
                seen.extend(page.changes.iter().map(|c| c.cursor));
                cursor = page.cursor;
                if page.changes.is_empty() {
                    tokio::task::yield_now().await;
                }
            }
            seen
        })
    };
    let mut writers = Vec::new();
    for (r, store) in [&a, &b].into_iter().enumerate() {
        for w in 0..WRITERS_PER_REPLICA {
            let store = Arc::clone(store);
            writers.push(tokio::spawn(async move {
                let who = writer("u1", &format!("r{r}-w{w}"));
                for batch in 0..BATCHES {
                    let entries = (0..PER_BATCH)
                        .map(|i| {
                            let seq = batch * PER_BATCH + i + 1;
                            entry(
                                seq,
                                WriteOp::Insert,
                                &format!("r{r}-w{w}-{seq}"),
                                Some(json!({"seq": seq})),
                            )
                        })
                        .collect();
                    let result = store.push(&who, entries, simple_decide()).await.unwrap();
                    assert!(result.outcomes.iter().all(|(_, o)| *o == Outcome::Applied));
                }
            }));
        }
    }
    for writer in writers {
        writer.await.unwrap();
    }
    let seen = reader.await.unwrap();
    let expected: Vec<u64> = (1..=total).collect();
    assert_eq!(
        seen, expected,
        "the live reader skipped or repeated cursors"
    );

    let log_a = a.changes_since(0, 10_000).await.unwrap();
    let log_b = b.changes_since(0, 10_000).await.unwrap();
    assert_eq!(log_a, log_b);
    let cursors: Vec<u64> = log_a.changes.iter().map(|c| c.cursor).collect();
    assert_eq!(cursors, expected, "gap-free and strictly increasing");
    let ids: BTreeSet<&str> = log_a.changes.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(ids.len() as u64, total);
    assert_eq!(a.latest_cursor().await.unwrap(), total);
    assert_eq!(b.latest_cursor().await.unwrap(), total);
    a.close().await.unwrap();
    b.close().await.unwrap();
    pg_support::drop_schema(&base, &schema).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_answers_like_sqlite_on_tricky_batches() {
    let Some(base) = pg_support::base_url("postgres_answers_like_sqlite_on_tricky_batches") else {
        return;
    };
    let (schema, url) = pg_support::fresh_schema(&base).await;
    let pg: Store = Arc::new(PostgresStore::open(&url).await.unwrap());
    let lite: Store = Arc::new(localfirst_server::SqliteStore::open_in_memory().unwrap());
    let batches = vec![
        // The same row inserted, updated, deleted and inserted again in one batch;
        // an entry repeated inside the batch; a rejection between applied entries.
        vec![
            entry(1, WriteOp::Insert, "x", Some(json!({"v": 1}))),
            entry(2, WriteOp::Update, "x", Some(json!({"v": 2}))),
            entry(2, WriteOp::Update, "x", Some(json!({"v": 2}))),
            entry(3, WriteOp::Insert, "x", Some(json!({"v": 3}))),
            entry(4, WriteOp::Delete, "x", None),
            entry(5, WriteOp::Insert, "x", Some(json!({"v": 5}))),
            entry(6, WriteOp::Update, "y", Some(json!({"v": 6}))),
            entry(7, WriteOp::Insert, "y", Some(json!({"deny": true}))),
            entry(8, WriteOp::Delete, "z", None),
        ],
        // A resend mixing old and new keys, touching the rows again.
        vec![
            entry(5, WriteOp::Insert, "x", Some(json!({"v": 5}))),
            entry(7, WriteOp::Insert, "y", Some(json!({"deny": true}))),
            entry(9, WriteOp::Insert, "y", Some(json!({"v": 9}))),
            entry(10, WriteOp::Delete, "x", None),
            entry(11, WriteOp::Update, "y", Some(json!({"w": 11}))),
        ],
        // A key used again with other content: refused from there on, nothing recorded.
        vec![
            entry(12, WriteOp::Insert, "q", Some(json!({"v": 12}))),
            entry(12, WriteOp::Insert, "q", Some(json!({"v": 120}))),
            entry(13, WriteOp::Insert, "r", Some(json!({"v": 13}))),
        ],
        vec![entry(13, WriteOp::Insert, "r", Some(json!({"v": 13})))],
        vec![],
    ];
    let who = writer("u1", "c1");
    for batch in batches {
        let a = pg.push(&who, batch.clone(), simple_decide()).await.unwrap();
        let b = lite.push(&who, batch, simple_decide()).await.unwrap();
        assert_eq!(a, b);
    }
    let (log_pg, log_lite) = (
        pg.changes_since(0, 100).await.unwrap(),
        lite.changes_since(0, 100).await.unwrap(),
    );
    assert_eq!(log_pg, log_lite);
    assert_eq!(log_pg.changes.len(), 9);
    for id in ["x", "y", "z", "q", "r"] {
        assert_eq!(
            pg.get_row("notes", id).await.unwrap(),
            lite.get_row("notes", id).await.unwrap()
        );
    }
    assert_eq!(pg.get_row("notes", "y").await.unwrap().unwrap()["w"], 11);
    pg.close().await.unwrap();
    pg_support::drop_schema(&base, &schema).await;
}

/// Tables written before records kept a content digest: opening adds the
/// column, old records answer resends as before, new ones tell a reused client
/// id apart.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_schema_from_before_content_digests_is_migrated() {
    let Some(base) = pg_support::base_url("a_schema_from_before_content_digests_is_migrated")
    else {
        return;
    };
    let (schema, url) = pg_support::fresh_schema(&base).await;
    pg_support::admin(
        &url,
        "CREATE TABLE lf_rows (tbl TEXT NOT NULL, id TEXT NOT NULL, data TEXT NOT NULL,
             PRIMARY KEY (tbl, id));
         CREATE TABLE lf_changes (cursor_id BIGINT PRIMARY KEY, tbl TEXT NOT NULL,
             id TEXT NOT NULL, op TEXT NOT NULL, row_data TEXT, old_data TEXT);
         CREATE TABLE lf_applied (user_id TEXT NOT NULL, client_id TEXT NOT NULL,
             seq BIGINT NOT NULL, code TEXT, message TEXT,
             PRIMARY KEY (user_id, client_id, seq));
         INSERT INTO lf_rows VALUES ('notes', 'a', '{\"n\":1}');
         INSERT INTO lf_changes VALUES (1, 'notes', 'a', 'put', '{\"n\":1}', NULL);
         INSERT INTO lf_applied VALUES ('u1', 'c1', 1, NULL, NULL);",
    )
    .await;
    let store: Store = Arc::new(PostgresStore::open(&url).await.unwrap());
    store_suite::records_without_digest_answer_as_before(store).await;
    pg_support::drop_schema(&base, &schema).await;
}
