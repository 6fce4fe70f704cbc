//! Filters and queries, and the SQL they become.

use rusqlite::types::Value as SqlValue;
use rusqlite::Connection;
use serde_json::{Map, Value};

use super::names::{check_table, filter_column, sql_table};
use super::rows::{read_row, ROW_COLUMNS};
use super::tx::table_exists;
use super::{Row, StorageError};

// ---------------------------------------------------------------------------
// Filters and queries

/// A comparison of one column against values.
#[derive(Debug, Clone, PartialEq)]
pub enum Comparison {
    /// Equal (`null` matches a missing or null column).
    Eq(Value),
    /// Equal to one of the values.
    In(Vec<Value>),
    /// Less than.
    Lt(Value),
    /// Less than or equal.
    Lte(Value),
    /// Greater than.
    Gt(Value),
    /// Greater than or equal.
    Gte(Value),
}

/// One condition of a [`Filter`].
#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    /// A user column, `id`, or a system column (`$createdBy`, ...).
    pub column: String,
    /// The comparison.
    pub comparison: Comparison,
}

/// A conjunction of column conditions.
///
/// JSON form (used by the CLI and bindings): an object mapping a column to a
/// value (equality) or to an object of operators, all of which must hold:
///
/// ```json
/// {"owner": "u1", "score": {"gte": 3, "lt": 10}, "tag": {"in": ["a", "b"]}, "$createdBy": "u1"}
/// ```
///
/// Values are scalars (string, number, boolean, null). Comparisons follow
/// SQLite's typing: a string never equals a number; booleans compare as 0/1.
/// Integers compare exactly (2^53 + 1 is not 2^53) within SQLite's 64-bit range;
/// an integer above 2^63 - 1 is refused (`invalid-filter`), since SQLite would
/// compare it as a double.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Filter {
    /// All of these must hold.
    pub conditions: Vec<Condition>,
}

impl Filter {
    /// A filter matching every row.
    pub fn all() -> Filter {
        Filter::default()
    }

    pub(super) fn with(mut self, column: &str, comparison: Comparison) -> Filter {
        self.conditions.push(Condition {
            column: column.to_owned(),
            comparison,
        });
        self
    }

    /// Adds `column == value`.
    pub fn eq(self, column: &str, value: impl Into<Value>) -> Filter {
        self.with(column, Comparison::Eq(value.into()))
    }

    /// Adds `column IN values`.
    pub fn is_in(self, column: &str, values: Vec<Value>) -> Filter {
        self.with(column, Comparison::In(values))
    }

    /// Adds `column < value`.
    pub fn lt(self, column: &str, value: impl Into<Value>) -> Filter {
        self.with(column, Comparison::Lt(value.into()))
    }

    /// Adds `column <= value`.
    pub fn lte(self, column: &str, value: impl Into<Value>) -> Filter {
        self.with(column, Comparison::Lte(value.into()))
    }

    /// Adds `column > value`.
    pub fn gt(self, column: &str, value: impl Into<Value>) -> Filter {
        self.with(column, Comparison::Gt(value.into()))
    }

    /// Adds `column >= value`.
    pub fn gte(self, column: &str, value: impl Into<Value>) -> Filter {
        self.with(column, Comparison::Gte(value.into()))
    }

    /// Parses the JSON form (see the type's documentation).
    pub fn from_json(value: &Value) -> Result<Filter, StorageError> {
        let bad = |reason: String| StorageError::InvalidFilter { reason };
        let object = match value {
            Value::Null => return Ok(Filter::all()),
            Value::Object(object) => object,
            _ => return Err(bad("a filter must be a JSON object".into())),
        };
        let mut filter = Filter::all();
        for (column, spec) in object {
            filter_column(column)?;
            match spec {
                Value::Object(ops) => {
                    if ops.is_empty() {
                        return Err(bad(format!("no operator given for {column:?}")));
                    }
                    for (op, operand) in ops {
                        let comparison = match op.as_str() {
                            "eq" => Comparison::Eq(operand.clone()),
                            "in" => match operand {
                                Value::Array(items) => Comparison::In(items.clone()),
                                _ => return Err(bad(format!("\"in\" on {column:?} needs an array"))),
                            },
                            "lt" => Comparison::Lt(operand.clone()),
                            "lte" => Comparison::Lte(operand.clone()),
                            "gt" => Comparison::Gt(operand.clone()),
                            "gte" => Comparison::Gte(operand.clone()),
                            other => {
                                return Err(bad(format!(
                                    "unknown operator {other:?} on {column:?} (use eq, in, lt, lte, gt, gte)"
                                )))
                            }
                        };
                        filter = filter.with(column, comparison);
                    }
                }
                scalar => filter = filter.with(column, Comparison::Eq(scalar.clone())),
            }
        }
        filter.validate()?;
        Ok(filter)
    }

    /// The JSON form of this filter.
    pub fn to_json(&self) -> Value {
        let mut object = Map::new();
        for condition in &self.conditions {
            let (op, operand) = match &condition.comparison {
                Comparison::Eq(v) => ("eq", v.clone()),
                Comparison::In(vs) => ("in", Value::Array(vs.clone())),
                Comparison::Lt(v) => ("lt", v.clone()),
                Comparison::Lte(v) => ("lte", v.clone()),
                Comparison::Gt(v) => ("gt", v.clone()),
                Comparison::Gte(v) => ("gte", v.clone()),
            };
            let entry = object
                .entry(condition.column.clone())
                .or_insert_with(|| Value::Object(Map::new()));
            if let Value::Object(ops) = entry {
                ops.insert(op.to_owned(), operand);
            }
        }
        Value::Object(object)
    }

    /// Checks names and value types without touching a database.
    pub fn validate(&self) -> Result<(), StorageError> {
        for condition in &self.conditions {
            filter_column(&condition.column)?;
            let column = &condition.column;
            match &condition.comparison {
                Comparison::Eq(v) => scalar(v, column, true)?,
                Comparison::In(vs) => {
                    for v in vs {
                        scalar(v, column, true)?;
                    }
                }
                Comparison::Lt(v) | Comparison::Lte(v) | Comparison::Gt(v) | Comparison::Gte(v) => {
                    scalar(v, column, false)?
                }
            }
        }
        Ok(())
    }

    /// Appends ` AND ...` SQL for this filter to `sql`, pushing bound values.
    pub(super) fn write_sql(
        &self,
        sql: &mut String,
        params: &mut Vec<SqlValue>,
    ) -> Result<(), StorageError> {
        for condition in &self.conditions {
            let expr = filter_column(&condition.column)?;
            let column = &condition.column;
            match &condition.comparison {
                Comparison::Eq(Value::Null) => {
                    sql.push_str(&format!(" AND {expr} IS NULL"));
                }
                Comparison::Eq(v) => {
                    params.push(sql_value(v, column, true)?);
                    sql.push_str(&format!(" AND {expr} = ?{}", params.len()));
                }
                Comparison::In(values) => {
                    let mut slots = Vec::new();
                    let mut with_null = false;
                    for v in values {
                        if v.is_null() {
                            with_null = true;
                            continue;
                        }
                        params.push(sql_value(v, column, true)?);
                        slots.push(format!("?{}", params.len()));
                    }
                    let list = format!("{expr} IN ({})", slots.join(", "));
                    match (slots.is_empty(), with_null) {
                        (true, false) => sql.push_str(" AND 0"),
                        (true, true) => sql.push_str(&format!(" AND {expr} IS NULL")),
                        (false, false) => sql.push_str(&format!(" AND {list}")),
                        (false, true) => sql.push_str(&format!(" AND ({list} OR {expr} IS NULL)")),
                    }
                }
                Comparison::Lt(v) | Comparison::Lte(v) | Comparison::Gt(v) | Comparison::Gte(v) => {
                    let op = match &condition.comparison {
                        Comparison::Lt(_) => "<",
                        Comparison::Lte(_) => "<=",
                        Comparison::Gt(_) => ">",
                        _ => ">=",
                    };
                    params.push(sql_value(v, column, false)?);
                    sql.push_str(&format!(" AND {expr} {op} ?{}", params.len()));
                }
            }
        }
        Ok(())
    }
}

pub(super) fn scalar(value: &Value, column: &str, null_ok: bool) -> Result<(), StorageError> {
    sql_value(value, column, null_ok).map(|_| ())
}

pub(super) fn sql_value(
    value: &Value,
    column: &str,
    null_ok: bool,
) -> Result<SqlValue, StorageError> {
    let bad = |what: &str| StorageError::InvalidFilter {
        reason: format!("{what} cannot be compared (column {column:?})"),
    };
    Ok(match value {
        Value::Null if null_ok => SqlValue::Null,
        Value::Null => return Err(bad("null")),
        Value::Bool(b) => SqlValue::Integer(i64::from(*b)),
        Value::Number(n) => match (n.as_i64(), n.as_f64()) {
            (Some(i), _) => SqlValue::Integer(i),
            // Above 2^63 - 1 SQLite has no integers: the value, and the stored ones
            // it would meet, become doubles, and 2^63 would equal 2^63 + 1.
            (None, _) if n.is_u64() => {
                return Err(StorageError::InvalidFilter {
                    reason: format!(
                        "the integer {n} is above 2^63 - 1 and cannot be compared exactly (column {column:?})"
                    ),
                })
            }
            (None, Some(f)) => SqlValue::Real(f),
            _ => return Err(bad("a number this large")),
        },
        Value::String(s) => SqlValue::Text(s.clone()),
        Value::Array(_) => return Err(bad("an array")),
        Value::Object(_) => return Err(bad("an object")),
    })
}

/// Sort order of a query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderBy {
    /// A user column, `id` or a system column.
    pub column: String,
    /// Largest first.
    pub descending: bool,
}

/// Which rows of which table.
#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    /// The table.
    pub table: String,
    /// The conditions (all must hold).
    pub filter: Filter,
    /// Sort order; insertion order when `None`.
    pub order_by: Option<OrderBy>,
    /// At most this many rows.
    pub limit: Option<usize>,
}

impl Query {
    /// Every row of `table`, in insertion order.
    pub fn table(table: &str) -> Query {
        Query {
            table: table.to_owned(),
            filter: Filter::all(),
            order_by: None,
            limit: None,
        }
    }

    /// Replaces the filter.
    pub fn filter(mut self, filter: Filter) -> Query {
        self.filter = filter;
        self
    }

    /// Sorts by `column`.
    pub fn order_by(mut self, column: &str, descending: bool) -> Query {
        self.order_by = Some(OrderBy {
            column: column.to_owned(),
            descending,
        });
        self
    }

    /// Keeps at most `limit` rows.
    pub fn limit(mut self, limit: usize) -> Query {
        self.limit = Some(limit);
        self
    }

    /// Checks names and values without touching a database.
    pub fn validate(&self) -> Result<(), StorageError> {
        check_table(&self.table)?;
        self.filter.validate()?;
        if let Some(order) = &self.order_by {
            filter_column(&order.column)?;
        }
        Ok(())
    }
}

pub(super) fn run_query(conn: &Connection, query: &Query) -> Result<Vec<Row>, StorageError> {
    query.validate()?;
    if !table_exists(conn, &query.table)? {
        return Ok(Vec::new());
    }
    let mut sql = format!(
        "SELECT {ROW_COLUMNS} FROM {} WHERE 1",
        sql_table(&query.table)
    );
    let mut params = Vec::new();
    query.filter.write_sql(&mut sql, &mut params)?;
    match &query.order_by {
        Some(order) => {
            let expr = filter_column(&order.column)?;
            let dir = if order.descending { "DESC" } else { "ASC" };
            sql.push_str(&format!(" ORDER BY {expr} {dir}, rowid {dir}"));
        }
        None => sql.push_str(" ORDER BY rowid"),
    }
    if let Some(limit) = query.limit {
        sql.push_str(&format!(
            " LIMIT {}",
            i64::try_from(limit).unwrap_or(i64::MAX)
        ));
    }
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt
        .query_map(rusqlite::params_from_iter(params), read_row)?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}
