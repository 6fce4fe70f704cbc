//! Provider-held vault: the identity provider keeps the account secret, and
//! signing in on a new device hands it back (Jazz's Clerk integration).
//!
//! The app implements [`SecretVault`] over its provider (a per-user metadata
//! field, a key-value endpoint). [`restore_or_backup_with_vault`] then makes the
//! device and the vault agree:
//!
//! * the vault holds a secret → it is validated and becomes this device's
//!   identity ([`VaultOutcome::Restored`]), or already is ([`VaultOutcome::InSync`]);
//!   if the device holds **another** identity nothing is replaced: the flow
//!   fails with [`VaultError::IdentityConflict`] carrying both user ids, and the
//!   app decides (after asking the user) whether to call [`adopt_vault_identity`];
//! * the vault is empty → this device's secret (created if the store has none)
//!   is written to the vault, read back and compared ([`VaultOutcome::BackedUp`]).
//!
//! A vault that fails or does not answer within [`VaultOptions::timeout`] never
//! leads to a new identity: no secret is created unless the vault definitively
//! answered "empty". A value that is not a secret is [`VaultError::Corrupt`] and
//! replaces nothing.
//!
//! Every decision lives in one sans-IO state machine, [`VaultDriver`]: it names
//! the next vault call ([`VaultAction`]) and takes its result ([`VaultAnswer`]).
//! The two async functions here are a loop over it with a Rust [`SecretVault`];
//! callers whose vault is not Rust (a JavaScript object, a platform's networking)
//! run the same loop over the driver themselves.
//!
//! The vault's futures and the store's (blocking) calls run on a tokio runtime:
//! the one given in [`VaultOptions::runtime`], else the current one; awaiting the
//! flow itself works from any executor.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use tokio::runtime::Handle;
use zeroize::Zeroizing;

use crate::error::{Code, ErrorCode, ErrorDetails};
use crate::secret::Secret;
use crate::secret_store::{AuthSecretStore, StoreError};

mod driver;
mod steps;

pub use driver::{VaultAction, VaultAnswer, VaultCompletion, VaultDriver, DEFAULT_VAULT_TIMEOUT};
pub use steps::{
    adopt_vault_value, confirm_vault_readback, restore_from_vault_value, secret_for_vault_backup,
    VaultBackup,
};

/// The future a [`SecretVault`] call returns.
pub type VaultFuture<T> =
    Pin<Box<dyn Future<Output = Result<T, VaultAccessError>> + Send + 'static>>;

/// Where the app's provider keeps the account secret for the signed-in user.
///
/// Both calls may do network I/O. [`load`](Self::load) answers `Ok(None)` only
/// when the provider definitively holds nothing for the user; any failure
/// (network, refused credential, unexpected answer) is an `Err`, never `None`,
/// or a new identity would be made and written over nothing.
pub trait SecretVault: Send + Sync {
    /// The value stored for the signed-in user, if any.
    fn load(&self) -> VaultFuture<Option<VaultValue>>;

    /// Stores `value` for the signed-in user, replacing what is there.
    fn store(&self, value: VaultValue) -> VaultFuture<()>;
}

/// A vault call failed (network, provider refused, ...).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{reason}")]
pub struct VaultAccessError {
    /// The vault's message (never secret material).
    pub reason: String,
}

impl VaultAccessError {
    /// A vault failure with `reason`.
    pub fn new(reason: impl Into<String>) -> VaultAccessError {
        VaultAccessError {
            reason: reason.into(),
        }
    }
}

/// What a vault holds: the secret as unpadded base64url text (43 characters), as
/// the vault stores it. Wiped on drop; `Debug` is redacted. A value read from a
/// vault is only text until the flow validates it.
#[derive(Clone, PartialEq, Eq)]
pub struct VaultValue(Zeroizing<String>);

impl VaultValue {
    /// Wraps text read from a vault.
    pub fn new(text: impl Into<String>) -> VaultValue {
        VaultValue(Zeroizing::new(text.into()))
    }

    /// The value for `secret`.
    pub fn of(secret: &Secret) -> VaultValue {
        VaultValue(secret.to_base64url())
    }

    /// The text. Hand it to the vault and nowhere else.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The secret it holds, or [`VaultError::Corrupt`].
    pub fn to_secret(&self) -> Result<Secret, VaultError> {
        Secret::parse_base64url(&self.0).map_err(|e| VaultError::Corrupt {
            reason: e.to_string(),
        })
    }
}

impl std::fmt::Debug for VaultValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("VaultValue(<redacted>)")
    }
}

/// How the vault flow runs.
#[derive(Debug, Clone)]
pub struct VaultOptions {
    /// Bound on each vault call (load, store, read-back).
    pub timeout: Duration,
    /// The runtime the vault futures and store calls run on; `None` uses the
    /// runtime the flow is awaited on (and fails with `runtime-unavailable`
    /// outside one).
    pub runtime: Option<Handle>,
}

impl Default for VaultOptions {
    fn default() -> VaultOptions {
        VaultOptions {
            timeout: DEFAULT_VAULT_TIMEOUT,
            runtime: None,
        }
    }
}

impl VaultOptions {
    /// Defaults with another timeout.
    pub fn with_timeout(timeout: Duration) -> VaultOptions {
        VaultOptions {
            timeout,
            ..VaultOptions::default()
        }
    }

    /// These options, running on `runtime`.
    pub fn on_runtime(mut self, runtime: Handle) -> VaultOptions {
        self.runtime = Some(runtime);
        self
    }
}

/// What [`restore_or_backup_with_vault`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
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
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VaultIdentity {
    /// What the flow did.
    pub outcome: VaultOutcome,
    /// The user id of the shared secret.
    pub user_id: String,
    /// The shared secret (open the `Db` with it).
    pub secret: Secret,
}

/// What [`adopt_vault_identity`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdoptedIdentity {
    /// The vault's user id, now this device's.
    pub user_id: String,
    /// The vault's secret, now in the device's store.
    pub secret: Secret,
    /// The secret the device held before, if any: it is no longer stored. Offer
    /// its recovery phrase to the user before dropping it.
    pub replaced: Option<Secret>,
}

/// Why the vault flow failed. None of these created or replaced an identity
/// except as each variant says.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum VaultError {
    /// The vault's load or store failed. If it was the first load, nothing was
    /// created; if it was the backup write, the device keeps its secret.
    #[error("the vault failed: {reason}")]
    Unavailable {
        /// The vault's message.
        reason: String,
    },
    /// A vault call did not finish within the timeout.
    #[error("the vault did not answer within {timeout:?}")]
    Timeout {
        /// The timeout.
        timeout: Duration,
    },
    /// The vault holds a value that is not a secret; nothing was replaced.
    #[error("the vault holds no valid secret: {reason}")]
    Corrupt {
        /// Why the value was refused (never the value).
        reason: String,
    },
    /// The backup write succeeded but reading back found nothing.
    #[error("the vault did not return the secret just written")]
    WriteUnconfirmed,
    /// The vault holds another identity than the device. Nothing was replaced;
    /// [`adopt_vault_identity`] replaces the device's.
    #[error("the vault holds user {vault_user_id} but this device is user {device_user_id}")]
    IdentityConflict {
        /// The identity the device holds.
        device_user_id: String,
        /// The identity the vault holds.
        vault_user_id: String,
    },
    /// The device's secret store failed (its own code).
    #[error(transparent)]
    Store(#[from] StoreError),
    /// No tokio runtime to run the vault on.
    #[error("no runtime to run the vault flow on: {reason}")]
    Runtime {
        /// Why.
        reason: String,
    },
    /// The flow was driven wrongly: a zero timeout, or an answer that does not fit
    /// the pending [`VaultAction`] (code `invalid-argument`). That answer touched
    /// nothing.
    #[error("{reason}")]
    InvalidArgument {
        /// What was wrong.
        reason: String,
    },
}

impl ErrorCode for VaultError {
    fn code(&self) -> Code {
        match self {
            VaultError::Unavailable { .. } => Code::VaultUnavailable,
            VaultError::Timeout { .. } => Code::VaultTimeout,
            VaultError::Corrupt { .. } => Code::VaultCorrupt,
            VaultError::WriteUnconfirmed => Code::VaultWriteUnconfirmed,
            VaultError::IdentityConflict { .. } => Code::VaultIdentityConflict,
            VaultError::Store(error) => error.code(),
            VaultError::Runtime { .. } => Code::RuntimeUnavailable,
            VaultError::InvalidArgument { .. } => Code::InvalidArgument,
        }
    }

    fn details(&self) -> Option<ErrorDetails> {
        match self {
            VaultError::Timeout { timeout } => Some(ErrorDetails::VaultTimeout {
                timeout_ms: u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX),
            }),
            VaultError::IdentityConflict {
                device_user_id,
                vault_user_id,
            } => Some(ErrorDetails::IdentityConflict {
                device_user_id: device_user_id.clone(),
                vault_user_id: vault_user_id.clone(),
            }),
            VaultError::Store(error) => error.details(),
            _ => None,
        }
    }
}

/// Makes the device's secret store and the vault hold the same identity (see the
/// module documentation for each case): [`VaultDriver::start`] driven with `vault`.
pub async fn restore_or_backup_with_vault(
    vault: Arc<dyn SecretVault>,
    store: Arc<dyn AuthSecretStore>,
    options: VaultOptions,
) -> Result<VaultIdentity, VaultError> {
    let handle = runtime(&options)?;
    let driver = VaultDriver::start(store, Some(options.timeout))?;
    match join(handle.spawn(drive(vault, driver))).await? {
        VaultCompletion::Shared { identity } => Ok(identity),
        VaultCompletion::Adopted { .. } => Err(ended_otherwise()),
    }
}

/// Replaces the device's identity with the vault's, after a
/// [`VaultError::IdentityConflict`] and the user's consent:
/// [`VaultDriver::start_adopt`] driven with `vault`.
///
/// `vault_user_id` is the id the user agreed to (from the conflict): if the vault
/// now holds another one, nothing is replaced and the conflict is reported again.
/// The device's previous secret is returned in [`AdoptedIdentity::replaced`]; its
/// local rows stay in the database, owned by the old user id.
pub async fn adopt_vault_identity(
    vault: Arc<dyn SecretVault>,
    store: Arc<dyn AuthSecretStore>,
    vault_user_id: &str,
    options: VaultOptions,
) -> Result<AdoptedIdentity, VaultError> {
    let handle = runtime(&options)?;
    let driver = VaultDriver::start_adopt(store, vault_user_id.to_owned(), Some(options.timeout))?;
    match join(handle.spawn(drive(vault, driver))).await? {
        VaultCompletion::Adopted { adopted } => Ok(adopted),
        VaultCompletion::Shared { .. } => Err(ended_otherwise()),
    }
}

/// A driver ended with the completion of the other flow (it cannot: each start
/// has one kind of completion).
fn ended_otherwise() -> VaultError {
    VaultError::InvalidArgument {
        reason: "the vault flow ended with another kind of result than it started for".to_owned(),
    }
}

fn runtime(options: &VaultOptions) -> Result<Handle, VaultError> {
    match &options.runtime {
        Some(handle) => Ok(handle.clone()),
        None => Handle::try_current().map_err(|e| VaultError::Runtime {
            reason: e.to_string(),
        }),
    }
}

async fn join<T>(task: tokio::task::JoinHandle<Result<T, VaultError>>) -> Result<T, VaultError> {
    task.await.unwrap_or_else(|e| {
        Err(VaultError::Unavailable {
            reason: format!("the vault task failed: {e}"),
        })
    })
}

/// The one loop over the driver: performs each vault call within the action's
/// timeout and runs each (blocking) store step off the async workers.
async fn drive(
    vault: Arc<dyn SecretVault>,
    driver: VaultDriver,
) -> Result<VaultCompletion, VaultError> {
    let driver = Arc::new(driver);
    let mut action = driver.next_action();
    loop {
        let answer = match action {
            VaultAction::ReadVault { timeout } => match bounded(vault.load(), timeout).await {
                Ok(value) => VaultAnswer::Loaded { value },
                Err(answer) => answer,
            },
            VaultAction::WriteVault { value, timeout } => {
                match bounded(vault.store(value), timeout).await {
                    Ok(()) => VaultAnswer::Stored,
                    Err(answer) => answer,
                }
            }
            VaultAction::Done { completion } => return Ok(completion),
            VaultAction::Failed { error } => return Err(error),
        };
        let step = Arc::clone(&driver);
        action = tokio::task::spawn_blocking(move || step.resume(answer))
            .await
            .map_err(|e| {
                VaultError::Store(StoreError::Backend {
                    reason: format!("the secret store call failed: {e}"),
                })
            })?;
    }
}

/// A vault call within `timeout`, its failure as the driver's answer.
async fn bounded<T>(call: VaultFuture<T>, timeout: Duration) -> Result<T, VaultAnswer> {
    match tokio::time::timeout(timeout, call).await {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(error)) => Err(VaultAnswer::Failed {
            reason: error.reason,
        }),
        Err(_) => Err(VaultAnswer::TimedOut),
    }
}
