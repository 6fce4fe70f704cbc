//! The vault flow as a sans-IO state machine: the driver decides, the caller
//! moves bytes. It is the only orchestration of the flow; the async
//! [`restore_or_backup_with_vault`](super::restore_or_backup_with_vault) and
//! [`adopt_vault_identity`](super::adopt_vault_identity) are a loop over it, and a
//! shell whose vault lives in another language (a JavaScript object, a Swift or
//! Kotlin client) runs the same loop itself:
//!
//! ```text
//! driver = VaultDriver::start(store, timeout)        (or start_adopt(store, vault_user_id, timeout))
//! loop:
//!     match driver.next_action():
//!         ReadVault { timeout }         → value = vault.load() within timeout
//!                                         driver.resume(Loaded { value } | Failed { reason } | TimedOut)
//!         WriteVault { value, timeout } → vault.store(value) within timeout
//!                                         driver.resume(Stored | Failed { reason } | TimedOut)
//!         Done { completion }           → the identity the device and the vault share
//!         Failed { error }              → a VaultError (its code, both ids of a conflict)
//! ```
//!
//! The driver owns the device's secret store and calls it inside
//! [`VaultDriver::resume`] (blocking: call it off the UI thread); the caller only
//! performs the vault's I/O and applies the timeout the action names. Methods take
//! `&self`, so the driver can be shared and exported as a foreign object.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use crate::secret_store::AuthSecretStore;

use super::steps::{
    adopt_vault_value, confirm_vault_readback, restore_from_vault_value, secret_for_vault_backup,
    VaultBackup,
};
use super::{AdoptedIdentity, VaultError, VaultIdentity, VaultOutcome, VaultValue};

/// Default bound on each vault call. Shells read it (or
/// [`VaultDriver::timeout`]) instead of keeping their own.
pub const DEFAULT_VAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// The vault flow for one device store, one step at a time (see the module
/// documentation for the loop).
pub struct VaultDriver {
    store: Arc<dyn AuthSecretStore>,
    timeout: Duration,
    state: Mutex<State>,
}

/// What the caller does next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VaultAction {
    /// Read the vault (`SecretVault::load`) within `timeout`, then resume with
    /// [`VaultAnswer::Loaded`] (`None` only when the vault definitively holds
    /// nothing), [`VaultAnswer::Failed`] or [`VaultAnswer::TimedOut`].
    ReadVault {
        /// How long the read may take.
        timeout: Duration,
    },
    /// Write `value` into the vault (`SecretVault::store`, replacing what is
    /// there) within `timeout`, then resume with [`VaultAnswer::Stored`],
    /// [`VaultAnswer::Failed`] or [`VaultAnswer::TimedOut`].
    WriteVault {
        /// The device's secret, as the vault keeps it. Hand it to the vault only.
        value: VaultValue,
        /// How long the write may take.
        timeout: Duration,
    },
    /// The flow succeeded.
    Done {
        /// The identity the device and the vault now share.
        completion: VaultCompletion,
    },
    /// The flow failed; nothing was created or replaced except as the error says.
    Failed {
        /// Why (its code, and both user ids of a conflict).
        error: VaultError,
    },
}

/// What the caller's vault I/O gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VaultAnswer {
    /// The read finished: the value the vault holds, or `None` when it
    /// definitively holds nothing. Never report a failure as `None`.
    Loaded {
        /// The value, as read (the driver validates it).
        value: Option<VaultValue>,
    },
    /// The write finished.
    Stored,
    /// The read or write failed (network, refused credential, unexpected answer):
    /// `vault-unavailable`.
    Failed {
        /// The vault's message (never secret material).
        reason: String,
    },
    /// The read or write did not finish within the action's timeout: `vault-timeout`.
    TimedOut,
}

/// How a successful flow ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VaultCompletion {
    /// [`VaultDriver::start`]: the device and the vault hold the same identity
    /// (restored, already in sync, or backed up).
    Shared {
        /// The shared identity and what the flow did.
        identity: VaultIdentity,
    },
    /// [`VaultDriver::start_adopt`]: the device took the vault's identity.
    Adopted {
        /// The adopted identity and the secret it replaced.
        adopted: AdoptedIdentity,
    },
}

struct State {
    stage: Stage,
    store_changed: bool,
}

/// Where the flow stands.
enum Stage {
    /// Waiting for the first read of the vault.
    Restore,
    /// The vault is empty; waiting for the device's secret to be written.
    Write(VaultBackup),
    /// Written; waiting for the read-back.
    ReadBack(VaultBackup),
    /// After a conflict and the user's consent; waiting for a fresh read.
    Adopt { vault_user_id: String },
    /// Over.
    Finished(Result<VaultCompletion, VaultError>),
}

impl VaultDriver {
    /// A driver that makes `store` and the vault hold the same identity: the
    /// vault is read first (nothing on the device changes before it answers); a
    /// secret there is restored (or is already the device's; another identity on
    /// the device is a conflict, never replaced); an empty vault gets the device's
    /// secret (created if the store holds none), read back and compared.
    ///
    /// `timeout` bounds each vault call ([`DEFAULT_VAULT_TIMEOUT`] when `None`);
    /// zero is `invalid-argument`.
    pub fn start(
        store: Arc<dyn AuthSecretStore>,
        timeout: Option<Duration>,
    ) -> Result<VaultDriver, VaultError> {
        VaultDriver::new(store, timeout, Stage::Restore)
    }

    /// A driver that replaces the device's identity with the vault's, after a
    /// `vault-identity-conflict` and the user's consent to `vault_user_id` (the
    /// conflict's vault user id). The vault is read again; if it now holds another
    /// id, nothing is replaced and the conflict is reported again. The previous
    /// secret comes back in [`AdoptedIdentity::replaced`].
    pub fn start_adopt(
        store: Arc<dyn AuthSecretStore>,
        vault_user_id: String,
        timeout: Option<Duration>,
    ) -> Result<VaultDriver, VaultError> {
        VaultDriver::new(store, timeout, Stage::Adopt { vault_user_id })
    }

    fn new(
        store: Arc<dyn AuthSecretStore>,
        timeout: Option<Duration>,
        stage: Stage,
    ) -> Result<VaultDriver, VaultError> {
        let timeout = timeout.unwrap_or(DEFAULT_VAULT_TIMEOUT);
        if timeout.is_zero() {
            return Err(VaultError::InvalidArgument {
                reason: "the vault timeout must be longer than zero".to_owned(),
            });
        }
        Ok(VaultDriver {
            store,
            timeout,
            state: Mutex::new(State {
                stage,
                store_changed: false,
            }),
        })
    }

    /// The bound on each vault call.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// What to do now. Asking again without resuming gives the same action.
    pub fn next_action(&self) -> VaultAction {
        let state = self.state();
        self.action(&state.stage)
    }

    /// Hands the result of the last action's I/O to the driver and returns the
    /// next action. Store steps run here, on the caller's thread (blocking).
    ///
    /// An answer that does not fit the pending action (a `Stored` while a read
    /// was asked for) ends the flow with `invalid-argument`, touching nothing.
    /// Once the flow is over, further answers are ignored and the final action
    /// is returned again.
    pub fn resume(&self, answer: VaultAnswer) -> VaultAction {
        let mut guard = self.state();
        let state = &mut *guard;
        let store = self.store.as_ref();
        let next = match (&state.stage, answer) {
            (Stage::Finished(_), _) => return self.action(&state.stage),
            (_, VaultAnswer::Failed { reason }) => {
                Stage::Finished(Err(VaultError::Unavailable { reason }))
            }
            (_, VaultAnswer::TimedOut) => Stage::Finished(Err(VaultError::Timeout {
                timeout: self.timeout,
            })),
            (Stage::Restore, VaultAnswer::Loaded { value: Some(value) }) => {
                let restored = restore_from_vault_value(store, &value);
                if matches!(&restored, Ok(identity) if identity.outcome == VaultOutcome::Restored) {
                    state.store_changed = true;
                }
                Stage::Finished(restored.map(|identity| VaultCompletion::Shared { identity }))
            }
            // Definitively empty: only now may a secret be created.
            (Stage::Restore, VaultAnswer::Loaded { value: None }) => {
                match secret_for_vault_backup(store) {
                    Ok(backup) => {
                        state.store_changed |= backup.created;
                        Stage::Write(backup)
                    }
                    Err(error) => Stage::Finished(Err(error)),
                }
            }
            (Stage::Write(backup), VaultAnswer::Stored) => Stage::ReadBack(backup.clone()),
            (Stage::ReadBack(backup), VaultAnswer::Loaded { value }) => Stage::Finished(
                confirm_vault_readback(backup, value.as_ref())
                    .map(|identity| VaultCompletion::Shared { identity }),
            ),
            (Stage::Adopt { vault_user_id }, VaultAnswer::Loaded { value }) => {
                let adopted = adopt_vault_value(store, value.as_ref(), vault_user_id);
                state.store_changed |= adopted.is_ok();
                Stage::Finished(adopted.map(|adopted| VaultCompletion::Adopted { adopted }))
            }
            (stage, answer) => Stage::Finished(Err(VaultError::InvalidArgument {
                reason: format!(
                    "the vault driver waits for {}, not for {}",
                    stage.waits_for(),
                    answer.name()
                ),
            })),
        };
        state.stage = next;
        self.action(&state.stage)
    }

    /// Whether the flow is over ([`VaultAction::Done`] or [`VaultAction::Failed`]).
    pub fn is_finished(&self) -> bool {
        matches!(self.state().stage, Stage::Finished(_))
    }

    /// Whether the driver has written the device's store so far (a secret created
    /// for the backup, restored from the vault, or adopted). A shell that caches
    /// the stored secret refreshes it when this turns `true`, even if the flow
    /// later fails (a backup whose vault write failed keeps the created secret).
    pub fn store_changed(&self) -> bool {
        self.state().store_changed
    }

    fn action(&self, stage: &Stage) -> VaultAction {
        let timeout = self.timeout;
        match stage {
            Stage::Restore | Stage::ReadBack(_) | Stage::Adopt { .. } => {
                VaultAction::ReadVault { timeout }
            }
            Stage::Write(backup) => VaultAction::WriteVault {
                value: VaultValue::of(&backup.secret),
                timeout,
            },
            Stage::Finished(Ok(completion)) => VaultAction::Done {
                completion: completion.clone(),
            },
            Stage::Finished(Err(error)) => VaultAction::Failed {
                error: error.clone(),
            },
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // A panic inside a store step leaves the stage as it was before the step.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl std::fmt::Debug for VaultDriver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VaultDriver")
            .field("store", &self.store.storage_key())
            .field("timeout", &self.timeout)
            .field("stage", &self.state().stage.name())
            .finish()
    }
}

impl Stage {
    fn name(&self) -> &'static str {
        match self {
            Stage::Restore => "first read",
            Stage::Write(_) => "backup write",
            Stage::ReadBack(_) => "read-back",
            Stage::Adopt { .. } => "adopt read",
            Stage::Finished(_) => "finished",
        }
    }

    fn waits_for(&self) -> &'static str {
        match self {
            Stage::Write(_) => "the answer to a write (Stored, Failed or TimedOut)",
            _ => "the answer to a read (Loaded, Failed or TimedOut)",
        }
    }
}

impl VaultAnswer {
    fn name(&self) -> &'static str {
        match self {
            VaultAnswer::Loaded { .. } => "Loaded",
            VaultAnswer::Stored => "Stored",
            VaultAnswer::Failed { .. } => "Failed",
            VaultAnswer::TimedOut => "TimedOut",
        }
    }
}
