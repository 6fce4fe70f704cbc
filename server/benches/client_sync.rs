//! The core's sync engine through one in-process server on loopback, each
//! beside a baseline in the same run:
//!
//! - `Db` open → first synced round trip (open, insert, `sync_once` until the
//!   server acknowledged and the cursor is persisted) beside open + insert alone;
//! - rows/s between two clients (A inserts a batch and syncs, B syncs and has
//!   every row) beside the same inserts into a local `Db` only.
//!
//! Run with `cargo bench -p localfirst-server --bench client_sync`.

#![allow(missing_docs)] // criterion_group! generates undocumented items.
#![allow(clippy::unwrap_used, clippy::expect_used)] // bench code

use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use localfirst_core::db::{AuthConfig, Db, DbConfig, DbDeps, RowValues, StorageMode};
use localfirst_core::secret::Secret;
use localfirst_server::{serve, RunningServer, ServerConfig};

const APP: &str = "bench-app";
const ROWS: usize = 1_000;

fn server(runtime: &tokio::runtime::Runtime) -> RunningServer {
    runtime.block_on(async {
        let mut config = ServerConfig::new(APP);
        config.allow_local_first_auth = true;
        serve(config).await.unwrap()
    })
}

fn open(url: Option<&str>, n: u8) -> Db {
    let mut config = DbConfig::new(
        APP,
        StorageMode::InMemory,
        AuthConfig::LocalFirst(Secret::from_bytes([n; 32])),
    );
    if let Some(url) = url {
        config = config.with_server_url(url);
    }
    Db::open(config, DbDeps::default()).unwrap()
}

fn rows() -> Vec<RowValues> {
    (0..ROWS)
        .map(|i| RowValues::new().set("n", i as i64).set("title", "bench row"))
        .collect()
}

fn round_trip(c: &mut Criterion) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let server = server(&runtime);
    let url = format!("ws://{}", server.local_addr());
    let mut group = c.benchmark_group("open_to_first_sync");
    group.sample_size(30).measurement_time(Duration::from_secs(5));
    group.bench_function("open_insert_local_only", |b| {
        b.iter(|| {
            let db = open(None, 1);
            db.insert("todos", RowValues::new().set("n", 1)).unwrap();
            db
        })
    });
    group.bench_function("open_insert_sync_once", |b| {
        b.iter(|| {
            let db = open(Some(&url), 1);
            db.insert("todos", RowValues::new().set("n", 1)).unwrap();
            let report = runtime.block_on(db.sync_once()).unwrap();
            assert_eq!(report.acknowledged, 1);
            db
        })
    });
    group.finish();
}

fn rows_between_clients(c: &mut Criterion) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let server = server(&runtime);
    let url = format!("ws://{}", server.local_addr());
    let mut group = c.benchmark_group("rows_between_two_clients");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(10))
        .throughput(Throughput::Elements(ROWS as u64));
    let local = open(None, 2);
    group.bench_function("local_insert_only", |b| {
        b.iter(|| local.insert_many("todos", rows()).unwrap())
    });
    // Both clients live across iterations, so B pulls exactly A's new rows.
    let a = open(Some(&url), 2);
    let b_db = open(Some(&url), 3);
    group.bench_function("a_push_b_pull", |b| {
        b.iter(|| {
            a.insert_many("todos", rows()).unwrap();
            let pushed = runtime.block_on(a.sync_once()).unwrap();
            assert_eq!(pushed.acknowledged, ROWS as u64);
            let pulled = runtime.block_on(b_db.sync_once()).unwrap();
            assert_eq!(pulled.pulled, ROWS as u64);
        })
    });
    group.finish();
}

criterion_group!(benches, round_trip, rows_between_clients);
criterion_main!(benches);
