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
use std::time::Duration;

use clap::{Args, Subcommand};
use localfirst_core::identity::Identity;
use localfirst_core::secret::Secret;
use localfirst_core::secret_store::file::DEFAULT_LOCK_TIMEOUT;
use localfirst_core::secret_store::{
    app_secret, storage_key_for, AuthSecretStore, FileStoreOptions, SecretPurpose, StorageKey,
};
use localfirst_core::{Code, ErrorCode as _};

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

    /// `file:<dir>`; a directory starting with `~/` (or just `~`) is under `$HOME`,
    /// as a shell would expand it (shells leave a `~` after `file:` alone).
    fn from_str(text: &str) -> Result<StoreSpec, String> {
        match text.split_once(':') {
            Some(("file", dir)) if !dir.trim().is_empty() => {
                Ok(StoreSpec::File(expand_home(dir, std::env::var_os("HOME"))?))
            }
            Some(("file", _)) => Err("`file:` needs a directory, e.g. file:./secrets".into()),
            _ => Err(format!(
                "unknown store `{text}`; expected file:<dir> (other stores live on devices)"
            )),
        }
    }
}

/// `~` and `~/...` under `home`; `~user` forms are refused (they would otherwise
/// become a directory literally named `~user`). Other paths are kept as given.
fn expand_home(dir: &str, home: Option<std::ffi::OsString>) -> Result<PathBuf, String> {
    let rest = match dir.strip_prefix('~') {
        None => return Ok(dir.into()),
        Some(rest) if rest.is_empty() || rest.starts_with('/') => rest.trim_start_matches('/'),
        Some(_) => {
            return Err(format!(
                "`{dir}`: only `~` and `~/...` are expanded (to $HOME); write the full path"
            ))
        }
    };
    match home.filter(|home| !home.is_empty()) {
        Some(home) => Ok(PathBuf::from(home).join(rest)),
        None => Err(format!("`{dir}` needs $HOME, which is not set")),
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
    /// Seconds to wait for the store's lock when another process holds it, then
    /// fail with `secret-store-locked` (0 tries once).
    #[arg(
        long,
        value_name = "SECONDS",
        default_value_t = DEFAULT_LOCK_TIMEOUT.as_secs(),
        value_parser = clap::value_parser!(u64).range(0..=MAX_LOCK_TIMEOUT_SECONDS)
    )]
    pub lock_timeout: u64,
}

/// Longest `--lock-timeout`: one hour.
const MAX_LOCK_TIMEOUT_SECONDS: u64 = 3600;

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
    /// The storage key these arguments select, by the core's rule
    /// (`secret_store::storage_key_for`). `--key` together with an id is already a
    /// usage error (the flags conflict). A given but blank `--app-id`, `--user-id`
    /// or `--session-id` is refused here (it would silently select a shorter key,
    /// perhaps the global default): a typed flag is expected to mean something.
    pub fn storage_key(&self) -> Result<StorageKey, CliError> {
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
        storage_key_for(
            self.key.clone(),
            self.app_id.clone(),
            self.user_id.clone(),
            self.session_id.clone(),
        )
        .map_err(|e| CliError::new(e.code(), format!("--key: {e}")))
    }

    /// Opens the selected store for a write (creating its directory). Call it only
    /// after every other input of the command has been validated.
    pub fn open(&self) -> Result<Box<dyn AuthSecretStore>, CliError> {
        let key = self.storage_key()?;
        open_store(&self.store, key, self.options())
    }

    /// Opens the selected store for a read or a clear: `None`, with nothing
    /// created, when its directory does not exist.
    pub fn open_existing(&self) -> Result<Option<Box<dyn AuthSecretStore>>, CliError> {
        let key = self.storage_key()?;
        open_existing_store(&self.store, key, self.options())
    }

    fn options(&self) -> FileStoreOptions {
        FileStoreOptions::new().lock_timeout(Duration::from_secs(self.lock_timeout))
    }
}

/// Opens `spec` bound to `key` for writing, creating its directory.
pub fn open_store(
    spec: &StoreSpec,
    key: StorageKey,
    options: FileStoreOptions,
) -> Result<Box<dyn AuthSecretStore>, CliError> {
    match spec {
        StoreSpec::File(dir) => options
            .open(dir, key)
            .map(|store| Box::new(store) as Box<dyn AuthSecretStore>)
            .map_err(|e| CliError::from_error(&e)),
    }
}

/// Opens `spec` bound to `key` if it exists; creates nothing.
pub fn open_existing_store(
    spec: &StoreSpec,
    key: StorageKey,
    options: FileStoreOptions,
) -> Result<Option<Box<dyn AuthSecretStore>>, CliError> {
    match spec {
        StoreSpec::File(dir) => options
            .open_existing(dir, key)
            .map(|store| store.map(|store| Box::new(store) as Box<dyn AuthSecretStore>))
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
        SecretCommand::Load {
            store: args,
            reveal,
        } => {
            let store = args.open_existing()?;
            let secret = match &store {
                Some(store) => app_secret(store.as_ref(), SecretPurpose::Read).map_err(fail)?,
                None => None,
            };
            match (store, secret) {
                (Some(store), Some(secret)) => {
                    Ok(identity_report(store.as_ref(), &secret, *reveal))
                }
                _ => Err(CliError::new(
                    Code::Absent,
                    format!("no secret is stored under `{}`", args.storage_key()?),
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
        SecretCommand::Clear { store: args } => {
            // A store whose directory does not exist holds nothing to clear.
            if let Some(store) = args.open_existing()? {
                store.clear_secret().map_err(fail)?;
            }
            Ok(Report::new()
                .field("cleared", true)
                .field("storage_key", args.storage_key()?.to_string()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn home_is_expanded_only_for_tilde_and_tilde_slash() {
        let home = Some(std::ffi::OsString::from("/home/u"));
        assert_eq!(
            expand_home("~/x/y", home.clone()),
            Ok(PathBuf::from("/home/u/x/y"))
        );
        assert_eq!(expand_home("~", home.clone()), Ok(PathBuf::from("/home/u")));
        assert_eq!(
            expand_home("~//x", home.clone()),
            Ok(PathBuf::from("/home/u/x"))
        );
        assert_eq!(
            expand_home("./~/x", home.clone()),
            Ok(PathBuf::from("./~/x"))
        );
        assert_eq!(expand_home("/a/~", home.clone()), Ok(PathBuf::from("/a/~")));
        assert!(expand_home("~other/x", home).is_err());
        assert!(expand_home("~/x", None).is_err());
        assert!(expand_home("~/x", Some(std::ffi::OsString::new())).is_err());
    }
}
