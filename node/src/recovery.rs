//! Recovery beyond the phrase, for Node: the vault flow's steps over a secret store
//! (the app does the vault I/O and the timeout, the core decides), and the passkey
//! requests and assertion checks (the same WebAuthn JSON as Jazz's browser
//! passkey backup). Forwarding only: `localfirst_core::recovery`.

use localfirst_core::recovery::passkey::{self as core_passkey, PasskeyBackup};
use localfirst_core::recovery::vault::{self as core_vault, VaultError, VaultOutcome, VaultValue};
use localfirst_core::secret::Secret;
use localfirst_core::secret_store::AuthSecretStore;
use napi::bindgen_prelude::{Buffer, Either, JsError, JsObjectValue as _};
use napi::{Env, JsString, JsValue as _};
use napi_derive::napi;
use zeroize::Zeroizing;

use crate::error::{coded, Result};
use crate::identity::AuthSecret;
use crate::store::{FileSecretStore, MemorySecretStore};

/// The identity the device and the vault now share (`vaultRestore`,
/// `vaultConfirmReadback`).
#[napi]
pub struct VaultIdentity {
    outcome: VaultOutcome,
    user_id: String,
    secret: Secret,
}

#[napi]
impl VaultIdentity {
    /// `"restored"` (the vault's secret is now stored here), `"in-sync"` (it already
    /// was) or `"backed-up"` (this device's secret was written and read back).
    #[napi(getter, ts_return_type = "'restored' | 'in-sync' | 'backed-up'")]
    pub fn outcome(&self) -> String {
        match self.outcome {
            VaultOutcome::Restored => "restored",
            VaultOutcome::InSync => "in-sync",
            VaultOutcome::BackedUp { .. } => "backed-up",
        }
        .to_owned()
    }

    /// For `"backed-up"`: whether the device's secret was created for the backup.
    #[napi(getter)]
    pub fn created(&self) -> bool {
        matches!(self.outcome, VaultOutcome::BackedUp { created: true })
    }

    /// The shared user id.
    #[napi(getter)]
    pub fn user_id(&self) -> String {
        self.user_id.clone()
    }

    /// The shared secret.
    #[napi(getter)]
    pub fn secret(&self) -> AuthSecret {
        AuthSecret::from(self.secret.clone())
    }
}

/// The secret to write into an empty vault (`vaultBackupSecret`).
#[napi]
pub struct VaultBackup {
    backup: core_vault::VaultBackup,
}

#[napi]
impl VaultBackup {
    /// A backup as `vaultBackupSecret` returned it, rebuilt from its parts (a caller
    /// that carried the secret and `created` elsewhere, e.g. across a bridge).
    #[napi(constructor)]
    pub fn new(secret: &AuthSecret, created: bool) -> VaultBackup {
        VaultBackup {
            backup: core_vault::VaultBackup {
                secret: secret.secret().clone(),
                created,
            },
        }
    }

    /// The device's secret (stored on the device).
    #[napi(getter)]
    pub fn secret(&self) -> AuthSecret {
        AuthSecret::from(self.backup.secret.clone())
    }

    /// Whether it was created by this call (the device held none).
    #[napi(getter)]
    pub fn created(&self) -> bool {
        self.backup.created
    }
}

/// The vault's identity, adopted after a conflict (`vaultAdopt`).
#[napi]
pub struct AdoptedIdentity {
    adopted: core_vault::AdoptedIdentity,
}

#[napi]
impl AdoptedIdentity {
    /// The vault's user id, now this device's.
    #[napi(getter)]
    pub fn user_id(&self) -> String {
        self.adopted.user_id.clone()
    }

    /// The vault's secret, now stored on the device.
    #[napi(getter)]
    pub fn secret(&self) -> AuthSecret {
        AuthSecret::from(self.adopted.secret.clone())
    }

    /// The secret the device held before, if another: no longer stored. Offer its
    /// recovery phrase before dropping it.
    #[napi(getter)]
    pub fn replaced(&self) -> Option<AuthSecret> {
        self.adopted.replaced.clone().map(AuthSecret::from)
    }
}

/// The core store inside a memory or file store.
fn core_store<'a>(
    store: &'a Either<&'a MemorySecretStore, &'a FileSecretStore>,
) -> &'a dyn AuthSecretStore {
    match store {
        Either::A(memory) => memory.core(),
        Either::B(file) => file.core(),
    }
}

/// The vault held `value` (text as read): validates it and makes it this store's
/// identity. Throws `vault-corrupt` (nothing touched), `vault-identity-conflict`
/// (the store holds another identity; nothing replaced; the error has
/// `deviceUserId` and `vaultUserId`) or the store's own code.
#[napi]
pub fn vault_restore(
    env: Env,
    store: Either<&MemorySecretStore, &FileSecretStore>,
    value: String,
) -> napi::Result<VaultIdentity> {
    let value = VaultValue::new(value);
    core_vault::restore_from_vault_value(core_store(&store), &value)
        .map(identity)
        .map_err(|e| vault_error(&env, e))
}

/// The vault is definitively empty: the store's secret to write into it (created
/// when the store holds none). Never call it after a failed or timed-out load.
#[napi]
pub fn vault_backup_secret(
    env: Env,
    store: Either<&MemorySecretStore, &FileSecretStore>,
) -> napi::Result<VaultBackup> {
    core_vault::secret_for_vault_backup(core_store(&store))
        .map(|backup| VaultBackup { backup })
        .map_err(|e| vault_error(&env, e))
}

/// Checks what the vault returned (`readBack`, `null` for nothing) after `backup`
/// was written. Throws `vault-write-unconfirmed`, `vault-identity-conflict` (another
/// device won the race) or `vault-corrupt`.
#[napi]
pub fn vault_confirm_readback(
    env: Env,
    backup: &VaultBackup,
    read_back: Option<String>,
) -> napi::Result<VaultIdentity> {
    let read_back = read_back.map(VaultValue::new);
    core_vault::confirm_vault_readback(&backup.backup, read_back.as_ref())
        .map(identity)
        .map_err(|e| vault_error(&env, e))
}

/// After a `vault-identity-conflict` and the user's consent to `vaultUserId`:
/// stores the vault's secret (`value`, as just re-read; `null` when empty) in place
/// of the store's. Refuses (`vault-identity-conflict`) if the vault now holds
/// another id; `vault-unavailable` for an empty vault, `vault-corrupt` for a bad value.
#[napi]
pub fn vault_adopt(
    env: Env,
    store: Either<&MemorySecretStore, &FileSecretStore>,
    value: Option<String>,
    vault_user_id: String,
) -> napi::Result<AdoptedIdentity> {
    let value = value.map(VaultValue::new);
    core_vault::adopt_vault_value(core_store(&store), value.as_ref(), &vault_user_id)
        .map(|adopted| AdoptedIdentity { adopted })
        .map_err(|e| vault_error(&env, e))
}

fn identity(identity: core_vault::VaultIdentity) -> VaultIdentity {
    VaultIdentity {
        outcome: identity.outcome,
        user_id: identity.user_id,
        secret: identity.secret,
    }
}

/// A vault error as a thrown `Error` with its `code`; a conflict also carries
/// `deviceUserId` and `vaultUserId`.
fn vault_error(env: &Env, error: VaultError) -> napi::Error {
    let ids = match &error {
        VaultError::IdentityConflict {
            device_user_id,
            vault_user_id,
        } => Some((device_user_id.clone(), vault_user_id.clone())),
        _ => None,
    };
    let thrown = JsError::from(coded(error)).into_unknown(*env);
    if let Some((device_user_id, vault_user_id)) = ids {
        if let Ok(mut object) = thrown.coerce_to_object() {
            // Best effort: without the ids the error still has its code and message.
            let _ = object.set_named_property("deviceUserId", device_user_id);
            let _ = object.set_named_property("vaultUserId", vault_user_id);
        }
    }
    napi::Error::from(thrown)
}

/// Builds the WebAuthn requests of a passkey backup on relying-party id `rpId`
/// (the platform or browser runs them): the same JSON as Jazz's browser passkey
/// backup, so one passkey serves web and mobile.
#[napi]
pub struct PasskeyCeremony {
    backup: PasskeyBackup,
}

#[napi]
impl PasskeyCeremony {
    /// A ceremony for `appName` (`rp.name`) on `rpId` (a bare host name, never
    /// changed afterwards). Throws `invalid-argument`.
    #[napi(constructor)]
    pub fn new(app_name: String, rp_id: String) -> Result<PasskeyCeremony> {
        PasskeyBackup::new(&app_name, &rp_id)
            .map(|backup| PasskeyCeremony { backup })
            .map_err(coded)
    }

    /// The app name.
    #[napi(getter)]
    pub fn app_name(&self) -> String {
        self.backup.app_name().to_owned()
    }

    /// The relying-party id.
    #[napi(getter)]
    pub fn rp_id(&self) -> String {
        self.backup.rp_id().to_owned()
    }

    /// `PublicKeyCredentialCreationOptionsJSON` storing `secret` as the credential's
    /// user id, shown as `displayName`; a random challenge unless one (16 to 64
    /// bytes) is given. The JSON holds the secret: hand it to the platform only.
    #[napi]
    pub fn registration_request_json<'env>(
        &self,
        env: &'env Env,
        secret: &AuthSecret,
        display_name: String,
        challenge: Option<Buffer>,
    ) -> napi::Result<JsString<'env>> {
        let request = match challenge {
            Some(challenge) => self.backup.registration_request_with_challenge(
                secret.secret(),
                &display_name,
                challenge.to_vec(),
            ),
            None => self
                .backup
                .registration_request(secret.secret(), &display_name),
        }
        .map_err(|e| napi::Error::from(JsError::from(coded(e)).into_unknown(*env)))?;
        env.create_string(request.to_json().as_str())
    }

    /// `PublicKeyCredentialRequestOptionsJSON` restoring the secret; a random
    /// challenge unless one (16 to 64 bytes) is given.
    #[napi]
    pub fn assertion_request_json(&self, challenge: Option<Buffer>) -> Result<String> {
        match challenge {
            Some(challenge) => self
                .backup
                .assertion_request_with_challenge(challenge.to_vec()),
            None => self.backup.assertion_request(),
        }
        .map(|request| request.to_json())
        .map_err(coded)
    }
}

/// The secret in an assertion response given as `PublicKeyCredential` JSON
/// (Android's Credential Manager, a browser's `toJSON()`). Throws `no-credential`
/// (`null`), `invalid-credential` or `verification-failed` (user not present and
/// verified).
#[napi]
pub fn secret_from_assertion_json(json: String) -> Result<AuthSecret> {
    let json = Zeroizing::new(json);
    core_passkey::secret_from_assertion_json(&json)
        .map(AuthSecret::from)
        .map_err(coded)
}

/// The secret in an assertion given as raw bytes (iOS: `rawAuthenticatorData` and
/// `userID`; `null` when the authenticator returned no user handle).
#[napi]
pub fn secret_from_assertion(
    authenticator_data: Buffer,
    user_handle: Option<Buffer>,
) -> Result<AuthSecret> {
    core_passkey::secret_from_assertion(&authenticator_data, user_handle.as_deref())
        .map(AuthSecret::from)
        .map_err(coded)
}
