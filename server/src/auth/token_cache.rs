//! A bounded cache of verified external tokens.
//!
//! Placeholder with the final API: it never remembers anything. The real cache
//! replaces this file.

use localfirst_core::session::Session;

/// Verified tokens, keyed by a hash of the token, never returned past `exp`.
#[derive(Debug, Default)]
pub struct VerifiedTokenCache {
    _capacity: usize,
}

impl VerifiedTokenCache {
    /// A cache holding at most `capacity` tokens.
    pub fn new(capacity: usize) -> VerifiedTokenCache {
        VerifiedTokenCache {
            _capacity: capacity,
        }
    }

    /// The session of a cached, unexpired token.
    pub fn get(&self, token: &str, now: u64) -> Option<Session> {
        let _ = (token, now);
        None
    }

    /// Remembers a verified token until `exp`.
    pub fn insert(&self, token: &str, session: Session, exp: u64) {
        let _ = (token, session, exp);
    }
}
