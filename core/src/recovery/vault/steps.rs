//! The store-side steps of the vault flow, each a synchronous call over a secret
//! store. [`VaultDriver`](super::VaultDriver) sequences them (it is the only
//! orchestration); they stay public for the bindings that still call them one by
//! one, until those drive the [`VaultDriver`](super::VaultDriver) instead:
//!
//! ```text
//! the vault holds a value → restore_from_vault_value(store, value)
//! the vault is empty      → backup = secret_for_vault_backup(store)
//!                           (the vault write)
//!                           confirm_vault_readback(&backup, the read-back)
//! after a conflict and the user's consent:
//!                           adopt_vault_value(store, a fresh read, vault_user_id)
//! ```
//!
//! Each step blocks on the store: call it off the UI thread.

use crate::identity::Identity;
use crate::secret::Secret;
use crate::secret_store::{place_secret, AuthSecretStore, Placement, StoreError};

use super::{AdoptedIdentity, VaultError, VaultIdentity, VaultOutcome, VaultValue};

/// The secret to write into an empty vault (from [`secret_for_vault_backup`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VaultBackup {
    /// The device's secret, now stored on the device.
    pub secret: Secret,
    /// Whether this call created it (the device held none).
    pub created: bool,
}

/// The vault holds `value`: validates it and makes it this device's identity.
///
/// Inside the store's exclusive section the device's secret is read: the same
/// secret → [`VaultOutcome::InSync`]; none → the vault's is stored with a write
/// that never replaces → [`VaultOutcome::Restored`]; another one →
/// [`VaultError::IdentityConflict`] with both ids, nothing replaced. A value that is
/// not a secret is [`VaultError::Corrupt`] and the store is not touched.
pub fn restore_from_vault_value(
    store: &dyn AuthSecretStore,
    value: &VaultValue,
) -> Result<VaultIdentity, VaultError> {
    let vault_secret = value.to_secret()?;
    let outcome = match place_secret(store, &vault_secret)? {
        Placement::Stored => VaultOutcome::Restored,
        Placement::AlreadyThere => VaultOutcome::InSync,
        Placement::Occupied(device) => return Err(conflict(&device, &vault_secret)),
    };
    Ok(VaultIdentity {
        outcome,
        user_id: user_id_of(&vault_secret),
        secret: vault_secret,
    })
}

/// The vault is definitively empty: the device's secret to write into it,
/// created (atomically, as `get_or_create_secret`) when the store holds none.
/// Call it only after the vault answered "empty": a failed vault must never lead
/// here, or a new identity would be made over one the vault may hold.
pub fn secret_for_vault_backup(store: &dyn AuthSecretStore) -> Result<VaultBackup, VaultError> {
    let _section = store.lock_exclusive()?;
    if let Some(existing) = store.load_secret()? {
        return Ok(VaultBackup {
            secret: existing,
            created: false,
        });
    }
    let fresh = Secret::generate().map_err(|_| StoreError::Rng)?;
    let stored = store.create_secret(fresh.clone())?;
    Ok(VaultBackup {
        created: stored == fresh,
        secret: stored,
    })
}

/// Checks what the vault returned after `backup` was written to it: the same
/// secret → the shared identity ([`VaultOutcome::BackedUp`]); nothing →
/// [`VaultError::WriteUnconfirmed`]; another secret → [`VaultError::IdentityConflict`]
/// (another device won the race); not a secret → [`VaultError::Corrupt`]. The
/// device's secret stays stored in every case.
pub fn confirm_vault_readback(
    backup: &VaultBackup,
    read_back: Option<&VaultValue>,
) -> Result<VaultIdentity, VaultError> {
    let Some(value) = read_back else {
        return Err(VaultError::WriteUnconfirmed);
    };
    let read_back = value.to_secret()?;
    if read_back != backup.secret {
        return Err(conflict(&backup.secret, &read_back));
    }
    Ok(VaultIdentity {
        outcome: VaultOutcome::BackedUp {
            created: backup.created,
        },
        user_id: user_id_of(&backup.secret),
        secret: backup.secret.clone(),
    })
}

/// Replaces the device's identity with the one the vault holds (`value`, as just
/// re-read), after a [`VaultError::IdentityConflict`] and the user's consent to
/// `expected_vault_user_id`.
///
/// An empty vault is [`VaultError::Unavailable`] and a value that is not a secret
/// [`VaultError::Corrupt`]; if the vault holds another id than the one agreed to,
/// nothing is replaced and the conflict is reported again. The stored secret is
/// read back before success; the previous one is returned in
/// [`AdoptedIdentity::replaced`].
pub fn adopt_vault_value(
    store: &dyn AuthSecretStore,
    value: Option<&VaultValue>,
    expected_vault_user_id: &str,
) -> Result<AdoptedIdentity, VaultError> {
    let Some(value) = value else {
        return Err(VaultError::Unavailable {
            reason: "the vault is empty: there is no identity to adopt".to_owned(),
        });
    };
    let vault_secret = value.to_secret()?;
    let vault_user_id = user_id_of(&vault_secret);
    // `save_secret` takes the store's exclusive section itself.
    let previous = store.load_secret()?;
    if vault_user_id != expected_vault_user_id {
        return Err(VaultError::IdentityConflict {
            // Empty when the device holds no identity.
            device_user_id: previous.as_ref().map(user_id_of).unwrap_or_default(),
            vault_user_id,
        });
    }
    store.save_secret(vault_secret.clone())?;
    if store.load_secret()?.as_ref() != Some(&vault_secret) {
        return Err(VaultError::Store(StoreError::Backend {
            reason: "the adopted secret did not read back from the store".to_owned(),
        }));
    }
    Ok(AdoptedIdentity {
        user_id: vault_user_id,
        replaced: previous.filter(|p| *p != vault_secret),
        secret: vault_secret,
    })
}

pub(super) fn user_id_of(secret: &Secret) -> String {
    Identity::from_secret(secret).user_id().to_string()
}

fn conflict(device: &Secret, vault: &Secret) -> VaultError {
    VaultError::IdentityConflict {
        device_user_id: user_id_of(device),
        vault_user_id: user_id_of(vault),
    }
}
