//! Deriving a user's signing key, public key and user id from their secret.
//!
//! The derivation is fixed for wire compatibility:
//!
//! * signing key = first 32 bytes of SHA-512(`"jazz-auth-sign-v1"` ‖ seed), used as an
//!   Ed25519 secret key;
//! * user id = UUIDv5 in namespace `6a617a7a-2d61-7574-682d-6b65792d7631` (the ASCII of
//!   `jazz-auth-key-v1`) over the raw 32-byte public key, lowercase and hyphenated.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use ed25519_dalek::{Signer as _, SigningKey, VerifyingKey};
use sha2::{Digest as _, Sha512};
use uuid::Uuid;
use zeroize::Zeroizing;

use crate::error::{Code, ErrorCode};
use crate::secret::Secret;

/// Domain-separation prefix hashed before the seed to obtain the signing key.
pub const SIGNING_KEY_DOMAIN: &[u8] = b"jazz-auth-sign-v1";

/// Namespace of user ids: the 16 ASCII bytes of `jazz-auth-key-v1`.
pub const USER_ID_NAMESPACE: Uuid = Uuid::from_bytes(*b"jazz-auth-key-v1");

/// Length of an Ed25519 public key in bytes.
pub const PUBLIC_KEY_LEN: usize = 32;

/// Why a public key or user id could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum IdentityError {
    /// The public key text is not unpadded base64url.
    #[error("public key is not unpadded base64url")]
    PublicKeyEncoding,
    /// The public key does not have exactly 32 bytes.
    #[error("public key must be 32 bytes, got {actual}")]
    PublicKeyLength {
        /// Number of bytes found.
        actual: usize,
    },
    /// The 32 bytes are not a valid Ed25519 point.
    #[error("public key is not a valid Ed25519 point")]
    PublicKeyInvalid,
    /// The user id is not a hyphenated UUID.
    #[error("user id is not a UUID")]
    UserIdInvalid,
}

impl ErrorCode for IdentityError {
    fn code(&self) -> Code {
        match self {
            IdentityError::PublicKeyEncoding => Code::PublicKeyEncoding,
            IdentityError::PublicKeyLength { .. } => Code::PublicKeyLength,
            IdentityError::PublicKeyInvalid => Code::PublicKeyInvalid,
            IdentityError::UserIdInvalid => Code::UserIdInvalid,
        }
    }
}

/// A user's stable id: UUIDv5 of their public key. Prints lowercase and hyphenated.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct UserId(Uuid);

impl UserId {
    /// The id belonging to a public key.
    pub fn of(public_key: &PublicKey) -> UserId {
        UserId(Uuid::new_v5(&USER_ID_NAMESPACE, public_key.as_bytes()))
    }

    /// Parses a hyphenated UUID (any case) into its canonical form.
    pub fn parse(text: &str) -> Result<UserId, IdentityError> {
        if text.len() != 36 {
            return Err(IdentityError::UserIdInvalid);
        }
        Uuid::try_parse(text)
            .map(UserId)
            .map_err(|_| IdentityError::UserIdInvalid)
    }

    /// The underlying UUID.
    pub fn as_uuid(&self) -> &Uuid {
        &self.0
    }
}

impl std::fmt::Display for UserId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0.hyphenated())
    }
}

impl std::fmt::Debug for UserId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "UserId({})", self.0.hyphenated())
    }
}

/// An Ed25519 public key, as carried in the `jazz_pub_key` claim.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct PublicKey(VerifyingKey);

impl PublicKey {
    /// Parses 32 raw bytes; rejects bytes that are not a valid curve point.
    pub fn from_bytes(bytes: &[u8]) -> Result<PublicKey, IdentityError> {
        let array: [u8; PUBLIC_KEY_LEN] =
            bytes
                .try_into()
                .map_err(|_| IdentityError::PublicKeyLength {
                    actual: bytes.len(),
                })?;
        VerifyingKey::from_bytes(&array)
            .map(PublicKey)
            .map_err(|_| IdentityError::PublicKeyInvalid)
    }

    /// Parses unpadded base64url text.
    pub fn parse_base64url(text: &str) -> Result<PublicKey, IdentityError> {
        let bytes = URL_SAFE_NO_PAD
            .decode(text)
            .map_err(|_| IdentityError::PublicKeyEncoding)?;
        PublicKey::from_bytes(&bytes)
    }

    /// The raw 32 bytes.
    pub fn as_bytes(&self) -> &[u8; PUBLIC_KEY_LEN] {
        self.0.as_bytes()
    }

    /// Unpadded base64url text (43 characters).
    pub fn to_base64url(&self) -> String {
        URL_SAFE_NO_PAD.encode(self.0.as_bytes())
    }

    /// The user id derived from this key.
    pub fn user_id(&self) -> UserId {
        UserId::of(self)
    }

    /// The verifying key, for signature checks.
    pub(crate) fn verifying_key(&self) -> &VerifyingKey {
        &self.0
    }
}

impl std::fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PublicKey({})", self.to_base64url())
    }
}

/// A user's full identity: signing key, public key and user id, derived from a [`Secret`].
///
/// The signing key is wiped on drop; `Debug` shows only the public parts.
#[derive(Clone)]
pub struct Identity {
    signing_key: SigningKey,
    public_key: PublicKey,
    user_id: UserId,
}

impl Identity {
    /// Derives the identity of a secret. Deterministic: same secret, same identity.
    pub fn from_secret(secret: &Secret) -> Identity {
        let mut hasher = Sha512::new();
        hasher.update(SIGNING_KEY_DOMAIN);
        hasher.update(secret.expose_bytes());
        let digest = Zeroizing::new(<[u8; 64]>::from(hasher.finalize()));
        let mut key_bytes = Zeroizing::new([0u8; 32]);
        key_bytes.copy_from_slice(&digest[..32]);
        let signing_key = SigningKey::from_bytes(&key_bytes);
        let public_key = PublicKey(signing_key.verifying_key());
        let user_id = UserId::of(&public_key);
        Identity {
            signing_key,
            public_key,
            user_id,
        }
    }

    /// The public key.
    pub fn public_key(&self) -> &PublicKey {
        &self.public_key
    }

    /// The stable user id.
    pub fn user_id(&self) -> UserId {
        self.user_id
    }

    /// Signs a message with the identity's Ed25519 key (deterministic, RFC 8032).
    pub fn sign(&self, message: &[u8]) -> [u8; 64] {
        self.signing_key.sign(message).to_bytes()
    }
}

impl std::fmt::Debug for Identity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Identity")
            .field("user_id", &self.user_id)
            .field("public_key", &self.public_key)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn namespace_is_ascii_of_label() {
        assert_eq!(
            USER_ID_NAMESPACE.hyphenated().to_string(),
            "6a617a7a-2d61-7574-682d-6b65792d7631"
        );
    }

    #[test]
    fn debug_hides_signing_key() {
        let identity = Identity::from_secret(&Secret::from_bytes([3; 32]));
        let shown = format!("{identity:?}");
        assert!(shown.contains(&identity.user_id().to_string()));
        assert!(!shown.contains("signing_key"));
    }

    #[test]
    fn public_key_parsing_errors() {
        assert_eq!(
            PublicKey::parse_base64url("!!"),
            Err(IdentityError::PublicKeyEncoding)
        );
        assert_eq!(
            PublicKey::from_bytes(&[0u8; 31]),
            Err(IdentityError::PublicKeyLength { actual: 31 })
        );
        assert_eq!(UserId::parse("nope"), Err(IdentityError::UserIdInvalid));
        let id = UserId::parse("412A3D72-132D-5E55-BAD2-D3BAD0EB5EA5").unwrap();
        assert_eq!(id.to_string(), "412a3d72-132d-5e55-bad2-d3bad0eb5ea5");
    }
}
