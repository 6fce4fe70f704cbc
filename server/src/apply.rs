//! What the server does with one pushed entry (anonymous check, validation,
//! policies, system columns) and which changes a session may see.

use std::sync::Arc;

use localfirst_core::error::{Code, Quoted};
use localfirst_core::local_db::check_entry;
use localfirst_core::policy::{Operation, PolicySet, Row};
use localfirst_core::session::{AuthMode, Session};
use localfirst_core::ErrorCode as _;
use serde_json::Value;

use crate::protocol::{encoded_len, WireChange};
use crate::store::{Change, ChangeOp, Decide, Decision, PushEntry, Rejection, WriteOp};

/// How far ahead of the server's clock a writer's time (`at`) may be, in
/// seconds; a later time is clamped to the server's time plus this.
pub const MAX_CLOCK_AHEAD_SECS: u64 = 300;

const CREATED_BY: &str = "$createdBy";
const CREATED_AT: &str = "$createdAt";
const UPDATED_BY: &str = "$updatedBy";
const UPDATED_AT: &str = "$updatedAt";

/// The decision function for one push by `session` at server time `now`, for
/// rows of at most `max_row_bytes`.
pub(crate) fn decider(
    session: Session,
    policies: Option<Arc<PolicySet>>,
    now: u64,
    max_row_bytes: usize,
) -> Decide {
    Arc::new(move |entry, old| {
        let rules = Rules {
            session: &session,
            policies: policies.as_deref(),
            now,
            max_row_bytes,
        };
        rules.decide(entry, old)
    })
}

/// What one push is decided by.
struct Rules<'a> {
    session: &'a Session,
    policies: Option<&'a PolicySet>,
    now: u64,
    max_row_bytes: usize,
}

impl Rules<'_> {
    /// Checks in this order: anonymous sessions, the entry's shape and names,
    /// then per operation. The answer never depends on a row the session
    /// cannot read: a policy refusal of an update or delete of such a row is
    /// answered as if the row were absent (`not-found`, or an acknowledged
    /// delete that changes nothing), and an insert's policy runs before the
    /// existence check (the new row does not depend on the old one).
    fn decide(&self, entry: &PushEntry, old: Option<&Row>) -> Result<Decision, Rejection> {
        let operation = match entry.op {
            WriteOp::Insert => Operation::Insert,
            WriteOp::Update => Operation::Update,
            WriteOp::Delete => Operation::Delete,
        };
        if self.session.auth_mode == AuthMode::Anonymous {
            return Err(Rejection::new(
                Code::AnonymousWriteDenied,
                format!(
                    "anonymous sessions cannot {operation} rows of {}",
                    Quoted(&entry.table)
                ),
            ));
        }
        validate(entry)?;
        let allowed = |old: Option<&Row>, new: Option<&Row>| match self.policies {
            None => Ok(()),
            Some(set) => set
                .check(&entry.table, operation, self.session, old, new)
                .map_err(|e| Rejection::new(Code::PolicyDenied, e.to_string())),
        };
        let user = Value::String(self.session.user_id.clone());
        let stamp = Value::from(self.stamp(entry));
        match entry.op {
            WriteOp::Insert => {
                let mut row = entry.payload.clone().unwrap_or_default();
                row.insert("id".to_owned(), Value::String(entry.id.clone()));
                row.insert(CREATED_BY.to_owned(), user.clone());
                row.insert(CREATED_AT.to_owned(), stamp.clone());
                row.insert(UPDATED_BY.to_owned(), user);
                row.insert(UPDATED_AT.to_owned(), stamp);
                allowed(None, Some(&row))?;
                self.check_size(&row)?;
                if old.is_some() {
                    return Err(Rejection::new(
                        Code::RowExists,
                        format!(
                            "row {} already exists in {}",
                            Quoted(&entry.id),
                            Quoted(&entry.table)
                        ),
                    ));
                }
                Ok(Decision::Put(row))
            }
            WriteOp::Update => {
                let Some(old) = old else {
                    return Err(not_found(entry));
                };
                let mut row = old.clone();
                for (key, value) in entry.payload.iter().flatten() {
                    row.insert(key.clone(), value.clone());
                }
                row.insert(UPDATED_BY.to_owned(), user);
                row.insert(UPDATED_AT.to_owned(), stamp);
                if let Err(denied) = allowed(Some(old), Some(&row)) {
                    return Err(if self.can_read(&entry.table, old) {
                        denied
                    } else {
                        not_found(entry)
                    });
                }
                self.check_size(&row)?;
                Ok(Decision::Put(row))
            }
            WriteOp::Delete => match old {
                None => Ok(Decision::Nothing),
                Some(old) => match allowed(Some(old), None) {
                    Ok(()) => Ok(Decision::Delete),
                    Err(denied) if self.can_read(&entry.table, old) => Err(denied),
                    // As for a missing row: acknowledged, nothing changes.
                    Err(_) => Ok(Decision::Nothing),
                },
            },
        }
    }

    /// The entry's time: the writer's `at`, at most [`MAX_CLOCK_AHEAD_SECS`]
    /// after the server's clock; the server's time when absent.
    fn stamp(&self, entry: &PushEntry) -> u64 {
        let latest = self.now.saturating_add(MAX_CLOCK_AHEAD_SECS);
        entry.at.map_or(self.now, |at| at.min(latest))
    }

    fn can_read(&self, table: &str, row: &Row) -> bool {
        self.policies
            .is_none_or(|set| set.allows(table, Operation::Read, self.session, Some(row), None))
    }

    fn check_size(&self, row: &Row) -> Result<(), Rejection> {
        let size = encoded_len(row);
        if size > self.max_row_bytes {
            return Err(Rejection::new(
                Code::RowTooLarge,
                format!(
                    "the row would be {size} bytes; rows are at most {} bytes",
                    self.max_row_bytes
                ),
            ));
        }
        Ok(())
    }
}

fn not_found(entry: &PushEntry) -> Rejection {
    Rejection::new(
        Code::NotFound,
        format!("no row {} in {}", Quoted(&entry.id), Quoted(&entry.table)),
    )
}

/// The entry's shape (`invalid-entry`), then the names every client accepts
/// (the core's [`check_entry`]: `invalid-name`, `invalid-row`).
fn validate(entry: &PushEntry) -> Result<(), Rejection> {
    let invalid = |message: String| Err(Rejection::new(Code::InvalidEntry, message));
    match (entry.op, &entry.payload) {
        (WriteOp::Delete, Some(_)) => return invalid("a delete carries no payload".to_owned()),
        (WriteOp::Update, None) => return invalid("an update needs a payload".to_owned()),
        _ => {}
    }
    for (key, value) in entry.payload.iter().flatten() {
        if key.starts_with('$') {
            return invalid(format!("column {} is a system column", Quoted(key)));
        }
        if key == "id" && value.as_str() != Some(entry.id.as_str()) {
            return invalid("the payload's id differs from the entry's id".to_owned());
        }
    }
    check_entry(&entry.table, &entry.id, entry.payload.as_ref())
        .map_err(|e| Rejection::new(e.code(), e.to_string()))
}

/// How `change` looks to `session`: a put when it may read the new row, a
/// delete when it could read the old row only, nothing otherwise.
pub(crate) fn visible(
    change: &Change,
    session: &Session,
    policies: Option<&PolicySet>,
) -> Option<WireChange> {
    let can_read = |row: &Option<Row>| match (row, policies) {
        (None, _) => false,
        (Some(_), None) => true,
        (Some(row), Some(set)) => {
            set.allows(&change.table, Operation::Read, session, Some(row), None)
        }
    };
    let (op, row) = if change.op == ChangeOp::Put && can_read(&change.row) {
        (ChangeOp::Put, change.row.clone())
    } else if can_read(&change.old) {
        (ChangeOp::Delete, None)
    } else {
        return None;
    };
    Some(WireChange {
        cursor: change.cursor,
        table: change.table.clone(),
        id: change.id.clone(),
        op,
        row,
        omitted: None,
    })
}
