//! [`ErrorReport`]: an error as it crosses a boundary, and [`ErrorDetails`], the typed
//! facts some errors carry.
//!
//! Every boundary (the UniFFI bindings, the Node addon, the Expo module through
//! them) hands on the same three things: the catalogue [`Code`], a human `reason`
//! (the error's `Display`), and, where the error has them, typed details. The core
//! builds them ([`ErrorCode::report`]); a shell never looks inside a module's error.

use serde::{Deserialize, Serialize};

use super::{Code, ErrorCode};
use crate::operation::Operation;

/// An error as every boundary hands it on: its catalogue code, the reason for people,
/// and typed details when the error has them.
///
/// Built from any module error with [`ErrorCode::report`]; the reason is the error's
/// message. Serialises as `{"code":"invalid-word","reason":"...","details":{...}}`
/// (`details` `null` when there are none).
///
/// ```
/// use localfirst_core::error::{Code, ErrorCode as _, ErrorDetails};
/// use localfirst_core::phrase::RecoveryPhrase;
///
/// let mut words = vec!["abandon"; 24];
/// words[2] = "abandn";
/// let report = RecoveryPhrase::parse(&words.join(" ")).unwrap_err().report();
/// assert_eq!(report.code, Code::InvalidWord);
/// assert_eq!(
///     report.details,
///     Some(ErrorDetails::InvalidWord { position: 3, word: "abandn".into() })
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{reason}")]
pub struct ErrorReport {
    /// The catalogue code.
    pub code: Code,
    /// What went wrong, for people (the error's message). Never match on it.
    pub reason: String,
    /// Typed facts about the failure, when the error carries any.
    pub details: Option<ErrorDetails>,
}

impl ErrorReport {
    /// A report without details.
    pub fn new(code: Code, reason: impl Into<String>) -> ErrorReport {
        ErrorReport {
            code,
            reason: reason.into(),
            details: None,
        }
    }
}

impl ErrorCode for ErrorReport {
    fn code(&self) -> Code {
        self.code
    }

    fn details(&self) -> Option<ErrorDetails> {
        self.details.clone()
    }
}

/// Typed facts an error carries beyond its code, for an app to act on (show which
/// word is wrong, ask which account to keep). Which codes carry which details is
/// listed on each variant; every other error has none.
///
/// Serialised with a `kind` tag and camel-case fields, the form JavaScript sees:
/// `{"kind":"identityConflict","deviceUserId":"...","vaultUserId":"..."}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(
    tag = "kind",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum ErrorDetails {
    /// `invalid-length` of a recovery phrase: how many words it has.
    PhraseLength {
        /// The number of words found.
        got: u64,
    },
    /// `invalid-word`: the first word that is not in the word list.
    InvalidWord {
        /// Its one-based position in the phrase.
        position: u64,
        /// The word as given (lower-cased).
        word: String,
    },
    /// `verification-failed`: the authenticator data's flags byte, which lacks user
    /// presence or user verification.
    AuthenticatorFlags {
        /// The flags byte found.
        flags: u8,
    },
    /// `vault-timeout`: the bound each vault call had.
    VaultTimeout {
        /// The timeout, in milliseconds.
        timeout_ms: u64,
    },
    /// `vault-identity-conflict`: the two identities; nothing was replaced.
    IdentityConflict {
        /// The user id the device holds (empty when it holds none).
        device_user_id: String,
        /// The user id the vault holds.
        vault_user_id: String,
    },
    /// `policy-denied`, `anonymous-write-denied`: what was refused.
    TableOperation {
        /// The table.
        table: String,
        /// The refused operation.
        operation: Operation,
    },
    /// `not-found`, `already-exists`: which row.
    Row {
        /// The table.
        table: String,
        /// The row id.
        id: String,
    },
    /// `table-name-clash`: the name asked for and the existing table it differs from
    /// only in letter case.
    TableNameClash {
        /// The table name given.
        table: String,
        /// The existing table's name.
        existing: String,
    },
    /// `sync-auth-rejected`, `sync-protocol`: the code the sync server sent (`expired`,
    /// `storage`, ...) or the client's own protocol check found (`unexpected-ack`, ...).
    /// Text, not [`Code`]: a newer server may send a code this version does not know.
    SyncCode {
        /// The code, as sent.
        code: String,
    },
}

impl ErrorDetails {
    /// [`ErrorDetails::TableOperation`].
    pub(crate) fn table_operation(table: &str, operation: Operation) -> ErrorDetails {
        ErrorDetails::TableOperation {
            table: table.to_owned(),
            operation,
        }
    }

    /// [`ErrorDetails::Row`].
    pub(crate) fn row(table: &str, id: &str) -> ErrorDetails {
        ErrorDetails::Row {
            table: table.to_owned(),
            id: id.to_owned(),
        }
    }

    /// A count or a position as the boundaries carry it (saturating, never on real input).
    pub(crate) fn count(value: usize) -> u64 {
        u64::try_from(value).unwrap_or(u64::MAX)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_serialise_with_a_kind_tag_and_camel_case() {
        let report = ErrorReport {
            code: Code::VaultIdentityConflict,
            reason: "two identities".into(),
            details: Some(ErrorDetails::IdentityConflict {
                device_user_id: "a".into(),
                vault_user_id: "b".into(),
            }),
        };
        let json = serde_json::to_value(&report).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "code": "vault-identity-conflict",
                "reason": "two identities",
                "details": {"kind": "identityConflict", "deviceUserId": "a", "vaultUserId": "b"},
            })
        );
        assert_eq!(serde_json::from_value::<ErrorReport>(json).unwrap(), report);
        let denied = ErrorDetails::table_operation("todos", Operation::Insert);
        assert_eq!(
            serde_json::to_value(denied).unwrap(),
            serde_json::json!({"kind": "tableOperation", "table": "todos", "operation": "insert"})
        );
    }

    #[test]
    fn a_report_reports_itself_unchanged() {
        let report = ErrorReport::new(Code::Busy, "locked");
        assert_eq!(report.to_string(), "locked");
        assert_eq!(report.report(), report);
    }
}
