//! Test-only exports (the `testing` feature; never in a shipped library): the core's
//! secret-store conformance suite for any store, and the Java KeyStore store over a
//! PKCS12 file on a desktop JVM.
//!
//! The desktop-JVM Kotlin suite and the Swift tests on Linux build the library with
//! this feature and generate their sources from it (`scripts/gen-bindings.sh
//! --testing`); the XCFramework, the AAR and the size measurement are built without
//! it, and so are the sources generated for them.

use std::path::PathBuf;
use std::sync::Arc;

use localfirst_core::secret_store::conformance::{StoreHarness, CHECKS};
use localfirst_core::secret_store::{
    AuthSecretStore as CoreStore, StorageKey as CoreKey, StoreError,
};

use crate::error::LocalFirstError;
use crate::platform_store::{platform, KeystoreSecretStore};
use crate::store::{AuthSecretStore, ForeignStore, StorageKey};

#[uniffi::export]
impl KeystoreSecretStore {
    /// A test double: the same store with its keys in the password-protected PKCS12
    /// file `keystorePath` (created with the first key) and envelopes in `envelopeDir`
    /// (default: the no-backup directory recorded by `LocalFirstAndroid.init(context)`),
    /// on the JVM `init` was called from. The password only opens that file and must
    /// not be empty (else `secret-store-backend`, as is a missing `init`).
    /// `secret-store-unavailable` on iOS.
    #[uniffi::constructor(default(envelope_dir = None))]
    pub fn with_desktop_keystore(
        storage_key: Arc<StorageKey>,
        keystore_path: String,
        password: String,
        envelope_dir: Option<String>,
    ) -> Result<Arc<KeystoreSecretStore>, LocalFirstError> {
        let password = zeroize::Zeroizing::new(password);
        let (store, envelope_path) = desktop_keystore(
            storage_key.key.clone(),
            PathBuf::from(keystore_path),
            &password,
            envelope_dir.map(PathBuf::from),
        )?;
        Ok(KeystoreSecretStore::wrap(store, envelope_path))
    }
}

/// The Java KeyStore store over a PKCS12 file on the JVM `LocalFirstAndroid.init`
/// recorded, and its envelope file.
fn desktop_keystore(
    key: CoreKey,
    keystore_path: PathBuf,
    password: &str,
    envelope_dir: Option<PathBuf>,
) -> Result<(platform::Keystore, PathBuf), StoreError> {
    #[cfg(jni_store)]
    {
        use localfirst_core::secret_store::keystore::{
            initialized_runtime, DesktopKeystore, KeystoreProfile,
        };
        let runtime = initialized_runtime()?;
        let profile = KeystoreProfile::Desktop(DesktopKeystore::new(keystore_path, password)?);
        let dir = envelope_dir.unwrap_or_else(|| runtime.no_backup_dir().to_path_buf());
        let store = platform::Keystore::new(runtime.vm(), profile, dir, key);
        let path = store.envelope_path();
        Ok((store, path))
    }
    #[cfg(not(jni_store))]
    {
        let _ = (key, keystore_path, password, envelope_dir);
        Err(platform::unavailable(
            "the Java KeyStore store needs Android or a desktop JVM",
        ))
    }
}

/// Opens store instances for the conformance suite: every call with the same key
/// must reach the same stored item (as two app launches would), different keys
/// must be independent, and each run should start from empty storage.
#[uniffi::export(foreign)]
pub trait SecretStoreHarness: Send + Sync {
    /// Opens a new store instance bound to `storageKey`.
    fn open(
        &self,
        storage_key: Arc<StorageKey>,
    ) -> Result<Arc<dyn AuthSecretStore>, LocalFirstError>;
}

/// What the conformance suite found.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ConformanceReport {
    /// Whether every check passed.
    pub passed: bool,
    /// The names of the checks that ran, in order.
    pub checks: Vec<String>,
    /// One line per failed check: `<check>: <what went wrong>`.
    pub failures: Vec<String>,
}

struct Harness(Arc<dyn SecretStoreHarness>);

impl StoreHarness for Harness {
    fn open(&self, key: CoreKey) -> Result<Box<dyn CoreStore>, StoreError> {
        let store = self.0.open(StorageKey::wrap(key))?;
        Ok(Box::new(ForeignStore::new(store)))
    }
}

/// Runs the core's secret-store conformance suite (the same checks every built-in
/// store passes) against the stores `harness` opens, and reports every check.
/// Stores are driven through `loadSecret`, `saveSecret`, `clearSecret`,
/// `createSecret` and `storageKey`, from up to 64 threads at once.
#[uniffi::export]
pub fn run_secret_store_conformance(harness: Arc<dyn SecretStoreHarness>) -> ConformanceReport {
    let harness = Harness(harness);
    let failures: Vec<String> = CHECKS
        .iter()
        .filter_map(|(name, check)| {
            check(&harness)
                .err()
                .map(|failure| format!("{name}: {}", failure.message))
        })
        .collect();
    ConformanceReport {
        passed: failures.is_empty(),
        checks: CHECKS.iter().map(|(name, _)| (*name).to_owned()).collect(),
        failures,
    }
}
