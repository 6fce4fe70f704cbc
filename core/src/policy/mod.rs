//! Permissions as data: who may read, insert, update and delete which rows.
//!
//! A [`PolicySet`] maps each table and [`Operation`] to a rule: `"always"`,
//! `"never"`, or a condition tree over the acting [`Session`] and the row being
//! touched. Policy sets are plain JSON (the format is documented in
//! `docs/POLICIES.md`), validated strictly when loaded so that a typo is a load
//! error rather than a silent hole:
//!
//! ```
//! use localfirst_core::policy::{Operation, PolicySet};
//! use localfirst_core::session::{AuthMode, Session};
//! use serde_json::json;
//!
//! // Everyone reads messages; local-first users may not insert until they sign up.
//! let policies = PolicySet::from_json(r#"{
//!   "tables": {
//!     "messages": {
//!       "read": "always",
//!       "insert": {"not": {"eq": [{"session": "authMode"}, {"literal": "local-first"}]}}
//!     }
//!   }
//! }"#)?;
//!
//! let local = Session::new("u1", AuthMode::LocalFirst);
//! let signed_up = Session::new("u1", AuthMode::External);
//! let row = json!({"id": "m1", "text": "hi"}).as_object().cloned().unwrap_or_default();
//!
//! assert!(policies.check("messages", Operation::Read, &local, Some(&row), None).is_ok());
//! assert!(policies.check("messages", Operation::Insert, &local, None, Some(&row)).is_err());
//! assert!(policies.check("messages", Operation::Insert, &signed_up, None, Some(&row)).is_ok());
//! // Nothing grants deletes, so they are denied.
//! assert!(policies.check("messages", Operation::Delete, &signed_up, Some(&row), None).is_err());
//! # Ok::<(), localfirst_core::policy::PolicyError>(())
//! ```
//!
//! Semantics in brief (details in `docs/POLICIES.md`):
//!
//! - With a policy set loaded, every operation needs an explicit grant: a table or
//!   operation the set does not mention is denied.
//! - Values that are missing or JSON `null` are *absent*; every comparison with an
//!   absent operand is false (so `ne` is not the same as `not eq` there).
//! - In an update rule, a column operand without a `row` selector is checked
//!   against both the old and the new row: the update is allowed only when the
//!   condition holds for both.
//!
//! Checking is pure: no I/O happens outside [`PolicySet::from_file`], and
//! [`PolicySet::allows`] never allocates.

mod eval;
mod parse;

use std::collections::BTreeMap;
use std::io::Read as _;
use std::path::Path;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

use crate::error::{Code, ErrorCode, ErrorDetails};
use crate::session::Session;

pub use crate::operation::Operation;

/// A row as the policy engine sees it: its columns, including `id` and the system
/// columns (`$createdBy`, `$createdAt`, `$updatedBy`, `$updatedAt`).
pub type Row = Map<String, Value>;

/// The deepest nesting of conditions a policy may use (the rule itself is level 1).
pub const MAX_DEPTH: usize = 64;

/// The largest policy file [`PolicySet::from_file`] reads, in bytes.
pub const MAX_FILE_BYTES: u64 = 4 * 1024 * 1024;

/// The only policy format version there is so far.
pub const FORMAT_VERSION: u64 = 1;

/// Why a policy set could not be loaded, or why an operation is not allowed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PolicyError {
    /// The policy set does not grant this operation on this table, either because
    /// no rule mentions it or because its rule does not hold.
    #[error("policy denies {operation} on table \"{table}\"")]
    Denied {
        /// The table.
        table: String,
        /// The operation that was refused.
        operation: Operation,
    },
    /// The policy text is not valid JSON or not a valid policy set.
    #[error("invalid policy at {location}: {message}")]
    Invalid {
        /// Where: a path such as `$.tables.messages.insert.allOf[0]`, or
        /// `line L column C` for JSON syntax errors.
        location: String,
        /// What is wrong, in words.
        message: String,
    },
    /// The policy file could not be read.
    #[error("cannot read policy file {path}: {reason}")]
    Io {
        /// The file.
        path: String,
        /// The operating system's explanation.
        reason: String,
    },
    /// The policy file is larger than [`MAX_FILE_BYTES`].
    #[error("policy file {path} is larger than {limit} bytes")]
    TooLarge {
        /// The file.
        path: String,
        /// The limit that was exceeded, in bytes.
        limit: u64,
    },
}

impl ErrorCode for PolicyError {
    fn code(&self) -> Code {
        match self {
            PolicyError::Denied { .. } => Code::PolicyDenied,
            PolicyError::Invalid { .. } => Code::PolicyInvalid,
            PolicyError::Io { .. } => Code::PolicyIo,
            PolicyError::TooLarge { .. } => Code::PolicyTooLarge,
        }
    }

    fn details(&self) -> Option<ErrorDetails> {
        match self {
            PolicyError::Denied { table, operation } => {
                Some(ErrorDetails::table_operation(table, *operation))
            }
            _ => None,
        }
    }
}

/// Which row a column operand reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RowSel {
    /// The row the operation is about; for updates, the old and then the new row.
    Default,
    /// The row before an update.
    Old,
    /// The row after an update.
    New,
}

/// A value a condition compares.
#[derive(Debug, Clone, PartialEq)]
enum Operand {
    /// A constant JSON value.
    Literal(Value),
    /// The session's auth mode, as its wire name.
    AuthMode,
    /// The session's user id.
    UserId,
    /// A value inside the session's claims, by path segments (never empty).
    Claim(Vec<String>),
    /// A column of a row.
    Column { name: String, row: RowSel },
}

/// How two operands are compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CmpOp {
    Eq,
    Ne,
    Lt,
    Lte,
    Gt,
    Gte,
}

impl CmpOp {
    const ALL: [CmpOp; 6] = [
        CmpOp::Eq,
        CmpOp::Ne,
        CmpOp::Lt,
        CmpOp::Lte,
        CmpOp::Gt,
        CmpOp::Gte,
    ];

    fn as_str(self) -> &'static str {
        match self {
            CmpOp::Eq => "eq",
            CmpOp::Ne => "ne",
            CmpOp::Lt => "lt",
            CmpOp::Lte => "lte",
            CmpOp::Gt => "gt",
            CmpOp::Gte => "gte",
        }
    }

    fn is_ordering(self) -> bool {
        !matches!(self, CmpOp::Eq | CmpOp::Ne)
    }
}

/// A condition tree.
#[derive(Debug, Clone, PartialEq)]
enum Cond {
    Always,
    Never,
    AllOf(Vec<Cond>),
    AnyOf(Vec<Cond>),
    Not(Box<Cond>),
    Compare {
        op: CmpOp,
        left: Operand,
        right: Operand,
    },
    In {
        needle: Operand,
        haystack: Operand,
    },
    Exists(Operand),
    IsNull(Operand),
}

/// The rule for one table and operation: `always`, `never` or a condition.
#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    cond: Cond,
    /// Whether any operand reads a column without a row selector.
    uses_default_row: bool,
    /// Whether any operand reads a column at all.
    uses_rows: bool,
}

impl Rule {
    fn new(cond: Cond) -> Rule {
        let mut uses_default_row = false;
        let mut uses_rows = false;
        cond.visit_operands(&mut |operand| {
            if let Operand::Column { row, .. } = operand {
                uses_rows = true;
                if *row == RowSel::Default {
                    uses_default_row = true;
                }
            }
        });
        Rule {
            cond,
            uses_default_row,
            uses_rows,
        }
    }

    /// Whether the rule is the literal `"always"`.
    pub fn is_always(&self) -> bool {
        self.cond == Cond::Always
    }

    /// Whether the rule is the literal `"never"`.
    pub fn is_never(&self) -> bool {
        self.cond == Cond::Never
    }

    /// Whether the outcome can depend on row contents. When it cannot, one check
    /// per query (with any row) decides for every row.
    pub fn depends_on_row(&self) -> bool {
        self.uses_rows
    }

    /// The rule as JSON, in the documented format.
    pub fn to_json(&self) -> Value {
        self.cond.to_json()
    }
}

impl Cond {
    fn visit_operands(&self, f: &mut impl FnMut(&Operand)) {
        match self {
            Cond::Always | Cond::Never => {}
            Cond::AllOf(items) | Cond::AnyOf(items) => {
                for item in items {
                    item.visit_operands(f);
                }
            }
            Cond::Not(inner) => inner.visit_operands(f),
            Cond::Compare { left, right, .. } => {
                f(left);
                f(right);
            }
            Cond::In { needle, haystack } => {
                f(needle);
                f(haystack);
            }
            Cond::Exists(operand) | Cond::IsNull(operand) => f(operand),
        }
    }
}

/// The rules of one table, one slot per [`Operation`].
#[derive(Debug, Clone, Default, PartialEq)]
struct TableRules([Option<Rule>; 4]);

/// A validated set of per-table, per-operation rules.
///
/// Load one with [`PolicySet::from_json`], [`PolicySet::from_file`] or serde;
/// ask it with [`PolicySet::check`]. Serialising gives back the documented JSON
/// format, so a loaded set round-trips.
#[derive(Debug, Clone, PartialEq)]
pub struct PolicySet {
    description: Option<String>,
    tables: BTreeMap<String, TableRules>,
}

impl PolicySet {
    /// Parses and validates a policy set from JSON text. A key that appears twice
    /// in one object is refused (`policy-invalid`), never "last wins".
    pub fn from_json(text: &str) -> Result<PolicySet, PolicyError> {
        let value = crate::json::parse_unique(text).map_err(parse::syntax_error)?;
        PolicySet::from_value(&value)
    }

    /// Validates a policy set already parsed into a JSON value.
    pub fn from_value(value: &Value) -> Result<PolicySet, PolicyError> {
        parse::policy_set(value)
    }

    /// Reads, parses and validates a policy file (UTF-8 JSON, at most
    /// [`MAX_FILE_BYTES`]). The only function of this module that does I/O.
    pub fn from_file(path: &Path) -> Result<PolicySet, PolicyError> {
        let shown = path.display().to_string();
        let io_error = |error: std::io::Error| PolicyError::Io {
            path: shown.clone(),
            reason: error.to_string(),
        };
        let file = std::fs::File::open(path).map_err(io_error)?;
        let mut bytes = Vec::new();
        file.take(MAX_FILE_BYTES + 1)
            .read_to_end(&mut bytes)
            .map_err(io_error)?;
        if bytes.len() as u64 > MAX_FILE_BYTES {
            return Err(PolicyError::TooLarge {
                path: shown,
                limit: MAX_FILE_BYTES,
            });
        }
        let text = String::from_utf8(bytes).map_err(|_| PolicyError::Invalid {
            location: shown.clone(),
            message: "the file is not valid UTF-8".to_owned(),
        })?;
        PolicySet::from_json(&text)
    }

    /// Decides whether `session` may perform `op` on a row of `table`.
    ///
    /// Rows: for [`Operation::Insert`] pass the new row as `new`; for
    /// [`Operation::Read`] and [`Operation::Delete`] the existing row as `old`; for
    /// [`Operation::Update`] both. A row that is not passed has no columns, so
    /// every comparison with one of its columns is false. Returns `Ok(())` when
    /// allowed and [`PolicyError::Denied`] otherwise.
    pub fn check(
        &self,
        table: &str,
        op: Operation,
        session: &Session,
        old: Option<&Row>,
        new: Option<&Row>,
    ) -> Result<(), PolicyError> {
        if self.allows(table, op, session, old, new) {
            Ok(())
        } else {
            Err(PolicyError::Denied {
                table: table.to_owned(),
                operation: op,
            })
        }
    }

    /// Like [`PolicySet::check`], as a plain boolean.
    pub fn allows(
        &self,
        table: &str,
        op: Operation,
        session: &Session,
        old: Option<&Row>,
        new: Option<&Row>,
    ) -> bool {
        match self.rule(table, op) {
            Some(rule) => eval::rule_allows(rule, op, session, old, new),
            None => false,
        }
    }

    /// The rule for `table` and `op`, if the set has one.
    pub fn rule(&self, table: &str, op: Operation) -> Option<&Rule> {
        self.tables
            .get(table)
            .and_then(|rules| rules.0[op.index()].as_ref())
    }

    /// The tables the set mentions, in name order.
    pub fn tables(&self) -> impl Iterator<Item = &str> {
        self.tables.keys().map(String::as_str)
    }

    /// The set's optional free-text description.
    pub fn description(&self) -> Option<&str> {
        self.description.as_deref()
    }

    /// The set as JSON, in the documented format (always with `"version": 1`).
    pub fn to_json(&self) -> Value {
        let mut tables = Map::new();
        for (name, rules) in &self.tables {
            let mut table = Map::new();
            for op in Operation::ALL {
                if let Some(rule) = &rules.0[op.index()] {
                    table.insert(op.as_str().to_owned(), rule.to_json());
                }
            }
            tables.insert(name.clone(), Value::Object(table));
        }
        let mut out = Map::new();
        out.insert("version".to_owned(), Value::from(FORMAT_VERSION));
        if let Some(description) = &self.description {
            out.insert("description".to_owned(), Value::String(description.clone()));
        }
        out.insert("tables".to_owned(), Value::Object(tables));
        Value::Object(out)
    }
}

impl std::str::FromStr for PolicySet {
    type Err = PolicyError;

    fn from_str(text: &str) -> Result<PolicySet, PolicyError> {
        PolicySet::from_json(text)
    }
}

impl Serialize for PolicySet {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.to_json().serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for PolicySet {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<PolicySet, D::Error> {
        let value = Value::deserialize(deserializer)?;
        PolicySet::from_value(&value).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operation_names_round_trip() {
        for op in Operation::ALL {
            assert_eq!(Operation::from_name(op.as_str()), Some(op));
            assert_eq!(
                serde_json::to_value(op).unwrap(),
                Value::String(op.to_string())
            );
        }
        assert_eq!(Operation::from_name("Read"), None);
        assert!(!Operation::Read.is_write());
        assert!(Operation::Delete.is_write());
    }

    #[test]
    fn error_codes_are_stable() {
        let denied = PolicyError::Denied {
            table: "t".into(),
            operation: Operation::Insert,
        };
        assert_eq!(denied.code(), "policy-denied");
        assert_eq!(denied.to_string(), "policy denies insert on table \"t\"");
        let invalid = PolicyError::Invalid {
            location: "$".into(),
            message: "m".into(),
        };
        assert_eq!(invalid.code(), "policy-invalid");
        let io = PolicyError::Io {
            path: "p".into(),
            reason: "r".into(),
        };
        assert_eq!(io.code(), "policy-io");
        let large = PolicyError::TooLarge {
            path: "p".into(),
            limit: 1,
        };
        assert_eq!(large.code(), "policy-too-large");
    }

    #[test]
    fn rule_introspection() {
        let set = PolicySet::from_json(
            r#"{"tables":{"t":{
                "read":"always",
                "insert":"never",
                "update":{"eq":[{"column":"a","row":"old"},{"session":"userId"}]},
                "delete":{"eq":[{"session":"authMode"},{"literal":"external"}]}
            }}}"#,
        )
        .unwrap();
        let read = set.rule("t", Operation::Read).unwrap();
        assert!(read.is_always() && !read.is_never() && !read.depends_on_row());
        assert!(set.rule("t", Operation::Insert).unwrap().is_never());
        let update = set.rule("t", Operation::Update).unwrap();
        assert!(update.depends_on_row() && !update.uses_default_row);
        assert!(!set.rule("t", Operation::Delete).unwrap().depends_on_row());
        assert!(set.rule("other", Operation::Read).is_none());
        assert_eq!(set.tables().collect::<Vec<_>>(), vec!["t"]);
    }
}
