//! The 32-byte account secret (the seed every identity is derived from).
//!
//! [`Secret`] is the only type in the core that holds the raw seed. It is wiped
//! from memory when dropped, never prints its bytes in `Debug`, compares in
//! constant time, and crosses a text boundary only as strict, unpadded
//! base64url (43 characters) through [`Secret::parse_base64url`] and
//! [`Secret::to_base64url`].

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use subtle::ConstantTimeEq;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use crate::error::{Code, ErrorCode};

/// Length of a secret in bytes.
pub const SECRET_LEN: usize = 32;

/// Length of a secret encoded as unpadded base64url.
pub const SECRET_B64_LEN: usize = 43;

/// Why a secret could not be created or parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SecretError {
    /// The text contained `=` padding; secrets are unpadded base64url.
    #[error("secret must be unpadded base64url (found '=' padding)")]
    Padding,
    /// The text used a character outside the base64url alphabet (`+` and `/` included).
    #[error("secret contains a character outside the base64url alphabet at position {position}")]
    InvalidCharacter {
        /// Zero-based position of the first offending character.
        position: usize,
    },
    /// The text or bytes do not describe exactly 32 bytes.
    #[error("secret must be exactly 32 bytes ({expected} base64url characters), got {actual}")]
    InvalidLength {
        /// Expected length (bytes for raw input, characters for text).
        expected: usize,
        /// Length found.
        actual: usize,
    },
    /// The last character carries non-zero unused bits (a non-canonical encoding).
    #[error("secret is not canonical base64url (unused trailing bits are set)")]
    NonCanonical,
    /// The operating system's random number generator failed.
    #[error("the system random number generator failed")]
    Rng,
}

impl ErrorCode for SecretError {
    fn code(&self) -> Code {
        match self {
            SecretError::Padding => Code::SecretPadding,
            SecretError::InvalidCharacter { .. } => Code::SecretInvalidCharacter,
            SecretError::InvalidLength { .. } => Code::SecretInvalidLength,
            SecretError::NonCanonical => Code::SecretNonCanonical,
            SecretError::Rng => Code::RngFailure,
        }
    }
}

/// A user's 32-byte account secret.
///
/// Same secret, same user, on every device. The bytes are zeroed on drop and
/// never shown by `Debug`. Equality is constant-time.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct Secret([u8; SECRET_LEN]);

impl Secret {
    /// Draws a fresh secret from the operating system's random number generator.
    pub fn generate() -> Result<Secret, SecretError> {
        let mut bytes = Zeroizing::new([0u8; SECRET_LEN]);
        getrandom::getrandom(bytes.as_mut()).map_err(|_| SecretError::Rng)?;
        Ok(Secret(*bytes))
    }

    /// Wraps 32 raw bytes. The caller's array is copied; wipe it if it matters.
    pub fn from_bytes(bytes: [u8; SECRET_LEN]) -> Secret {
        Secret(bytes)
    }

    /// Copies a secret out of a byte slice, which must be exactly 32 bytes long.
    pub fn from_slice(bytes: &[u8]) -> Result<Secret, SecretError> {
        let array: [u8; SECRET_LEN] = bytes.try_into().map_err(|_| SecretError::InvalidLength {
            expected: SECRET_LEN,
            actual: bytes.len(),
        })?;
        Ok(Secret(array))
    }

    /// The raw bytes. Keep the borrow short and never log what it gives.
    pub fn expose_bytes(&self) -> &[u8; SECRET_LEN] {
        &self.0
    }

    /// Parses strict unpadded base64url: exactly 43 characters from the URL-safe
    /// alphabet, no `=`, and canonical trailing bits.
    pub fn parse_base64url(text: &str) -> Result<Secret, SecretError> {
        if text.contains('=') {
            return Err(SecretError::Padding);
        }
        if let Some(position) = text
            .bytes()
            .position(|b| !(b.is_ascii_alphanumeric() || b == b'-' || b == b'_'))
        {
            return Err(SecretError::InvalidCharacter { position });
        }
        if text.len() != SECRET_B64_LEN {
            return Err(SecretError::InvalidLength {
                expected: SECRET_B64_LEN,
                actual: text.len(),
            });
        }
        let mut bytes = Zeroizing::new([0u8; SECRET_LEN]);
        match URL_SAFE_NO_PAD.decode_slice(text, bytes.as_mut()) {
            Ok(SECRET_LEN) => Ok(Secret(*bytes)),
            Ok(actual) => Err(SecretError::InvalidLength {
                expected: SECRET_LEN,
                actual,
            }),
            Err(base64::DecodeSliceError::DecodeError(base64::DecodeError::InvalidLastSymbol(
                ..,
            ))) => Err(SecretError::NonCanonical),
            Err(_) => Err(SecretError::InvalidLength {
                expected: SECRET_B64_LEN,
                actual: text.len(),
            }),
        }
    }

    /// Encodes the secret as unpadded base64url. The returned text wipes itself on drop.
    pub fn to_base64url(&self) -> Zeroizing<String> {
        Zeroizing::new(URL_SAFE_NO_PAD.encode(self.0))
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

impl PartialEq for Secret {
    fn eq(&self, other: &Secret) -> bool {
        self.0.ct_eq(&other.0).into()
    }
}

impl Eq for Secret {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_base64url() {
        let secret = Secret::from_bytes([7u8; 32]);
        let text = secret.to_base64url();
        assert_eq!(text.len(), SECRET_B64_LEN);
        assert_eq!(Secret::parse_base64url(&text), Ok(secret));
    }

    #[test]
    fn rejects_padding_and_standard_alphabet() {
        let good = Secret::from_bytes([0xfb; 32]).to_base64url();
        assert_eq!(
            Secret::parse_base64url(&format!("{}=", &*good)),
            Err(SecretError::Padding)
        );
        let plus = good.replace('-', "+").replace('_', "/");
        assert!(plus.contains('+') || plus.contains('/'));
        assert!(matches!(
            Secret::parse_base64url(&plus),
            Err(SecretError::InvalidCharacter { .. })
        ));
    }

    #[test]
    fn rejects_wrong_lengths() {
        let short = URL_SAFE_NO_PAD.encode([1u8; 31]);
        let long = URL_SAFE_NO_PAD.encode([1u8; 33]);
        for text in [short.as_str(), long.as_str(), ""] {
            assert!(matches!(
                Secret::parse_base64url(text),
                Err(SecretError::InvalidLength { .. })
            ));
        }
        assert!(matches!(
            Secret::from_slice(&[0u8; 31]),
            Err(SecretError::InvalidLength { actual: 31, .. })
        ));
    }

    #[test]
    fn rejects_non_canonical_trailing_bits() {
        // 32 zero bytes end in 'A'; 'B' sets an unused low bit of the last symbol.
        let canonical = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
        assert!(Secret::parse_base64url(canonical).is_ok());
        let mut tweaked = canonical.to_string();
        tweaked.replace_range(42..43, "B");
        assert_eq!(
            Secret::parse_base64url(&tweaked),
            Err(SecretError::NonCanonical)
        );
    }

    #[test]
    fn debug_redacts_and_generate_differs() {
        let a = Secret::generate().unwrap();
        let shown = format!("{a:?}");
        assert_eq!(shown, "Secret(<redacted>)");
        let b = Secret::generate().unwrap();
        assert_ne!(a, b);
    }
}
