//! The platform secret stores: the Apple Keychain ([`KeychainSecretStore`]) and the
//! Java KeyStore ([`KeystoreSecretStore`]: the Android Keystore; with the `testing`
//! feature also a PKCS12 file on a desktop JVM, see `testing`).
//!
//! One API on every platform: the Kotlin and Swift sources are generated from the
//! host library and must match the iOS and Android libraries symbol for symbol, so
//! nothing exported here is compiled out by platform. On a platform without a store,
//! its constructors fail with `secret-store-unavailable` and say which platform it
//! needs. Which platform has what is decided once, in the `platform` module at the end
//! (and, for the Java KeyStore, the `jni_store` cfg of build.rs).

use std::path::PathBuf;
use std::sync::Arc;

use localfirst_core::secret_store::keychain::{
    Accessibility, KeychainOptions as CoreKeychainOptions,
};

use crate::error::LocalFirstError;
use crate::store::{builtin_store, StorageKey};

/// When the Keychain item can be read (the Keychain's `kSecAttrAccessible...`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, uniffi::Enum)]
pub enum KeychainAccessibility {
    /// Only while the device is unlocked; restored to other devices from backups.
    WhenUnlocked,
    /// Only while the device is unlocked; never leaves this device.
    WhenUnlockedThisDeviceOnly,
    /// After the first unlock since boot (background work too); restored to other
    /// devices from backups.
    AfterFirstUnlock,
    /// After the first unlock since boot; never leaves this device. The default.
    AfterFirstUnlockThisDeviceOnly,
    /// Only while unlocked and only if a passcode is set (the item is deleted when the
    /// passcode is removed); never leaves this device.
    WhenPasscodeSetThisDeviceOnly,
}

/// How the Keychain store protects the secret. Every field has a default:
/// `KeychainOptions()` is the recommended setting.
#[derive(Debug, Clone, PartialEq, Eq, Hash, uniffi::Record)]
pub struct KeychainOptions {
    /// The generic-password service name; `null`/`nil` is `localfirst`.
    #[uniffi(default)]
    pub service: Option<String>,
    /// When the item can be read; `null`/`nil` is after first unlock, this device only.
    #[uniffi(default)]
    pub accessibility: Option<KeychainAccessibility>,
    /// A shared access group (`TEAMID.group.name`) so app extensions see the secret;
    /// `null`/`nil` uses the app's default group.
    #[uniffi(default)]
    pub access_group: Option<String>,
    /// Require the user's presence (biometry or passcode) for every read.
    #[uniffi(default)]
    pub user_presence: bool,
}

/// The secret in the iOS/macOS Keychain: a generic-password item in the
/// data-protection keychain, account = the storage key (see docs/STORES.md).
///
/// Only on Apple platforms: elsewhere the constructor fails with
/// `secret-store-unavailable`.
#[derive(uniffi::Object)]
pub struct KeychainSecretStore {
    store: platform::Keychain,
}

#[uniffi::export]
impl KeychainSecretStore {
    /// A store for `storageKey` with `options` (default: `KeychainOptions()`). Touches
    /// nothing yet. Fails with `secret-store-unavailable` on a platform without a
    /// Keychain.
    #[uniffi::constructor(default(options))]
    pub fn new(
        storage_key: Arc<StorageKey>,
        options: KeychainOptions,
    ) -> Result<Arc<KeychainSecretStore>, LocalFirstError> {
        let store = platform::keychain(options.into(), storage_key.key.clone())?;
        Ok(Arc::new(KeychainSecretStore { store }))
    }
}

/// The secret encrypted (AES-256-GCM) under a key in a Java `KeyStore`, the envelope
/// in a file (see docs/STORES-android.md).
///
/// On Android, `KeystoreSecretStore(storageKey)` uses the `AndroidKeyStore` and the
/// app's no-backup directory, after `LocalFirstAndroid.init(context)`. Elsewhere it
/// fails with `secret-store-unavailable`. Test builds add `withDesktopKeystore`, the
/// same JNI code on a desktop JVM over a PKCS12 file (a test double).
#[derive(uniffi::Object)]
pub struct KeystoreSecretStore {
    store: platform::Keystore,
    envelope_path: String,
}

#[uniffi::export]
impl KeystoreSecretStore {
    /// The Android Keystore store for `storageKey`, envelopes in the directory
    /// `LocalFirstAndroid.init(context)` recorded (`Context.getNoBackupFilesDir()`).
    /// Fails with `secret-store-backend` if `init` has not been called, and with
    /// `secret-store-unavailable` on anything but Android.
    #[uniffi::constructor]
    pub fn new(storage_key: Arc<StorageKey>) -> Result<Arc<KeystoreSecretStore>, LocalFirstError> {
        let (store, envelope_path) = platform::android_keystore(storage_key.key.clone())?;
        Ok(KeystoreSecretStore::wrap(store, envelope_path))
    }

    /// The file holding this key's envelope (it exists while a secret is stored).
    pub fn envelope_path(&self) -> String {
        self.envelope_path.clone()
    }
}

impl KeystoreSecretStore {
    pub(crate) fn wrap(
        store: platform::Keystore,
        envelope_path: PathBuf,
    ) -> Arc<KeystoreSecretStore> {
        Arc::new(KeystoreSecretStore {
            store,
            envelope_path: envelope_path.to_string_lossy().into_owned(),
        })
    }
}

builtin_store!(KeychainSecretStore);
builtin_store!(KeystoreSecretStore);

impl From<KeychainAccessibility> for Accessibility {
    fn from(value: KeychainAccessibility) -> Accessibility {
        match value {
            KeychainAccessibility::WhenUnlocked => Accessibility::WhenUnlocked,
            KeychainAccessibility::WhenUnlockedThisDeviceOnly => {
                Accessibility::WhenUnlockedThisDeviceOnly
            }
            KeychainAccessibility::AfterFirstUnlock => Accessibility::AfterFirstUnlock,
            KeychainAccessibility::AfterFirstUnlockThisDeviceOnly => {
                Accessibility::AfterFirstUnlockThisDeviceOnly
            }
            KeychainAccessibility::WhenPasscodeSetThisDeviceOnly => {
                Accessibility::WhenPasscodeSetThisDeviceOnly
            }
        }
    }
}

impl From<KeychainOptions> for CoreKeychainOptions {
    fn from(options: KeychainOptions) -> CoreKeychainOptions {
        let defaults = CoreKeychainOptions::default();
        CoreKeychainOptions {
            service: options.service.unwrap_or(defaults.service),
            accessibility: options
                .accessibility
                .map_or(defaults.accessibility, Accessibility::from),
            access_group: options.access_group,
            user_presence: options.user_presence,
        }
    }
}

/// What each platform has. The Java KeyStore store exists where build.rs sets the
/// `jni_store` cfg.
pub(crate) mod platform {
    use std::path::PathBuf;

    use localfirst_core::secret::Secret;
    use localfirst_core::secret_store::keychain::KeychainOptions;
    use localfirst_core::secret_store::{AuthSecretStore, StorageKey, StoreError};

    /// The core store behind `KeychainSecretStore` on this platform.
    #[cfg(target_vendor = "apple")]
    pub(super) type Keychain = localfirst_core::secret_store::keychain::KeychainStore<
        localfirst_core::secret_store::keychain::SystemKeychain,
    >;
    /// No Keychain here: a store that cannot be built.
    #[cfg(not(target_vendor = "apple"))]
    pub(super) type Keychain = Absent;

    /// The Keychain store for `key`.
    pub(super) fn keychain(
        options: KeychainOptions,
        key: StorageKey,
    ) -> Result<Keychain, StoreError> {
        #[cfg(target_vendor = "apple")]
        {
            use localfirst_core::secret_store::keychain::{KeychainStore, SystemKeychain};
            Ok(KeychainStore::new(SystemKeychain, options, key))
        }
        #[cfg(not(target_vendor = "apple"))]
        {
            let _ = (options, key);
            Err(unavailable("the Keychain store needs iOS or macOS"))
        }
    }

    /// The core store behind `KeystoreSecretStore` on this platform.
    #[cfg(jni_store)]
    pub(crate) type Keystore = localfirst_core::secret_store::keystore::AndroidKeystoreStore;
    /// No Java KeyStore store here: a store that cannot be built.
    #[cfg(not(jni_store))]
    pub(crate) type Keystore = Absent;

    /// The Android Keystore store for `key`, and its envelope file.
    pub(super) fn android_keystore(key: StorageKey) -> Result<(Keystore, PathBuf), StoreError> {
        #[cfg(target_os = "android")]
        {
            let store = Keystore::for_android(key)?;
            let path = store.envelope_path();
            Ok((store, path))
        }
        #[cfg(not(target_os = "android"))]
        {
            let _ = key;
            Err(unavailable(if cfg!(feature = "testing") {
                "the Android Keystore store needs Android; on a desktop JVM use \
                 KeystoreSecretStore.withDesktopKeystore"
            } else {
                "the Android Keystore store needs Android"
            }))
        }
    }

    pub(crate) fn unavailable(reason: &str) -> StoreError {
        StoreError::Unavailable {
            reason: format!("{reason}; this library was built for another platform"),
        }
    }

    /// A store type that has no values: what a wrapper holds on a platform where its
    /// store does not exist (its constructors always fail there).
    #[derive(Debug)]
    #[cfg_attr(all(target_os = "macos", jni_store), allow(dead_code))] // both stores
    pub(crate) enum Absent {}

    impl AuthSecretStore for Absent {
        fn storage_key(&self) -> StorageKey {
            match *self {}
        }
        fn load_secret(&self) -> Result<Option<Secret>, StoreError> {
            match *self {}
        }
        fn save_secret(&self, _secret: Secret) -> Result<(), StoreError> {
            match *self {}
        }
        fn clear_secret(&self) -> Result<(), StoreError> {
            match *self {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keychain_options_default_to_the_cores_and_map_every_field() {
        let none = KeychainOptions {
            service: None,
            accessibility: None,
            access_group: None,
            user_presence: false,
        };
        assert_eq!(
            CoreKeychainOptions::from(none),
            CoreKeychainOptions::default()
        );

        let all = [
            (KeychainAccessibility::WhenUnlocked, "ak"),
            (KeychainAccessibility::WhenUnlockedThisDeviceOnly, "aku"),
            (KeychainAccessibility::AfterFirstUnlock, "ck"),
            (KeychainAccessibility::AfterFirstUnlockThisDeviceOnly, "cku"),
            (KeychainAccessibility::WhenPasscodeSetThisDeviceOnly, "akpu"),
        ];
        for (accessibility, code) in all {
            let core = CoreKeychainOptions::from(KeychainOptions {
                service: Some("svc".into()),
                accessibility: Some(accessibility),
                access_group: Some("TEAMID.group.app".into()),
                user_presence: true,
            });
            assert_eq!(core.service, "svc");
            assert_eq!(core.accessibility.code(), code);
            assert_eq!(core.access_group.as_deref(), Some("TEAMID.group.app"));
            assert!(core.user_presence);
        }
    }
}
