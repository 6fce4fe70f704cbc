//! The account secret and its recovery phrase.

use std::sync::Arc;

use localfirst_core::identity::Identity;
use localfirst_core::phrase::RecoveryPhrase;
use localfirst_core::secret::Secret;

use crate::error::LocalFirstError;

/// A user's 32-byte account secret: the identity itself.
///
/// Opaque: the bytes stay inside Rust, are wiped when the object is released,
/// and `toString()` / `description` never shows them. Same secret, same user id,
/// on every device.
#[derive(Debug, PartialEq, Eq, uniffi::Object)]
#[uniffi::export(Debug, Eq)]
pub struct AuthSecret {
    secret: Secret,
}

#[uniffi::export]
impl AuthSecret {
    /// Draws a fresh secret from the operating system's random number generator.
    #[uniffi::constructor]
    pub fn generate() -> Result<Arc<AuthSecret>, LocalFirstError> {
        Ok(Arc::new(AuthSecret::from(Secret::generate()?)))
    }

    /// Parses strict unpadded base64url (43 characters, no `=`, no `+` or `/`,
    /// canonical trailing bits), the form Jazz stores secrets in.
    #[uniffi::constructor]
    pub fn from_base64_url(text: String) -> Result<Arc<AuthSecret>, LocalFirstError> {
        Ok(Arc::new(AuthSecret::from(Secret::parse_base64url(&text)?)))
    }

    /// The secret as unpadded base64url. This text *is* the identity: store it
    /// only in a secret store, never log it.
    pub fn to_base64_url(&self) -> String {
        self.secret.to_base64url().to_string()
    }

    /// The user id derived from the secret (lowercase hyphenated UUIDv5).
    pub fn user_id(&self) -> String {
        Identity::from_secret(&self.secret).user_id().to_string()
    }

    /// The Ed25519 public key derived from the secret, as unpadded base64url.
    pub fn public_key(&self) -> String {
        Identity::from_secret(&self.secret)
            .public_key()
            .to_base64url()
    }
}

impl From<Secret> for AuthSecret {
    fn from(secret: Secret) -> AuthSecret {
        AuthSecret { secret }
    }
}

impl AuthSecret {
    /// The core secret inside (for the other modules of this crate).
    pub(crate) fn secret(&self) -> &Secret {
        &self.secret
    }

    /// Wraps a core secret for the foreign side.
    pub(crate) fn wrap(secret: Secret) -> Arc<AuthSecret> {
        Arc::new(AuthSecret::from(secret))
    }
}

/// The 24-word recovery phrase of `secret` (BIP39, English, lowercase, single
/// spaces). The phrase *is* the secret: show it only to its owner.
///
/// Kotlin and Swift call this as `RecoveryPhrase.fromSecret(secret)`.
#[uniffi::export]
pub fn recovery_phrase_from_secret(secret: Arc<AuthSecret>) -> String {
    RecoveryPhrase::from_secret(secret.secret())
        .expose()
        .to_owned()
}

/// The secret a recovery phrase encodes. Input is trimmed, lower-cased and split
/// on any whitespace. Fails with codes `invalid-length`, `invalid-word`,
/// `invalid-checksum` or `invalid-secret`.
///
/// Kotlin and Swift call this as `RecoveryPhrase.toSecret(phrase)`.
#[uniffi::export]
pub fn recovery_phrase_to_secret(phrase: String) -> Result<Arc<AuthSecret>, LocalFirstError> {
    let secret = RecoveryPhrase::parse(&phrase)?.to_secret()?;
    Ok(AuthSecret::wrap(secret))
}
