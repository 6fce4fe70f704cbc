//! Secret stores for Node: the storage key rule, a memory store and a file store,
//! all forwarding to `localfirst_core::secret_store`.

use std::path::PathBuf;

use localfirst_core::app::storage_key_for as storage_key_for_parts;
use localfirst_core::secret_store::{
    AuthSecretStore as _, AuthSecretStoreExt as _, FileStore, MemoryStore, StorageKey,
};
use napi::bindgen_prelude::Unknown;
use napi::Env;
use napi_derive::napi;

use crate::args::{instance, optional_object, string, Instance};
use crate::error::{OrThrow as _, Result};
use crate::identity::AuthSecret;

/// Which key a store keeps its secret under. Either `key` (used verbatim: 1 to
/// 255 bytes, not blank) or any of `appId`, `userId`, `sessionId` (Jazz's
/// `jazz-auth-secret[:app[:user[:session]]]`, parts trimmed and URI-encoded);
/// nothing at all is the default key `jazz-auth-secret`.
#[napi(object)]
#[derive(Debug, Clone, Default)]
pub struct StorageKeyOptions {
    /// A key chosen by the app, used verbatim. Not combinable with the parts below.
    pub key: Option<String>,
    /// The app id.
    pub app_id: Option<String>,
    /// The user id (for apps that keep one secret per signed-in user).
    pub user_id: Option<String>,
    /// The session id.
    pub session_id: Option<String>,
}

/// The storage key `options` name, as text. Fails with `invalid-storage-key` for a
/// blank or over-long `key`, or a `key` combined with `appId`/`userId`/`sessionId`.
#[napi(ts_args_type = "options?: StorageKeyOptions | undefined | null")]
pub fn storage_key_for(env: &Env, options: Option<Unknown>) -> napi::Result<String> {
    Ok(storage_key(options).or_throw(env)?.as_str().to_owned())
}

/// The key `options` (a `StorageKeyOptions` object, or nothing) name: the core's
/// `storage_key_for`.
fn storage_key(options: Option<Unknown>) -> Result<StorageKey> {
    let options: StorageKeyOptions = optional_object(options, "options")?.unwrap_or_default();
    Ok(storage_key_for_parts(
        options.key,
        options.app_id,
        options.user_id,
        options.session_id,
    )?)
}

/// Keeps secrets in process memory (tests, previews, scripts). A store made with
/// `sibling` shares the memory under another key; a new store has its own.
#[napi]
pub struct MemorySecretStore {
    store: MemoryStore,
}

#[napi]
impl MemorySecretStore {
    /// An empty store bound to the key `options` name.
    #[napi(
        constructor,
        ts_args_type = "options?: StorageKeyOptions | undefined | null"
    )]
    pub fn new(env: &Env, options: Option<Unknown>) -> napi::Result<MemorySecretStore> {
        Ok(MemorySecretStore {
            store: MemoryStore::new(storage_key(options).or_throw(env)?),
        })
    }

    /// A store over the same memory, bound to the key `options` name.
    #[napi(ts_args_type = "options?: StorageKeyOptions | undefined | null")]
    pub fn sibling(&self, env: &Env, options: Option<Unknown>) -> napi::Result<MemorySecretStore> {
        Ok(MemorySecretStore {
            store: self.store.sibling(storage_key(options).or_throw(env)?),
        })
    }
}

/// Keeps one secret per storage key in a directory: atomic writes, files of mode
/// 0600 in a directory of mode 0700, a lock shared with other processes.
#[napi]
pub struct FileSecretStore {
    store: FileStore,
}

#[napi]
impl FileSecretStore {
    /// Opens the store for the key `options` name in `dir`, creating the directory.
    #[napi(
        constructor,
        ts_args_type = "dir: string, options?: StorageKeyOptions | undefined | null"
    )]
    pub fn new(env: &Env, dir: Unknown, options: Option<Unknown>) -> napi::Result<FileSecretStore> {
        let open = || -> Result<FileStore> {
            let dir = PathBuf::from(string(dir, "dir")?);
            Ok(FileStore::open(dir, storage_key(options)?)?)
        };
        Ok(FileSecretStore {
            store: open().or_throw(env)?,
        })
    }

    /// The path of the file holding this key's secret.
    #[napi(getter)]
    pub fn path(&self) -> String {
        self.store.path().to_string_lossy().into_owned()
    }
}

/// The four store operations, forwarded to the core store inside `$ty`.
macro_rules! store_operations {
    ($ty:ident) => {
        impl $ty {
            /// The core store inside (for the vault steps).
            pub(crate) fn core(&self) -> &dyn localfirst_core::secret_store::AuthSecretStore {
                &self.store
            }
        }

        #[napi]
        impl $ty {
            /// The key this store reads and writes.
            #[napi(getter)]
            pub fn storage_key(&self) -> String {
                self.store.storage_key().as_str().to_owned()
            }

            /// The stored secret, or `null` when the store definitively holds none.
            /// A read that fails throws (`secret-store-*` codes); it never reads as absent.
            #[napi]
            pub fn load_secret(&self, env: &Env) -> napi::Result<Option<AuthSecret>> {
                Ok(self
                    .store
                    .load_secret()
                    .or_throw(env)?
                    .map(AuthSecret::from))
            }

            /// Stores `secret`, replacing any previous one.
            #[napi(ts_args_type = "secret: AuthSecret")]
            pub fn save_secret(&self, env: &Env, secret: Instance<AuthSecret>) -> napi::Result<()> {
                let secret = instance(secret, "secret", "AuthSecret").or_throw(env)?;
                self.store
                    .save_secret(secret.secret().clone())
                    .or_throw(env)
            }

            /// Removes the secret; clearing an absent secret succeeds.
            #[napi]
            pub fn clear_secret(&self, env: &Env) -> napi::Result<()> {
                self.store.clear_secret().or_throw(env)
            }

            /// The stored secret, or a new one created and stored when the store
            /// definitively holds none. Atomic: concurrent callers get the same
            /// secret, and an existing secret is never replaced.
            #[napi]
            pub fn get_or_create_secret(&self, env: &Env) -> napi::Result<AuthSecret> {
                self.store
                    .get_or_create_secret()
                    .map(AuthSecret::from)
                    .or_throw(env)
            }
        }
    };
}

store_operations!(MemorySecretStore);
store_operations!(FileSecretStore);
