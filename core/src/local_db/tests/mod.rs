//! Unit tests of the local database.

mod outbox_batch;
mod support;

use std::path::Path;

use serde_json::{json, Value};

use super::*;

fn obj(value: Value) -> Row {
    value.as_object().cloned().unwrap()
}

#[test]
fn app_ids_cannot_escape_the_data_dir() {
    assert_eq!(encode_app_id("my-app"), "my-app");
    assert_eq!(encode_app_id("../etc"), "%2E%2E%2Fetc");
    assert_eq!(encode_app_id(".."), "%2E%2E");
    assert_eq!(encode_app_id("a/b\\c"), "a%2Fb%5Cc");
    let dir = namespace_dir(Path::new("/data"), "../../x");
    assert_eq!(dir, Path::new("/data/%2E%2E%2F%2E%2E%2Fx"));
}

#[test]
fn names_are_validated() {
    assert!(is_valid_name("messages"));
    assert!(is_valid_name("_a1"));
    for bad in ["", "1a", "a-b", "a b", "t\"", &"a".repeat(65)] {
        assert!(!is_valid_name(bad), "{bad}");
    }
}

#[test]
fn entries_are_checked_as_the_store_would_store_them() {
    use crate::error::ErrorCode as _;
    let code = |table: &str, id: &str, columns: Option<Value>| {
        let columns = columns.map(obj);
        check_entry(table, id, columns.as_ref()).map_err(|e| e.code().as_str())
    };
    assert_eq!(
        code("todos", "a", Some(json!({"id": "a", "title": 1}))),
        Ok(())
    );
    assert_eq!(code("Todos", &"i".repeat(256), None), Ok(()));
    assert_eq!(code("bad name", "a", None), Err("invalid-name"));
    assert_eq!(code(&"t".repeat(100), "a", None), Err("invalid-name"));
    assert_eq!(code("tâches", "a", None), Err("invalid-name"));
    assert_eq!(code("todos", "nul\u{0}id", None), Err("invalid-row"));
    assert_eq!(code("todos", "", None), Err("invalid-row"));
    assert_eq!(code("todos", &"i".repeat(257), None), Err("invalid-row"));
    assert_eq!(
        code("todos", "a", Some(json!({"a b": 1}))),
        Err("invalid-name")
    );
    assert_eq!(
        code("todos", "a", Some(json!({"$createdAt": 1}))),
        Err("invalid-row")
    );
    assert_eq!(table_name_key("ToDos_2"), "todos_2");
    assert_eq!(table_name_key("Todos"), table_name_key("tODOS"));
}

#[test]
fn insert_rows_are_stamped_and_cannot_forge_system_columns() {
    let row = build_insert_row(obj(json!({"text": "hi"})), "u1", 5).unwrap();
    assert_eq!(row["$createdBy"], "u1");
    assert_eq!(row["$updatedAt"], 5);
    assert_eq!(row["id"].as_str().unwrap().len(), 36);
    let forged = build_insert_row(obj(json!({"$createdBy": "x"})), "u1", 5).unwrap_err();
    assert_eq!(forged.code(), "invalid-row");
    assert_eq!(
        build_insert_row(obj(json!({"id": 3})), "u1", 5)
            .unwrap_err()
            .code(),
        "invalid-row"
    );
    assert_eq!(
        build_insert_row(obj(json!({"bad-col": 1})), "u1", 5)
            .unwrap_err()
            .code(),
        "invalid-name"
    );
}

/// A map with the keys inserted in this order (kept only when serde_json's
/// `preserve_order` is on in the build).
fn in_given_order(pairs: &[(&str, Value)]) -> Row {
    let mut row = Row::new();
    for (key, value) in pairs {
        row.insert((*key).to_owned(), value.clone());
    }
    row
}

#[test]
fn rows_have_one_key_order_whatever_the_map_type() {
    // Keys sorted by their bytes: `$` system columns, upper case, `_`, lower case
    // (`id` among them). Built with the keys given out of order; the text must be
    // the same whether or not any crate of the build turns on `preserve_order`
    // (the CLI crate did: `cargo test --workspace` then builds with it).
    let expected = r#"{"$createdAt":5,"$createdBy":"me","$updatedAt":5,"$updatedBy":"me","Zed":1,"_u":2,"b":3,"id":"x","z":[true]}"#;
    for pairs in [
        vec![
            ("z", json!([true])),
            ("id", json!("x")),
            ("b", json!(3)),
            ("_u", json!(2)),
            ("Zed", json!(1)),
        ],
        vec![
            ("b", json!(3)),
            ("Zed", json!(1)),
            ("z", json!([true])),
            ("_u", json!(2)),
            ("id", json!("x")),
        ],
    ] {
        let row = build_insert_row(in_given_order(&pairs), "me", 5).unwrap();
        assert_eq!(serde_json::to_string(&row).unwrap(), expected, "{pairs:?}");
    }

    // Read back, patched and recorded in the outbox: the same order.
    let store = LocalStore::open(StoreLocation::Memory).unwrap();
    let row = build_insert_row(
        in_given_order(&[("id", json!("r")), ("m", json!(1)), ("a", json!(2))]),
        "u",
        1,
    )
    .unwrap();
    store.write(|w| w.insert_row("t", &row)).unwrap();
    let stored = store.get("t", "r").unwrap().unwrap();
    assert_eq!(
        serde_json::to_string(&stored).unwrap(),
        r#"{"$createdAt":1,"$createdBy":"u","$updatedAt":1,"$updatedBy":"u","a":2,"id":"r","m":1}"#
    );
    let patch = in_given_order(&[("q", json!(3)), ("b", json!(4))]);
    let new = apply_patch(&stored, &patch, "v", 2).unwrap();
    assert_eq!(
        new.keys().map(String::as_str).collect::<Vec<_>>(),
        [
            "$createdAt",
            "$createdBy",
            "$updatedAt",
            "$updatedBy",
            "a",
            "b",
            "id",
            "m",
            "q"
        ]
    );
    store.write(|w| w.update_row("t", &new, &patch)).unwrap();
    let outbox = store.outbox_pending(None, 10).unwrap();
    assert_eq!(
        serde_json::to_string(&outbox[0].payload).unwrap(),
        r#"{"a":2,"m":1}"#
    );
    assert_eq!(
        serde_json::to_string(&outbox[1].payload).unwrap(),
        r#"{"b":4,"q":3}"#
    );
    assert_eq!(store.get("t", "r").unwrap().unwrap(), new);
}

#[test]
fn patches_keep_creation_stamps_and_id() {
    let old = build_insert_row(obj(json!({"id": "r", "a": 1})), "u1", 5).unwrap();
    let new = apply_patch(&old, &obj(json!({"b": 2})), "u2", 9).unwrap();
    assert_eq!(new["a"], 1);
    assert_eq!(new["b"], 2);
    assert_eq!(new["$createdBy"], "u1");
    assert_eq!(new["$updatedBy"], "u2");
    assert_eq!(new["$updatedAt"], 9);
    assert!(apply_patch(&old, &obj(json!({"id": "other"})), "u2", 9).is_err());
}

#[test]
fn filters_round_trip_and_reject_bad_input() {
    let json = json!({"owner": "u1", "n": {"gte": 3, "lt": 10}, "tag": {"in": ["a", null]}});
    let filter = Filter::from_json(&json).unwrap();
    assert_eq!(filter.conditions.len(), 4);
    assert_eq!(Filter::from_json(&filter.to_json()).unwrap(), filter);
    for bad in [
        json!([1]),
        json!({"n": {"near": 1}}),
        json!({"n": {}}),
        json!({"n": [1]}),
        json!({"n": {"in": 3}}),
        json!({"n": {"lt": null}}),
        json!({"bad col": 1}),
        json!({"$secret": 1}),
    ] {
        let code = Filter::from_json(&bad).unwrap_err().code();
        assert!(code.as_str().starts_with("invalid-"), "{bad}: {code}");
    }
}

#[test]
fn memory_store_round_trip() {
    let store = LocalStore::open(StoreLocation::Memory).unwrap();
    let row = build_insert_row(obj(json!({"id": "a", "n": 1})), "u", 1).unwrap();
    store.write(|w| w.insert_row("t", &row)).unwrap();
    assert_eq!(store.get("t", "a").unwrap(), Some(row));
    let dup = build_insert_row(obj(json!({"id": "a"})), "u", 1).unwrap();
    assert_eq!(
        store.write(|w| w.insert_row("t", &dup)).unwrap_err().code(),
        "already-exists"
    );
    assert_eq!(store.outbox_len().unwrap(), 1);
    assert!(store.query(&Query::table("missing")).unwrap().is_empty());
}
