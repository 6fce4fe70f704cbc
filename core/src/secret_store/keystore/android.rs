//! The Android half of the keystore profiles: opening `AndroidKeyStore` and generating
//! an AES-256-GCM key inside it. Everything else (cipher, envelope, errors) is shared
//! with the desktop profile.
//!
//! Keys are generated with `KeyGenParameterSpec` (encrypt + decrypt, GCM, no padding,
//! 256 bits, randomized encryption required, so the provider always picks the IV).
//! StrongBox is requested first (API 28+); when the device has none
//! (`StrongBoxUnavailableException`) or is older (`NoSuchMethodError` for
//! `setIsStrongBoxBacked`), the key is generated in the TEE instead.

use jni::objects::{JObject, JValue};
use jni::JNIEnv;

use super::jvm;
use crate::secret_store::StoreError;

const PROVIDER: &str = "AndroidKeyStore";
const PURPOSE_ENCRYPT_DECRYPT: i32 = 1 | 2;
const KEY_BITS: i32 = 256;
const BUILDER: &str = "android/security/keystore/KeyGenParameterSpec$Builder";
const BUILDER_RETURN_STRINGS: &str =
    "([Ljava/lang/String;)Landroid/security/keystore/KeyGenParameterSpec$Builder;";

/// `KeyStore.getInstance("AndroidKeyStore")`, loaded.
pub(super) fn open<'local>(env: &mut JNIEnv<'local>) -> Result<JObject<'local>, StoreError> {
    let kind = jvm::string(env, PROVIDER)?;
    let keystore = jvm::call_static_object(
        env,
        "KeyStore.getInstance",
        "java/security/KeyStore",
        "getInstance",
        "(Ljava/lang/String;)Ljava/security/KeyStore;",
        &[JValue::Object(&kind)],
    )?;
    jvm::call_void(
        env,
        "KeyStore.load",
        &keystore,
        "load",
        "(Ljava/security/KeyStore$LoadStoreParameter;)V",
        &[JValue::Object(&JObject::null())],
    )?;
    Ok(keystore)
}

/// Generates the key for `alias` (StrongBox first, then TEE) and returns it.
pub(super) fn create_key<'local>(
    env: &mut JNIEnv<'local>,
    alias: &str,
) -> Result<JObject<'local>, StoreError> {
    match generate(env, alias, true) {
        Ok(key) => Ok(key),
        // No StrongBox on this device (or an API level without it): use the TEE.
        Err(_) => generate(env, alias, false),
    }
}

fn generate<'local>(
    env: &mut JNIEnv<'local>,
    alias: &str,
    strongbox: bool,
) -> Result<JObject<'local>, StoreError> {
    let name = jvm::string(env, alias)?;
    let builder = jvm::new_object(
        env,
        "new KeyGenParameterSpec.Builder",
        BUILDER,
        "(Ljava/lang/String;I)V",
        &[JValue::Object(&name), JValue::Int(PURPOSE_ENCRYPT_DECRYPT)],
    )?;
    let modes = one_string_array(env, "GCM")?;
    builder_step(
        env,
        &builder,
        "setBlockModes",
        BUILDER_RETURN_STRINGS,
        &modes,
    )?;
    let paddings = one_string_array(env, "NoPadding")?;
    builder_step(
        env,
        &builder,
        "setEncryptionPaddings",
        BUILDER_RETURN_STRINGS,
        &paddings,
    )?;
    jvm::call_object(
        env,
        "KeyGenParameterSpec.Builder.setKeySize",
        &builder,
        "setKeySize",
        "(I)Landroid/security/keystore/KeyGenParameterSpec$Builder;",
        &[JValue::Int(KEY_BITS)],
    )?;
    jvm::call_object(
        env,
        "KeyGenParameterSpec.Builder.setRandomizedEncryptionRequired",
        &builder,
        "setRandomizedEncryptionRequired",
        "(Z)Landroid/security/keystore/KeyGenParameterSpec$Builder;",
        &[JValue::Bool(1)],
    )?;
    if strongbox {
        jvm::call_object(
            env,
            "KeyGenParameterSpec.Builder.setIsStrongBoxBacked",
            &builder,
            "setIsStrongBoxBacked",
            "(Z)Landroid/security/keystore/KeyGenParameterSpec$Builder;",
            &[JValue::Bool(1)],
        )?;
    }
    let spec = jvm::call_object(
        env,
        "KeyGenParameterSpec.Builder.build",
        &builder,
        "build",
        "()Landroid/security/keystore/KeyGenParameterSpec;",
        &[],
    )?;
    let algorithm = jvm::string(env, "AES")?;
    let provider = jvm::string(env, PROVIDER)?;
    let generator = jvm::call_static_object(
        env,
        "KeyGenerator.getInstance",
        "javax/crypto/KeyGenerator",
        "getInstance",
        "(Ljava/lang/String;Ljava/lang/String;)Ljavax/crypto/KeyGenerator;",
        &[JValue::Object(&algorithm), JValue::Object(&provider)],
    )?;
    jvm::call_void(
        env,
        "KeyGenerator.init",
        &generator,
        "init",
        "(Ljava/security/spec/AlgorithmParameterSpec;)V",
        &[JValue::Object(&spec)],
    )?;
    jvm::call_object(
        env,
        "KeyGenerator.generateKey",
        &generator,
        "generateKey",
        "()Ljavax/crypto/SecretKey;",
        &[],
    )
}

fn builder_step(
    env: &mut JNIEnv<'_>,
    builder: &JObject<'_>,
    method: &str,
    sig: &str,
    arg: &JObject<'_>,
) -> Result<(), StoreError> {
    jvm::call_object(
        env,
        "KeyGenParameterSpec.Builder",
        builder,
        method,
        sig,
        &[JValue::Object(arg)],
    )
    .map(drop)
}

/// `new String[] { value }`.
fn one_string_array<'local>(
    env: &mut JNIEnv<'local>,
    value: &str,
) -> Result<JObject<'local>, StoreError> {
    let element = jvm::string(env, value)?;
    match env.new_object_array(1, "java/lang/String", &element) {
        Ok(array) => Ok(JObject::from(array)),
        Err(error) => Err(jvm::fail(env, "new String[]", error)),
    }
}
