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

/// The longest user id accepted from outside, in bytes (after trimming).
pub const MAX_USER_ID_LEN: usize = 256;

/// Why a text is not a usable user id (see [`user_id_from`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum InvalidUserId {
    /// Nothing is left after trimming surrounding whitespace.
    #[error("the user id is empty or blank")]
    Blank,
    /// Longer than [`MAX_USER_ID_LEN`] bytes after trimming.
    #[error("the user id is longer than {MAX_USER_ID_LEN} bytes")]
    TooLong,
    /// A control character (a line break, a tab, NUL, ...) anywhere in the text.
    #[error("the user id must not contain control characters")]
    ControlCharacter,
}

/// The one rule for a user id that comes from outside: an external token's `sub`,
/// an impersonated session's `userId`, a cookie session's user id. Control characters
/// are refused anywhere in the text; surrounding whitespace is trimmed; what is left
/// must be non-empty and at most [`MAX_USER_ID_LEN`] bytes. Returns the trimmed id.
///
/// ```
/// use localfirst_core::session::{user_id_from, InvalidUserId};
///
/// assert_eq!(user_id_from("  user-7 "), Ok("user-7"));
/// assert_eq!(user_id_from(" "), Err(InvalidUserId::Blank));
/// assert_eq!(user_id_from("a\nb"), Err(InvalidUserId::ControlCharacter));
/// ```
pub fn user_id_from(raw: &str) -> Result<&str, InvalidUserId> {
    if raw.chars().any(char::is_control) {
        return Err(InvalidUserId::ControlCharacter);
    }
    let trimmed = raw.trim();
    if trimmed.is_empty() {
        return Err(InvalidUserId::Blank);
    }
    if trimmed.len() > MAX_USER_ID_LEN {
        return Err(InvalidUserId::TooLong);
    }
    Ok(trimmed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_ids_from_outside_follow_one_rule() {
        let longest = "x".repeat(MAX_USER_ID_LEN);
        assert_eq!(user_id_from(&longest), Ok(longest.as_str()));
        assert_eq!(user_id_from(&format!(" {longest} ")), Ok(longest.as_str()));
        assert_eq!(
            user_id_from(&format!("{longest}x")),
            Err(InvalidUserId::TooLong)
        );
        for bad in ["a\u{7}b", "\tx", "x\r", "\u{0}", "\u{85}x"] {
            assert_eq!(
                user_id_from(bad),
                Err(InvalidUserId::ControlCharacter),
                "{bad:?}"
            );
        }
        for blank in ["", "   ", "\u{3000}"] {
            assert_eq!(user_id_from(blank), Err(InvalidUserId::Blank), "{blank:?}");
        }
        assert_eq!(user_id_from("ünïcødé"), Ok("ünïcødé"));
    }

    #[test]
    fn serialises_with_wire_names() {
        let session = Session::new("u1", AuthMode::LocalFirst);
        let json = serde_json::to_value(&session).unwrap();
        assert_eq!(json["authMode"], "local-first");
        assert_eq!(json["userId"], "u1");
        assert_eq!(AuthMode::External.to_string(), "external");
    }
}
