//! What the server does with one pushed entry (anonymous check, validation,
//! policies, system columns) and which changes a session may see.

use std::sync::Arc;

use localfirst_core::policy::{Operation, PolicySet, Row};
use localfirst_core::session::{AuthMode, Session};
use serde_json::Value;

use crate::protocol::{codes, WireChange};
use crate::store::{Change, ChangeOp, Decide, Decision, PushEntry, Rejection, WriteOp};

/// Longest accepted table name or row id, in bytes.
pub const MAX_NAME_LEN: usize = 256;

const CREATED_BY: &str = "$createdBy";
const CREATED_AT: &str = "$createdAt";
const UPDATED_BY: &str = "$updatedBy";
const UPDATED_AT: &str = "$updatedAt";

/// The decision function for one push by `session` at time `now`.
pub(crate) fn decider(session: Session, policies: Option<Arc<PolicySet>>, now: u64) -> Decide {
    Arc::new(move |entry, old| decide(&session, policies.as_deref(), now, entry, old))
}

fn decide(
    session: &Session,
    policies: Option<&PolicySet>,
    now: u64,
    entry: &PushEntry,
    old: Option<&Row>,
) -> Result<Decision, Rejection> {
    let operation = match entry.op {
        WriteOp::Insert => Operation::Insert,
        WriteOp::Update => Operation::Update,
        WriteOp::Delete => Operation::Delete,
    };
    if session.auth_mode == AuthMode::Anonymous {
        return Err(Rejection::new(
            codes::ANONYMOUS_WRITE_DENIED,
            format!(
                "anonymous sessions cannot {operation} rows of \"{}\"",
                entry.table
            ),
        ));
    }
    validate(entry)?;
    let allowed = |old: Option<&Row>, new: Option<&Row>| match policies {
        None => Ok(()),
        Some(set) => set
            .check(&entry.table, operation, session, old, new)
            .map_err(|e| Rejection::new(codes::POLICY_DENIED, e.to_string())),
    };
    let user = Value::String(session.user_id.clone());
    let stamp = Value::from(now);
    match entry.op {
        WriteOp::Insert => {
            if old.is_some() {
                return Err(Rejection::new(
                    codes::ROW_EXISTS,
                    format!("row \"{}\" already exists in \"{}\"", entry.id, entry.table),
                ));
            }
            let mut row = entry.payload.clone().unwrap_or_default();
            row.insert("id".to_owned(), Value::String(entry.id.clone()));
            row.insert(CREATED_BY.to_owned(), user.clone());
            row.insert(CREATED_AT.to_owned(), stamp.clone());
            row.insert(UPDATED_BY.to_owned(), user);
            row.insert(UPDATED_AT.to_owned(), stamp);
            allowed(None, Some(&row))?;
            Ok(Decision::Put(row))
        }
        WriteOp::Update => {
            let Some(old) = old else {
                return Err(Rejection::new(
                    codes::NOT_FOUND,
                    format!("no row \"{}\" in \"{}\"", entry.id, entry.table),
                ));
            };
            let mut row = old.clone();
            for (key, value) in entry.payload.iter().flatten() {
                row.insert(key.clone(), value.clone());
            }
            row.insert(UPDATED_BY.to_owned(), user);
            row.insert(UPDATED_AT.to_owned(), stamp);
            allowed(Some(old), Some(&row))?;
            Ok(Decision::Put(row))
        }
        WriteOp::Delete => match old {
            None => Ok(Decision::Nothing),
            Some(old) => {
                allowed(Some(old), None)?;
                Ok(Decision::Delete)
            }
        },
    }
}

fn validate(entry: &PushEntry) -> Result<(), Rejection> {
    let invalid = |message: String| Err(Rejection::new(codes::INVALID_ENTRY, message));
    if entry.table.is_empty() || entry.table.len() > MAX_NAME_LEN {
        return invalid(format!("table names are 1 to {MAX_NAME_LEN} bytes"));
    }
    if entry.id.is_empty() || entry.id.len() > MAX_NAME_LEN {
        return invalid(format!("row ids are 1 to {MAX_NAME_LEN} bytes"));
    }
    match (entry.op, &entry.payload) {
        (WriteOp::Delete, Some(_)) => return invalid("a delete carries no payload".to_owned()),
        (WriteOp::Update, None) => return invalid("an update needs a payload".to_owned()),
        _ => {}
    }
    for (key, value) in entry.payload.iter().flatten() {
        if key.starts_with('$') {
            return invalid(format!("column \"{key}\" is a system column"));
        }
        if key == "id" && value.as_str() != Some(entry.id.as_str()) {
            return invalid("the payload's id differs from the entry's id".to_owned());
        }
    }
    Ok(())
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
    })
}
