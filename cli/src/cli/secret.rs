//! `localfirst secret ...`: the secret stores from the command line.
//!
//! Every command names a store (`--store file:<dir>`) and a storage key (the
//! default `jazz-auth-secret`, namespaced with `--app-id`/`--user-id`/
//! `--session-id`, or replaced with `--key`). Commands print the user id of
//! the stored secret, never the secret itself unless `--reveal` is given.
//!
//! `get-or-create` is atomic across processes: any number of concurrent
//! invocations on one directory print the same user id.

use std::path::PathBuf;

use clap::{Args, Subcommand};
use localfirst_core::identity::Identity;
use localfirst_core::secret::Secret;
use localfirst_core::secret_store::{
    app_secret, AuthSecretStore, FileStore, SecretPurpose, StorageKey,
};
use localfirst_core::Code;

use super::identity::secret_arg;
use super::{CliError, Report};

/// Where secrets are kept, as given to `--store`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreSpec {
    /// `file:<dir>`: one file per storage key in `dir`.
    File(PathBuf),
}

impl std::str::FromStr for StoreSpec {
    type Err = String;

    fn from_str(text: &str) -> Result<StoreSpec, String> {
        match text.split_once(':') {
            Some(("file", dir)) if !dir.trim().is_empty() => Ok(StoreSpec::File(dir.into())),
            Some(("file", _)) => Err("`file:` needs a directory, e.g. file:./secrets".into()),
            _ => Err(format!(
                "unknown store `{text}`; expected file:<dir> (other stores live on devices)"
            )),
        }
    }
}

/// Which store and which storage key a command works on.
#[derive(Debug, Clone, Args)]
pub struct StoreArgs {
    /// The store: `file:<dir>`.
    #[arg(long)]
    pub store: StoreSpec,
    /// Namespace the key by app id: `jazz-auth-secret:<app-id>`.
    #[arg(long, conflicts_with = "key", allow_hyphen_values = true)]
    pub app_id: Option<String>,
    /// Namespace further by user id (after the app id).
    #[arg(long, conflicts_with = "key", allow_hyphen_values = true)]
    pub user_id: Option<String>,
    /// Namespace further by session id (after the user id).
    #[arg(long, conflicts_with = "key", allow_hyphen_values = true)]
    pub session_id: Option<String>,
    /// Use this storage key verbatim instead of `jazz-auth-secret[:...]`.
    #[arg(long, allow_hyphen_values = true)]
    pub key: Option<String>,
}

/// `localfirst secret ...`
#[derive(Debug, Subcommand)]
pub enum SecretCommand {
    /// Print the stored identity, creating and storing a new one if (and only
    /// if) the store definitively holds none.
    GetOrCreate {
        /// Store and key.
        #[command(flatten)]
        store: StoreArgs,
        /// Also print the secret itself.
        #[arg(long)]
        reveal: bool,
    },
    /// Print the stored identity; fails with code `absent` when there is none.
    Load {
        /// Store and key.
        #[command(flatten)]
        store: StoreArgs,
        /// Also print the secret itself.
        #[arg(long)]
        reveal: bool,
    },
    /// Store a given secret (e.g. one restored from a recovery phrase),
    /// replacing any previous one.
    Save {
        /// Store and key.
        #[command(flatten)]
        store: StoreArgs,
        /// The secret as unpadded base64url, or `-` to read it from stdin.
        #[arg(long, allow_hyphen_values = true)]
        secret: String,
    },
    /// Remove the stored secret. Succeeds when there is none.
    Clear {
        /// Store and key.
        #[command(flatten)]
        store: StoreArgs,
    },
}

impl StoreArgs {
    /// The storage key these arguments select. A given but blank `--app-id`,
    /// `--user-id` or `--session-id` is refused (it would silently select a
    /// shorter key, perhaps the global default).
    pub fn storage_key(&self) -> Result<StorageKey, CliError> {
        match &self.key {
            Some(key) => StorageKey::explicit(key)
                .map_err(|e| CliError::new(Code::InvalidStorageKey, format!("--key: {e}"))),
            None => {
                for (flag, value) in [
                    ("--app-id", &self.app_id),
                    ("--user-id", &self.user_id),
                    ("--session-id", &self.session_id),
                ] {
                    if value.as_deref().is_some_and(|v| v.trim().is_empty()) {
                        return Err(CliError::new(
                            Code::InvalidStorageKey,
                            format!("{flag} must not be blank"),
                        ));
                    }
                }
                Ok(StorageKey::namespaced(
                    self.app_id.as_deref(),
                    self.user_id.as_deref(),
                    self.session_id.as_deref(),
                ))
            }
        }
    }

    /// Opens the selected store (creating its directory). Call it only after every
    /// other input of the command has been validated.
    pub fn open(&self) -> Result<Box<dyn AuthSecretStore>, CliError> {
        let key = self.storage_key()?;
        open_store(&self.store, key)
    }
}

/// Opens `spec` bound to `key`.
pub fn open_store(spec: &StoreSpec, key: StorageKey) -> Result<Box<dyn AuthSecretStore>, CliError> {
    match spec {
        StoreSpec::File(dir) => FileStore::open(dir, key)
            .map(|store| Box::new(store) as Box<dyn AuthSecretStore>)
            .map_err(|e| CliError::from_error(&e)),
    }
}

fn identity_report(store: &dyn AuthSecretStore, secret: &Secret, reveal: bool) -> Report {
    let identity = Identity::from_secret(secret);
    let report = Report::new()
        .field("user_id", identity.user_id().to_string())
        .field("public_key", identity.public_key().to_base64url())
        .field("storage_key", store.storage_key().to_string());
    if reveal {
        report.field("secret", secret.to_base64url().as_str())
    } else {
        report
    }
}

/// Runs `localfirst secret ...`.
pub fn run_secret(command: &SecretCommand) -> Result<Report, CliError> {
    let fail = |e: localfirst_core::secret_store::StoreError| CliError::from_error(&e);
    match command {
        SecretCommand::GetOrCreate { store, reveal } => {
            let store = store.open()?;
            let secret = app_secret(store.as_ref(), SecretPurpose::Write)
                .map_err(fail)?
                .ok_or_else(|| CliError::new(Code::Internal, "get-or-create returned no secret"))?;
            Ok(identity_report(store.as_ref(), &secret, *reveal))
        }
        SecretCommand::Load { store, reveal } => {
            let store = store.open()?;
            match app_secret(store.as_ref(), SecretPurpose::Read).map_err(fail)? {
                Some(secret) => Ok(identity_report(store.as_ref(), &secret, *reveal)),
                None => Err(CliError::new(
                    Code::Absent,
                    format!("no secret is stored under `{}`", store.storage_key()),
                )),
            }
        }
        SecretCommand::Save {
            store,
            secret: value,
        } => {
            let secret = secret_arg(value)?;
            let store = store.open()?;
            store.save_secret(secret.clone()).map_err(fail)?;
            Ok(identity_report(store.as_ref(), &secret, false))
        }
        SecretCommand::Clear { store } => {
            let store = store.open()?;
            store.clear_secret().map_err(fail)?;
            Ok(Report::new()
                .field("cleared", true)
                .field("storage_key", store.storage_key().to_string()))
        }
    }
}
