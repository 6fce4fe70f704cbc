//! Batch outbox records: a multi-row insert stores one `lf_outbox` record per
//! chunk of rows, and every reader, acknowledgement, count and discard treats its
//! entries exactly like single-entry records. Real SQLite files throughout.

use std::path::Path;

use super::support::*;
use crate::db::{Db, DbDeps};
use crate::local_db::{
    apply_patch, build_insert_row, LocalStore, OutboxEntry, OutboxOp, Row, StoreLocation,
};
use serde_json::json;

/// Rows of varied shape; some ids need escaping in JSON.
fn sample_rows(n: usize) -> Vec<crate::db::RowValues> {
    (0..n)
        .map(|i| {
            let id = match i {
                1 => "quote\"and\\backslash".to_owned(),
                2 => "ünïcødé/ü".to_owned(),
                _ => format!("row-{i}"),
            };
            row(json!({
                "id": id,
                "title": format!("item {i}"),
                "done": i % 2 == 0,
                "n": i,
                "nested": {"list": [i, "x"], "none": null},
            }))
        })
        .collect()
}

/// (records, batch records) in the namespace database, read beside the Db.
fn outbox_records(db: &Db) -> (i64, i64) {
    let conn = rusqlite::Connection::open(db.database_path().unwrap()).unwrap();
    conn.query_row("SELECT COUNT(*), COUNT(batch) FROM lf_outbox", [], |r| {
        Ok((r.get(0)?, r.get(1)?))
    })
    .unwrap()
}

fn seqs(entries: &[OutboxEntry]) -> Vec<i64> {
    entries.iter().map(|e| e.seq).collect()
}

#[test]
fn a_batch_yields_the_entries_single_inserts_give() {
    // 150 rows: more than one chunk, so several batch records.
    let (_clock, deps) = fixed_clock();
    let batched_dir = tempfile::tempdir().unwrap();
    let single_dir = tempfile::tempdir().unwrap();
    let batched = local_first(batched_dir.path(), "app", 1, &deps);
    let single = local_first(single_dir.path(), "app", 1, &deps);

    let returned = batched.insert_many("notes", sample_rows(150)).unwrap();
    for values in sample_rows(150) {
        single.insert("notes", values).unwrap();
    }

    let from_batch = batched.pending_outbox(1000).unwrap();
    let from_singles = single.pending_outbox(1000).unwrap();
    assert_eq!(from_batch.len(), 150);
    assert_eq!(from_batch, from_singles);
    assert_eq!(seqs(&from_batch), (1..=150).collect::<Vec<i64>>());
    assert!(from_batch.iter().all(|e| e.op == OutboxOp::Insert));
    assert_eq!(from_batch[1].row_id, "quote\"and\\backslash");
    assert_eq!(from_batch[2].row_id, "ünïcødé/ü");
    assert_eq!(
        from_batch[7].payload,
        Some(
            json!({"title": "item 7", "done": false, "n": 7, "nested": {"list": [7, "x"], "none": null}})
        )
    );
    assert_eq!(returned.len(), 150);
    assert_eq!(
        batched
            .query(&crate::local_db::Query::table("notes"))
            .unwrap(),
        single
            .query(&crate::local_db::Query::table("notes"))
            .unwrap()
    );

    // Stored as a few batch records, not one per row; counted per entry.
    let (records, batches) = outbox_records(&batched);
    assert!(
        records < 10 && records == batches,
        "{records} records, {batches} batches"
    );
    assert_eq!(outbox_records(&single), (150, 0));
    assert_eq!(batched.outbox_len().unwrap(), 150);

    // A limit cuts inside a batch record exactly where single records would.
    for limit in [0, 1, 3, 64, 65, 149] {
        assert_eq!(
            batched.pending_outbox(limit).unwrap(),
            from_singles[..limit as usize].to_vec(),
            "limit {limit}"
        );
    }

    // Later writes continue the numbering after the batch.
    batched
        .insert("notes", row(json!({"id": "after"})))
        .unwrap();
    batched.delete("notes", "row-0").unwrap();
    let tail = batched.pending_outbox(1000).unwrap();
    assert_eq!(seqs(&tail[150..]), [151, 152]);
    assert_eq!(tail[152 - 1].op, OutboxOp::Delete);
}

#[test]
fn partial_acks_inside_a_batch_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let (_clock, deps) = fixed_clock();
    let db = local_first(dir.path(), "app", 1, &deps);
    db.insert("notes", row(json!({"id": "before"}))).unwrap();
    db.insert_many("notes", sample_rows(10)).unwrap();
    let all = db.pending_outbox(100).unwrap();
    assert_eq!(seqs(&all), (1..=11).collect::<Vec<i64>>());
    let (first, middle, last) = (2, 6, 11);

    // Another principal cannot acknowledge any of them.
    let other = local_first(dir.path(), "app", 2, &deps);
    assert_eq!(other.ack_outbox(vec![first, middle, last]).unwrap(), 0);
    drop(other);

    // First, middle and last of the batch; then again (no-ops), unknown numbers
    // and a duplicate in one call.
    assert_eq!(db.ack_outbox(vec![first, middle, last]).unwrap(), 3);
    assert_eq!(db.ack_outbox(vec![first, middle, last]).unwrap(), 0);
    assert_eq!(db.ack_outbox(vec![0, 12, 500, -3]).unwrap(), 0);
    assert_eq!(db.ack_outbox(vec![3, 3]).unwrap(), 1);
    let expected: Vec<OutboxEntry> = all
        .iter()
        .filter(|e| ![first, middle, last, 3].contains(&e.seq))
        .cloned()
        .collect();
    assert_eq!(db.pending_outbox(100).unwrap(), expected);
    assert_eq!(db.outbox_len().unwrap(), 7);
    drop(db);

    let db = local_first(dir.path(), "app", 1, &deps);
    assert_eq!(db.pending_outbox(100).unwrap(), expected);
    assert_eq!(db.outbox_len().unwrap(), 7);
    assert_eq!(db.pending_outbox(2).unwrap(), expected[..2].to_vec());

    // Acknowledging the rest removes the batch record itself.
    assert_eq!(db.ack_outbox(seqs(&expected)).unwrap(), 7);
    assert_eq!(db.outbox_len().unwrap(), 0);
    assert!(db.pending_outbox(100).unwrap().is_empty());
    assert_eq!(outbox_records(&db), (0, 0));
    drop(db);

    // Numbers of a fully acknowledged batch are never handed out again.
    let db = local_first(dir.path(), "app", 1, &deps);
    db.insert_many(
        "notes",
        vec![row(json!({"id": "x1"})), row(json!({"id": "x2"}))],
    )
    .unwrap();
    assert_eq!(seqs(&db.pending_outbox(10).unwrap()), [12, 13]);
}

#[test]
fn acknowledging_a_whole_batch_in_any_order_counts_each_entry() {
    let dir = tempfile::tempdir().unwrap();
    let (_clock, deps) = fixed_clock();
    let db = local_first(dir.path(), "app", 1, &deps);
    db.insert_many("notes", sample_rows(100)).unwrap();
    let mut all = seqs(&db.pending_outbox(1000).unwrap());
    all.reverse();
    assert_eq!(db.ack_outbox(all.to_vec()).unwrap(), 100);
    assert_eq!(db.outbox_len().unwrap(), 0);
    assert_eq!(outbox_records(&db), (0, 0));
}

fn built(actor: &str, ids: &[&str], at: u64) -> Vec<Row> {
    ids.iter()
        .map(|id| build_insert_row(raw(json!({"id": id, "v": id})), actor, at).unwrap())
        .collect()
}

fn pending(store: &LocalStore) -> Vec<(i64, String, OutboxOp, String)> {
    store
        .outbox_pending(None, 1000)
        .unwrap()
        .into_iter()
        .map(|e| (e.seq, e.row_id, e.op, e.actor))
        .collect()
}

fn open_store(dir: &Path) -> LocalStore {
    LocalStore::open(StoreLocation::Directory(dir.to_path_buf())).unwrap()
}

#[test]
fn discarding_an_actor_removes_exactly_its_batched_entries() {
    let dir = tempfile::tempdir().unwrap();
    let store = open_store(dir.path());
    // One call with runs of different creators: alice a1 a2, bob b1, alice a3 a4
    // (a3 and a4 at another time), then a batch of bob's alone.
    let mut mixed = built("alice", &["a1", "a2"], 100);
    mixed.extend(built("bob", &["b1"], 100));
    mixed.extend(built("alice", &["a3", "a4"], 101));
    store.write(|w| w.insert_rows("notes", &mixed)).unwrap();
    store
        .write(|w| w.insert_rows("notes", &built("bob", &["b2", "b3"], 102)))
        .unwrap();
    let before = pending(&store);
    assert_eq!(
        before
            .iter()
            .map(|(seq, id, _, actor)| (*seq, id.as_str(), actor.as_str()))
            .collect::<Vec<_>>(),
        [
            (1, "a1", "alice"),
            (2, "a2", "alice"),
            (3, "b1", "bob"),
            (4, "a3", "alice"),
            (5, "a4", "alice"),
            (6, "b2", "bob"),
            (7, "b3", "bob"),
        ]
    );
    assert_eq!(store.outbox_len().unwrap(), 7);
    {
        let conn = rusqlite::Connection::open(store.database_path().unwrap()).unwrap();
        let records: Vec<(i64, Option<i64>)> = conn
            .prepare("SELECT seq, json_array_length(batch) FROM lf_outbox ORDER BY seq")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(
            records,
            [(1, Some(2)), (3, None), (4, Some(2)), (6, Some(2))]
        );
    }

    let snapshot = store.snapshot_actor("alice").unwrap();
    assert_eq!(snapshot.len(), 4);
    // After the snapshot alice changes a2 and writes a5 and a6: all kept.
    store
        .write(|w| {
            let old = w.get("notes", "a2")?.unwrap();
            let patch = raw(json!({"v": "changed"}));
            let new = apply_patch(&old, &patch, "alice", 103)?;
            w.update_row("notes", &new, &patch)?;
            w.insert_rows("notes", &built("alice", &["a5", "a6"], 103))
        })
        .unwrap();
    let outcome = store.write(|w| w.discard_snapshot(&snapshot)).unwrap();
    assert_eq!((outcome.removed, outcome.remaining), (3, 3));

    let after = pending(&store);
    assert_eq!(
        after
            .iter()
            .map(|(seq, id, op, actor)| (*seq, id.as_str(), *op, actor.as_str()))
            .collect::<Vec<_>>(),
        [
            (2, "a2", OutboxOp::Insert, "alice"),
            (3, "b1", OutboxOp::Insert, "bob"),
            (6, "b2", OutboxOp::Insert, "bob"),
            (7, "b3", OutboxOp::Insert, "bob"),
            (8, "a2", OutboxOp::Update, "alice"),
            (9, "a5", OutboxOp::Insert, "alice"),
            (10, "a6", OutboxOp::Insert, "alice"),
        ]
    );
    assert_eq!(store.outbox_len().unwrap(), 7);
    for gone in ["a1", "a3", "a4"] {
        assert_eq!(store.get("notes", gone).unwrap(), None, "{gone}");
    }
    drop(store);

    // The same after a restart; the remaining batch entries can still be acknowledged.
    let store = open_store(dir.path());
    assert_eq!(pending(&store), after);
    assert_eq!(store.outbox_ack("alice", &[2, 9, 4]).unwrap(), 2);
    assert_eq!(store.outbox_ack("bob", &[6, 7, 3]).unwrap(), 3);
    assert_eq!(
        pending(&store),
        [
            (8, "a2".to_owned(), OutboxOp::Update, "alice".to_owned()),
            (10, "a6".to_owned(), OutboxOp::Insert, "alice".to_owned()),
        ]
    );
    assert_eq!(store.outbox_len().unwrap(), 2);
}

#[test]
fn a_schema_2_database_is_migrated_in_place() {
    // Schema 2 had per-row records only. Its entries must read back unchanged,
    // its counter must go on, and batches must work on top of it.
    let dir = tempfile::tempdir().unwrap();
    let (_clock, deps) = fixed_clock();
    let (path, user) = {
        let db = local_first(dir.path(), "app", 1, &deps);
        let path = db.database_path().unwrap();
        let user = db.user_id();
        db.logout_and_wipe().unwrap();
        (path, user)
    };
    std::fs::create_dir_all(Path::new(&path).parent().unwrap()).unwrap();
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch(
            "CREATE TABLE lf_meta (key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL);
             CREATE TABLE lf_tables (name TEXT PRIMARY KEY NOT NULL);
             CREATE TABLE lf_outbox (
                 seq INTEGER PRIMARY KEY, table_name TEXT NOT NULL,
                 row_id TEXT NOT NULL, op TEXT NOT NULL, payload TEXT,
                 actor TEXT NOT NULL, at INTEGER NOT NULL);
             INSERT INTO lf_meta (key, value) VALUES ('outbox_next_seq', '21');",
        )
        .unwrap();
        conn.execute(
            "INSERT INTO lf_outbox (seq, table_name, row_id, op, payload, actor, at) VALUES
                 (18, 'notes', 'old1', 'insert', '{\"t\":1}', ?1, 5),
                 (20, 'notes', 'old1', 'delete', NULL, ?1, 6)",
            [&user],
        )
        .unwrap();
        conn.pragma_update(None, "user_version", 2).unwrap();
    }
    let db = local_first(dir.path(), "app", 1, &deps);
    let old = db.pending_outbox(10).unwrap();
    assert_eq!(
        old.iter()
            .map(|e| (e.seq, e.row_id.as_str(), e.op, e.payload.clone(), e.at))
            .collect::<Vec<_>>(),
        [
            (18, "old1", OutboxOp::Insert, Some(json!({"t": 1})), 5),
            (20, "old1", OutboxOp::Delete, None, 6),
        ]
    );
    db.insert_many(
        "notes",
        vec![
            row(json!({"id": "n1"})),
            row(json!({"id": "n2"})),
            row(json!({"id": "n3"})),
        ],
    )
    .unwrap();
    assert_eq!(seqs(&db.pending_outbox(10).unwrap()), [18, 20, 21, 22, 23]);
    assert_eq!(db.outbox_len().unwrap(), 5);
    assert_eq!(db.ack_outbox(vec![18, 22]).unwrap(), 2);
    assert_eq!(seqs(&db.pending_outbox(10).unwrap()), [20, 21, 23]);
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        let version: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(version, 3);
        let columns: Vec<String> = conn
            .prepare("SELECT name FROM pragma_table_info('lf_outbox') ORDER BY cid")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(
            columns,
            [
                "seq",
                "table_name",
                "row_id",
                "op",
                "payload",
                "actor",
                "at",
                "batch",
                "pending"
            ]
        );
    }
    drop(db);
    // Reopening a schema-3 database changes nothing.
    let db = local_first(dir.path(), "app", 1, &deps);
    assert_eq!(seqs(&db.pending_outbox(10).unwrap()), [20, 21, 23]);
    assert_eq!(db.outbox_len().unwrap(), 3);
}

#[test]
fn a_newer_schema_is_still_refused() {
    let dir = tempfile::tempdir().unwrap();
    let deps = DbDeps::default();
    let path = {
        let db = local_first(dir.path(), "app", 1, &deps);
        db.database_path().unwrap()
    };
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.pragma_update(None, "user_version", 4).unwrap();
    }
    let err = Db::open(
        on_disk(dir.path(), "app").with_auth(crate::db::AuthConfig::LocalFirst(secret(1))),
        deps,
    )
    .unwrap_err();
    assert!(err.to_string().contains("schema"), "{err}");
}
