//! What crosses the Db's API: owned rows with a JSON form, row values and
//! queries from JSON, cancellable subscriptions, an owned discarded account.

use std::sync::{Arc, Mutex};

use crate::support::*;
use localfirst_core::db::{query_from_json, Db, DbDeps, RowValues};
use localfirst_core::local_db::{Filter, Query};
use localfirst_core::ErrorCode;
use serde_json::{json, Value};

#[test]
fn rows_round_trip_through_their_json_form() {
    let (_clock, deps) = fixed_clock();
    let db = Db::open(memory().with_secret(secret(1)), deps).unwrap();
    let values = RowValues::from_json_str(r#"{"id": "r1", "title": "milk", "n": 2}"#).unwrap();
    let row = db.insert("todos", values).unwrap();
    assert_eq!(row.id(), "r1");
    assert_eq!(row.created_by(), db.user_id());
    assert_eq!(row.updated_by(), db.user_id());
    assert_eq!((row.created_at(), row.updated_at()), (T0, T0));
    assert_eq!(row.get("title"), Some(&json!("milk")));
    assert_eq!(row.get("missing"), None);
    assert_eq!(row["missing"], Value::Null);

    let json: Value = serde_json::from_str(&row.to_json()).unwrap();
    assert_eq!(
        json,
        json!({"id": "r1", "title": "milk", "n": 2, "$createdBy": db.user_id(),
               "$createdAt": T0, "$updatedBy": db.user_id(), "$updatedAt": T0})
    );
    assert_eq!(Row::from_json(&row.to_json()).unwrap(), row);
    let user: Value = serde_json::from_str(&row.values_json()).unwrap();
    assert_eq!(user, json!({"title": "milk", "n": 2}));
    assert_eq!(db.get("todos", "r1").unwrap(), Some(row));
}

#[test]
fn malformed_rows_and_values_are_typed_errors() {
    for bad in [
        "not json",
        "[1]",
        r#"{"id": "x"}"#,
        r#"{"id": 1, "$createdBy": "a", "$createdAt": 1, "$updatedBy": "a", "$updatedAt": 1}"#,
        r#"{"id": "x", "$createdBy": "a", "$createdAt": -1, "$updatedBy": "a", "$updatedAt": 1}"#,
    ] {
        assert_eq!(
            Row::from_json(bad).unwrap_err().code(),
            "invalid-argument",
            "{bad}"
        );
    }
    // A column given twice, at any depth, is refused rather than "last wins".
    for bad in [
        "",
        "null",
        "[]",
        "\"text\"",
        "{",
        r#"{"a": 1, "a": 2}"#,
        r#"{"a": {"b": 1, "b": 2}}"#,
    ] {
        assert_eq!(
            RowValues::from_json_str(bad).unwrap_err().code(),
            "invalid-argument",
            "{bad}"
        );
    }
    assert_eq!(
        RowValues::from_json_value(json!(3)).unwrap_err().code(),
        "invalid-argument"
    );
    let values = RowValues::new().set("a", 1).set("a", "two");
    assert_eq!(values.to_json(), r#"{"a":"two"}"#);
}

#[test]
fn row_lists_parse_from_a_json_array_of_objects() {
    let list = RowValues::list_from_json_str(r#"[{"a": 1}, {"id": "x", "b": "two"}]"#).unwrap();
    assert_eq!(
        list,
        vec![
            RowValues::new().set("a", 1),
            RowValues::new().set("id", "x").set("b", "two"),
        ]
    );
    assert_eq!(RowValues::list_from_json_str("[]").unwrap(), vec![]);
    for bad in [
        "",
        "{}",
        "[1]",
        r#"[{"a": 1}, null]"#,
        "[",
        "\"rows\"",
        r#"[{"a": 1, "a": 1}]"#,
    ] {
        assert_eq!(
            RowValues::list_from_json_str(bad).unwrap_err().code(),
            "invalid-argument",
            "{bad}"
        );
    }
}

#[test]
fn queries_from_json_match_the_builder() {
    let (_clock, deps) = fixed_clock();
    let db = Db::open(memory().with_secret(secret(1)), deps).unwrap();
    for (id, n) in [("a", 1), ("b", 5), ("c", 3), ("d", 4)] {
        db.insert("t", row(json!({"id": id, "n": n}))).unwrap();
    }
    let parsed = query_from_json(
        r#"{"table": "t", "where": {"n": {"gte": 3}}, "orderBy": "n", "descending": true, "limit": 2}"#,
    )
    .unwrap();
    let built = Query::table("t")
        .filter(Filter::all().gte("n", 3))
        .order_by("n", true)
        .limit(2);
    assert_eq!(parsed, built);
    assert_eq!(ids(&db.query(&parsed).unwrap()), ["b", "d"]);
    assert_eq!(
        query_from_json(r#"{"table": "t"}"#).unwrap(),
        Query::table("t")
    );
    for bad in [
        r#"{}"#,
        r#"{"table": "t", "limit": -1}"#,
        r#"{"table": "t", "orderBy": 3}"#,
        r#"{"table": "t", "descending": "yes"}"#,
        r#"{"table": "t", "unknown": 1}"#,
    ] {
        assert_eq!(
            query_from_json(bad).unwrap_err().code(),
            "invalid-argument",
            "{bad}"
        );
    }
    assert_eq!(
        query_from_json(r#"{"table": "t", "where": {"n": {"near": 1}}}"#)
            .unwrap_err()
            .code(),
        "invalid-filter"
    );
    assert_eq!(
        query_from_json(r#"{"table": "bad name"}"#)
            .unwrap_err()
            .code(),
        "invalid-name"
    );
}

#[test]
fn cancel_is_idempotent_and_takes_a_shared_reference() {
    let db = Db::open(memory().with_secret(secret(1)), DbDeps::default()).unwrap();
    let seen = Recorder::new();
    let s = seen.clone();
    let sub = Arc::new(
        subscribe(&db, Query::table("t"), move |rows: Vec<Row>| {
            s.push(rows.len())
        })
        .unwrap(),
    );
    assert!(sub.is_active());
    db.insert("t", row(json!({}))).unwrap();
    assert_eq!(seen.all(), [0, 1]);
    // Any holder of the handle may cancel, any number of times.
    let other = sub.clone();
    other.cancel();
    sub.cancel();
    assert!(!sub.is_active());
    db.insert("t", row(json!({}))).unwrap();
    assert_eq!(seen.all(), [0, 1], "no call after cancel");
    drop(sub);
    drop(other);
    db.insert("t", row(json!({}))).unwrap();
    assert_eq!(seen.all(), [0, 1]);
}

#[test]
fn a_discarded_account_outlives_the_migrator_call() {
    let dir = tempfile::tempdir().unwrap();
    let deps = DbDeps::default();
    let old = local_first(dir.path(), "app", 1, &deps);
    old.insert("notes", row(json!({"id": "n1", "text": "hi"})))
        .unwrap();
    let old_id = old.user_id();
    drop(old);
    // The migrator keeps the owned account; it is still readable after the open.
    let kept = Arc::new(Mutex::new(None));
    let k = kept.clone();
    let db = Db::open(
        on_disk(dir.path(), "app")
            .with_jwt_token(provider_jwt(json!({"sub": "carol"})))
            .with_account_discard_migrator(Arc::new(
                move |account: localfirst_core::db::DiscardedAccount| {
                    *k.lock().unwrap() = Some(account);
                    Ok(())
                },
            )),
        deps,
    )
    .unwrap();
    let account = kept.lock().unwrap().take().unwrap();
    assert_eq!(account.user_id(), old_id);
    assert_eq!(account.tables(), ["notes"]);
    assert_eq!(ids(&account.rows("notes").unwrap()), ["n1"]);
    assert_eq!(account.db().user_id(), db.user_id());
    // The snapshot's rows were discarded once the migrator returned.
    assert_eq!(db.get("notes", "n1").unwrap(), None);
}
