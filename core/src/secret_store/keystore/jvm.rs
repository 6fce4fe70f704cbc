//! JNI plumbing for the Java KeyStore store: checked calls and exception mapping.
//!
//! Every call into Java goes through one of the helpers here. When a call fails
//! with a pending Java exception, the exception is taken, **cleared**, and turned
//! into a [`StoreError`] by looking at its class hierarchy and its cause chain:
//!
//! | Java exception (anywhere in the cause chain, or a subclass) | error |
//! |---|---|
//! | `android.security.keystore.KeyPermanentlyInvalidatedException` | `secret-store-key-invalidated` |
//! | `android.security.keystore.UserNotAuthenticatedException` | `secret-store-unavailable` |
//! | `javax.crypto.AEADBadTagException` | `secret-store-corrupted` |
//! | anything else | `secret-store-backend`, naming the exception classes only |
//!
//! Exception messages are never copied into errors: only class names, which
//! cannot carry secret material.

use jni::objects::{JByteArray, JCharArray, JClass, JObject, JString, JThrowable, JValue};
use jni::JNIEnv;
use zeroize::Zeroizing;

use crate::secret_store::StoreError;

/// How far down a cause chain (and up a class hierarchy) the mapping looks.
const MAX_DEPTH: usize = 8;

const KEY_INVALIDATED: &str = "android.security.keystore.KeyPermanentlyInvalidatedException";
const NOT_AUTHENTICATED: &str = "android.security.keystore.UserNotAuthenticatedException";
const BAD_TAG: &str = "javax.crypto.AEADBadTagException";

/// Turns a failed JNI call into a [`StoreError`], clearing any pending exception.
pub(crate) fn fail(env: &mut JNIEnv<'_>, op: &str, error: jni::errors::Error) -> StoreError {
    if !matches!(env.exception_check(), Ok(true)) {
        return StoreError::Backend {
            reason: format!("{op}: JNI call failed: {error}"),
        };
    }
    let thrown = env.exception_occurred();
    // Nothing else may be called with an exception pending, so clear it first.
    if env.exception_clear().is_err() {
        return StoreError::Backend {
            reason: format!("{op}: a Java exception could not be cleared"),
        };
    }
    match thrown {
        Ok(throwable) if !throwable.is_null() => classify(env, op, &throwable),
        _ => StoreError::Backend {
            reason: format!("{op}: an unidentified Java exception was thrown"),
        },
    }
}

/// Maps an already-cleared throwable to a [`StoreError`].
fn classify(env: &mut JNIEnv<'_>, op: &str, throwable: &JThrowable<'_>) -> StoreError {
    let chain = env
        .with_local_frame(4 * MAX_DEPTH as i32 * MAX_DEPTH as i32, |env| {
            Ok::<_, jni::errors::Error>(hierarchy_chain(env, throwable))
        })
        .unwrap_or_default();
    // Looking at the classes must not leave anything pending either.
    if matches!(env.exception_check(), Ok(true)) {
        let _cleared = env.exception_clear();
    }
    let seen = |name: &str| chain.iter().flatten().any(|n| n == name);
    let described = describe(&chain);
    let reason = format!("{op}: {described}");
    if seen(KEY_INVALIDATED) {
        StoreError::KeyInvalidated { reason }
    } else if seen(NOT_AUTHENTICATED) {
        StoreError::Unavailable { reason }
    } else if seen(BAD_TAG) {
        StoreError::Corrupted { reason }
    } else {
        StoreError::Backend { reason }
    }
}

/// `Top (caused by Cause, caused by ...)`, class names only.
fn describe(chain: &[Vec<String>]) -> String {
    let mut names = chain.iter().filter_map(|classes| classes.first());
    let Some(top) = names.next() else {
        return "an unidentified Java exception was thrown".to_owned();
    };
    let causes: Vec<&str> = names.map(String::as_str).collect();
    if causes.is_empty() {
        top.clone()
    } else {
        format!("{top} (caused by {})", causes.join(", caused by "))
    }
}

/// For the throwable and each of its causes: its class name followed by its superclasses.
/// Stops quietly at the first JNI failure, clearing what that failure left pending.
fn hierarchy_chain(env: &mut JNIEnv<'_>, throwable: &JThrowable<'_>) -> Vec<Vec<String>> {
    let mut chain = Vec::new();
    let Ok(mut current) = env.new_local_ref(throwable) else {
        return chain;
    };
    for _ in 0..MAX_DEPTH {
        if current.is_null() {
            break;
        }
        chain.push(class_hierarchy(env, &current));
        let cause = env
            .call_method(&current, "getCause", "()Ljava/lang/Throwable;", &[])
            .and_then(|v| v.l());
        match cause {
            Ok(next) if !next.is_null() && !env.is_same_object(&next, &current).unwrap_or(true) => {
                current = next
            }
            _ => break,
        }
    }
    if matches!(env.exception_check(), Ok(true)) {
        let _cleared = env.exception_clear();
    }
    chain
}

/// The object's class name, then each superclass name, up to [`MAX_DEPTH`] levels.
fn class_hierarchy(env: &mut JNIEnv<'_>, object: &JObject<'_>) -> Vec<String> {
    let mut names = Vec::new();
    let Ok(mut class) = env.get_object_class(object) else {
        return names;
    };
    for _ in 0..MAX_DEPTH {
        match class_name(env, &class) {
            Some(name) => names.push(name),
            None => break,
        }
        match env.get_superclass(&class) {
            Ok(Some(parent)) => class = parent,
            _ => break,
        }
    }
    names
}

fn class_name(env: &mut JNIEnv<'_>, class: &JClass<'_>) -> Option<String> {
    let name = env
        .call_method(class, "getName", "()Ljava/lang/String;", &[])
        .and_then(|v| v.l())
        .ok()?;
    let name = JString::from(name);
    let text = env.get_string(&name).ok()?;
    Some(String::from(text))
}

/// Calls an instance method returning an object (possibly `null`).
pub(crate) fn call_object<'local>(
    env: &mut JNIEnv<'local>,
    op: &str,
    target: &JObject<'_>,
    name: &str,
    sig: &str,
    args: &[JValue<'_, '_>],
) -> Result<JObject<'local>, StoreError> {
    match env.call_method(target, name, sig, args).and_then(|v| v.l()) {
        Ok(object) => Ok(object),
        Err(error) => Err(fail(env, op, error)),
    }
}

/// Calls an instance method returning `void`.
pub(crate) fn call_void(
    env: &mut JNIEnv<'_>,
    op: &str,
    target: &JObject<'_>,
    name: &str,
    sig: &str,
    args: &[JValue<'_, '_>],
) -> Result<(), StoreError> {
    match env.call_method(target, name, sig, args).and_then(|v| v.v()) {
        Ok(()) => Ok(()),
        Err(error) => Err(fail(env, op, error)),
    }
}

/// Calls an instance method returning `boolean`.
pub(crate) fn call_bool(
    env: &mut JNIEnv<'_>,
    op: &str,
    target: &JObject<'_>,
    name: &str,
    sig: &str,
    args: &[JValue<'_, '_>],
) -> Result<bool, StoreError> {
    match env.call_method(target, name, sig, args).and_then(|v| v.z()) {
        Ok(value) => Ok(value),
        Err(error) => Err(fail(env, op, error)),
    }
}

/// Calls a static method returning an object (possibly `null`).
pub(crate) fn call_static_object<'local>(
    env: &mut JNIEnv<'local>,
    op: &str,
    class: &str,
    name: &str,
    sig: &str,
    args: &[JValue<'_, '_>],
) -> Result<JObject<'local>, StoreError> {
    match env
        .call_static_method(class, name, sig, args)
        .and_then(|v| v.l())
    {
        Ok(object) => Ok(object),
        Err(error) => Err(fail(env, op, error)),
    }
}

/// Constructs an object.
pub(crate) fn new_object<'local>(
    env: &mut JNIEnv<'local>,
    op: &str,
    class: &str,
    sig: &str,
    args: &[JValue<'_, '_>],
) -> Result<JObject<'local>, StoreError> {
    match env.new_object(class, sig, args) {
        Ok(object) => Ok(object),
        Err(error) => Err(fail(env, op, error)),
    }
}

/// A Java `String`.
pub(crate) fn string<'local>(
    env: &mut JNIEnv<'local>,
    text: &str,
) -> Result<JObject<'local>, StoreError> {
    match env.new_string(text) {
        Ok(string) => Ok(JObject::from(string)),
        Err(error) => Err(fail(env, "new String", error)),
    }
}

/// Reads a Java `String` (which must not be `null`) into Rust.
pub(crate) fn read_string(
    env: &mut JNIEnv<'_>,
    op: &str,
    object: JObject<'_>,
) -> Result<String, StoreError> {
    if object.is_null() {
        return Err(StoreError::Backend {
            reason: format!("{op}: returned null"),
        });
    }
    let string = JString::from(object);
    let text = env.get_string(&string).map(String::from);
    match text {
        Ok(text) => Ok(text),
        Err(error) => Err(fail(env, op, error)),
    }
}

/// A Java `byte[]` holding a copy of `bytes`.
pub(crate) fn byte_array<'local>(
    env: &mut JNIEnv<'local>,
    bytes: &[u8],
) -> Result<JByteArray<'local>, StoreError> {
    match env.byte_array_from_slice(bytes) {
        Ok(array) => Ok(array),
        Err(error) => Err(fail(env, "new byte[]", error)),
    }
}

/// Copies a Java `byte[]` (which must not be `null`) into Rust memory that wipes itself.
pub(crate) fn read_bytes(
    env: &mut JNIEnv<'_>,
    op: &str,
    object: JObject<'_>,
) -> Result<Zeroizing<Vec<u8>>, StoreError> {
    if object.is_null() {
        return Err(StoreError::Backend {
            reason: format!("{op}: returned null"),
        });
    }
    let array = JByteArray::from(object);
    match env.convert_byte_array(&array) {
        Ok(bytes) => Ok(Zeroizing::new(bytes)),
        Err(error) => Err(fail(env, op, error)),
    }
}

/// Overwrites a Java `byte[]` of `len` bytes with zeros (best effort for plaintext copies).
pub(crate) fn wipe_bytes(env: &mut JNIEnv<'_>, array: &JByteArray<'_>, len: usize) {
    let zeros = vec![0i8; len];
    if env.set_byte_array_region(array, 0, &zeros).is_err() {
        let _cleared = env.exception_clear();
    }
}

/// A Java `char[]` holding `text` as UTF-16; wipe it with [`wipe_chars`] after use.
pub(crate) fn char_array<'local>(
    env: &mut JNIEnv<'local>,
    text: &str,
) -> Result<JCharArray<'local>, StoreError> {
    let units: Zeroizing<Vec<u16>> = Zeroizing::new(text.encode_utf16().collect());
    let len = i32::try_from(units.len()).map_err(|_| StoreError::Backend {
        reason: "password is too long".into(),
    })?;
    let array = match env.new_char_array(len) {
        Ok(array) => array,
        Err(error) => return Err(fail(env, "new char[]", error)),
    };
    match env.set_char_array_region(&array, 0, &units) {
        Ok(()) => Ok(array),
        Err(error) => Err(fail(env, "fill char[]", error)),
    }
}

/// Overwrites a Java `char[]` with zeros.
pub(crate) fn wipe_chars(env: &mut JNIEnv<'_>, array: &JCharArray<'_>) {
    let len = env
        .get_array_length(array)
        .ok()
        .and_then(|n| usize::try_from(n).ok())
        .unwrap_or(0);
    let zeros = vec![0u16; len];
    if env.set_char_array_region(array, 0, &zeros).is_err() {
        let _cleared = env.exception_clear();
    }
}
