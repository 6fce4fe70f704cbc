//! The vault flow's synchronous steps (`localfirst_core::recovery::vault`), for a
//! platform layer whose vault is not a `SecretVault` object (the Expo module: the
//! vault is a JavaScript object, so TypeScript does the I/O and the timeout and
//! hands each answer to a step). Every decision is the core's.
//!
//! Each step returns a [`VaultStep`] instead of throwing: a failure is its `code`
//! (and, for `vault-identity-conflict`, both user ids), so a bridge that carries
//! only a code and a message loses nothing. Steps block on the store: call them off
//! the main thread.

use std::sync::Arc;

use localfirst_core::error::ErrorCode as _;

use crate::error::ErrorCode;
use localfirst_core::recovery::vault::{
    adopt_vault_value, confirm_vault_readback, restore_from_vault_value, secret_for_vault_backup,
    VaultBackup, VaultError, VaultIdentity, VaultOutcome, VaultValue,
};

use crate::store::{AuthSecretStore, ForeignStore};
use crate::AuthSecret;

/// What a vault step did, or why it failed (`code` set, everything else empty but
/// the conflict's ids).
#[derive(Debug, Clone, uniffi::Record)]
pub struct VaultStep {
    /// The catalogue code of the failure (`vault-corrupt`, `vault-identity-conflict`,
    /// `vault-write-unconfirmed`, `vault-unavailable`, `secret-store-*`), or `None`.
    pub code: Option<ErrorCode>,
    /// Why it failed (never secret material), or `None`.
    pub message: Option<String>,
    /// For `vault-identity-conflict`: the device's user id (empty when it holds none).
    pub device_user_id: Option<String>,
    /// For `vault-identity-conflict`: the vault's user id.
    pub vault_user_id: Option<String>,
    /// `restored`, `in-sync`, `backed-up` (confirmed read-back), `backup` (the secret
    /// to write) or `adopted`; `None` on failure.
    pub outcome: Option<String>,
    /// Whether the device's secret was created for the backup.
    pub created: bool,
    /// The user id the device now holds.
    pub user_id: Option<String>,
    /// The secret the device now holds (to write into the vault for `backup`).
    pub secret: Option<Arc<AuthSecret>>,
    /// For `adopted`: the secret the device held before, if another.
    pub replaced: Option<Arc<AuthSecret>>,
}

/// The vault held `value`: validates it and makes it the store's identity
/// (`restored`, `in-sync`), or reports `vault-corrupt` / `vault-identity-conflict`
/// without replacing anything.
#[uniffi::export]
pub fn vault_restore(store: Arc<dyn AuthSecretStore>, value: String) -> VaultStep {
    let value = VaultValue::new(value);
    step(restore_from_vault_value(&ForeignStore::new(store), &value).map(identity))
}

/// The vault is definitively empty: the store's secret to write into it (`backup`,
/// created when the store holds none). Never call it after a failed vault load.
#[uniffi::export]
pub fn vault_backup_secret(store: Arc<dyn AuthSecretStore>) -> VaultStep {
    step(
        secret_for_vault_backup(&ForeignStore::new(store)).map(|backup| VaultStep {
            outcome: Some("backup".to_owned()),
            created: backup.created,
            user_id: Some(user_id_of(&backup.secret)),
            secret: Some(AuthSecret::wrap(backup.secret)),
            ..VaultStep::empty()
        }),
    )
}

/// Checks what the vault returned (`read_back`) after `secret` (from
/// [`vault_backup_secret`], with its `created`) was written: `backed-up`, or
/// `vault-write-unconfirmed`, `vault-identity-conflict`, `vault-corrupt`.
#[uniffi::export]
pub fn vault_confirm_readback(
    secret: Arc<AuthSecret>,
    created: bool,
    read_back: Option<String>,
) -> VaultStep {
    let backup = VaultBackup {
        secret: secret.secret().clone(),
        created,
    };
    let read_back = read_back.map(VaultValue::new);
    step(confirm_vault_readback(&backup, read_back.as_ref()).map(identity))
}

/// After a conflict and the user's consent to `vault_user_id`: stores the vault's
/// secret (`value` as just re-read, `None` when empty) in place of the store's
/// (`adopted`, with `replaced`), or refuses without replacing anything.
#[uniffi::export]
pub fn vault_adopt(
    store: Arc<dyn AuthSecretStore>,
    value: Option<String>,
    vault_user_id: String,
) -> VaultStep {
    let value = value.map(VaultValue::new);
    step(
        adopt_vault_value(&ForeignStore::new(store), value.as_ref(), &vault_user_id).map(
            |adopted| VaultStep {
                outcome: Some("adopted".to_owned()),
                user_id: Some(adopted.user_id),
                secret: Some(AuthSecret::wrap(adopted.secret)),
                replaced: adopted.replaced.map(AuthSecret::wrap),
                ..VaultStep::empty()
            },
        ),
    )
}

impl VaultStep {
    fn empty() -> VaultStep {
        VaultStep {
            code: None,
            message: None,
            device_user_id: None,
            vault_user_id: None,
            outcome: None,
            created: false,
            user_id: None,
            secret: None,
            replaced: None,
        }
    }
}

fn step(result: Result<VaultStep, VaultError>) -> VaultStep {
    result.unwrap_or_else(|error| {
        let (device_user_id, vault_user_id) = match &error {
            VaultError::IdentityConflict {
                device_user_id,
                vault_user_id,
            } => (Some(device_user_id.clone()), Some(vault_user_id.clone())),
            _ => (None, None),
        };
        VaultStep {
            code: Some(ErrorCode::from(error.code())),
            message: Some(error.to_string()),
            device_user_id,
            vault_user_id,
            ..VaultStep::empty()
        }
    })
}

fn identity(identity: VaultIdentity) -> VaultStep {
    let (outcome, created) = match identity.outcome {
        VaultOutcome::Restored => ("restored", false),
        VaultOutcome::InSync => ("in-sync", false),
        VaultOutcome::BackedUp { created } => ("backed-up", created),
    };
    VaultStep {
        outcome: Some(outcome.to_owned()),
        created,
        user_id: Some(identity.user_id),
        secret: Some(AuthSecret::wrap(identity.secret)),
        ..VaultStep::empty()
    }
}

fn user_id_of(secret: &localfirst_core::secret::Secret) -> String {
    localfirst_core::identity::Identity::from_secret(secret)
        .user_id()
        .to_string()
}
