//! Evaluating a validated rule against a session and rows.
//!
//! Values are borrowed, never copied: an operand resolves to a [`Val`] pointing
//! into the session, the row or the rule. Missing values and JSON `null` resolve
//! to `None` ("absent"), and every comparison with an absent side is false.

use std::cmp::Ordering;

use serde_json::{Number, Value};

use super::{CmpOp, Cond, Operand, Operation, Row, RowSel, Rule};
use crate::session::Session;

/// A present (non-null) value.
#[derive(Debug, Clone, Copy)]
enum Val<'a> {
    /// A string, from the session or from JSON.
    Str(&'a str),
    /// Any other JSON value (never `String`, never `Null`).
    Json(&'a Value),
}

impl<'a> Val<'a> {
    fn of(value: &'a Value) -> Option<Val<'a>> {
        match value {
            Value::Null => None,
            Value::String(s) => Some(Val::Str(s)),
            other => Some(Val::Json(other)),
        }
    }
}

/// Everything a condition can look at.
struct Ctx<'a> {
    session: &'a Session,
    /// The row a column operand without a selector reads.
    default: Option<&'a Row>,
    old: Option<&'a Row>,
    new: Option<&'a Row>,
}

/// Whether `rule` allows `op` for this session and these rows.
pub(super) fn rule_allows(
    rule: &Rule,
    op: Operation,
    session: &Session,
    old: Option<&Row>,
    new: Option<&Row>,
) -> bool {
    match op {
        Operation::Read | Operation::Delete => eval(
            &rule.cond,
            &Ctx {
                session,
                default: old,
                old,
                new: None,
            },
        ),
        Operation::Insert => eval(
            &rule.cond,
            &Ctx {
                session,
                default: new,
                old: None,
                new,
            },
        ),
        Operation::Update => {
            let before = Ctx {
                session,
                default: old,
                old,
                new,
            };
            if !eval(&rule.cond, &before) {
                return false;
            }
            // Without unselected column operands the second pass would repeat the first.
            !rule.uses_default_row
                || eval(
                    &rule.cond,
                    &Ctx {
                        default: new,
                        ..before
                    },
                )
        }
    }
}

fn eval(cond: &Cond, ctx: &Ctx<'_>) -> bool {
    match cond {
        Cond::Always => true,
        Cond::Never => false,
        Cond::AllOf(items) => items.iter().all(|item| eval(item, ctx)),
        Cond::AnyOf(items) => items.iter().any(|item| eval(item, ctx)),
        Cond::Not(inner) => !eval(inner, ctx),
        Cond::Compare { op, left, right } => match (resolve(left, ctx), resolve(right, ctx)) {
            (Some(a), Some(b)) => compare(*op, a, b),
            _ => false,
        },
        Cond::In { needle, haystack } => match (resolve(needle, ctx), resolve(haystack, ctx)) {
            (Some(needle), Some(Val::Json(Value::Array(items)))) => items
                .iter()
                .filter_map(Val::of)
                .any(|item| equal(needle, item)),
            _ => false,
        },
        Cond::Exists(operand) => resolve(operand, ctx).is_some(),
        Cond::IsNull(operand) => resolve(operand, ctx).is_none(),
    }
}

fn resolve<'a>(operand: &'a Operand, ctx: &Ctx<'a>) -> Option<Val<'a>> {
    match operand {
        Operand::Literal(value) => Val::of(value),
        Operand::AuthMode => Some(Val::Str(ctx.session.auth_mode.as_str())),
        Operand::UserId => Some(Val::Str(&ctx.session.user_id)),
        Operand::Claim(path) => {
            let (first, rest) = path.split_first()?;
            let mut value = ctx.session.claims.get(first)?;
            for segment in rest {
                value = step(value, segment)?;
            }
            Val::of(value)
        }
        Operand::Column { name, row } => {
            let row = match row {
                RowSel::Default => ctx.default,
                RowSel::Old => ctx.old,
                RowSel::New => ctx.new,
            }?;
            Val::of(row.get(name)?)
        }
    }
}

/// One step of a claims path: an object key, or a decimal index into an array.
fn step<'a>(value: &'a Value, segment: &str) -> Option<&'a Value> {
    match value {
        Value::Object(map) => map.get(segment),
        Value::Array(items) => {
            if segment.is_empty() || !segment.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            items.get(segment.parse::<usize>().ok()?)
        }
        _ => None,
    }
}

fn compare(op: CmpOp, a: Val<'_>, b: Val<'_>) -> bool {
    match op {
        CmpOp::Eq => equal(a, b),
        CmpOp::Ne => !equal(a, b),
        CmpOp::Lt => order(a, b) == Some(Ordering::Less),
        CmpOp::Lte => matches!(order(a, b), Some(Ordering::Less | Ordering::Equal)),
        CmpOp::Gt => order(a, b) == Some(Ordering::Greater),
        CmpOp::Gte => matches!(order(a, b), Some(Ordering::Greater | Ordering::Equal)),
    }
}

fn equal(a: Val<'_>, b: Val<'_>) -> bool {
    match (a, b) {
        (Val::Str(x), Val::Str(y)) => x == y,
        (Val::Json(x), Val::Json(y)) => json_equal(x, y),
        _ => false,
    }
}

/// Deep JSON equality in which numbers compare by value (`1 == 1.0`).
fn json_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => number_order(x, y) == Some(Ordering::Equal),
        (Value::Array(xs), Value::Array(ys)) => {
            xs.len() == ys.len() && xs.iter().zip(ys).all(|(x, y)| json_equal(x, y))
        }
        (Value::Object(xs), Value::Object(ys)) => {
            xs.len() == ys.len()
                && xs
                    .iter()
                    .all(|(key, x)| ys.get(key).is_some_and(|y| json_equal(x, y)))
        }
        _ => a == b,
    }
}

/// Ordering of two numbers or two strings; `None` for any other pair.
fn order(a: Val<'_>, b: Val<'_>) -> Option<Ordering> {
    match (a, b) {
        (Val::Str(x), Val::Str(y)) => Some(x.cmp(y)),
        (Val::Json(Value::Number(x)), Val::Json(Value::Number(y))) => number_order(x, y),
        _ => None,
    }
}

/// Integers compare exactly; as soon as one side is a float both compare as `f64`.
fn number_order(a: &Number, b: &Number) -> Option<Ordering> {
    if a.is_f64() || b.is_f64() {
        return a.as_f64()?.partial_cmp(&b.as_f64()?);
    }
    match (a.as_i64(), b.as_i64()) {
        (Some(x), Some(y)) => Some(x.cmp(&y)),
        // An integer that is not an i64 is a u64 above i64::MAX.
        (None, Some(_)) => Some(Ordering::Greater),
        (Some(_), None) => Some(Ordering::Less),
        (None, None) => Some(a.as_u64()?.cmp(&b.as_u64()?)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn n(v: Value) -> Number {
        match v {
            Value::Number(n) => n,
            _ => panic!("not a number"),
        }
    }

    #[test]
    fn numbers_compare_by_value() {
        let cases = [
            (json!(1), json!(1.0), Ordering::Equal),
            (json!(-1), json!(u64::MAX), Ordering::Less),
            (json!(u64::MAX), json!(i64::MAX), Ordering::Greater),
            (json!(u64::MAX), json!(u64::MAX), Ordering::Equal),
            (json!(2.5), json!(2), Ordering::Greater),
            (json!(-3), json!(-2), Ordering::Less),
        ];
        for (a, b, expected) in cases {
            assert_eq!(
                number_order(&n(a.clone()), &n(b.clone())),
                Some(expected),
                "{a} vs {b}"
            );
        }
    }

    #[test]
    fn deep_equality_normalises_numbers() {
        assert!(json_equal(&json!({"a": [1, 2.0]}), &json!({"a": [1.0, 2]})));
        assert!(!json_equal(&json!({"a": 1}), &json!({"a": 1, "b": 2})));
        assert!(!json_equal(&json!([1]), &json!(["1"])));
        assert!(json_equal(&json!([null]), &json!([null])));
    }

    #[test]
    fn claim_paths_index_arrays() {
        let value = json!({"a": [{"b": 1}]});
        assert_eq!(
            step(&value, "a").and_then(|v| step(v, "0")),
            Some(&json!({"b": 1}))
        );
        assert_eq!(step(&json!([1]), "+0"), None);
        assert_eq!(step(&json!([1]), ""), None);
        assert_eq!(step(&json!([1]), "99999999999999999999999"), None);
        assert_eq!(step(&json!("s"), "0"), None);
    }
}
