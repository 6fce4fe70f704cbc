//! Shared secrets (the backend and admin secrets): at least [`MIN_SHARED_SECRET_LEN`]
//! bytes, wiped on drop, never printed, compared in constant time.

use localfirst_core::{Code, ErrorCode};
use subtle::ConstantTimeEq as _;
use zeroize::Zeroizing;

/// The shortest backend or admin secret accepted, in bytes. An empty secret would
/// match a missing header; a short one can be guessed.
pub const MIN_SHARED_SECRET_LEN: usize = 16;

/// A secret string (backend or admin secret): at least [`MIN_SHARED_SECRET_LEN`] bytes,
/// wiped on drop, never printed. The only way to make one is [`SharedSecret::new`], so a
/// server or resolver configuration cannot hold an empty or short secret.
#[derive(Clone)]
pub struct SharedSecret(Zeroizing<String>);

/// A secret shorter than [`MIN_SHARED_SECRET_LEN`] bytes (or empty) was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a shared secret must be at least {MIN_SHARED_SECRET_LEN} bytes; this one has {len}")]
pub struct SharedSecretTooShort {
    /// The length of the refused secret, in bytes.
    pub len: usize,
}

impl ErrorCode for SharedSecretTooShort {
    fn code(&self) -> Code {
        Code::SharedSecretTooShort
    }
}

impl SharedSecret {
    /// Wraps a secret of at least [`MIN_SHARED_SECRET_LEN`] bytes. A refused secret is
    /// wiped too.
    pub fn new(secret: impl Into<String>) -> Result<SharedSecret, SharedSecretTooShort> {
        let secret = Zeroizing::new(secret.into());
        if secret.len() < MIN_SHARED_SECRET_LEN {
            return Err(SharedSecretTooShort { len: secret.len() });
        }
        Ok(SharedSecret(secret))
    }

    /// Whether a request's header value is this secret, compared in constant time (for
    /// equal lengths). A missing header (`None`) never matches.
    pub fn matches(&self, candidate: Option<&[u8]>) -> bool {
        match candidate {
            Some(given) => bool::from(self.0.as_bytes().ct_eq(given)),
            None => false,
        }
    }
}

impl std::fmt::Debug for SharedSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SharedSecret(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_secrets_are_refused_and_a_missing_header_never_matches() {
        for short in ["", "x", "fifteen-bytes!!"] {
            assert_eq!(
                SharedSecret::new(short).unwrap_err(),
                SharedSecretTooShort { len: short.len() }
            );
        }
        let secret = SharedSecret::new("sixteen-bytes!!!").unwrap();
        assert!(secret.matches(Some(b"sixteen-bytes!!!")));
        assert!(!secret.matches(Some(b"sixteen-bytes!!?")));
        assert!(!secret.matches(Some(b"")));
        assert!(!secret.matches(None));
        assert_eq!(format!("{secret:?}"), "SharedSecret(<redacted>)");
        assert_eq!(
            SharedSecret::new("").unwrap_err().code(),
            "shared-secret-too-short"
        );
    }
}
