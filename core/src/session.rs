//! Who is acting: the auth mode and the session a `Db` runs as.
//!
//! Shared vocabulary of the [`auth`](crate) state machine, the policy engine and
//! the local store: system columns are stamped from [`Session::user_id`] and
//! policies compare row values against the session.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// How a client is authenticated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AuthMode {
    /// An ephemeral identity from a random seed; read-only.
    Anonymous,
    /// A persistent identity from a stored secret, self-signed tokens.
    LocalFirst,
    /// Tokens from an external provider (JWT or cookie session).
    External,
}

impl AuthMode {
    /// The wire name: `anonymous`, `local-first` or `external`.
    pub fn as_str(self) -> &'static str {
        match self {
            AuthMode::Anonymous => "anonymous",
            AuthMode::LocalFirst => "local-first",
            AuthMode::External => "external",
        }
    }
}

impl std::fmt::Display for AuthMode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The principal a `Db` acts as, fixed for the life of the `Db`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Session {
    /// The user id (`sub`): a UUID for self-signed identities, the provider's `sub` otherwise.
    pub user_id: String,
    /// The token's claims (decoded, not verified, for external tokens).
    pub claims: Map<String, Value>,
    /// How this session authenticated.
    pub auth_mode: AuthMode,
}

impl Session {
    /// A session with no extra claims.
    pub fn new(user_id: impl Into<String>, auth_mode: AuthMode) -> Session {
        Session {
            user_id: user_id.into(),
            claims: Map::new(),
            auth_mode,
        }
    }

    /// Adds claims.
    pub fn with_claims(mut self, claims: Map<String, Value>) -> Session {
        self.claims = claims;
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serialises_with_wire_names() {
        let session = Session::new("u1", AuthMode::LocalFirst);
        let json = serde_json::to_value(&session).unwrap();
        assert_eq!(json["authMode"], "local-first");
        assert_eq!(json["userId"], "u1");
        assert_eq!(AuthMode::External.to_string(), "external");
    }
}
