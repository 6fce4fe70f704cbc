//! Rows: building, patching, stamping and serialising them.

use serde::Serialize;
use serde_json::{Map, Value};

use super::names::{check_column, check_id, new_row_id};
use super::{Row, StorageError, CREATED_AT, CREATED_BY, UPDATED_AT, UPDATED_BY};
use crate::error::Quoted;

// ---------------------------------------------------------------------------
// Rows

/// Validates user-supplied columns: an object whose keys are valid column names
/// (`id` handled by the caller; `$` system columns refused).
pub(super) fn check_user_columns(values: &Row) -> Result<(), StorageError> {
    for key in values.keys() {
        if key.starts_with('$') {
            return Err(StorageError::InvalidRow {
                reason: format!(
                    "column {} is a system column and cannot be written",
                    Quoted(key)
                ),
            });
        }
        if key != "id" {
            check_column(key)?;
        }
    }
    Ok(())
}

/// Validates a whole row as the server sends it: valid user column names, the
/// four system columns present with their types (`$createdBy`/`$updatedBy`
/// strings, `$createdAt`/`$updatedAt` integers from 0 to `i64::MAX`), no other
/// `$` column. `id` is ignored (the change's id is stored).
pub(super) fn check_remote_row(row: &Row) -> Result<(), StorageError> {
    let invalid = |reason: String| Err(StorageError::InvalidRow { reason });
    for (key, value) in row {
        match key.as_str() {
            "id" => {}
            CREATED_BY | UPDATED_BY if value.is_string() => {}
            CREATED_AT | UPDATED_AT if value.as_u64().is_some_and(|n| i64::try_from(n).is_ok()) => {
            }
            CREATED_BY | UPDATED_BY | CREATED_AT | UPDATED_AT => {
                return invalid(format!("the row's {key} has the wrong type"));
            }
            other => check_column(other)?,
        }
    }
    for key in [CREATED_BY, CREATED_AT, UPDATED_BY, UPDATED_AT] {
        if !row.contains_key(key) {
            return invalid(format!("the row has no {key}"));
        }
    }
    Ok(())
}

/// Builds the row an insert would store: validates `values`, takes `id` from it
/// (or generates one) and stamps the system columns with `actor` and `now`.
pub(crate) fn build_insert_row(values: Row, actor: &str, now: u64) -> Result<Row, StorageError> {
    check_user_columns(&values)?;
    // The caller's map becomes the row: no copy of the user's columns.
    let mut row = values;
    match row.get("id") {
        Some(Value::String(id)) => check_id(id)?,
        Some(Value::Null) | None => {
            row.insert("id".into(), Value::String(new_row_id()?));
        }
        Some(_) => {
            return Err(StorageError::InvalidRow {
                reason: "id must be a string".into(),
            })
        }
    }
    stamp(&mut row, CREATED_BY, CREATED_AT, actor, now);
    stamp(&mut row, UPDATED_BY, UPDATED_AT, actor, now);
    in_key_order(&mut row);
    Ok(row)
}

/// Puts the keys of `row` in the one order every row has: sorted by their
/// UTF-8 bytes (system columns, which start with `$`, first). That is the order
/// of a sorted map anyway; a map that keeps insertion order (serde_json's
/// `preserve_order`, which any crate of a build may turn on) is sorted here, so
/// the order never depends on which crates are built together.
pub(super) fn in_key_order(row: &mut Row) {
    row.sort_keys();
}

pub(super) fn stamp(row: &mut Row, by: &str, at: &str, actor: &str, now: u64) {
    row.insert(by.into(), Value::String(actor.to_owned()));
    row.insert(at.into(), Value::from(now));
}

/// Applies a patch to `old`: each patch key replaces the column (JSON `null`
/// stores null); `$updatedBy`/`$updatedAt` are re-stamped. `id` may not change.
pub(crate) fn apply_patch(
    old: &Row,
    patch: &Row,
    actor: &str,
    now: u64,
) -> Result<Row, StorageError> {
    check_user_columns(patch)?;
    if let Some(id) = patch.get("id") {
        if Some(id) != old.get("id") {
            return Err(StorageError::InvalidRow {
                reason: "the id of a row cannot change".into(),
            });
        }
    }
    let mut row = old.clone();
    for (key, value) in patch {
        if key != "id" {
            row.insert(key.clone(), value.clone());
        }
    }
    stamp(&mut row, UPDATED_BY, UPDATED_AT, actor, now);
    in_key_order(&mut row);
    Ok(row)
}

pub(super) fn is_system_column(key: &str) -> bool {
    matches!(
        key,
        "id" | CREATED_BY | CREATED_AT | UPDATED_BY | UPDATED_AT
    )
}

/// Serialises the user columns of a row (everything but `id` and the system
/// columns) in key order (see [`in_key_order`]), without copying them.
pub(super) struct UserColumns<'a>(pub(super) &'a Row);

impl Serialize for UserColumns<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap as _;
        let mut entries: Vec<(&String, &Value)> = self
            .0
            .iter()
            .filter(|(k, _)| !is_system_column(k))
            .collect();
        if !entries.is_sorted_by(|a, b| a.0 <= b.0) {
            entries.sort_unstable_by(|a, b| a.0.cmp(b.0));
        }
        let mut map = serializer.serialize_map(Some(entries.len()))?;
        for (key, value) in entries {
            map.serialize_entry(key, value)?;
        }
        map.end()
    }
}

pub(super) fn row_id(row: &Row) -> Result<&str, StorageError> {
    row.get("id")
        .and_then(Value::as_str)
        .ok_or_else(|| StorageError::InvalidRow {
            reason: "the row has no string id".into(),
        })
}

pub(super) fn stamp_value<'a>(row: &'a Row, key: &str) -> Result<&'a Value, StorageError> {
    row.get(key).ok_or_else(|| StorageError::InvalidRow {
        reason: format!("the row has no {key}"),
    })
}

pub(super) fn to_json_text(value: &impl Serialize) -> Result<String, StorageError> {
    serde_json::to_string(value).map_err(|e| StorageError::InvalidRow {
        reason: e.to_string(),
    })
}

pub(super) fn read_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Row> {
    let id: String = r.get(0)?;
    let data: String = r.get(1)?;
    let created_by: String = r.get(2)?;
    let created_at: i64 = r.get(3)?;
    let updated_by: String = r.get(4)?;
    let updated_at: i64 = r.get(5)?;
    let columns: Map<String, Value> = serde_json::from_str(&data).map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(1, rusqlite::types::Type::Text, Box::new(e))
    })?;
    let mut row = Map::with_capacity(columns.len() + 5);
    row.insert("id".into(), Value::String(id));
    row.extend(columns);
    row.insert(CREATED_BY.into(), Value::String(created_by));
    row.insert(CREATED_AT.into(), Value::from(created_at));
    row.insert(UPDATED_BY.into(), Value::String(updated_by));
    row.insert(UPDATED_AT.into(), Value::from(updated_at));
    in_key_order(&mut row);
    Ok(row)
}

pub(super) const ROW_COLUMNS: &str = "id, data, created_by, created_at, updated_by, updated_at";

/// The stored values of one inserted row.
pub(super) struct InsertValues<'r> {
    pub(super) id: &'r str,
    /// Where the row's `data` text is in the chunk's buffer.
    pub(super) data: std::ops::Range<usize>,
    pub(super) created_by: &'r str,
    pub(super) created_at: i64,
    pub(super) updated_by: &'r str,
    pub(super) updated_at: i64,
}

/// Reads a built row's stored values in one pass over its keys, appending its
/// `data` text (the user columns, as `serde_json` writes the map) to `buffer`.
pub(super) fn row_values<'r>(
    row: &'r Row,
    buffer: &mut Vec<u8>,
) -> Result<InsertValues<'r>, StorageError> {
    let json_error = |e: serde_json::Error| StorageError::InvalidRow {
        reason: e.to_string(),
    };
    let start = buffer.len();
    let (mut id, mut created_by, mut created_at, mut updated_by, mut updated_at) =
        (None, None, None, None, None);
    buffer.push(b'{');
    let mut first = true;
    for (key, value) in row {
        match key.as_str() {
            "id" => id = value.as_str(),
            CREATED_BY => created_by = Some(value),
            CREATED_AT => created_at = Some(value),
            UPDATED_BY => updated_by = Some(value),
            UPDATED_AT => updated_at = Some(value),
            _ => {
                if !first {
                    buffer.push(b',');
                }
                first = false;
                serde_json::to_writer(&mut *buffer, key).map_err(json_error)?;
                buffer.push(b':');
                serde_json::to_writer(&mut *buffer, value).map_err(json_error)?;
            }
        }
    }
    buffer.push(b'}');
    let missing = |key: &str| StorageError::InvalidRow {
        reason: format!("the row has no {key}"),
    };
    Ok(InsertValues {
        id: id.ok_or_else(|| StorageError::InvalidRow {
            reason: "the row has no string id".into(),
        })?,
        data: start..buffer.len(),
        created_by: created_by
            .ok_or_else(|| missing(CREATED_BY))?
            .as_str()
            .unwrap_or_default(),
        created_at: created_at
            .ok_or_else(|| missing(CREATED_AT))?
            .as_i64()
            .unwrap_or_default(),
        updated_by: updated_by
            .ok_or_else(|| missing(UPDATED_BY))?
            .as_str()
            .unwrap_or_default(),
        updated_at: updated_at
            .ok_or_else(|| missing(UPDATED_AT))?
            .as_i64()
            .unwrap_or_default(),
    })
}

impl InsertValues<'_> {
    /// The row's `data` text, out of the chunk's texts.
    pub(super) fn data<'t>(&self, texts: &'t str) -> &'t str {
        texts.get(self.data.clone()).unwrap_or_default()
    }
}

/// Appends `text` to `out` as a JSON string.
pub(super) fn push_json_string(out: &mut String, text: &str) -> Result<(), StorageError> {
    if text.bytes().all(|b| b >= 0x20 && b != b'"' && b != b'\\') {
        out.push('"');
        out.push_str(text);
        out.push('"');
    } else {
        out.push_str(&to_json_text(&text)?);
    }
    Ok(())
}
