//! The account secret (`AuthSecret`) and its recovery phrase (`RecoveryPhrase`).

use localfirst_core::identity::Identity;
use localfirst_core::phrase::RecoveryPhrase as CorePhrase;
use localfirst_core::secret::Secret;
use napi::bindgen_prelude::Unknown;
use napi::{Env, JsString};
use napi_derive::napi;
use zeroize::Zeroizing;

use crate::args::{instance, not_constructible, string, Instance};
use crate::error::OrThrow as _;

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
    /// Not callable: `new AuthSecret()` fails with `invalid-argument`.
    #[napi(constructor, skip_typescript)]
    pub fn new(env: &Env) -> napi::Result<AuthSecret> {
        Err(not_constructible(
            "AuthSecret",
            "AuthSecret.generate() and AuthSecret.fromBase64Url()",
        ))
        .or_throw(env)
    }

    /// Draws a fresh secret from the operating system's random number generator
    /// (`rng-failure` if it fails).
    #[napi(factory)]
    pub fn generate(env: &Env) -> napi::Result<AuthSecret> {
        Secret::generate().map(AuthSecret::from).or_throw(env)
    }

    /// Parses strict unpadded base64url (43 characters, no `=`, no `+` or `/`,
    /// canonical trailing bits), the form Jazz stores secrets in. Fails with
    /// `secret-padding`, `secret-invalid-character`, `secret-invalid-length` or
    /// `secret-non-canonical` (`invalid-argument` for a value that is not a string).
    #[napi(factory, ts_args_type = "text: string")]
    pub fn from_base64_url(env: &Env, text: Unknown) -> napi::Result<AuthSecret> {
        let text = Zeroizing::new(string(text, "text").or_throw(env)?);
        Secret::parse_base64url(&text)
            .map(AuthSecret::from)
            .or_throw(env)
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

    /// Whether `other` holds the same secret (compared in constant time);
    /// `invalid-argument` when it is not an `AuthSecret`.
    #[napi(ts_args_type = "other: AuthSecret")]
    pub fn equals(&self, env: &Env, other: Instance<AuthSecret>) -> napi::Result<bool> {
        Ok(self.secret == instance(other, "other", "AuthSecret").or_throw(env)?.secret)
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
    /// Not callable: `new RecoveryPhrase()` fails with `invalid-argument`.
    #[napi(constructor, skip_typescript)]
    pub fn new(env: &Env) -> napi::Result<RecoveryPhrase> {
        Err(not_constructible(
            "RecoveryPhrase",
            "its static functions (a phrase is a string)",
        ))
        .or_throw(env)
    }

    /// The phrase of `secret`: 24 lowercase words joined by single spaces. Show it
    /// only to its owner.
    #[napi(ts_args_type = "secret: AuthSecret")]
    pub fn from_secret<'env>(
        env: &'env Env,
        secret: Instance<AuthSecret>,
    ) -> napi::Result<JsString<'env>> {
        let secret = instance(secret, "secret", "AuthSecret").or_throw(env)?;
        env.create_string(CorePhrase::from_secret(secret.secret()).expose())
    }

    /// The secret a phrase encodes. Input is trimmed, lower-cased and split on any
    /// whitespace. Fails with `invalid-length` (`details.got`: the word count),
    /// `invalid-word` (`details.position` and `details.word`), `invalid-checksum` or
    /// `invalid-secret`.
    #[napi(ts_args_type = "phrase: string")]
    pub fn to_secret(env: &Env, phrase: Unknown) -> napi::Result<AuthSecret> {
        let phrase = Zeroizing::new(string(phrase, "phrase").or_throw(env)?);
        CorePhrase::parse(&phrase)
            .and_then(|parsed| parsed.to_secret())
            .map(AuthSecret::from)
            .or_throw(env)
    }
}
