//! Provider-held vault: the app's [`SecretVault`] (async, implemented in Swift or
//! Kotlin over its identity provider) and the core's flow over it,
//! [`restore_or_backup_with_vault`] and [`adopt_vault_identity`].

use std::sync::Arc;
use std::time::Duration;

use localfirst_core::recovery::vault::{
    self as core_vault, AdoptedIdentity as CoreAdopted, SecretVault as CoreVault,
    VaultAccessError as VaultAccessFailure, VaultFuture, VaultIdentity as CoreIdentity,
    VaultOptions, VaultOutcome as CoreOutcome, VaultValue,
};

use crate::error::LocalFirstError;
use crate::identity::AuthSecret;
use crate::store::{AuthSecretStore, ForeignStore};

/// Where the app's identity provider keeps the account secret of the signed-in
/// user (a per-user metadata field, a key-value endpoint). Implemented by the app,
/// asynchronously (Kotlin `suspend`, Swift `async`).
///
/// The value is the secret's 43-character base64url text. `load` returns `null` /
/// `nil` **only** when the provider definitively holds nothing for the user; every
/// failure (network, refused credential, unexpected answer) throws (a
/// `LocalFirstError` or anything else), or a new identity would be made over nothing.
/// Whatever it throws, the flow reports `vault-unavailable`.
#[uniffi::export(foreign)]
#[async_trait::async_trait]
pub trait SecretVault: Send + Sync {
    /// The value stored for the signed-in user, or `null` when there is none.
    async fn load(&self) -> Result<Option<String>, LocalFirstError>;

    /// Stores `secret` for the signed-in user, replacing what is there.
    async fn store(&self, secret: String) -> Result<(), LocalFirstError>;
}

/// What `restoreOrBackupWithVault` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, uniffi::Enum)]
pub enum VaultOutcome {
    /// The vault's secret was stored on this device, which held none.
    Restored,
    /// The device and the vault already held the same secret.
    InSync,
    /// The vault was empty; this device's secret was written and read back.
    BackedUp {
        /// Whether the device's secret was created by this call.
        created: bool,
    },
}

/// The identity the device and the vault now share.
#[derive(Debug, uniffi::Record)]
pub struct VaultIdentity {
    /// What the flow did.
    pub outcome: VaultOutcome,
    /// The user id of the shared secret.
    pub user_id: String,
    /// The shared secret (open the `Db` with it).
    pub secret: Arc<AuthSecret>,
}

/// What `adoptVaultIdentity` did.
#[derive(Debug, uniffi::Record)]
pub struct AdoptedIdentity {
    /// The vault's user id, now this device's.
    pub user_id: String,
    /// The vault's secret, now in the device's store.
    pub secret: Arc<AuthSecret>,
    /// The secret the device held before, if any: it is no longer stored. Offer
    /// its recovery phrase to the user before dropping it.
    pub replaced: Option<Arc<AuthSecret>>,
}

/// Makes the device's secret store and the vault hold the same identity:
///
/// - the vault holds a secret: it becomes the device's (`Restored`) or already is
///   (`InSync`); if the device holds **another** identity nothing is replaced and
///   a `vault-identity-conflict` error carries both user ids in its details;
/// - the vault is empty: the device's secret (created if the store holds none) is
///   written, read back and compared (`BackedUp`).
///
/// A vault that fails or does not answer within `timeoutMs` (default 10,000 per
/// vault call) never leads to a new identity. The store's calls run on a blocking
/// pool, never on the caller's thread.
#[uniffi::export(async_runtime = "tokio")]
pub async fn restore_or_backup_with_vault(
    vault: Arc<dyn SecretVault>,
    store: Arc<dyn AuthSecretStore>,
    timeout_ms: Option<u64>,
) -> Result<VaultIdentity, LocalFirstError> {
    let identity = core_vault::restore_or_backup_with_vault(
        Arc::new(VaultAdapter(vault)),
        Arc::new(ForeignStore::new(store)),
        options(timeout_ms),
    )
    .await?;
    Ok(VaultIdentity::from(identity))
}

/// Replaces the device's identity with the vault's, after a
/// `vault-identity-conflict` error and the user's consent. `vaultUserId` is the id
/// the user agreed to (from the conflict): if the vault now holds another one,
/// nothing is replaced and the conflict is reported again. The previous secret
/// comes back in `AdoptedIdentity.replaced`.
#[uniffi::export(async_runtime = "tokio")]
pub async fn adopt_vault_identity(
    vault: Arc<dyn SecretVault>,
    store: Arc<dyn AuthSecretStore>,
    vault_user_id: String,
    timeout_ms: Option<u64>,
) -> Result<AdoptedIdentity, LocalFirstError> {
    let adopted = core_vault::adopt_vault_identity(
        Arc::new(VaultAdapter(vault)),
        Arc::new(ForeignStore::new(store)),
        &vault_user_id,
        options(timeout_ms),
    )
    .await?;
    Ok(AdoptedIdentity::from(adopted))
}

/// The flow runs on the runtime UniFFI polls async exports in (`async_runtime =
/// "tokio"`), which the core finds as the current one.
fn options(timeout_ms: Option<u64>) -> VaultOptions {
    match timeout_ms {
        Some(ms) => VaultOptions::with_timeout(Duration::from_millis(ms)),
        None => VaultOptions::default(),
    }
}

/// A foreign [`SecretVault`] as the core's. The text crosses as it is; the core
/// validates what `load` returns.
struct VaultAdapter(Arc<dyn SecretVault>);

impl CoreVault for VaultAdapter {
    fn load(&self) -> VaultFuture<Option<VaultValue>> {
        let foreign = Arc::clone(&self.0);
        Box::pin(async move {
            match foreign.load().await {
                Ok(text) => Ok(text.map(VaultValue::new)),
                Err(error) => Err(access_failure(error)),
            }
        })
    }

    fn store(&self, value: VaultValue) -> VaultFuture<()> {
        let foreign = Arc::clone(&self.0);
        Box::pin(async move {
            foreign
                .store(value.expose().to_owned())
                .await
                .map_err(access_failure)
        })
    }
}

/// What the app's vault threw, as the core's vault failure (`vault-unavailable`): the
/// reason is kept, the code the vault chose does not matter.
fn access_failure(error: LocalFirstError) -> VaultAccessFailure {
    VaultAccessFailure::new(error.reason())
}

impl From<CoreOutcome> for VaultOutcome {
    fn from(outcome: CoreOutcome) -> VaultOutcome {
        match outcome {
            CoreOutcome::Restored => VaultOutcome::Restored,
            CoreOutcome::InSync => VaultOutcome::InSync,
            CoreOutcome::BackedUp { created } => VaultOutcome::BackedUp { created },
        }
    }
}

impl From<CoreIdentity> for VaultIdentity {
    fn from(identity: CoreIdentity) -> VaultIdentity {
        VaultIdentity {
            outcome: VaultOutcome::from(identity.outcome),
            user_id: identity.user_id,
            secret: AuthSecret::wrap(identity.secret),
        }
    }
}

impl From<CoreAdopted> for AdoptedIdentity {
    fn from(adopted: CoreAdopted) -> AdoptedIdentity {
        AdoptedIdentity {
            user_id: adopted.user_id,
            secret: AuthSecret::wrap(adopted.secret),
            replaced: adopted.replaced.map(AuthSecret::wrap),
        }
    }
}
