//! The desktop profile of the Java KeyStore store: a password-protected PKCS12 file
//! read and written through `java.security.KeyStore` on a desktop JVM, so that the
//! Android code path (cipher, envelope, errors) runs in this repository's tests.
//! A test double: available with the `testing` feature only.

use std::fs;
use std::path::{Path, PathBuf};

use jni::objects::{JObject, JValue};
use jni::JNIEnv;
use zeroize::Zeroizing;

use super::jvm;
use crate::secret_store::fsutil::replace_file;
use crate::secret_store::StoreError;

/// A file-backed PKCS12 Java `KeyStore`: the desktop stand-in for `AndroidKeyStore`.
///
/// The password only unlocks the PKCS12 file; it is not one of localfirst's secrets and
/// adds no protection beyond whatever protects the place it comes from. Use this
/// profile for tests and developer tools, not as a hardened store.
#[derive(Clone)]
pub struct DesktopKeystore {
    pub(super) path: PathBuf,
    pub(super) password: Zeroizing<String>,
}

impl DesktopKeystore {
    /// A keystore kept in the PKCS12 file at `path` (created on first key), opened with
    /// `password`, which must not be empty.
    pub fn new(path: impl Into<PathBuf>, password: &str) -> Result<DesktopKeystore, StoreError> {
        if password.is_empty() {
            return Err(StoreError::Backend {
                reason: "a desktop keystore needs a non-empty password".into(),
            });
        }
        Ok(DesktopKeystore {
            path: path.into(),
            password: Zeroizing::new(password.to_owned()),
        })
    }

    /// Where the PKCS12 file lives.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl std::fmt::Debug for DesktopKeystore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DesktopKeystore")
            .field("path", &self.path)
            .field("password", &"<redacted>")
            .finish()
    }
}

pub(super) fn desktop_open<'local>(
    env: &mut JNIEnv<'local>,
    desktop: &DesktopKeystore,
) -> Result<JObject<'local>, StoreError> {
    let kind = jvm::string(env, "PKCS12")?;
    let keystore = jvm::call_static_object(
        env,
        "KeyStore.getInstance",
        "java/security/KeyStore",
        "getInstance",
        "(Ljava/lang/String;)Ljava/security/KeyStore;",
        &[JValue::Object(&kind)],
    )?;
    let input = match fs::read(&desktop.path) {
        Ok(bytes) => {
            let array = jvm::byte_array(env, &bytes)?;
            jvm::new_object(
                env,
                "new ByteArrayInputStream",
                "java/io/ByteArrayInputStream",
                "([B)V",
                &[JValue::Object(&array)],
            )?
        }
        // No file yet: an empty keystore, written when the first key is created.
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => JObject::null(),
        Err(error) => return Err(error.into()),
    };
    let password = jvm::char_array(env, &desktop.password)?;
    let loaded = jvm::call_void(
        env,
        "KeyStore.load",
        &keystore,
        "load",
        "(Ljava/io/InputStream;[C)V",
        &[JValue::Object(&input), JValue::Object(&password)],
    );
    jvm::wipe_chars(env, &password);
    loaded?;
    Ok(keystore)
}

pub(super) fn desktop_create_key<'local>(
    env: &mut JNIEnv<'local>,
    desktop: &DesktopKeystore,
    keystore: &JObject<'_>,
    alias: &str,
) -> Result<JObject<'local>, StoreError> {
    let algorithm = jvm::string(env, "AES")?;
    let generator = jvm::call_static_object(
        env,
        "KeyGenerator.getInstance",
        "javax/crypto/KeyGenerator",
        "getInstance",
        "(Ljava/lang/String;)Ljavax/crypto/KeyGenerator;",
        &[JValue::Object(&algorithm)],
    )?;
    jvm::call_void(
        env,
        "KeyGenerator.init",
        &generator,
        "init",
        "(I)V",
        &[JValue::Int(256)],
    )?;
    let key = jvm::call_object(
        env,
        "KeyGenerator.generateKey",
        &generator,
        "generateKey",
        "()Ljavax/crypto/SecretKey;",
        &[],
    )?;
    let entry = jvm::new_object(
        env,
        "new KeyStore.SecretKeyEntry",
        "java/security/KeyStore$SecretKeyEntry",
        "(Ljavax/crypto/SecretKey;)V",
        &[JValue::Object(&key)],
    )?;
    let name = jvm::string(env, alias)?;
    let password = jvm::char_array(env, &desktop.password)?;
    let stored = desktop_set_entry(env, keystore, &name, &entry, &password);
    jvm::wipe_chars(env, &password);
    stored?;
    desktop_persist(env, desktop, keystore)?;
    Ok(key)
}

fn desktop_set_entry(
    env: &mut JNIEnv<'_>,
    keystore: &JObject<'_>,
    name: &JObject<'_>,
    entry: &JObject<'_>,
    password: &JObject<'_>,
) -> Result<(), StoreError> {
    let protection = jvm::new_object(
        env,
        "new KeyStore.PasswordProtection",
        "java/security/KeyStore$PasswordProtection",
        "([C)V",
        &[JValue::Object(password)],
    )?;
    let stored = jvm::call_void(
        env,
        "KeyStore.setEntry",
        keystore,
        "setEntry",
        "(Ljava/lang/String;Ljava/security/KeyStore$Entry;Ljava/security/KeyStore$ProtectionParameter;)V",
        &[
            JValue::Object(name),
            JValue::Object(entry),
            JValue::Object(&protection),
        ],
    );
    // PasswordProtection keeps its own copy of the password; wipe it.
    let destroyed = jvm::call_void(
        env,
        "PasswordProtection.destroy",
        &protection,
        "destroy",
        "()V",
        &[],
    );
    stored.and(destroyed)
}

/// Serialises the in-memory keystore and replaces the PKCS12 file atomically.
pub(super) fn desktop_persist(
    env: &mut JNIEnv<'_>,
    desktop: &DesktopKeystore,
    keystore: &JObject<'_>,
) -> Result<(), StoreError> {
    let output = jvm::new_object(
        env,
        "new ByteArrayOutputStream",
        "java/io/ByteArrayOutputStream",
        "()V",
        &[],
    )?;
    let password = jvm::char_array(env, &desktop.password)?;
    let stored = jvm::call_void(
        env,
        "KeyStore.store",
        keystore,
        "store",
        "(Ljava/io/OutputStream;[C)V",
        &[JValue::Object(&output), JValue::Object(&password)],
    );
    jvm::wipe_chars(env, &password);
    stored?;
    let bytes = jvm::call_object(
        env,
        "ByteArrayOutputStream.toByteArray",
        &output,
        "toByteArray",
        "()[B",
        &[],
    )?;
    let bytes = jvm::read_bytes(env, "ByteArrayOutputStream.toByteArray", bytes)?;
    replace_file(&desktop.path, &bytes)
}
