//! Secret stores: the foreign-implementable [`AuthSecretStore`] trait and the built-in
//! stores (the core's conformance suite for any store is in `testing`).
//!
//! Two adapters, type conversion only: built-in stores expose a core store as the
//! exported trait; [`ForeignStore`] exposes an exported-trait store (written in
//! Kotlin or Swift) as the core's trait, so the core's `get_or_create` and its
//! conformance suite run over it unchanged.

use std::path::PathBuf;
use std::sync::Arc;

use localfirst_core::secret::Secret;
use localfirst_core::secret_store::{
    AuthSecretStore as CoreStore, AuthSecretStoreExt as _, FileStore, MemoryStore,
    StorageKey as CoreKey, StoreError,
};

use crate::error::LocalFirstError;
use crate::identity::AuthSecret;

/// The name under which one secret is stored.
///
/// `StorageKey.defaultKey()` is `jazz-auth-secret`; `forApp` and `namespaced` append
/// `:`-joined, URI-encoded parts (Jazz's format); `explicit` uses a key verbatim.
#[derive(Debug, Clone, PartialEq, Eq, Hash, uniffi::Object)]
#[uniffi::export(Debug, Eq, Hash, Display)]
pub struct StorageKey {
    pub(crate) key: CoreKey,
}

#[uniffi::export]
impl StorageKey {
    /// The default key, `jazz-auth-secret`, shared with Jazz's stores.
    #[uniffi::constructor]
    pub fn default_key() -> Arc<StorageKey> {
        StorageKey::wrap(CoreKey::default())
    }

    /// `jazz-auth-secret:<appId>`, the key of an app's secret (the default key when
    /// `appId` is blank).
    #[uniffi::constructor]
    pub fn for_app(app_id: String) -> Arc<StorageKey> {
        StorageKey::wrap(CoreKey::for_app(&app_id))
    }

    /// `jazz-auth-secret[:<app>[:<user>[:<session>]]]`, parts trimmed and
    /// URI-encoded, blank parts dropped (tagged `user=`... when a part before a
    /// present one is missing).
    #[uniffi::constructor]
    pub fn namespaced(
        app_id: Option<String>,
        user_id: Option<String>,
        session_id: Option<String>,
    ) -> Arc<StorageKey> {
        StorageKey::wrap(CoreKey::namespaced(
            app_id.as_deref(),
            user_id.as_deref(),
            session_id.as_deref(),
        ))
    }

    /// A key chosen by the app, used verbatim: 1 to 255 bytes, not blank
    /// (else code `invalid-storage-key`).
    #[uniffi::constructor]
    pub fn explicit(key: String) -> Result<Arc<StorageKey>, LocalFirstError> {
        Ok(StorageKey::wrap(CoreKey::explicit(&key)?))
    }

    /// The key as text.
    pub fn as_string(&self) -> String {
        self.key.as_str().to_owned()
    }
}

impl std::fmt::Display for StorageKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.key.fmt(f)
    }
}

impl StorageKey {
    pub(crate) fn wrap(key: CoreKey) -> Arc<StorageKey> {
        Arc::new(StorageKey { key })
    }
}

/// A place that keeps one secret under one [`StorageKey`]. Implement it in Swift or
/// Kotlin to keep the secret somewhere of your own, and check the implementation
/// with `runSecretStoreConformance`.
///
/// The rule: a read that fails is never "absent". Return `null`/`nil` from
/// `loadSecret` only when the backend definitively holds nothing; otherwise throw
/// a `LocalFirstError` with the store's code (`secret-store-unavailable`, ...). Methods are synchronous and may be
/// called from any thread.
#[uniffi::export(rust, foreign)]
pub trait AuthSecretStore: Send + Sync {
    /// The key this store reads and writes.
    fn storage_key(&self) -> Arc<StorageKey>;

    /// Reads the secret; `null` only when definitively absent.
    fn load_secret(&self) -> Result<Option<Arc<AuthSecret>>, LocalFirstError>;

    /// Stores `secret`, replacing any previous one.
    fn save_secret(&self, secret: Arc<AuthSecret>) -> Result<(), LocalFirstError>;

    /// Removes the secret. Clearing an absent secret succeeds.
    fn clear_secret(&self) -> Result<(), LocalFirstError>;

    /// Stores `secret` only if nothing is stored, and returns what is stored
    /// afterwards (`secret`, or the one already there). Never replaces.
    fn create_secret(&self, secret: Arc<AuthSecret>) -> Result<Arc<AuthSecret>, LocalFirstError>;

    /// Returns the stored secret, or creates, stores and returns a new one when the
    /// store definitively holds none. Foreign implementations should return
    /// `defaultGetOrCreateSecret(this)`, the core's atomic algorithm over
    /// `loadSecret` and `createSecret`.
    fn get_or_create_secret(&self) -> Result<Arc<AuthSecret>, LocalFirstError>;
}

/// The core's `get_or_create` over any store: under an in-process exclusive
/// section per storage key, `loadSecret`, and only if that is definitively absent,
/// `createSecret` with a fresh secret. Read errors propagate; nothing is minted
/// over them. Do not call it while the same store's `loadSecret` or `createSecret`
/// is running on this thread (the section is not re-entrant).
#[uniffi::export]
pub fn default_get_or_create_secret(
    store: Arc<dyn AuthSecretStore>,
) -> Result<Arc<AuthSecret>, LocalFirstError> {
    let adapter = ForeignStore::new(store);
    Ok(AuthSecret::wrap(adapter.get_or_create_secret()?))
}

/// The built-in file store: one file per storage key in `dir`, atomic writes,
/// mode 0600, a cross-process lock. For desktops, CLIs and tests.
#[derive(Debug, uniffi::Object)]
pub struct FileSecretStore {
    store: FileStore,
}

#[uniffi::export]
impl FileSecretStore {
    /// Opens the store for `storageKey` in `dir`, creating the directory (mode 0700).
    #[uniffi::constructor]
    pub fn new(
        dir: String,
        storage_key: Arc<StorageKey>,
    ) -> Result<Arc<FileSecretStore>, LocalFirstError> {
        let store = FileStore::open(PathBuf::from(dir), storage_key.key.clone())?;
        Ok(Arc::new(FileSecretStore { store }))
    }

    /// The path of the file holding this key's secret.
    pub fn path(&self) -> String {
        self.store.path().to_string_lossy().into_owned()
    }
}

/// The built-in memory store: secrets live as long as the process. Stores made
/// with `sibling` share memory under another key.
#[derive(Debug, uniffi::Object)]
pub struct MemorySecretStore {
    store: MemoryStore,
}

#[uniffi::export]
impl MemorySecretStore {
    /// An empty store bound to `storageKey`.
    #[uniffi::constructor]
    pub fn new(storage_key: Arc<StorageKey>) -> Arc<MemorySecretStore> {
        Arc::new(MemorySecretStore {
            store: MemoryStore::new(storage_key.key.clone()),
        })
    }

    /// A store over the same memory, bound to `storageKey`.
    pub fn sibling(&self, storage_key: Arc<StorageKey>) -> Arc<MemorySecretStore> {
        Arc::new(MemorySecretStore {
            store: self.store.sibling(storage_key.key.clone()),
        })
    }
}

/// Forwards the exported trait to a core store.
pub(crate) fn load(store: &dyn CoreStore) -> Result<Option<Arc<AuthSecret>>, LocalFirstError> {
    Ok(store.load_secret()?.map(AuthSecret::wrap))
}

pub(crate) fn create(
    store: &dyn CoreStore,
    secret: &AuthSecret,
) -> Result<Arc<AuthSecret>, LocalFirstError> {
    Ok(AuthSecret::wrap(
        store.create_secret(secret.secret().clone())?,
    ))
}

/// Exports `AuthSecretStore` for a wrapper whose `store` field is a core store.
macro_rules! builtin_store {
    ($ty:ty) => {
        #[uniffi::export]
        impl $crate::store::AuthSecretStore for $ty {
            fn storage_key(&self) -> ::std::sync::Arc<$crate::store::StorageKey> {
                use ::localfirst_core::secret_store::AuthSecretStore as _;
                $crate::store::StorageKey::wrap(self.store.storage_key())
            }

            fn load_secret(
                &self,
            ) -> Result<Option<::std::sync::Arc<$crate::AuthSecret>>, $crate::LocalFirstError> {
                $crate::store::load(&self.store)
            }

            fn save_secret(
                &self,
                secret: ::std::sync::Arc<$crate::AuthSecret>,
            ) -> Result<(), $crate::LocalFirstError> {
                use ::localfirst_core::secret_store::AuthSecretStore as _;
                Ok(self.store.save_secret(secret.secret().clone())?)
            }

            fn clear_secret(&self) -> Result<(), $crate::LocalFirstError> {
                use ::localfirst_core::secret_store::AuthSecretStore as _;
                Ok(self.store.clear_secret()?)
            }

            fn create_secret(
                &self,
                secret: ::std::sync::Arc<$crate::AuthSecret>,
            ) -> Result<::std::sync::Arc<$crate::AuthSecret>, $crate::LocalFirstError> {
                $crate::store::create(&self.store, &secret)
            }

            fn get_or_create_secret(
                &self,
            ) -> Result<::std::sync::Arc<$crate::AuthSecret>, $crate::LocalFirstError> {
                use ::localfirst_core::secret_store::AuthSecretStoreExt as _;
                Ok($crate::AuthSecret::wrap(self.store.get_or_create_secret()?))
            }
        }
    };
}

pub(crate) use builtin_store;

builtin_store!(FileSecretStore);
builtin_store!(MemorySecretStore);

/// A foreign store's error, back into the core's: the code decides
/// ([`StoreError::from_report`]); a code that is not a store's becomes `secret-store-backend`.
impl From<LocalFirstError> for StoreError {
    fn from(error: LocalFirstError) -> StoreError {
        StoreError::from_report(error.report())
    }
}

/// An exported-trait store (possibly foreign) seen as a core store. The storage
/// key is read once, when the adapter is made.
pub(crate) struct ForeignStore {
    inner: Arc<dyn AuthSecretStore>,
    key: CoreKey,
}

impl ForeignStore {
    pub(crate) fn new(inner: Arc<dyn AuthSecretStore>) -> ForeignStore {
        let key = inner.storage_key().key.clone();
        ForeignStore { inner, key }
    }
}

impl CoreStore for ForeignStore {
    fn storage_key(&self) -> CoreKey {
        self.key.clone()
    }

    fn load_secret(&self) -> Result<Option<Secret>, StoreError> {
        Ok(self.inner.load_secret()?.map(|s| s.secret().clone()))
    }

    fn save_secret(&self, secret: Secret) -> Result<(), StoreError> {
        Ok(self.inner.save_secret(AuthSecret::wrap(secret))?)
    }

    fn clear_secret(&self) -> Result<(), StoreError> {
        Ok(self.inner.clear_secret()?)
    }

    fn create_secret(&self, secret: Secret) -> Result<Secret, StoreError> {
        Ok(self
            .inner
            .create_secret(AuthSecret::wrap(secret))?
            .secret()
            .clone())
    }
}
