//! Passkey backup: [`PasskeyCeremony`] builds the platform's requests, and
//! [`secret_from_assertion_json`] (Android) / [`secret_from_assertion`] (iOS) check
//! what the authenticator returned. The platform layers, called `PasskeyBackup` in
//! Swift and Kotlin, talk to the authenticator.

use std::sync::Arc;

use localfirst_core::recovery::passkey::{
    self as core_passkey, PasskeyAssertionRequest as CoreAssertion, PasskeyBackup as CoreBackup,
    PasskeyError as CorePasskeyError, PasskeyRegistrationRequest as CoreRegistration,
};
use zeroize::Zeroizing;

use crate::error::LocalFirstError;
use crate::identity::AuthSecret;

/// One app's passkey requests: its name (shown as the relying party) and its
/// relying-party id (the domain passkeys are scoped to; a bare lower-case host name
/// that must never change). Bad values are `invalid-argument`.
///
/// The hand-written `PasskeyBackup(appName, relyingPartyId)` of each platform wraps
/// this; call it directly to drive another passkey API.
#[derive(Debug, uniffi::Object)]
#[uniffi::export(Debug)]
pub struct PasskeyCeremony {
    inner: CoreBackup,
}

#[uniffi::export]
impl PasskeyCeremony {
    /// The requests of `appName` on `relyingPartyId` (e.g. `myapp.example`: no scheme,
    /// port or path).
    #[uniffi::constructor]
    pub fn new(
        app_name: String,
        relying_party_id: String,
    ) -> Result<Arc<PasskeyCeremony>, LocalFirstError> {
        let inner = CoreBackup::new(&app_name, &relying_party_id)?;
        Ok(Arc::new(PasskeyCeremony { inner }))
    }

    /// The app name (`rp.name`).
    pub fn app_name(&self) -> String {
        self.inner.app_name().to_owned()
    }

    /// The relying-party id (`rp.id`).
    pub fn relying_party_id(&self) -> String {
        self.inner.rp_id().to_owned()
    }

    /// The registration request backing up `secret` under `displayName` (shown in
    /// the passkey sheet), with a fresh random challenge.
    pub fn registration_request(
        &self,
        secret: Arc<AuthSecret>,
        display_name: String,
    ) -> Result<Arc<PasskeyRegistrationRequest>, LocalFirstError> {
        let request = self
            .inner
            .registration_request(secret.secret(), &display_name)?;
        Ok(PasskeyRegistrationRequest::wrap(request))
    }

    /// `registrationRequest` with a given challenge (16 to 64 bytes), for tests and
    /// reproducible output.
    pub fn registration_request_with_challenge(
        &self,
        secret: Arc<AuthSecret>,
        display_name: String,
        challenge: Vec<u8>,
    ) -> Result<Arc<PasskeyRegistrationRequest>, LocalFirstError> {
        let request = self.inner.registration_request_with_challenge(
            secret.secret(),
            &display_name,
            challenge,
        )?;
        Ok(PasskeyRegistrationRequest::wrap(request))
    }

    /// `registrationRequest` for a secret given as text (strict unpadded base64url);
    /// anything else is `invalid-secret`.
    pub fn registration_request_for_text(
        &self,
        secret: String,
        display_name: String,
    ) -> Result<Arc<PasskeyRegistrationRequest>, LocalFirstError> {
        let secret = Zeroizing::new(secret);
        let request = self
            .inner
            .registration_request_for_text(&secret, &display_name)?;
        Ok(PasskeyRegistrationRequest::wrap(request))
    }

    /// The assertion request that restores the secret, with a fresh random challenge.
    pub fn assertion_request(&self) -> Result<Arc<PasskeyAssertionRequest>, LocalFirstError> {
        Ok(PasskeyAssertionRequest::wrap(
            self.inner.assertion_request()?,
        ))
    }

    /// `assertionRequest` with a given challenge (16 to 64 bytes).
    pub fn assertion_request_with_challenge(
        &self,
        challenge: Vec<u8>,
    ) -> Result<Arc<PasskeyAssertionRequest>, LocalFirstError> {
        Ok(PasskeyAssertionRequest::wrap(
            self.inner.assertion_request_with_challenge(challenge)?,
        ))
    }
}

/// What the platform needs to create the backup passkey: `toJson()` for Android's
/// `CreatePublicKeyCredentialRequest`, the separate fields for iOS's
/// `createCredentialRegistrationRequest(challenge:name:userID:)`.
///
/// `userId()` **is the secret** and `toJson()` contains it: hand them to the
/// platform's passkey API and nowhere else. `toString()` / `description` is redacted.
#[derive(Debug, uniffi::Object)]
#[uniffi::export(Debug)]
pub struct PasskeyRegistrationRequest {
    inner: CoreRegistration,
}

#[uniffi::export]
impl PasskeyRegistrationRequest {
    /// `rp.id`: the relying-party id.
    pub fn rp_id(&self) -> String {
        self.inner.rp_id().to_owned()
    }

    /// `rp.name`: the app name.
    pub fn rp_name(&self) -> String {
        self.inner.rp_name().to_owned()
    }

    /// `user.name`: the display name given.
    pub fn user_name(&self) -> String {
        self.inner.user_name().to_owned()
    }

    /// `user.displayName`: the display name given.
    pub fn user_display_name(&self) -> String {
        self.inner.user_display_name().to_owned()
    }

    /// The challenge bytes.
    pub fn challenge(&self) -> Vec<u8> {
        self.inner.challenge().to_vec()
    }

    /// `user.id`: the 32 secret bytes. Never log them.
    pub fn user_id(&self) -> Vec<u8> {
        self.inner.user_id().to_vec()
    }

    /// The request as `PublicKeyCredentialCreationOptionsJSON` (binary fields in
    /// unpadded base64url). Contains the secret.
    pub fn to_json(&self) -> String {
        self.inner.to_json().to_string()
    }
}

impl PasskeyRegistrationRequest {
    fn wrap(inner: CoreRegistration) -> Arc<PasskeyRegistrationRequest> {
        Arc::new(PasskeyRegistrationRequest { inner })
    }
}

/// What the platform needs to ask for the backup passkey: `toJson()` for Android's
/// `GetPublicKeyCredentialOption`, `rpId()` and `challenge()` for iOS's
/// `createCredentialAssertionRequest(challenge:)`.
#[derive(Debug, uniffi::Object)]
#[uniffi::export(Debug)]
pub struct PasskeyAssertionRequest {
    inner: CoreAssertion,
}

#[uniffi::export]
impl PasskeyAssertionRequest {
    /// `rpId`: the relying-party id.
    pub fn rp_id(&self) -> String {
        self.inner.rp_id().to_owned()
    }

    /// The challenge bytes.
    pub fn challenge(&self) -> Vec<u8> {
        self.inner.challenge().to_vec()
    }

    /// The request as `PublicKeyCredentialRequestOptionsJSON`: any discoverable
    /// credential of the relying-party id, user verification required.
    pub fn to_json(&self) -> String {
        self.inner.to_json()
    }
}

impl PasskeyAssertionRequest {
    fn wrap(inner: CoreAssertion) -> Arc<PasskeyAssertionRequest> {
        Arc::new(PasskeyAssertionRequest { inner })
    }
}

/// The secret in an assertion response as Android's Credential Manager returns it
/// (`PublicKeyCredential.authenticationResponseJson`). Codes: `no-credential` for
/// `null`, `invalid-credential`, `verification-failed`.
#[uniffi::export]
pub fn secret_from_assertion_json(json: String) -> Result<Arc<AuthSecret>, LocalFirstError> {
    let json = Zeroizing::new(json);
    Ok(AuthSecret::wrap(core_passkey::secret_from_assertion_json(
        &json,
    )?))
}

/// The secret in an assertion given as raw bytes (iOS: the credential's
/// `rawAuthenticatorData` and `userID`). Codes: `invalid-credential`,
/// `verification-failed`.
#[uniffi::export]
pub fn secret_from_assertion(
    authenticator_data: Vec<u8>,
    user_handle: Option<Vec<u8>>,
) -> Result<Arc<AuthSecret>, LocalFirstError> {
    let user_handle = user_handle.map(Zeroizing::new);
    Ok(AuthSecret::wrap(core_passkey::secret_from_assertion(
        &authenticator_data,
        user_handle.as_ref().map(|handle| handle.as_slice()),
    )?))
}

/// A failure the platform layer reports itself (its passkey API failed): it
/// carries the catalogue's code, like the core's own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, uniffi::Enum)]
pub enum PasskeyPlatformFailure {
    /// No passkey support here. Code `not-supported`.
    NotSupported,
    /// Creating the credential failed or the user cancelled it. Code `create-failed`.
    CreateFailed,
    /// Getting an assertion failed (other than the cases of `NoCredential`).
    /// Code `get-failed`.
    GetFailed,
    /// No credential of the relying-party id was found, or the user dismissed the
    /// picker without choosing one. Code `no-credential`.
    NoCredential,
}

/// The `LocalFirstError` for a platform failure, with its catalogue code and `reason`
/// (the platform's message; never secret material). The platform layers throw it.
#[uniffi::export]
pub fn passkey_platform_error(failure: PasskeyPlatformFailure, reason: String) -> LocalFirstError {
    LocalFirstError::from(match failure {
        PasskeyPlatformFailure::NotSupported => CorePasskeyError::NotSupported { reason },
        PasskeyPlatformFailure::CreateFailed => CorePasskeyError::CreateFailed { reason },
        PasskeyPlatformFailure::GetFailed => CorePasskeyError::GetFailed { reason },
        PasskeyPlatformFailure::NoCredential => CorePasskeyError::NoCredential,
    })
}
