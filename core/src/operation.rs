//! What a session can do to a table: the four operations a policy grants or refuses.
//!
//! A leaf module (it imports nothing of the crate) so that both the policy engine and the
//! error details that name a refused operation can use it.

use serde::{Deserialize, Serialize};

/// Something a session can do to a table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Operation {
    /// Seeing an existing row (checked against the row).
    Read,
    /// Creating a row (checked against the new row).
    Insert,
    /// Changing a row (checked against the row before and after).
    Update,
    /// Removing a row (checked against the existing row).
    Delete,
}

impl Operation {
    /// All operations, in a fixed order.
    pub const ALL: [Operation; 4] = [
        Operation::Read,
        Operation::Insert,
        Operation::Update,
        Operation::Delete,
    ];

    /// The wire name: `read`, `insert`, `update` or `delete`.
    pub fn as_str(self) -> &'static str {
        match self {
            Operation::Read => "read",
            Operation::Insert => "insert",
            Operation::Update => "update",
            Operation::Delete => "delete",
        }
    }

    /// Recognises a wire name; `None` for anything else.
    pub fn from_name(name: &str) -> Option<Operation> {
        Operation::ALL.into_iter().find(|op| op.as_str() == name)
    }

    /// Whether the operation changes data (everything but [`Operation::Read`]).
    pub fn is_write(self) -> bool {
        self != Operation::Read
    }

    pub(crate) fn index(self) -> usize {
        match self {
            Operation::Read => 0,
            Operation::Insert => 1,
            Operation::Update => 2,
            Operation::Delete => 3,
        }
    }
}

impl std::fmt::Display for Operation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
