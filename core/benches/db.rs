//! Db throughput beside raw rusqlite doing the same work on the same kind of file.
//!
//! * `insert_single/*`: one row per transaction.
//! * `insert_batch_1000/*`: 1000 rows in one transaction (`Db::insert_many`),
//!   each measured batch into a fresh database file (every side);
//!   `raw_rusqlite_with_outbox` also writes one outbox row per row (what the Db
//!   wrote before batch records).
//! * `query_indexed_10k/*`: an equality filter on an indexed JSON column over
//!   10 000 rows (100 matches).
//!
//! The raw baseline uses the same schema (table with `id` primary key, JSON
//! `data`, the four system columns and the `created_by` index), the same pragmas
//! (WAL, `synchronous=NORMAL`) and prepared statements. Both sides start from the
//! same input (the app's rows as JSON maps) and store the same values: the raw
//! side serialises each row's columns straight from the map, as an app using
//! rusqlite directly would, and stamps the same 36-character user id. The Db
//! additionally validates input, stamps system columns, checks auth, and appends
//! every mutation to the outbox in the same transaction.
//!
//! Run: `cargo bench -p localfirst-core --bench db`.

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use localfirst_core::db::{AuthConfig, Db, DbConfig, DbDeps, RowValues, StorageMode};
use localfirst_core::identity::Identity;
use localfirst_core::local_db::{new_row_id, Filter, Query, Row};
use localfirst_core::secret::Secret;
use rusqlite::{params, Connection};
use serde_json::{json, Map, Value};

const BATCH: usize = 1000;
const QUERY_ROWS: usize = 10_000;

const SEED: [u8; 32] = [42; 32];

/// The Db's user id: the raw baseline stamps the same 36-character id, so both
/// sides store rows of the same size.
fn user_id() -> String {
    Identity::from_secret(&Secret::from_bytes(SEED))
        .user_id()
        .to_string()
}

fn open_db(dir: &Path) -> Db {
    let config = DbConfig::new(
        "bench",
        StorageMode::DataDir(dir.to_str().unwrap().to_owned()),
        AuthConfig::LocalFirst(Secret::from_bytes(SEED)),
    );
    Db::open(config, DbDeps::default()).unwrap()
}

fn open_raw(dir: &Path) -> Connection {
    let conn = Connection::open(dir.join("raw.sqlite3")).unwrap();
    conn.busy_timeout(Duration::from_secs(10)).unwrap();
    let _: String = conn
        .query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))
        .unwrap();
    conn.pragma_update(None, "synchronous", "NORMAL").unwrap();
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS items (
             id TEXT PRIMARY KEY NOT NULL,
             data TEXT NOT NULL,
             created_by TEXT NOT NULL,
             created_at INTEGER NOT NULL,
             updated_by TEXT NOT NULL,
             updated_at INTEGER NOT NULL);
         CREATE INDEX IF NOT EXISTS items_created_by ON items (created_by);
         CREATE TABLE IF NOT EXISTS outbox (
             seq INTEGER PRIMARY KEY,
             table_name TEXT NOT NULL,
             row_id TEXT NOT NULL,
             op TEXT NOT NULL,
             payload TEXT,
             actor TEXT NOT NULL,
             at INTEGER NOT NULL);",
    )
    .unwrap();
    conn
}

/// A row as an app would insert it, with its id.
fn sample_row(i: usize) -> Map<String, Value> {
    let mut row = json!({
        "title": format!("item number {i}"),
        "done": i % 3 == 0,
        "priority": i % 5,
        "channel": format!("c{}", i % 100),
    })
    .as_object()
    .cloned()
    .unwrap();
    row.insert("id".into(), Value::String(new_row_id().unwrap()));
    row
}

/// The same row as the Db takes it (converted outside the measured code).
fn db_values(row: Map<String, Value>) -> RowValues {
    RowValues::from_json_value(Value::Object(row)).unwrap()
}

/// The row's columns without its id, serialised straight from the map (no copy):
/// what the raw baseline stores in `data`, as the Db does.
struct WithoutId<'a>(&'a Map<String, Value>);

impl serde::Serialize for WithoutId<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.0.iter().filter(|(key, _)| *key != "id"))
    }
}

/// The id and `data` text the raw baseline stores for a row: the same input the
/// Db gets, turned into the same stored values inside the measured code.
fn raw_values(row: &Map<String, Value>) -> (&str, String) {
    (
        row["id"].as_str().unwrap(),
        serde_json::to_string(&WithoutId(row)).unwrap(),
    )
}

fn raw_insert(conn: &Connection, user: &str, rows: &[Map<String, Value>]) {
    let tx = conn.unchecked_transaction().unwrap();
    {
        let mut stmt = tx
            .prepare_cached(
                "INSERT INTO items (id, data, created_by, created_at, updated_by, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )
            .unwrap();
        for row in rows {
            let (id, data) = raw_values(row);
            stmt.execute(params![
                id,
                data,
                user,
                1_700_000_000i64,
                user,
                1_700_000_000i64
            ])
            .unwrap();
        }
    }
    tx.commit().unwrap();
}

/// The raw baseline plus a per-row outbox: the same rows, and for each one an
/// outbox row (sequence number, table, id, op, the payload, actor, time) in the
/// same transaction, with consecutive numbers from a counter (the Db itself now
/// stores a multi-row insert as batch records of up to 64 entries).
fn raw_insert_with_outbox(conn: &Connection, user: &str, rows: &[Map<String, Value>]) {
    let tx = conn.unchecked_transaction().unwrap();
    {
        let mut stmt = tx
            .prepare_cached(
                "INSERT INTO items (id, data, created_by, created_at, updated_by, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )
            .unwrap();
        let mut outbox = tx
            .prepare_cached(
                "INSERT INTO outbox (seq, table_name, row_id, op, payload, actor, at)
                 VALUES (?5, 'items', ?1, 'insert', ?2, ?3, ?4)",
            )
            .unwrap();
        let first_seq: i64 = tx
            .query_row("SELECT COALESCE(MAX(seq), 0) + 1 FROM outbox", [], |r| {
                r.get(0)
            })
            .unwrap();
        for (seq, row) in (first_seq..).zip(rows) {
            let (id, data) = raw_values(row);
            stmt.execute(params![
                id,
                data,
                user,
                1_700_000_000i64,
                user,
                1_700_000_000i64
            ])
            .unwrap();
            outbox
                .execute(params![id, data, user, 1_700_000_000i64, seq])
                .unwrap();
        }
    }
    tx.commit().unwrap();
}

/// A fresh Db in its own directory with its table created (by one warm-up row),
/// so the measured batch pays neither file creation nor `CREATE TABLE`.
fn fresh_db() -> (Db, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let db = open_db(dir.path());
    db.insert("items", db_values(sample_row(0))).unwrap();
    (db, dir)
}

/// The same for the raw baseline: fresh file, tables created, one warm-up row
/// (through the same statements the measured batch uses).
fn fresh_raw(user: &str, with_outbox: bool) -> (Connection, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let conn = open_raw(dir.path());
    let warm_up = [sample_row(0)];
    if with_outbox {
        raw_insert_with_outbox(&conn, user, &warm_up);
    } else {
        raw_insert(&conn, user, &warm_up);
    }
    (conn, dir)
}

fn bench_insert(c: &mut Criterion) {
    let user = user_id();
    let dir = tempfile::tempdir().unwrap();
    let db = open_db(dir.path());
    let raw = open_raw(dir.path());

    let mut single = c.benchmark_group("insert_single");
    single.throughput(Throughput::Elements(1));
    single.bench_function("db", |b| {
        b.iter_batched(
            || db_values(sample_row(0)),
            |row| db.insert("items", row).unwrap(),
            BatchSize::SmallInput,
        )
    });
    single.bench_function("raw_rusqlite", |b| {
        b.iter_batched(
            || [sample_row(0)],
            |rows| raw_insert(&raw, &user, &rows),
            BatchSize::SmallInput,
        )
    });
    single.finish();

    // Every measured batch goes into a fresh database file of its own, on both
    // sides, so neither side inserts into a table the other (or an earlier
    // sample) has grown, and the order the two run in does not matter. Opening
    // and closing (with its WAL checkpoint) happen outside the measurement: the
    // routine hands the database back and criterion drops it after timing.
    let mut batch = c.benchmark_group("insert_batch_1000");
    batch.throughput(Throughput::Elements(BATCH as u64));
    batch.bench_function("db", |b| {
        b.iter_batched(
            || {
                let (db, dir) = fresh_db();
                let rows = (0..BATCH)
                    .map(|i| db_values(sample_row(i)))
                    .collect::<Vec<_>>();
                (db, dir, rows)
            },
            |(db, dir, rows)| {
                db.insert_many("items", rows).unwrap();
                (db, dir)
            },
            BatchSize::PerIteration,
        )
    });
    for (name, with_outbox) in [("raw_rusqlite", false), ("raw_rusqlite_with_outbox", true)] {
        batch.bench_function(name, |b| {
            b.iter_batched(
                || {
                    let (conn, dir) = fresh_raw(&user, with_outbox);
                    let rows = (0..BATCH).map(sample_row).collect::<Vec<Row>>();
                    (conn, dir, rows)
                },
                |(conn, dir, rows)| {
                    if with_outbox {
                        raw_insert_with_outbox(&conn, &user, &rows);
                    } else {
                        raw_insert(&conn, &user, &rows);
                    }
                    (conn, dir)
                },
                BatchSize::PerIteration,
            )
        });
    }
    batch.finish();
}

fn bench_query(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let db = open_db(dir.path());
    let raw = open_raw(dir.path());
    let rows: Vec<Row> = (0..QUERY_ROWS).map(sample_row).collect();
    db.insert_many("items", rows.iter().cloned().map(db_values).collect())
        .unwrap();
    db.create_index("items", "channel").unwrap();
    raw_insert(&raw, &user_id(), &rows);
    raw.execute_batch(
        "CREATE INDEX IF NOT EXISTS items_channel ON items (json_extract(data, '$.channel'))",
    )
    .unwrap();
    let query = Query::table("items").filter(Filter::all().eq("channel", "c42"));
    assert_eq!(db.query(&query).unwrap().len(), QUERY_ROWS / 100);

    let mut group = c.benchmark_group("query_indexed_10k");
    group.bench_function("db", |b| b.iter(|| db.query(&query).unwrap()));
    group.bench_function("raw_rusqlite", |b| {
        b.iter(|| {
            let mut stmt = raw
                .prepare_cached(
                    "SELECT id, data, created_by, created_at, updated_by, updated_at FROM items
                     WHERE json_extract(data, '$.channel') = ?1 ORDER BY rowid",
                )
                .unwrap();
            let rows = stmt
                .query_map(["c42"], |r| {
                    // The same rows the Db returns: id, user columns, system columns.
                    let data: String = r.get(1)?;
                    let mut row: Map<String, Value> = serde_json::from_str(&data).unwrap();
                    row.insert("id".into(), Value::String(r.get(0)?));
                    row.insert("$createdBy".into(), Value::String(r.get(2)?));
                    row.insert("$createdAt".into(), Value::from(r.get::<_, i64>(3)?));
                    row.insert("$updatedBy".into(), Value::String(r.get(4)?));
                    row.insert("$updatedAt".into(), Value::from(r.get::<_, i64>(5)?));
                    Ok(row)
                })
                .unwrap()
                .map(Result::unwrap)
                .collect::<Vec<_>>();
            assert_eq!(rows.len(), QUERY_ROWS / 100);
            rows
        })
    });
    group.finish();
}

fn config() -> Criterion {
    Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
}

criterion_group! {
    name = benches;
    config = config();
    targets = bench_insert, bench_query
}
criterion_main!(benches);
