//! Strict validation of policy JSON into rules, and the way back to JSON.
//!
//! Every error names the offending place as a path from the document root (`$`),
//! e.g. `$.tables.messages.insert.allOf[1].eq[0]`. Unknown keys, unknown
//! operators, unknown session fields and wrong shapes are all errors, as is
//! nesting deeper than [`MAX_DEPTH`]. Recursion is bounded by that limit, so a
//! hostile document cannot exhaust the stack.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::{
    CmpOp, Cond, Operand, Operation, PolicyError, PolicySet, RowSel, Rule, TableRules,
    FORMAT_VERSION, MAX_DEPTH,
};
use crate::session::AuthMode;

const OPERATORS: &str = "allOf, anyOf, not, eq, ne, lt, lte, gt, gte, in, exists, isNull";
const AUTH_MODES: [AuthMode; 3] = [
    AuthMode::Anonymous,
    AuthMode::LocalFirst,
    AuthMode::External,
];

/// Turns a JSON syntax error into [`PolicyError::Invalid`] located by line and column.
pub(super) fn syntax_error(error: serde_json::Error) -> PolicyError {
    let full = error.to_string();
    let suffix = format!(" at line {} column {}", error.line(), error.column());
    let message = full.strip_suffix(&suffix).unwrap_or(&full);
    PolicyError::Invalid {
        location: format!("line {} column {}", error.line(), error.column()),
        message: format!("not valid JSON: {message}"),
    }
}

fn invalid(location: &str, message: impl Into<String>) -> PolicyError {
    PolicyError::Invalid {
        location: location.to_owned(),
        message: message.into(),
    }
}

/// `parent.key`, or `parent["key"]` when the key is not a plain identifier.
fn child(parent: &str, key: &str) -> String {
    let plain = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '$' | '-'));
    if plain {
        format!("{parent}.{key}")
    } else {
        let quoted = serde_json::to_string(key).unwrap_or_else(|_| format!("\"{key}\""));
        format!("{parent}[{quoted}]")
    }
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn object<'a>(
    value: &'a Value,
    location: &str,
    what: &str,
) -> Result<&'a Map<String, Value>, PolicyError> {
    value.as_object().ok_or_else(|| {
        invalid(
            location,
            format!("{what} must be an object, found {}", kind(value)),
        )
    })
}

fn reject_unknown_keys(
    map: &Map<String, Value>,
    location: &str,
    allowed: &[&str],
) -> Result<(), PolicyError> {
    match map.keys().find(|key| !allowed.contains(&key.as_str())) {
        Some(key) => Err(invalid(
            &child(location, key),
            format!("unknown key \"{key}\" (expected {})", allowed.join(", ")),
        )),
        None => Ok(()),
    }
}

pub(super) fn policy_set(value: &Value) -> Result<PolicySet, PolicyError> {
    let root = object(value, "$", "a policy set")?;
    reject_unknown_keys(root, "$", &["version", "description", "tables"])?;
    if let Some(version) = root.get("version") {
        if version.as_u64() != Some(FORMAT_VERSION) {
            return Err(invalid(
                "$.version",
                format!(
                    "unsupported version {version} (this engine reads version {FORMAT_VERSION})"
                ),
            ));
        }
    }
    let description = match root.get("description") {
        None => None,
        Some(Value::String(text)) => Some(text.clone()),
        Some(other) => {
            return Err(invalid(
                "$.description",
                format!("description must be a string, found {}", kind(other)),
            ))
        }
    };
    let tables_value = root
        .get("tables")
        .ok_or_else(|| invalid("$", "missing key \"tables\""))?;
    let tables_map = object(tables_value, "$.tables", "tables")?;
    let mut tables = BTreeMap::new();
    for (name, table_value) in tables_map {
        let location = child("$.tables", name);
        if name.is_empty() {
            return Err(invalid(&location, "table names must not be empty"));
        }
        let table = object(table_value, &location, "a table's rules")?;
        let mut rules = TableRules::default();
        for (key, rule_value) in table {
            let op_location = child(&location, key);
            let op = Operation::from_name(key).ok_or_else(|| {
                invalid(
                    &op_location,
                    format!("unknown operation \"{key}\" (expected read, insert, update, delete)"),
                )
            })?;
            let parser = Parser { op };
            let cond = parser.cond(rule_value, &op_location, 1)?;
            rules.0[op.index()] = Some(Rule::new(cond));
        }
        tables.insert(name.clone(), rules);
    }
    Ok(PolicySet {
        description,
        tables,
    })
}

/// Validates the conditions of one rule.
struct Parser {
    op: Operation,
}

impl Parser {
    fn cond(&self, value: &Value, location: &str, depth: usize) -> Result<Cond, PolicyError> {
        if depth > MAX_DEPTH {
            return Err(invalid(
                location,
                format!("conditions are nested deeper than {MAX_DEPTH} levels"),
            ));
        }
        let map = match value {
            Value::String(word) if word == "always" => return Ok(Cond::Always),
            Value::String(word) if word == "never" => return Ok(Cond::Never),
            Value::String(word) => {
                return Err(invalid(
                    location,
                    format!("unknown rule \"{word}\" (expected \"always\", \"never\" or a condition object)"),
                ))
            }
            Value::Object(map) => map,
            other => {
                return Err(invalid(
                    location,
                    format!(
                        "expected \"always\", \"never\" or a condition object, found {}",
                        kind(other)
                    ),
                ))
            }
        };
        let mut entries = map.iter();
        let (key, arg) = match (entries.next(), entries.next()) {
            (Some(entry), None) => entry,
            (None, _) => {
                return Err(invalid(
                    location,
                    format!("empty condition object (expected one of {OPERATORS})"),
                ))
            }
            (Some(_), Some(_)) => {
                let keys: Vec<&str> = map.keys().map(String::as_str).collect();
                return Err(invalid(
                    location,
                    format!(
                        "a condition has exactly one operator key, found {}; combine conditions with allOf or anyOf",
                        keys.join(", ")
                    ),
                ));
            }
        };
        let here = child(location, key);
        match key.as_str() {
            "allOf" | "anyOf" => {
                let items = arg.as_array().ok_or_else(|| {
                    invalid(
                        &here,
                        format!("{key} takes an array of conditions, found {}", kind(arg)),
                    )
                })?;
                let mut conds = Vec::with_capacity(items.len());
                for (i, item) in items.iter().enumerate() {
                    conds.push(self.cond(item, &format!("{here}[{i}]"), depth + 1)?);
                }
                Ok(if key == "allOf" {
                    Cond::AllOf(conds)
                } else {
                    Cond::AnyOf(conds)
                })
            }
            "not" => Ok(Cond::Not(Box::new(self.cond(arg, &here, depth + 1)?))),
            "in" => {
                let [needle, haystack] = self.pair(arg, &here, key)?;
                self.check_in(&needle, &haystack, &here)?;
                Ok(Cond::In { needle, haystack })
            }
            "exists" | "isNull" => {
                let operand = self.operand(arg, &here)?;
                if matches!(operand, Operand::Literal(_)) {
                    return Err(invalid(
                        &here,
                        format!("{key} of a literal is constant; test a session value or a column"),
                    ));
                }
                Ok(if key == "exists" {
                    Cond::Exists(operand)
                } else {
                    Cond::IsNull(operand)
                })
            }
            other => {
                let op = CmpOp::ALL
                    .into_iter()
                    .find(|op| op.as_str() == other)
                    .ok_or_else(|| {
                        invalid(
                            &here,
                            format!("unknown operator \"{other}\" (expected one of {OPERATORS})"),
                        )
                    })?;
                let [left, right] = self.pair(arg, &here, other)?;
                check_comparison(op, &left, &right, &here)?;
                Ok(Cond::Compare { op, left, right })
            }
        }
    }

    /// The two operands of a binary operator.
    fn pair(&self, arg: &Value, location: &str, name: &str) -> Result<[Operand; 2], PolicyError> {
        match arg.as_array().map(Vec::as_slice) {
            Some([a, b]) => Ok([
                self.operand(a, &format!("{location}[0]"))?,
                self.operand(b, &format!("{location}[1]"))?,
            ]),
            _ => Err(invalid(
                location,
                format!(
                    "{name} takes an array of exactly two operands, found {}",
                    describe_len(arg)
                ),
            )),
        }
    }

    fn operand(&self, value: &Value, location: &str) -> Result<Operand, PolicyError> {
        let map = value.as_object().ok_or_else(|| {
            invalid(
                location,
                format!(
                    "expected an operand ({{\"session\": ..}}, {{\"column\": ..}} or {{\"literal\": ..}}), found {}; write constants as {{\"literal\": ...}}",
                    kind(value)
                ),
            )
        })?;
        if let Some(field) = map.get("session") {
            reject_unknown_keys(map, location, &["session"])?;
            return session_field(field, &child(location, "session"));
        }
        if let Some(literal) = map.get("literal") {
            reject_unknown_keys(map, location, &["literal"])?;
            return Ok(Operand::Literal(literal.clone()));
        }
        if let Some(column) = map.get("column") {
            reject_unknown_keys(map, location, &["column", "row"])?;
            let name = match column {
                Value::String(name) if !name.is_empty() => name.clone(),
                Value::String(_) => {
                    return Err(invalid(
                        &child(location, "column"),
                        "column names must not be empty",
                    ))
                }
                other => {
                    return Err(invalid(
                        &child(location, "column"),
                        format!("a column name must be a string, found {}", kind(other)),
                    ))
                }
            };
            let row = match map.get("row") {
                None => RowSel::Default,
                Some(selector) => {
                    let row_location = child(location, "row");
                    if self.op != Operation::Update {
                        return Err(invalid(
                            &row_location,
                            format!(
                                "\"row\" is only allowed in update rules; a {} rule sees a single row",
                                self.op
                            ),
                        ));
                    }
                    match selector.as_str() {
                        Some("old") => RowSel::Old,
                        Some("new") => RowSel::New,
                        _ => {
                            return Err(invalid(
                                &row_location,
                                format!("row must be \"old\" or \"new\", found {selector}"),
                            ))
                        }
                    }
                }
            };
            return Ok(Operand::Column { name, row });
        }
        Err(match map.keys().next() {
            Some(key) => invalid(
                &child(location, key),
                format!("unknown operand \"{key}\" (expected session, column or literal)"),
            ),
            None => invalid(
                location,
                "empty operand (expected session, column or literal)",
            ),
        })
    }

    fn check_in(
        &self,
        needle: &Operand,
        haystack: &Operand,
        location: &str,
    ) -> Result<(), PolicyError> {
        if matches!(needle, Operand::Literal(Value::Null)) {
            return Err(invalid(&format!("{location}[0]"), null_message()));
        }
        if let Operand::Literal(list) = haystack {
            let items = list.as_array().ok_or_else(|| {
                invalid(
                    &format!("{location}[1]"),
                    format!(
                        "the second operand of in must be a list, found {}",
                        kind(list)
                    ),
                )
            })?;
            if *needle == Operand::AuthMode {
                for (i, item) in items.iter().enumerate() {
                    check_auth_mode_literal(item, &format!("{location}[1].literal[{i}]"))?;
                }
            }
        }
        Ok(())
    }
}

fn describe_len(value: &Value) -> String {
    match value.as_array() {
        Some(items) => format!("{} operand(s)", items.len()),
        None => kind(value).to_owned(),
    }
}

fn null_message() -> &'static str {
    "comparing with null is always false; use isNull or exists"
}

fn session_field(field: &Value, location: &str) -> Result<Operand, PolicyError> {
    let name = field.as_str().ok_or_else(|| {
        invalid(
            location,
            format!("a session field must be a string, found {}", kind(field)),
        )
    })?;
    match name {
        "authMode" => Ok(Operand::AuthMode),
        "userId" => Ok(Operand::UserId),
        _ => match name.strip_prefix("claims.") {
            Some(path) => {
                let segments: Vec<String> = path.split('.').map(str::to_owned).collect();
                if segments.iter().any(String::is_empty) {
                    Err(invalid(
                        location,
                        format!("claims path \"{name}\" has an empty segment"),
                    ))
                } else {
                    Ok(Operand::Claim(segments))
                }
            }
            None => Err(invalid(
                location,
                format!(
                    "unknown session field \"{name}\" (expected authMode, userId or claims.<path>)"
                ),
            )),
        },
    }
}

fn check_auth_mode_literal(value: &Value, location: &str) -> Result<(), PolicyError> {
    match value.as_str() {
        Some(mode) if AUTH_MODES.iter().any(|m| m.as_str() == mode) => Ok(()),
        _ => Err(invalid(
            location,
            format!("{value} is not an auth mode (expected \"anonymous\", \"local-first\" or \"external\")"),
        )),
    }
}

fn check_comparison(
    op: CmpOp,
    left: &Operand,
    right: &Operand,
    location: &str,
) -> Result<(), PolicyError> {
    for (i, operand) in [left, right].into_iter().enumerate() {
        let here = format!("{location}[{i}]");
        if let Operand::Literal(value) = operand {
            if value.is_null() {
                return Err(invalid(&here, null_message()));
            }
            if op.is_ordering() && !(value.is_number() || value.is_string()) {
                return Err(invalid(
                    &here,
                    format!(
                        "{} compares numbers or strings, found {}",
                        op.as_str(),
                        kind(value)
                    ),
                ));
            }
        }
        if op.is_ordering() && *operand == Operand::AuthMode {
            return Err(invalid(
                &here,
                "authMode can only be compared with eq, ne or in",
            ));
        }
    }
    match (left, right) {
        (Operand::AuthMode, Operand::Literal(value)) => {
            check_auth_mode_literal(value, &format!("{location}[1].literal"))
        }
        (Operand::Literal(value), Operand::AuthMode) => {
            check_auth_mode_literal(value, &format!("{location}[0].literal"))
        }
        _ => Ok(()),
    }
}

impl Cond {
    pub(super) fn to_json(&self) -> Value {
        fn tagged(key: &str, value: Value) -> Value {
            let mut map = Map::new();
            map.insert(key.to_owned(), value);
            Value::Object(map)
        }
        match self {
            Cond::Always => Value::from("always"),
            Cond::Never => Value::from("never"),
            Cond::AllOf(items) => tagged("allOf", items.iter().map(Cond::to_json).collect()),
            Cond::AnyOf(items) => tagged("anyOf", items.iter().map(Cond::to_json).collect()),
            Cond::Not(inner) => tagged("not", inner.to_json()),
            Cond::Compare { op, left, right } => tagged(
                op.as_str(),
                Value::Array(vec![left.to_json(), right.to_json()]),
            ),
            Cond::In { needle, haystack } => tagged(
                "in",
                Value::Array(vec![needle.to_json(), haystack.to_json()]),
            ),
            Cond::Exists(operand) => tagged("exists", operand.to_json()),
            Cond::IsNull(operand) => tagged("isNull", operand.to_json()),
        }
    }
}

impl Operand {
    fn to_json(&self) -> Value {
        let mut map = Map::new();
        match self {
            Operand::Literal(value) => {
                map.insert("literal".to_owned(), value.clone());
            }
            Operand::AuthMode => {
                map.insert("session".to_owned(), Value::from("authMode"));
            }
            Operand::UserId => {
                map.insert("session".to_owned(), Value::from("userId"));
            }
            Operand::Claim(path) => {
                map.insert(
                    "session".to_owned(),
                    Value::from(format!("claims.{}", path.join("."))),
                );
            }
            Operand::Column { name, row } => {
                map.insert("column".to_owned(), Value::from(name.as_str()));
                match row {
                    RowSel::Default => {}
                    RowSel::Old => {
                        map.insert("row".to_owned(), Value::from("old"));
                    }
                    RowSel::New => {
                        map.insert("row".to_owned(), Value::from("new"));
                    }
                }
            }
        }
        Value::Object(map)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_quote_odd_keys() {
        assert_eq!(child("$.tables", "messages"), "$.tables.messages");
        assert_eq!(child("$", "$createdBy"), "$.$createdBy");
        assert_eq!(child("$.tables", "my table"), "$.tables[\"my table\"]");
        assert_eq!(child("$.tables", ""), "$.tables[\"\"]");
    }

    #[test]
    fn syntax_errors_carry_line_and_column() {
        let error = serde_json::from_str::<Value>("{\n  \"tables\": [,]\n}").unwrap_err();
        match syntax_error(error) {
            PolicyError::Invalid { location, message } => {
                assert_eq!(location, "line 2 column 14");
                assert!(message.starts_with("not valid JSON: "), "{message}");
                assert!(!message.contains("at line"), "{message}");
            }
            other => panic!("unexpected {other:?}"),
        }
    }
}
