//! Unit tests of the local database.

mod outbox_batch;
mod support;

use std::path::Path;

use serde_json::{json, Value};

use super::rows::stamp;
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

#[test]
fn insert_rows_keep_the_key_order_a_move_of_id_gave() {
    // Whatever the map type (sorted, or insertion order when serde_json's
    // `preserve_order` is on), the built row has the keys in the order that
    // removing and re-inserting `id` always produced.
    for values in [
        json!({"id": "x", "b": 1, "a": 2}),
        json!({"b": 1, "a": 2, "id": "x"}),
        json!({"b": 1, "id": "x", "a": 2}),
        json!({"b": 1, "a": 2}),
        json!({"id": null, "b": 1}),
    ] {
        let values = obj(values);
        let row = build_insert_row(values.clone(), "me", 5).unwrap();
        let mut moved = values.clone();
        let id = match moved.remove("id") {
            Some(Value::String(id)) => Value::String(id),
            _ => row["id"].clone(),
        };
        moved.insert("id".into(), id);
        stamp(&mut moved, CREATED_BY, CREATED_AT, "me", 5);
        stamp(&mut moved, UPDATED_BY, UPDATED_AT, "me", 5);
        assert_eq!(
            row.keys().collect::<Vec<_>>(),
            moved.keys().collect::<Vec<_>>(),
            "{values:?}"
        );
        assert_eq!(row, moved);
    }
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
        assert!(code.starts_with("invalid-"), "{bad}: {code}");
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
