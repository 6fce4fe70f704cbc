//! Rows through the Db on real SQLite files: the filter corpus, system columns,
//! update/delete semantics, invalid input, indexes, subscriptions, policies.

use crate::support::*;
use localfirst_core::db::{Db, DbDeps, DbError};
use localfirst_core::local_db::{Filter, Query};
use localfirst_core::policy::{Operation, PolicySet};
use localfirst_core::ErrorCode;
use serde_json::{json, Value};

/// Replaces `$ME` and `$T0+N` placeholders of the corpus.
fn resolve(value: &Value, me: &str) -> Value {
    match value {
        Value::String(s) if s == "$ME" => Value::String(me.to_owned()),
        Value::String(s) if s == "$T0" => json!(T0),
        Value::String(s) if s.starts_with("$T0+") => {
            json!(T0 + s["$T0+".len()..].parse::<u64>().unwrap())
        }
        Value::Array(items) => Value::Array(items.iter().map(|v| resolve(v, me)).collect()),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), resolve(v, me)))
                .collect(),
        ),
        other => other.clone(),
    }
}

#[test]
fn filter_corpus() {
    let corpus = data_json("db/filters.json");
    let dir = tempfile::tempdir().unwrap();
    let (clock, deps) = fixed_clock();
    let db = local_first(dir.path(), "app", 1, &deps);
    for item in corpus["rows"].as_array().unwrap() {
        db.insert("items", row(item.clone())).unwrap();
        clock.advance(1);
    }
    // Indexed and unindexed columns must give the same answers.
    for indexed in [false, true] {
        if indexed {
            for column in ["kind", "price", "stock", "name", "organic"] {
                db.create_index("items", column).unwrap();
            }
        }
        for case in corpus["cases"].as_array().unwrap() {
            let name = case["name"].as_str().unwrap();
            let filter = Filter::from_json(&resolve(&case["filter"], &db.user_id()))
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            let rows = db.query(&Query::table("items").filter(filter)).unwrap();
            let expected: Vec<String> = serde_json::from_value(case["expect"].clone()).unwrap();
            assert_eq!(ids(&rows), expected, "{name} (indexed: {indexed})");
        }
    }
    for case in corpus["invalid"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let error = Filter::from_json(&case["filter"]).unwrap_err();
        assert!(
            ["invalid-filter", "invalid-name"].contains(&error.code().as_str()),
            "{name}: {error:?}"
        );
    }
    // Rows come back whole: user columns plus id and the four system columns.
    let fig = db.get("items", "f").unwrap().unwrap();
    assert_eq!(fig["tags"], json!(["x"]));
    assert_eq!(fig["$createdAt"], json!(T0 + 5));
    assert_eq!(fig["$createdBy"], json!(db.user_id()));
}

#[test]
fn order_by_and_limit() {
    let dir = tempfile::tempdir().unwrap();
    let db = local_first(dir.path(), "app", 1, &DbDeps::default());
    for (id, n) in [("a", 3), ("b", 1), ("c", 2), ("d", 1)] {
        db.insert("t", row(json!({"id": id, "n": n}))).unwrap();
    }
    let q = Query::table("t");
    assert_eq!(
        ids(&db.query(&q.clone().order_by("n", false)).unwrap()),
        ["b", "d", "c", "a"]
    );
    assert_eq!(
        ids(&db.query(&q.clone().order_by("n", true).limit(2)).unwrap()),
        ["a", "c"]
    );
    assert_eq!(
        ids(&db.query(&q.clone().order_by("id", true)).unwrap()),
        ["d", "c", "b", "a"]
    );
    assert_eq!(
        db.query(&q.order_by("no such", false)).unwrap_err().code(),
        "invalid-name"
    );
}

#[test]
fn system_columns_are_stamped_from_session_and_clock_and_cannot_be_forged() {
    let dir = tempfile::tempdir().unwrap();
    let (clock, deps) = fixed_clock();
    let alice = local_first(dir.path(), "app", 1, &deps);
    let bob = local_first(dir.path(), "app", 2, &deps);
    let created = alice
        .insert("docs", row(json!({"id": "d1", "title": "draft"})))
        .unwrap();
    assert_eq!(created["$createdBy"], json!(alice.user_id()));
    assert_eq!(created["$createdAt"], json!(T0));
    assert_eq!(created["$updatedBy"], json!(alice.user_id()));

    clock.advance(30);
    let updated = bob
        .update("docs", "d1", row(json!({"title": "final", "extra": null})))
        .unwrap();
    assert_eq!(updated["title"], "final");
    assert_eq!(updated["extra"], Value::Null);
    assert_eq!(updated["$createdBy"], json!(alice.user_id()));
    assert_eq!(updated["$createdAt"], json!(T0));
    assert_eq!(updated["$updatedBy"], json!(bob.user_id()));
    assert_eq!(updated["$updatedAt"], json!(T0 + 30));
    assert_eq!(alice.get("docs", "d1").unwrap().unwrap(), updated);

    let by_bob = alice
        .query(&Query::table("docs").filter(Filter::all().eq("$updatedBy", bob.user_id())))
        .unwrap();
    assert_eq!(ids(&by_bob), ["d1"]);

    for forged in [
        json!({"$createdBy": "mallory"}),
        json!({"$updatedAt": 1}),
        json!({"$anything": 1}),
    ] {
        assert_eq!(
            alice
                .insert("docs", row(forged.clone()))
                .unwrap_err()
                .code(),
            "invalid-row",
            "{forged}"
        );
        assert_eq!(
            alice.update("docs", "d1", row(forged)).unwrap_err().code(),
            "invalid-row"
        );
    }
    assert_eq!(
        alice
            .update("docs", "d1", row(json!({"id": "d2"})))
            .unwrap_err()
            .code(),
        "invalid-row"
    );
    assert_eq!(alice.get("docs", "d1").unwrap().unwrap(), updated);
}

#[test]
fn bad_input_gets_typed_errors_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = local_first(dir.path(), "app", 1, &DbDeps::default());
    db.insert("t", row(json!({"id": "x", "n": 1}))).unwrap();
    let cases: Vec<(DbError, &str)> = vec![
        (
            db.insert("t", row(json!({"id": "x"}))).unwrap_err(),
            "already-exists",
        ),
        (
            db.insert("bad name", row(json!({}))).unwrap_err(),
            "invalid-name",
        ),
        (
            db.insert("t\"; DROP TABLE t; --", row(json!({})))
                .unwrap_err(),
            "invalid-name",
        ),
        (
            db.insert("t", row(json!({"a b": 1}))).unwrap_err(),
            "invalid-name",
        ),
        (
            db.insert("t", row(json!({"id": 5}))).unwrap_err(),
            "invalid-row",
        ),
        (
            db.insert("t", row(json!({"id": ""}))).unwrap_err(),
            "invalid-row",
        ),
        (
            db.insert("t", row(json!({"id": "a\nb"}))).unwrap_err(),
            "invalid-row",
        ),
        (
            db.update("t", "nope", row(json!({"n": 2}))).unwrap_err(),
            "not-found",
        ),
        (
            db.update("other", "x", row(json!({"n": 2}))).unwrap_err(),
            "not-found",
        ),
        (db.delete("t", "nope").unwrap_err(), "not-found"),
        (db.delete("other", "x").unwrap_err(), "not-found"),
        (db.query(&Query::table("1t")).unwrap_err(), "invalid-name"),
    ];
    for (error, code) in cases {
        assert_eq!(error.code(), code, "{error}");
    }
    // A batch with one bad row inserts nothing.
    let error = db
        .insert_many("t", vec![row(json!({"id": "y"})), row(json!({"id": "x"}))])
        .unwrap_err();
    assert_eq!(error.code(), "already-exists");
    assert_eq!(ids(&db.query(&Query::table("t")).unwrap()), ["x"]);
    assert_eq!(db.outbox_len().unwrap(), 1);
    assert!(matches!(
        db.delete("t", "nope").unwrap_err(),
        DbError::NotFound { .. }
    ));
}

#[test]
fn indexed_filters_use_the_index() {
    let dir = tempfile::tempdir().unwrap();
    let db = local_first(dir.path(), "app", 1, &DbDeps::default());
    let batch: Vec<_> = (0..200)
        .map(|i| row(json!({"channel": format!("c{}", i % 10), "n": i})))
        .collect();
    db.insert_many("messages", batch).unwrap();
    db.create_index("messages", "channel").unwrap();
    db.create_index("messages", "channel").unwrap(); // idempotent
    let rows = db
        .query(&Query::table("messages").filter(Filter::all().eq("channel", "c3")))
        .unwrap();
    assert_eq!(rows.len(), 20);

    // Ask SQLite itself (a separate connection on the same file) for the plan.
    let conn = rusqlite::Connection::open(db.database_path().unwrap()).unwrap();
    let plan = |sql: &str| -> String {
        let mut stmt = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
        let rows = stmt
            .query_map([], |r| r.get::<_, String>(3))
            .unwrap()
            .map(Result::unwrap)
            .collect::<Vec<_>>();
        rows.join("; ")
    };
    let by_channel = plan(
        "SELECT id FROM \"t_messages\" WHERE 1 AND json_extract(data, '$.channel') = 'c3' ORDER BY rowid",
    );
    assert!(by_channel.contains("USING INDEX"), "{by_channel}");
    let by_creator =
        plan("SELECT id FROM \"t_messages\" WHERE 1 AND created_by = 'x' ORDER BY rowid");
    assert!(by_creator.contains("USING INDEX"), "{by_creator}");
}

#[test]
fn subscriptions_fire_exactly_when_the_result_changes() {
    let dir = tempfile::tempdir().unwrap();
    let (clock, deps) = fixed_clock();
    let db = local_first(dir.path(), "app", 1, &deps);
    db.insert(
        "todos",
        row(json!({"id": "t0", "list": "home", "done": false})),
    )
    .unwrap();
    let seen: Recorder<Vec<String>> = Recorder::new();
    let s = seen.clone();
    let query = Query::table("todos").filter(Filter::all().eq("list", "home").eq("done", false));
    let sub = subscribe(&db, query, move |rows: Vec<Row>| s.push(ids(&rows))).unwrap();
    assert_eq!(seen.all(), vec![vec!["t0".to_owned()]], "called at once");

    let mut expected = seen.all();
    let mut step = |action: &dyn Fn(), fires: Option<&[&str]>| {
        action();
        if let Some(ids) = fires {
            expected.push(ids.iter().map(|s| s.to_string()).collect());
        }
        assert_eq!(seen.all(), expected);
    };
    // Insert matching → fires; not matching → silent; other table → silent.
    step(
        &|| {
            db.insert(
                "todos",
                row(json!({"id": "t1", "list": "home", "done": false})),
            )
            .unwrap();
        },
        Some(&["t0", "t1"]),
    );
    step(
        &|| {
            db.insert(
                "todos",
                row(json!({"id": "w1", "list": "work", "done": false})),
            )
            .unwrap();
        },
        None,
    );
    step(
        &|| {
            db.insert("notes", row(json!({"id": "n1", "list": "home"})))
                .unwrap();
        },
        None,
    );
    // Update a non-matching row that stays non-matching → silent.
    step(
        &|| {
            db.update("todos", "w1", row(json!({"title": "x"})))
                .unwrap();
        },
        None,
    );
    // Update moving a row into the result → fires; out of it → fires.
    step(
        &|| {
            db.update("todos", "w1", row(json!({"list": "home"})))
                .unwrap();
        },
        Some(&["t0", "t1", "w1"]),
    );
    step(
        &|| {
            db.update("todos", "t0", row(json!({"done": true})))
                .unwrap();
        },
        Some(&["t1", "w1"]),
    );
    // Update of a matching row that changes its content → fires (the rows differ).
    clock.advance(1);
    step(
        &|| {
            db.update("todos", "t1", row(json!({"title": "milk"})))
                .unwrap();
        },
        Some(&["t1", "w1"]),
    );
    // Delete non-matching → silent; matching → fires.
    step(
        &|| {
            db.delete("todos", "t0").unwrap();
        },
        None,
    );
    step(
        &|| {
            db.delete("todos", "w1").unwrap();
        },
        Some(&["t1"]),
    );
    // A failed write → silent.
    step(
        &|| {
            db.insert("todos", row(json!({"id": "t1"}))).unwrap_err();
        },
        None,
    );
    // A batch is one commit → one call.
    step(
        &|| {
            db.insert_many(
                "todos",
                vec![
                    row(json!({"id": "b1", "list": "home", "done": false})),
                    row(json!({"id": "b2", "list": "home", "done": false})),
                ],
            )
            .unwrap();
        },
        Some(&["t1", "b1", "b2"]),
    );
    sub.cancel();
    db.insert(
        "todos",
        row(json!({"id": "late", "list": "home", "done": false})),
    )
    .unwrap();
    assert_eq!(seen.all(), expected, "cancelled");
}

#[test]
fn subscriptions_see_commits_of_other_dbs_of_the_namespace() {
    let dir = tempfile::tempdir().unwrap();
    let deps = DbDeps::default();
    let reader = local_first(dir.path(), "app", 1, &deps);
    let writer = local_first(dir.path(), "app", 2, &deps);
    let elsewhere = local_first(dir.path(), "other-app", 2, &deps);
    let seen: Recorder<usize> = Recorder::new();
    let s = seen.clone();
    let _sub = subscribe(&reader, Query::table("chat"), move |rows: Vec<Row>| {
        s.push(rows.len())
    })
    .unwrap();
    writer.insert("chat", row(json!({"text": "hi"}))).unwrap();
    elsewhere
        .insert("chat", row(json!({"text": "not here"})))
        .unwrap();
    writer
        .insert("chat", row(json!({"text": "again"})))
        .unwrap();
    assert_eq!(seen.all(), vec![0, 1, 2]);
}

#[test]
fn a_subscription_listener_may_write_to_the_db() {
    let dir = tempfile::tempdir().unwrap();
    let db = std::sync::Arc::new(local_first(dir.path(), "app", 1, &DbDeps::default()));
    let weak = std::sync::Arc::downgrade(&db);
    let seen: Recorder<usize> = Recorder::new();
    let s = seen.clone();
    // Keeps an audit row per change, from inside the listener.
    let _sub = subscribe(&db, Query::table("events"), move |rows: Vec<Row>| {
        s.push(rows.len());
        if let (Some(db), false) = (weak.upgrade(), rows.is_empty()) {
            db.insert("audit", row(json!({"count": rows.len()})))
                .unwrap();
        }
    })
    .unwrap();
    let audit: Recorder<usize> = Recorder::new();
    let a = audit.clone();
    let _audit_sub = subscribe(&db, Query::table("audit"), move |rows: Vec<Row>| {
        a.push(rows.len())
    })
    .unwrap();
    db.insert("events", row(json!({}))).unwrap();
    db.insert("events", row(json!({}))).unwrap();
    assert_eq!(seen.all(), vec![0, 1, 2]);
    assert_eq!(audit.all(), vec![0, 1, 2]);
}

fn seeds_policy() -> PolicySet {
    let file = data_json("policies/seeds-auth-mode.json");
    PolicySet::from_value(&file["policy"]).unwrap()
}

#[test]
fn the_seeds_example_everyone_reads_local_first_cannot_insert_until_upgrade() {
    let dir = tempfile::tempdir().unwrap();
    let deps = DbDeps::default();
    let local = Db::open(
        on_disk(dir.path(), "app")
            .with_secret(secret(1))
            .with_policies(seeds_policy()),
        deps.clone(),
    )
    .unwrap();
    let me = local.user_id();
    assert_eq!(
        local
            .insert("messages", row(json!({"text": "hi", "owner_id": me})))
            .unwrap_err(),
        DbError::PolicyDenied {
            table: "messages".into(),
            operation: Operation::Insert
        }
    );
    assert_eq!(local.outbox_len().unwrap(), 0);

    // The same user after upgrading (external JWT with sub == local-first id) may insert.
    let upgraded = Db::open(
        on_disk(dir.path(), "app")
            .with_jwt_token(provider_jwt(json!({"sub": me})))
            .with_policies(seeds_policy()),
        deps.clone(),
    )
    .unwrap();
    upgraded
        .insert(
            "messages",
            row(json!({"id": "m1", "text": "hi", "owner_id": me})),
        )
        .unwrap();
    // Everyone reads: local-first and anonymous see the message.
    assert_eq!(
        ids(&local.query(&Query::table("messages")).unwrap()),
        ["m1"]
    );
    let anon = Db::open(
        on_disk(dir.path(), "app").with_policies(seeds_policy()),
        deps.clone(),
    )
    .unwrap();
    assert_eq!(anon.get("messages", "m1").unwrap().unwrap()["text"], "hi");
    // Anonymous inserts are refused by the Db, not by the policy (which would allow them).
    assert_eq!(
        anon.insert("messages", row(json!({"text": "x"})))
            .unwrap_err()
            .code(),
        "anonymous-write-denied"
    );
    // Owner rules: the local-first owner may edit, not give the row away; others may not delete.
    local
        .update("messages", "m1", row(json!({"text": "hi!"})))
        .unwrap();
    assert_eq!(
        local
            .update("messages", "m1", row(json!({"owner_id": "bob"})))
            .unwrap_err()
            .code(),
        "policy-denied"
    );
    let bob = Db::open(
        on_disk(dir.path(), "app")
            .with_jwt_token(provider_jwt(json!({"sub": "bob"})))
            .with_policies(seeds_policy()),
        deps,
    )
    .unwrap();
    assert_eq!(
        bob.delete("messages", "m1").unwrap_err(),
        DbError::PolicyDenied {
            table: "messages".into(),
            operation: Operation::Delete
        }
    );
    assert_eq!(bob.get("messages", "m1").unwrap().unwrap()["text"], "hi!");
    // Tables the set does not mention are denied for every operation.
    assert_eq!(
        bob.insert("todos", row(json!({}))).unwrap_err().code(),
        "policy-denied"
    );
}

#[test]
fn queries_leave_out_rows_the_read_policy_does_not_grant() {
    let policy = PolicySet::from_json(
        r#"{"tables": {"notes": {
            "read": {"eq": [{"column": "$createdBy"}, {"session": "userId"}]},
            "insert": "always"
        }}}"#,
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let deps = DbDeps::default();
    let open = |byte| {
        Db::open(
            on_disk(dir.path(), "app")
                .with_secret(secret(byte))
                .with_policies(policy.clone()),
            deps.clone(),
        )
        .unwrap()
    };
    let (alice, bob) = (open(1), open(2));
    for i in 0..3 {
        alice
            .insert("notes", row(json!({"id": format!("a{i}")})))
            .unwrap();
        bob.insert("notes", row(json!({"id": format!("b{i}")})))
            .unwrap();
    }
    assert_eq!(
        ids(&alice.query(&Query::table("notes")).unwrap()),
        ["a0", "a1", "a2"]
    );
    assert_eq!(
        ids(&bob.query(&Query::table("notes").limit(2)).unwrap()),
        ["b0", "b1"],
        "the limit applies after the policy"
    );
    assert_eq!(alice.get("notes", "b0").unwrap(), None);
    assert!(alice.get("notes", "a0").unwrap().is_some());
    let seen: Recorder<Vec<String>> = Recorder::new();
    let s = seen.clone();
    let _sub = subscribe(&alice, Query::table("notes"), move |rows: Vec<Row>| {
        s.push(ids(&rows))
    })
    .unwrap();
    bob.insert("notes", row(json!({"id": "b9"}))).unwrap();
    assert_eq!(
        seen.len(),
        1,
        "bob's rows are invisible to alice: no change"
    );
    // Update is not granted at all (not mentioned) → denied.
    assert_eq!(
        alice
            .update("notes", "a0", row(json!({"x": 1})))
            .unwrap_err()
            .code(),
        "policy-denied"
    );
}
