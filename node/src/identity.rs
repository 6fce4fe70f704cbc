//! The account secret (`AuthSecret`) and its recovery phrase (`RecoveryPhrase`).

use localfirst_core::identity::Identity;
use localfirst_core::phrase::RecoveryPhrase as CorePhrase;
use localfirst_core::secret::Secret;
use napi::{Env, JsString};
use napi_derive::napi;
use zeroize::Zeroizing;

use crate::error::{coded, Result};

/// A user's 32-byte account secret: the identity itself.
///
/// Opaque: the bytes stay inside Rust and are wiped when the object is
/// garbage-collected; `toString()` never shows them. Same secret, same user id,
/// on every device and in every language.
#[napi]
pub struct AuthSecret {
    secret: Secret,
}

#[napi]
impl AuthSecret {
    /// Draws a fresh secret from the operating system's random number generator
    /// (`rng-failure` if it fails).
    #[napi(factory)]
    pub fn generate() -> Result<AuthSecret> {
        Secret::generate().map(AuthSecret::from).map_err(coded)
    }

    /// Parses strict unpadded base64url (43 characters, no `=`, no `+` or `/`,
    /// canonical trailing bits), the form Jazz stores secrets in. Fails with
    /// `secret-padding`, `secret-invalid-character`, `secret-invalid-length` or
    /// `secret-non-canonical`.
    #[napi(factory)]
    pub fn from_base64_url(text: String) -> Result<AuthSecret> {
        let text = Zeroizing::new(text);
        Secret::parse_base64url(&text)
            .map(AuthSecret::from)
            .map_err(coded)
    }

    /// The secret as unpadded base64url. This text *is* the identity: keep it
    /// only in a secret store, never log it.
    #[napi]
    pub fn to_base64_url<'env>(&self, env: &'env Env) -> napi::Result<JsString<'env>> {
        env.create_string(self.secret.to_base64url().as_str())
    }

    /// The user id derived from the secret (lowercase hyphenated UUIDv5).
    #[napi]
    pub fn user_id(&self) -> String {
        Identity::from_secret(&self.secret).user_id().to_string()
    }

    /// The Ed25519 public key derived from the secret, as unpadded base64url.
    #[napi]
    pub fn public_key(&self) -> String {
        Identity::from_secret(&self.secret)
            .public_key()
            .to_base64url()
    }

    /// Whether `other` holds the same secret (compared in constant time).
    #[napi]
    pub fn equals(&self, other: &AuthSecret) -> bool {
        self.secret == other.secret
    }

    /// `AuthSecret(<redacted>)`: the secret never appears in logs or string templates.
    #[napi]
    #[allow(clippy::inherent_to_string)]
    pub fn to_string(&self) -> String {
        "AuthSecret(<redacted>)".to_owned()
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
}

/// The 24-word recovery phrase of a secret (BIP39, English). The phrase *is* the
/// secret, encoded differently: whoever sees it can act as the user.
#[napi]
pub struct RecoveryPhrase {}

#[napi]
impl RecoveryPhrase {
    /// The phrase of `secret`: 24 lowercase words joined by single spaces. Show it
    /// only to its owner.
    #[napi]
    pub fn from_secret<'env>(env: &'env Env, secret: &AuthSecret) -> napi::Result<JsString<'env>> {
        env.create_string(CorePhrase::from_secret(secret.secret()).expose())
    }

    /// The secret a phrase encodes. Input is trimmed, lower-cased and split on any
    /// whitespace. Fails with `invalid-length`, `invalid-word`, `invalid-checksum`
    /// or `invalid-secret`.
    #[napi]
    pub fn to_secret(phrase: String) -> Result<AuthSecret> {
        let phrase = Zeroizing::new(phrase);
        CorePhrase::parse(&phrase)
            .and_then(|parsed| parsed.to_secret())
            .map(AuthSecret::from)
            .map_err(coded)
    }
}
