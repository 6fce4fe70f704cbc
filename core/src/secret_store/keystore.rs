//! The Java KeyStore secret store: Android Keystore on devices, a PKCS12 file on a
//! desktop JVM, one JNI code path for both.
//!
//! # What is stored where
//!
//! For each [`StorageKey`] the store keeps
//!
//! * an **AES-256-GCM key** in a Java `KeyStore` under the alias
//!   [`key_alias`]`(storage key)` (`localfirst-` + 32 hex digits of a SHA-256 of the
//!   storage key, so any storage key maps to a short, case-insensitive-safe alias), and
//! * an **envelope file** `<alias>.envelope.json` in a directory given at construction
//!   (on Android: the app's `noBackupFilesDir`, so Auto Backup never copies it):
//!
//!   ```json
//!   {"v":1,"iv":"<12 bytes, base64url>","ct":"<32-byte secret + 16-byte GCM tag, base64url>"}
//!   ```
//!
//!   The GCM additional data binds the envelope to its format version and storage key.
//!   The file is written atomically (temporary file, fsync, rename, fsync of the
//!   directory) with mode `0600`; a directory the store creates gets mode `0700`.
//!
//! Every write asks `Cipher.init(ENCRYPT_MODE, key)` for a fresh random 12-byte IV and
//! reads it back with `Cipher.getIV()`: the Android Keystore refuses caller-chosen IVs
//! for encryption, and the desktop provider draws one the same way, so both profiles run
//! the same cipher code.
//!
//! # What a read can report
//!
//! | situation | result |
//! |---|---|
//! | no envelope file | `Ok(None)` (the only "absent") |
//! | envelope present, no key under the alias (e.g. restored from a backup) | `secret-store-key-invalidated` |
//! | `KeyPermanentlyInvalidatedException` (biometric / lock-screen change) | `secret-store-key-invalidated` |
//! | `UserNotAuthenticatedException` (device locked, auth-bound key) | `secret-store-unavailable` |
//! | `AEADBadTagException`, unparseable envelope, unknown `v`, wrong lengths | `secret-store-corrupted` |
//! | file permission problem / other I/O failure | `secret-store-permission-denied` / `secret-store-io` |
//! | any other Java exception or JNI failure | `secret-store-backend`, naming the exception class |
//!
//! Pending Java exceptions are always cleared; errors carry class names, never
//! exception messages or key material.
//!
//! # Profiles
//!
//! [`KeystoreProfile`] is the only thing that differs between platforms: which
//! `KeyStore` is opened and how a key is created. On Android (`target_os = "android"`)
//! the `AndroidKeyStore` provider generates the key inside secure hardware, trying
//! StrongBox first and falling back to the TEE. On a desktop JVM,
//! [`DesktopKeystore`] keeps keys in a password-protected PKCS12 file; that profile
//! exists so the JNI path runs in tests and developer tools, and its protection is
//! exactly that of the file and its password.
//!
//! # Getting the JVM and the Android `Context` in
//!
//! Android apps call `LocalFirstAndroid.init(context)` once; its native half is
//! [`init_android_or_throw`], which records the `JavaVM` and the no-backup directory
//! ([`android_runtime`]). Threads that use the store attach to the JVM for the
//! duration of each operation.

mod jvm;

#[cfg(target_os = "android")]
mod android;
#[cfg(any(test, feature = "testing"))]
mod desktop;

#[cfg(any(test, feature = "testing"))]
pub use desktop::DesktopKeystore;
#[cfg(any(test, feature = "testing"))]
use desktop::{desktop_create_key, desktop_open, desktop_persist};

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use jni::objects::{JObject, JValue};
use jni::{JNIEnv, JavaVM};
use sha2::{Digest as _, Sha256};
use zeroize::Zeroizing;

use super::fsutil::{replace_file, sync_dir};
use super::{AuthSecretStore, StorageKey, StoreError, StoreLock};
use crate::error::ErrorCode as _;
use crate::secret::{Secret, SECRET_LEN};

/// The envelope format version written by this store.
pub const ENVELOPE_VERSION: u64 = 1;

/// Length of the GCM nonce in every envelope.
pub const IV_LEN: usize = 12;

/// Length of the GCM authentication tag appended to the ciphertext.
pub const TAG_LEN: usize = 16;

const CIPHER_TRANSFORMATION: &str = "AES/GCM/NoPadding";
const ENCRYPT_MODE: i32 = 1;
const DECRYPT_MODE: i32 = 2;
const AAD_PREFIX: &[u8] = b"localfirst keystore envelope v1\0";
const ENVELOPE_SUFFIX: &str = ".envelope.json";
/// Local references one operation may hold at once (the JVM grows the frame if needed).
const FRAME_CAPACITY: i32 = 64;

/// The `KeyStore` alias holding the key for `key`: `localfirst-` and the first 16 bytes
/// of SHA-256 of the storage key in lowercase hex.
pub fn key_alias(key: &StorageKey) -> String {
    let digest = Sha256::digest(key.as_str().as_bytes());
    let mut alias = String::from("localfirst-");
    for byte in digest.iter().take(16) {
        alias.push_str(&format!("{byte:02x}"));
    }
    alias
}

/// Which Java `KeyStore` holds the keys, and how keys are made.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum KeystoreProfile {
    /// The device's `AndroidKeyStore`: keys generated in StrongBox when present,
    /// otherwise in the TEE; key material never enters the app process.
    #[cfg(target_os = "android")]
    Android,
    /// A PKCS12 file read and written through `java.security.KeyStore` (a test
    /// double; `testing` feature).
    #[cfg(any(test, feature = "testing"))]
    Desktop(DesktopKeystore),
}

impl KeystoreProfile {
    /// Scope of the in-process lock serialising key-store changes.
    fn lock_scope(&self, alias: &str) -> String {
        match self {
            #[cfg(target_os = "android")]
            KeystoreProfile::Android => format!("java-keystore:android:{alias}"),
            #[cfg(any(test, feature = "testing"))]
            KeystoreProfile::Desktop(desktop) => {
                // One lock per PKCS12 file: every change rewrites the whole file.
                let _ = alias;
                format!("java-keystore:pkcs12:{}", desktop.path.display())
            }
        }
    }

    /// The password passed to `KeyStore.getKey`.
    fn key_password(&self) -> Option<&str> {
        match self {
            #[cfg(target_os = "android")]
            KeystoreProfile::Android => None,
            #[cfg(any(test, feature = "testing"))]
            KeystoreProfile::Desktop(desktop) => Some(desktop.password.as_str()),
        }
    }

    fn open<'local>(&self, env: &mut JNIEnv<'local>) -> Result<JObject<'local>, StoreError> {
        match self {
            #[cfg(target_os = "android")]
            KeystoreProfile::Android => android::open(env),
            #[cfg(any(test, feature = "testing"))]
            KeystoreProfile::Desktop(desktop) => desktop_open(env, desktop),
        }
    }

    fn create_key<'local>(
        &self,
        env: &mut JNIEnv<'local>,
        keystore: &JObject<'_>,
        alias: &str,
    ) -> Result<JObject<'local>, StoreError> {
        match self {
            #[cfg(target_os = "android")]
            KeystoreProfile::Android => {
                let _ = keystore;
                android::create_key(env, alias)
            }
            #[cfg(any(test, feature = "testing"))]
            KeystoreProfile::Desktop(desktop) => desktop_create_key(env, desktop, keystore, alias),
        }
    }

    fn delete_key(
        &self,
        env: &mut JNIEnv<'_>,
        keystore: &JObject<'_>,
        alias: &str,
    ) -> Result<(), StoreError> {
        let name = jvm::string(env, alias)?;
        let present = jvm::call_bool(
            env,
            "KeyStore.containsAlias",
            keystore,
            "containsAlias",
            "(Ljava/lang/String;)Z",
            &[JValue::Object(&name)],
        )?;
        if !present {
            return Ok(());
        }
        jvm::call_void(
            env,
            "KeyStore.deleteEntry",
            keystore,
            "deleteEntry",
            "(Ljava/lang/String;)V",
            &[JValue::Object(&name)],
        )?;
        match self {
            #[cfg(target_os = "android")]
            KeystoreProfile::Android => Ok(()),
            #[cfg(any(test, feature = "testing"))]
            KeystoreProfile::Desktop(desktop) => desktop_persist(env, desktop, keystore),
        }
    }

    fn find_key<'local>(
        &self,
        env: &mut JNIEnv<'local>,
        keystore: &JObject<'_>,
        alias: &str,
    ) -> Result<Option<JObject<'local>>, StoreError> {
        let name = jvm::string(env, alias)?;
        let password = match self.key_password() {
            Some(text) => Some(jvm::char_array(env, text)?),
            None => None,
        };
        let null = JObject::null();
        let password_arg: &JObject<'_> = password.as_deref().unwrap_or(&null);
        let key = jvm::call_object(
            env,
            "KeyStore.getKey",
            keystore,
            "getKey",
            "(Ljava/lang/String;[C)Ljava/security/Key;",
            &[JValue::Object(&name), JValue::Object(password_arg)],
        );
        if let Some(password) = &password {
            jvm::wipe_chars(env, password);
        }
        let key = key?;
        Ok(if key.is_null() { None } else { Some(key) })
    }
}

fn new_cipher<'local>(env: &mut JNIEnv<'local>) -> Result<JObject<'local>, StoreError> {
    let transformation = jvm::string(env, CIPHER_TRANSFORMATION)?;
    jvm::call_static_object(
        env,
        "Cipher.getInstance",
        "javax/crypto/Cipher",
        "getInstance",
        "(Ljava/lang/String;)Ljavax/crypto/Cipher;",
        &[JValue::Object(&transformation)],
    )
}

fn update_aad(env: &mut JNIEnv<'_>, cipher: &JObject<'_>, aad: &[u8]) -> Result<(), StoreError> {
    let aad = jvm::byte_array(env, aad)?;
    jvm::call_void(
        env,
        "Cipher.updateAAD",
        cipher,
        "updateAAD",
        "([B)V",
        &[JValue::Object(&aad)],
    )
}

/// Encrypts `plaintext` under `key` with a provider-chosen IV; returns `(iv, ct || tag)`.
fn encrypt(
    env: &mut JNIEnv<'_>,
    key: &JObject<'_>,
    aad: &[u8],
    plaintext: &[u8],
) -> Result<(Vec<u8>, Vec<u8>), StoreError> {
    let cipher = new_cipher(env)?;
    jvm::call_void(
        env,
        "Cipher.init",
        &cipher,
        "init",
        "(ILjava/security/Key;)V",
        &[JValue::Int(ENCRYPT_MODE), JValue::Object(key)],
    )?;
    let iv = jvm::call_object(env, "Cipher.getIV", &cipher, "getIV", "()[B", &[])?;
    let iv = jvm::read_bytes(env, "Cipher.getIV", iv)?;
    update_aad(env, &cipher, aad)?;
    let input = jvm::byte_array(env, plaintext)?;
    let sealed = jvm::call_object(
        env,
        "Cipher.doFinal",
        &cipher,
        "doFinal",
        "([B)[B",
        &[JValue::Object(&input)],
    );
    jvm::wipe_bytes(env, &input, plaintext.len());
    let sealed = jvm::read_bytes(env, "Cipher.doFinal", sealed?)?;
    Ok((iv.to_vec(), sealed.to_vec()))
}

/// Decrypts and authenticates `sealed` (ciphertext with its tag).
fn decrypt(
    env: &mut JNIEnv<'_>,
    key: &JObject<'_>,
    aad: &[u8],
    iv: &[u8],
    sealed: &[u8],
) -> Result<Zeroizing<Vec<u8>>, StoreError> {
    let cipher = new_cipher(env)?;
    let iv = jvm::byte_array(env, iv)?;
    let tag_bits = i32::try_from(TAG_LEN * 8).map_err(|_| StoreError::Backend {
        reason: "tag length out of range".into(),
    })?;
    let spec = jvm::new_object(
        env,
        "new GCMParameterSpec",
        "javax/crypto/spec/GCMParameterSpec",
        "(I[B)V",
        &[JValue::Int(tag_bits), JValue::Object(&iv)],
    )?;
    jvm::call_void(
        env,
        "Cipher.init",
        &cipher,
        "init",
        "(ILjava/security/Key;Ljava/security/spec/AlgorithmParameterSpec;)V",
        &[
            JValue::Int(DECRYPT_MODE),
            JValue::Object(key),
            JValue::Object(&spec),
        ],
    )?;
    update_aad(env, &cipher, aad)?;
    let input = jvm::byte_array(env, sealed)?;
    let opened = jvm::call_object(
        env,
        "Cipher.doFinal",
        &cipher,
        "doFinal",
        "([B)[B",
        &[JValue::Object(&input)],
    )?;
    if opened.is_null() {
        return Err(StoreError::Backend {
            reason: "Cipher.doFinal: returned null".into(),
        });
    }
    let opened = jni::objects::JByteArray::from(opened);
    let plaintext = match env.convert_byte_array(&opened) {
        Ok(bytes) => Zeroizing::new(bytes),
        Err(error) => return Err(jvm::fail(env, "Cipher.doFinal", error)),
    };
    jvm::wipe_bytes(env, &opened, plaintext.len());
    Ok(plaintext)
}

/// The on-disk envelope, once parsed and checked.
struct Envelope {
    iv: Vec<u8>,
    sealed: Vec<u8>,
}

#[derive(serde::Deserialize)]
struct EnvelopeVersion {
    v: u64,
}

#[derive(serde::Serialize, serde::Deserialize)]
struct EnvelopeFields {
    v: u64,
    iv: String,
    ct: String,
}

impl Envelope {
    fn decode(bytes: &[u8]) -> Result<Envelope, StoreError> {
        let corrupted = |reason: String| StoreError::Corrupted { reason };
        let version: EnvelopeVersion = serde_json::from_slice(bytes)
            .map_err(|_| corrupted("the envelope file is not a keystore envelope".into()))?;
        if version.v != ENVELOPE_VERSION {
            return Err(corrupted(format!(
                "unsupported envelope version {} (this build reads {ENVELOPE_VERSION})",
                version.v
            )));
        }
        let fields: EnvelopeFields = serde_json::from_slice(bytes)
            .map_err(|_| corrupted("the envelope is missing its iv or ct".into()))?;
        let iv = URL_SAFE_NO_PAD
            .decode(fields.iv.as_bytes())
            .map_err(|_| corrupted("the envelope iv is not base64url".into()))?;
        let sealed = URL_SAFE_NO_PAD
            .decode(fields.ct.as_bytes())
            .map_err(|_| corrupted("the envelope ct is not base64url".into()))?;
        if iv.len() != IV_LEN {
            return Err(corrupted(format!(
                "the envelope iv is {} bytes, expected {IV_LEN}",
                iv.len()
            )));
        }
        if sealed.len() != SECRET_LEN + TAG_LEN {
            return Err(corrupted(format!(
                "the envelope ct is {} bytes, expected {}",
                sealed.len(),
                SECRET_LEN + TAG_LEN
            )));
        }
        Ok(Envelope { iv, sealed })
    }

    fn encode(&self) -> Result<Vec<u8>, StoreError> {
        serde_json::to_vec(&EnvelopeFields {
            v: ENVELOPE_VERSION,
            iv: URL_SAFE_NO_PAD.encode(&self.iv),
            ct: URL_SAFE_NO_PAD.encode(&self.sealed),
        })
        .map_err(|e| StoreError::Backend {
            reason: format!("encoding the envelope failed: {e}"),
        })
    }
}

/// Runs `op` on this thread's JNI environment, attaching the thread for the duration
/// if it is not attached yet, inside a fresh local-reference frame.
fn with_env<T>(
    vm: &JavaVM,
    op: impl FnOnce(&mut JNIEnv<'_>) -> Result<T, StoreError>,
) -> Result<T, StoreError> {
    let mut guard = vm
        .attach_current_thread()
        .map_err(|e| StoreError::Backend {
            reason: format!("attaching the thread to the JVM failed: {e}"),
        })?;
    in_frame(&mut guard, op)
}

fn in_frame<T>(
    env: &mut JNIEnv<'_>,
    op: impl FnOnce(&mut JNIEnv<'_>) -> Result<T, StoreError>,
) -> Result<T, StoreError> {
    match env.with_local_frame(FRAME_CAPACITY, |env| Ok::<_, jni::errors::Error>(op(env))) {
        Ok(result) => result,
        Err(error) => Err(jvm::fail(env, "PushLocalFrame", error)),
    }
}

/// A secret store keeping each secret encrypted under a Java `KeyStore` key.
///
/// Built with [`AndroidKeystoreStore::new`] from a [`JavaVM`], a [`KeystoreProfile`],
/// the directory for envelope files and a [`StorageKey`]. On Android,
/// `AndroidKeystoreStore::for_android` uses what `LocalFirstAndroid.init(context)`
/// recorded. `get_or_create_secret` comes from
/// [`AuthSecretStoreExt`](super::AuthSecretStoreExt) like for every store.
pub struct AndroidKeystoreStore {
    vm: Arc<JavaVM>,
    profile: KeystoreProfile,
    dir: PathBuf,
    key: StorageKey,
    alias: String,
}

impl AndroidKeystoreStore {
    /// A store for `key`, with keys in `profile`'s keystore and envelopes under `dir`.
    pub fn new(
        vm: Arc<JavaVM>,
        profile: KeystoreProfile,
        dir: impl Into<PathBuf>,
        key: StorageKey,
    ) -> AndroidKeystoreStore {
        let alias = key_alias(&key);
        AndroidKeystoreStore {
            vm,
            profile,
            dir: dir.into(),
            key,
            alias,
        }
    }

    /// The same store for another storage key (same JVM, keystore and directory).
    pub fn sibling(&self, key: StorageKey) -> AndroidKeystoreStore {
        AndroidKeystoreStore::new(
            Arc::clone(&self.vm),
            self.profile.clone(),
            self.dir.clone(),
            key,
        )
    }

    /// The `KeyStore` alias of this store's key.
    pub fn alias(&self) -> &str {
        &self.alias
    }

    /// The envelope file of this store's secret.
    pub fn envelope_path(&self) -> PathBuf {
        self.dir.join(format!("{}{ENVELOPE_SUFFIX}", self.alias))
    }

    /// The profile this store uses.
    pub fn profile(&self) -> &KeystoreProfile {
        &self.profile
    }

    fn aad(&self) -> Vec<u8> {
        let mut aad = AAD_PREFIX.to_vec();
        aad.extend_from_slice(self.key.as_str().as_bytes());
        aad
    }

    fn keystore_lock(&self) -> StoreLock {
        StoreLock::in_process(self.profile.lock_scope(&self.alias))
    }

    fn read_envelope(&self) -> Result<Option<Envelope>, StoreError> {
        match fs::read(self.envelope_path()) {
            Ok(bytes) => Envelope::decode(&bytes).map(Some),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(error) => Err(error.into()),
        }
    }

    /// Encrypts under the existing key, or a new one when none exists. A key that the
    /// platform reports invalidated is replaced: saving is an explicit overwrite.
    fn seal(&self, env: &mut JNIEnv<'_>, secret: &Secret) -> Result<Envelope, StoreError> {
        let keystore = self.profile.open(env)?;
        let key = match self.profile.find_key(env, &keystore, &self.alias)? {
            Some(key) => key,
            None => self.profile.create_key(env, &keystore, &self.alias)?,
        };
        let aad = self.aad();
        let sealed = match encrypt(env, &key, &aad, secret.expose_bytes()) {
            Err(StoreError::KeyInvalidated { .. }) => {
                self.profile.delete_key(env, &keystore, &self.alias)?;
                let fresh = self.profile.create_key(env, &keystore, &self.alias)?;
                encrypt(env, &fresh, &aad, secret.expose_bytes())
            }
            other => other,
        };
        let (iv, sealed) = sealed?;
        if iv.len() != IV_LEN || sealed.len() != SECRET_LEN + TAG_LEN {
            return Err(StoreError::Backend {
                reason: format!(
                    "the cipher produced a {}-byte IV and {}-byte output, expected {IV_LEN} and {}",
                    iv.len(),
                    sealed.len(),
                    SECRET_LEN + TAG_LEN
                ),
            });
        }
        Ok(Envelope { iv, sealed })
    }
}

impl std::fmt::Debug for AndroidKeystoreStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AndroidKeystoreStore")
            .field("profile", &self.profile)
            .field("dir", &self.dir)
            .field("key", &self.key)
            .field("alias", &self.alias)
            .finish_non_exhaustive()
    }
}

impl AuthSecretStore for AndroidKeystoreStore {
    fn storage_key(&self) -> StorageKey {
        self.key.clone()
    }

    fn load_secret(&self) -> Result<Option<Secret>, StoreError> {
        let _lock = self.keystore_lock();
        let Some(envelope) = self.read_envelope()? else {
            return Ok(None);
        };
        let plaintext = with_env(&self.vm, |env| {
            let keystore = self.profile.open(env)?;
            let Some(key) = self.profile.find_key(env, &keystore, &self.alias)? else {
                return Err(StoreError::KeyInvalidated {
                    reason: format!(
                        "an envelope exists but the keystore has no key under alias {}",
                        self.alias
                    ),
                });
            };
            decrypt(env, &key, &self.aad(), &envelope.iv, &envelope.sealed)
        })?;
        Secret::from_slice(&plaintext)
            .map(Some)
            .map_err(|_| StoreError::Corrupted {
                reason: format!(
                    "the envelope decrypted to {} bytes, expected {SECRET_LEN}",
                    plaintext.len()
                ),
            })
    }

    fn save_secret(&self, secret: Secret) -> Result<(), StoreError> {
        let _lock = self.keystore_lock();
        let envelope = with_env(&self.vm, |env| self.seal(env, &secret))?;
        replace_file(&self.envelope_path(), &envelope.encode()?)
    }

    fn clear_secret(&self) -> Result<(), StoreError> {
        let _lock = self.keystore_lock();
        match fs::remove_file(self.envelope_path()) {
            Ok(()) => sync_dir(&self.dir)?,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
            Err(error) => return Err(error.into()),
        }
        with_env(&self.vm, |env| {
            let keystore = self.profile.open(env)?;
            self.profile.delete_key(env, &keystore, &self.alias)
        })
    }

    fn lock_scope(&self) -> String {
        format!("java-keystore-store:{}:{}", self.dir.display(), self.key)
    }
}

/// What `LocalFirstAndroid.init(context)` recorded: the process's `JavaVM` and the
/// app's no-backup files directory.
pub struct AndroidRuntime {
    vm: Arc<JavaVM>,
    no_backup_dir: PathBuf,
}

impl AndroidRuntime {
    /// The process's Java VM.
    pub fn vm(&self) -> Arc<JavaVM> {
        Arc::clone(&self.vm)
    }

    /// `Context.getNoBackupFilesDir()`: where envelope files go on Android.
    pub fn no_backup_dir(&self) -> &Path {
        &self.no_backup_dir
    }
}

impl std::fmt::Debug for AndroidRuntime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AndroidRuntime")
            .field("no_backup_dir", &self.no_backup_dir)
            .finish_non_exhaustive()
    }
}

static ANDROID_RUNTIME: OnceLock<AndroidRuntime> = OnceLock::new();

/// The runtime recorded by [`init_android`], if it has run in this process.
pub fn android_runtime() -> Option<&'static AndroidRuntime> {
    ANDROID_RUNTIME.get()
}

/// The runtime recorded by [`init_android`], or `secret-store-backend` naming the
/// missing `LocalFirstAndroid.init(context)` call (a setup mistake, not a state to
/// wait out).
pub fn initialized_runtime() -> Result<&'static AndroidRuntime, StoreError> {
    android_runtime().ok_or_else(|| StoreError::Backend {
        reason: "LocalFirstAndroid.init(context) has not been called".into(),
    })
}

/// Records the `JavaVM` behind `env` and `context.getNoBackupFilesDir()` for the
/// process. `context` is an `android.content.Context` (any object with that method
/// works). The first successful call wins; later calls return what it recorded.
pub fn init_android(
    env: &mut JNIEnv<'_>,
    context: &JObject<'_>,
) -> Result<&'static AndroidRuntime, StoreError> {
    if let Some(runtime) = ANDROID_RUNTIME.get() {
        return Ok(runtime);
    }
    if context.is_null() {
        return Err(StoreError::Backend {
            reason: "LocalFirstAndroid.init was given a null Context".into(),
        });
    }
    let dir = in_frame(env, |env| {
        let file = jvm::call_object(
            env,
            "Context.getNoBackupFilesDir",
            context,
            "getNoBackupFilesDir",
            "()Ljava/io/File;",
            &[],
        )?;
        if file.is_null() {
            return Err(StoreError::Unavailable {
                reason: "Context.getNoBackupFilesDir returned null".into(),
            });
        }
        let path = jvm::call_object(
            env,
            "File.getAbsolutePath",
            &file,
            "getAbsolutePath",
            "()Ljava/lang/String;",
            &[],
        )?;
        jvm::read_string(env, "File.getAbsolutePath", path).map(PathBuf::from)
    })?;
    let vm = match env.get_java_vm() {
        Ok(vm) => vm,
        Err(error) => return Err(jvm::fail(env, "GetJavaVM", error)),
    };
    Ok(ANDROID_RUNTIME.get_or_init(|| AndroidRuntime {
        vm: Arc::new(vm),
        no_backup_dir: dir,
    }))
}

/// [`init_android`] for a JNI entry point: on failure, throws
/// `java.lang.IllegalStateException("localfirst init failed [<code>]: <reason>")` into
/// the calling Java code and returns `false`.
///
/// The bindings crate (which, unlike this crate, may contain `#[no_mangle]`) exports it
/// for `dev.localfirst.LocalFirstAndroid.init(context)` with exactly this body:
///
/// ```ignore
/// #[no_mangle]
/// pub extern "system" fn Java_dev_localfirst_LocalFirstAndroid_init<'local>(
///     mut env: jni::JNIEnv<'local>,
///     _class: jni::objects::JClass<'local>,
///     context: jni::objects::JObject<'local>,
/// ) {
///     localfirst_core::secret_store::keystore::init_android_or_throw(&mut env, &context);
/// }
/// ```
///
/// where the Kotlin side declares `@JvmStatic external fun init(context: Context)` in
/// `object LocalFirstAndroid` after `System.loadLibrary(...)`, and passes
/// `context.applicationContext`.
pub fn init_android_or_throw(env: &mut JNIEnv<'_>, context: &JObject<'_>) -> bool {
    match init_android(env, context) {
        Ok(_) => true,
        Err(error) => {
            let message = format!("localfirst init failed [{}]: {error}", error.code());
            if env
                .throw_new("java/lang/IllegalStateException", message)
                .is_err()
            {
                // Nothing more can be reported from here; never unwind into the JVM.
                let _cleared = env.exception_clear();
            }
            false
        }
    }
}

#[cfg(target_os = "android")]
impl AndroidKeystoreStore {
    /// A store in the `AndroidKeyStore` with envelopes under the app's no-backup
    /// directory, using what `LocalFirstAndroid.init(context)` recorded.
    pub fn for_android(key: StorageKey) -> Result<AndroidKeystoreStore, StoreError> {
        let runtime = initialized_runtime()?;
        Ok(AndroidKeystoreStore::new(
            runtime.vm(),
            KeystoreProfile::Android,
            runtime.no_backup_dir(),
            key,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aliases_are_short_stable_and_distinct() {
        let a = key_alias(&StorageKey::default());
        let b = key_alias(&StorageKey::for_app("app"));
        assert_eq!(a.len(), "localfirst-".len() + 32);
        assert!(a.starts_with("localfirst-"));
        assert!(a["localfirst-".len()..]
            .chars()
            .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c)));
        assert_ne!(a, b);
        assert_eq!(a, key_alias(&StorageKey::default()));
        // Case must matter even though PKCS12 lowercases aliases.
        let upper = key_alias(&StorageKey::explicit("Key").unwrap());
        let lower = key_alias(&StorageKey::explicit("key").unwrap());
        assert_ne!(upper, lower);
    }

    #[test]
    fn envelope_round_trips_and_rejects_bad_input() {
        let envelope = Envelope {
            iv: vec![1; IV_LEN],
            sealed: vec![2; SECRET_LEN + TAG_LEN],
        };
        let bytes = envelope.encode().unwrap();
        let back = Envelope::decode(&bytes).unwrap();
        assert_eq!(back.iv, envelope.iv);
        assert_eq!(back.sealed, envelope.sealed);

        let iv = URL_SAFE_NO_PAD.encode([1u8; IV_LEN]);
        let ct = URL_SAFE_NO_PAD.encode([2u8; SECRET_LEN + TAG_LEN]);
        let cases = [
            "".to_owned(),
            "not json".to_owned(),
            format!(r#"{{"v":2,"iv":"{iv}","ct":"{ct}"}}"#),
            format!(r#"{{"v":1,"iv":"{iv}"}}"#),
            format!(r#"{{"v":1,"iv":"{iv}=","ct":"{ct}"}}"#),
            format!(
                r#"{{"v":1,"iv":"{}","ct":"{ct}"}}"#,
                URL_SAFE_NO_PAD.encode([1u8; 16])
            ),
            format!(
                r#"{{"v":1,"iv":"{iv}","ct":"{}"}}"#,
                URL_SAFE_NO_PAD.encode([2u8; 47])
            ),
        ];
        for case in cases {
            let error = Envelope::decode(case.as_bytes()).err().unwrap();
            assert_eq!(error.code(), "secret-store-corrupted", "{case}: {error}");
        }
    }

    #[test]
    fn desktop_password_is_required_and_redacted() {
        assert!(DesktopKeystore::new("/tmp/x.p12", "").is_err());
        let desktop = DesktopKeystore::new("/tmp/x.p12", "hunter2").unwrap();
        assert!(!format!("{desktop:?}").contains("hunter2"));
    }
}
