//! Rows as they cross the `Db`'s API: [`Row`] (a stored row, owned, with a JSON
//! form) and [`RowValues`] (the columns an insert or update writes).

use serde_json::{Map, Value};

use crate::local_db::{self, Filter, Query, CREATED_AT, CREATED_BY, UPDATED_AT, UPDATED_BY};

use super::DbError;

/// A stored row: its `id`, the user's columns and the four system columns
/// (`$createdBy`, `$createdAt`, `$updatedBy`, `$updatedAt`).
///
/// Its JSON form ([`to_json`](Self::to_json)) is one object holding all of
/// them, as the CLI prints rows.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    columns: local_db::Row,
}

impl Row {
    /// Parses a row from its JSON form: an object with a string `id`, string
    /// `$createdBy`/`$updatedBy` and integer `$createdAt`/`$updatedAt`.
    pub fn from_json(json: &str) -> Result<Row, DbError> {
        let columns = parse_object(json, "a row")?;
        let bad = |what: &str| DbError::InvalidArgument {
            reason: format!("a row needs {what}"),
        };
        for key in ["id", CREATED_BY, UPDATED_BY] {
            if !columns.get(key).is_some_and(Value::is_string) {
                return Err(bad(&format!("a string {key:?}")));
            }
        }
        for key in [CREATED_AT, UPDATED_AT] {
            if !columns.get(key).is_some_and(Value::is_u64) {
                return Err(bad(&format!("a non-negative integer {key:?}")));
            }
        }
        Ok(Row { columns })
    }

    /// The row as one JSON object (id, user columns, system columns).
    pub fn to_json(&self) -> String {
        Value::Object(self.columns.clone()).to_string()
    }

    /// The row as a JSON value (for Rust callers that embed it in other JSON).
    pub fn to_json_value(&self) -> Value {
        Value::Object(self.columns.clone())
    }

    /// The user's columns only, as a JSON object.
    pub fn values_json(&self) -> String {
        let user: Map<String, Value> = self
            .columns
            .iter()
            .filter(|(key, _)| !is_system_column(key))
            .map(|(key, value)| (key.clone(), value.clone()))
            .collect();
        Value::Object(user).to_string()
    }

    /// The row id.
    pub fn id(&self) -> String {
        self.text(ID)
    }

    /// User id of the row's creator.
    pub fn created_by(&self) -> String {
        self.text(CREATED_BY)
    }

    /// Creation time (Unix seconds).
    pub fn created_at(&self) -> u64 {
        self.number(CREATED_AT)
    }

    /// User id of the last writer.
    pub fn updated_by(&self) -> String {
        self.text(UPDATED_BY)
    }

    /// Time of the last write (Unix seconds).
    pub fn updated_at(&self) -> u64 {
        self.number(UPDATED_AT)
    }

    /// The value of `column` (a user column, `id` or a system column), if present.
    pub fn get(&self, column: &str) -> Option<&Value> {
        self.columns.get(column)
    }

    /// The names of every column of the row.
    pub fn columns(&self) -> Vec<String> {
        self.columns.keys().cloned().collect()
    }

    /// Wraps a row read from (or about to be written to) the local database.
    pub(crate) fn from_stored(columns: local_db::Row) -> Row {
        Row { columns }
    }

    fn text(&self, key: &str) -> String {
        self.columns
            .get(key)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    }

    fn number(&self, key: &str) -> u64 {
        self.columns
            .get(key)
            .and_then(Value::as_u64)
            .unwrap_or_default()
    }
}

/// `row["column"]`: the value, or JSON `null` when the column is absent.
impl std::ops::Index<&str> for Row {
    type Output = Value;

    fn index(&self, column: &str) -> &Value {
        static NULL: Value = Value::Null;
        self.columns.get(column).unwrap_or(&NULL)
    }
}

impl serde::Serialize for Row {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.columns.serialize(serializer)
    }
}

/// The columns an insert or a patch writes: user columns, and optionally a
/// string `id` (inserts only; a UUIDv4 is generated otherwise).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RowValues {
    columns: local_db::Row,
}

impl RowValues {
    /// No columns.
    pub fn new() -> RowValues {
        RowValues::default()
    }

    /// Parses the columns from a JSON object.
    pub fn from_json_str(json: &str) -> Result<RowValues, DbError> {
        Ok(RowValues {
            columns: parse_object(json, "row values")?,
        })
    }

    /// Takes the columns from a JSON object value.
    pub fn from_json_value(value: Value) -> Result<RowValues, DbError> {
        match value {
            Value::Object(columns) => Ok(RowValues { columns }),
            _ => Err(not_an_object("row values")),
        }
    }

    /// Parses a JSON array of row objects (the form of [`Db::insert_many`](super::Db::insert_many)
    /// across a language boundary).
    pub fn list_from_json_str(json: &str) -> Result<Vec<RowValues>, DbError> {
        match crate::json::parse_unique(json) {
            Ok(Value::Array(rows)) => rows.into_iter().map(RowValues::from_json_value).collect(),
            Ok(_) => Err(DbError::InvalidArgument {
                reason: "rows must be a JSON array of objects".into(),
            }),
            Err(e) => Err(DbError::InvalidArgument {
                reason: format!("rows are not valid JSON: {e}"),
            }),
        }
    }

    /// Sets `column` to `value` (JSON `null` stores null), replacing any
    /// earlier value.
    pub fn set(mut self, column: impl Into<String>, value: impl Into<Value>) -> RowValues {
        self.columns.insert(column.into(), value.into());
        self
    }

    /// The columns as a JSON object.
    pub fn to_json(&self) -> String {
        Value::Object(self.columns.clone()).to_string()
    }

    /// Whether no column is set.
    pub fn is_empty(&self) -> bool {
        self.columns.is_empty()
    }

    /// Checks these values as an insert would (column names, a valid `id`, no
    /// system columns) without touching any database, so callers can refuse
    /// bad input before they create an identity or open storage.
    pub fn validate_for_insert(&self) -> Result<(), DbError> {
        local_db::build_insert_row(self.columns.clone(), "-", 0)
            .map(|_| ())
            .map_err(DbError::from)
    }

    /// Checks these values as a patch of row `id` would, without touching any
    /// database.
    pub fn validate_for_update(&self, id: &str) -> Result<(), DbError> {
        let mut existing = local_db::Row::new();
        existing.insert("id".into(), Value::String(id.to_owned()));
        local_db::apply_patch(&existing, &self.columns, "-", 0)
            .map(|_| ())
            .map_err(DbError::from)
    }

    /// The columns in the local database's form.
    pub(crate) fn into_stored(self) -> local_db::Row {
        self.columns
    }

    /// The columns in the local database's form, borrowed.
    pub(crate) fn as_stored(&self) -> &local_db::Row {
        &self.columns
    }
}

/// Builds a [`Query`] from its JSON form:
/// `{"table": "todos", "where": {"done": false}, "orderBy": "n", "descending": true, "limit": 10}`.
/// Only `table` is required; `where` takes the filter syntax of
/// [`Filter::from_json`].
pub fn query_from_json(json: &str) -> Result<Query, DbError> {
    let object = parse_object(json, "a query")?;
    let bad = |reason: &str| DbError::InvalidArgument {
        reason: format!("a query {reason}"),
    };
    for key in object.keys() {
        if !matches!(
            key.as_str(),
            "table" | "where" | "orderBy" | "descending" | "limit"
        ) {
            return Err(bad(&format!("has no field {key:?}")));
        }
    }
    let table = object
        .get("table")
        .and_then(Value::as_str)
        .ok_or_else(|| bad("needs a string \"table\""))?;
    let mut query = Query::table(table);
    if let Some(filter) = object.get("where") {
        query = query.filter(Filter::from_json(filter)?);
    }
    let descending = match object.get("descending") {
        None => false,
        Some(Value::Bool(descending)) => *descending,
        Some(_) => return Err(bad("needs a boolean \"descending\"")),
    };
    match object.get("orderBy") {
        None => {}
        Some(Value::String(column)) => query = query.order_by(column, descending),
        Some(_) => return Err(bad("needs a string \"orderBy\"")),
    }
    match object.get("limit") {
        None => {}
        Some(limit) => {
            let limit = limit
                .as_u64()
                .and_then(|n| usize::try_from(n).ok())
                .ok_or_else(|| bad("needs a non-negative integer \"limit\""))?;
            query = query.limit(limit);
        }
    }
    query.validate()?;
    Ok(query)
}

const ID: &str = "id";

fn is_system_column(key: &str) -> bool {
    matches!(key, ID | CREATED_BY | CREATED_AT | UPDATED_BY | UPDATED_AT)
}

fn not_an_object(what: &str) -> DbError {
    DbError::InvalidArgument {
        reason: format!("{what} must be a JSON object"),
    }
}

/// Parses a JSON object; a key that appears twice (at any depth) is refused.
fn parse_object(json: &str, what: &str) -> Result<Map<String, Value>, DbError> {
    match crate::json::parse_unique(json) {
        Ok(Value::Object(columns)) => Ok(columns),
        Ok(_) => Err(not_an_object(what)),
        Err(e) => Err(DbError::InvalidArgument {
            reason: format!("{what} is not valid JSON: {e}"),
        }),
    }
}
