//! Recovery beyond the phrase, for Node: the vault flow's steps over a secret store
//! (the app does the vault I/O and the timeout, the core decides), and the passkey
//! requests and assertion checks (the same WebAuthn JSON as Jazz's browser
//! passkey backup). Forwarding only: `localfirst_core::recovery`.

use localfirst_core::recovery::passkey::{self as core_passkey, PasskeyBackup};
use localfirst_core::recovery::vault::{self as core_vault, VaultOutcome, VaultValue};
use localfirst_core::secret::Secret;
use localfirst_core::secret_store::AuthSecretStore;
use napi::bindgen_prelude::{Either3, Unknown};
use napi::{Env, JsString, ValueType};
use napi_derive::napi;
use zeroize::{Zeroize as _, Zeroizing};

use crate::args::{
    boolean, bytes, instance, not_constructible, object, optional_bytes, optional_string, refused,
    string, Bytes, Instance,
};
use crate::error::{OrThrow as _, Result};
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
    /// Not callable: `new VaultIdentity()` fails with `invalid-argument`.
    #[napi(constructor, skip_typescript)]
    pub fn new(env: &Env) -> napi::Result<VaultIdentity> {
        Err(not_constructible(
            "VaultIdentity",
            "vaultRestore() and vaultConfirmReadback()",
        ))
        .or_throw(env)
    }

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
    #[napi(constructor, ts_args_type = "secret: AuthSecret, created: boolean")]
    pub fn new(
        env: &Env,
        secret: Instance<AuthSecret>,
        created: Unknown,
    ) -> napi::Result<VaultBackup> {
        let backup = || -> Result<VaultBackup> {
            let secret = instance(secret, "secret", "AuthSecret")?;
            Ok(VaultBackup {
                backup: core_vault::VaultBackup {
                    secret: secret.secret().clone(),
                    created: boolean(created, "created")?,
                },
            })
        };
        backup().or_throw(env)
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
    /// Not callable: `new AdoptedIdentity()` fails with `invalid-argument`.
    #[napi(constructor, skip_typescript)]
    pub fn new(env: &Env) -> napi::Result<AdoptedIdentity> {
        Err(not_constructible("AdoptedIdentity", "vaultAdopt()")).or_throw(env)
    }

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

/// A store argument: a memory or a file store, or anything else JavaScript passed.
pub(crate) type StoreArg<'a> = Either3<&'a MemorySecretStore, &'a FileSecretStore, Unknown<'a>>;

/// The core store inside a memory or file store (`invalid-argument` for anything
/// else, thrown from `env`).
pub(crate) fn core_store<'a>(
    env: &Env,
    store: &'a StoreArg<'a>,
) -> napi::Result<&'a dyn AuthSecretStore> {
    match store {
        Either3::A(memory) => Ok(memory.core()),
        Either3::B(file) => Ok(file.core()),
        Either3::C(other) => Err(refused(
            "store",
            "a MemorySecretStore or a FileSecretStore",
            other,
        ))
        .or_throw(env),
    }
}

/// The vault held `value` (text as read): validates it and makes it this store's
/// identity. Throws `vault-corrupt` (nothing touched), `vault-identity-conflict`
/// (the store holds another identity; nothing replaced; the error's `details` are
/// `{ kind: 'identityConflict', deviceUserId, vaultUserId }`) or the store's own code.
#[napi(ts_args_type = "store: MemorySecretStore | FileSecretStore, value: string")]
pub fn vault_restore(env: Env, store: StoreArg, value: Unknown) -> napi::Result<VaultIdentity> {
    let store = core_store(&env, &store)?;
    let value = VaultValue::new(string(value, "value").or_throw(&env)?);
    core_vault::restore_from_vault_value(store, &value)
        .map(identity)
        .or_throw(&env)
}

/// The vault is definitively empty: the store's secret to write into it (created
/// when the store holds none). Never call it after a failed or timed-out load.
#[napi(ts_args_type = "store: MemorySecretStore | FileSecretStore")]
pub fn vault_backup_secret(env: Env, store: StoreArg) -> napi::Result<VaultBackup> {
    core_vault::secret_for_vault_backup(core_store(&env, &store)?)
        .map(|backup| VaultBackup { backup })
        .or_throw(&env)
}

/// Checks what the vault returned (`readBack`, `null` for nothing) after `backup`
/// was written. Throws `vault-write-unconfirmed`, `vault-identity-conflict` (another
/// device won the race) or `vault-corrupt`.
#[napi(ts_args_type = "backup: VaultBackup, readBack?: string | undefined | null")]
pub fn vault_confirm_readback(
    env: Env,
    backup: Instance<VaultBackup>,
    read_back: Option<Unknown>,
) -> napi::Result<VaultIdentity> {
    let backup = instance(backup, "backup", "VaultBackup").or_throw(&env)?;
    let read_back = optional_string(read_back, "readBack")
        .or_throw(&env)?
        .map(VaultValue::new);
    core_vault::confirm_vault_readback(&backup.backup, read_back.as_ref())
        .map(identity)
        .or_throw(&env)
}

/// After a `vault-identity-conflict` and the user's consent to `vaultUserId`:
/// stores the vault's secret (`value`, as just re-read; `null` when empty) in place
/// of the store's. Refuses (`vault-identity-conflict`) if the vault now holds
/// another id; `vault-unavailable` for an empty vault, `vault-corrupt` for a bad value.
#[napi(
    ts_args_type = "store: MemorySecretStore | FileSecretStore, value: string | undefined | null, vaultUserId: string"
)]
pub fn vault_adopt(
    env: Env,
    store: StoreArg,
    value: Option<Unknown>,
    vault_user_id: Unknown,
) -> napi::Result<AdoptedIdentity> {
    let store = core_store(&env, &store)?;
    let value = optional_string(value, "value")
        .or_throw(&env)?
        .map(VaultValue::new);
    let vault_user_id = string(vault_user_id, "vaultUserId").or_throw(&env)?;
    core_vault::adopt_vault_value(store, value.as_ref(), &vault_user_id)
        .map(|adopted| AdoptedIdentity { adopted })
        .or_throw(&env)
}

fn identity(identity: core_vault::VaultIdentity) -> VaultIdentity {
    VaultIdentity {
        outcome: identity.outcome,
        user_id: identity.user_id,
        secret: identity.secret,
    }
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
    #[napi(constructor, ts_args_type = "appName: string, rpId: string")]
    pub fn new(env: &Env, app_name: Unknown, rp_id: Unknown) -> napi::Result<PasskeyCeremony> {
        let ceremony = || -> Result<PasskeyCeremony> {
            let app_name = string(app_name, "appName")?;
            let rp_id = string(rp_id, "rpId")?;
            Ok(PasskeyCeremony {
                backup: PasskeyBackup::new(&app_name, &rp_id)?,
            })
        };
        ceremony().or_throw(env)
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
    /// bytes: an `ArrayBuffer`, a `Buffer` or a typed array) is given. The JSON
    /// holds the secret: hand it to the platform only.
    #[napi(
        ts_args_type = "secret: AuthSecret, displayName: string, challenge?: ArrayBuffer | Uint8Array | undefined | null"
    )]
    pub fn registration_request_json<'env>(
        &self,
        env: &'env Env,
        secret: Instance<AuthSecret>,
        display_name: Unknown,
        challenge: Option<Unknown>,
    ) -> napi::Result<JsString<'env>> {
        let (secret, display_name, challenge) =
            registration_arguments(secret, display_name, challenge).or_throw(env)?;
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
        .or_throw(env)?;
        env.create_string(request.to_json().as_str())
    }

    /// `PublicKeyCredentialRequestOptionsJSON` restoring the secret; a random
    /// challenge unless one (16 to 64 bytes) is given.
    #[napi(ts_args_type = "challenge?: ArrayBuffer | Uint8Array | undefined | null")]
    pub fn assertion_request_json(
        &self,
        env: &Env,
        challenge: Option<Unknown>,
    ) -> napi::Result<String> {
        let request = || -> Result<String> {
            let request = match optional_bytes(challenge, "challenge")? {
                Some(challenge) => self
                    .backup
                    .assertion_request_with_challenge(challenge.to_vec()),
                None => self.backup.assertion_request(),
            }?;
            Ok(request.to_json())
        };
        request().or_throw(env)
    }
}

/// The arguments of `registrationRequestJson`, checked.
fn registration_arguments<'a>(
    secret: Instance<'a, AuthSecret>,
    display_name: Unknown,
    challenge: Option<Unknown>,
) -> Result<(&'a AuthSecret, String, Option<Bytes>)> {
    Ok((
        instance(secret, "secret", "AuthSecret")?,
        string(display_name, "displayName")?,
        optional_bytes(challenge, "challenge")?,
    ))
}

/// The secret in an assertion response given as `PublicKeyCredential` JSON
/// (Android's Credential Manager, a browser's `toJSON()`): the text, or the object
/// it parses to. Throws `no-credential` (`null`), `invalid-credential`,
/// `verification-failed` (user not present and verified) or `invalid-argument`
/// (neither a string nor an object).
#[napi(ts_args_type = "json: string | Record<string, unknown> | null")]
pub fn secret_from_assertion_json(env: &Env, json: Option<Unknown>) -> napi::Result<AuthSecret> {
    assertion_json_secret(json).or_throw(env)
}

/// `secretFromAssertionJson`'s argument as text, then the core's check.
fn assertion_json_secret(json: Option<Unknown>) -> Result<AuthSecret> {
    let text = match json {
        None => Zeroizing::new("null".to_owned()),
        Some(value) if value.get_type().ok() == Some(ValueType::Object) => {
            let mut parsed: serde_json::Value = object(value, "json")?;
            let text = Zeroizing::new(parsed.to_string());
            wipe(&mut parsed);
            text
        }
        Some(value) => Zeroizing::new(string(value, "json")?),
    };
    Ok(AuthSecret::from(core_passkey::secret_from_assertion_json(
        &text,
    )?))
}

/// Wipes the strings of a parsed assertion (its user handle is the secret).
fn wipe(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::String(text) => text.zeroize(),
        serde_json::Value::Array(items) => items.iter_mut().for_each(wipe),
        serde_json::Value::Object(fields) => fields.values_mut().for_each(wipe),
        _ => {}
    }
}

/// The secret in an assertion given as raw bytes (iOS: `rawAuthenticatorData` and
/// `userID`; a browser's `response.authenticatorData` and `response.userHandle`):
/// each an `ArrayBuffer` (as WebAuthn returns them), a `Buffer` or a typed array.
/// `userHandle` is `null` when the authenticator returned none.
#[napi(
    ts_args_type = "authenticatorData: ArrayBuffer | Uint8Array, userHandle?: ArrayBuffer | Uint8Array | undefined | null"
)]
pub fn secret_from_assertion(
    env: &Env,
    authenticator_data: Unknown,
    user_handle: Option<Unknown>,
) -> napi::Result<AuthSecret> {
    let check = || -> Result<AuthSecret> {
        let authenticator_data = bytes(authenticator_data, "authenticatorData")?;
        let user_handle = optional_bytes(user_handle, "userHandle")?;
        Ok(AuthSecret::from(core_passkey::secret_from_assertion(
            &authenticator_data,
            user_handle.as_deref().map(Vec::as_slice),
        )?))
    };
    check().or_throw(env)
}
