//! The JNI entry point behind `dev.localfirst.LocalFirstAndroid.init(context)`.
//!
//! JNA loads the library without calling `JNI_OnLoad`, so the Kotlin side loads it
//! once more with `System.loadLibrary` and calls this `external fun`, which records
//! the `JavaVM` and the no-backup directory for the Keystore secret store. The body
//! is the core's: on failure it throws `IllegalStateException` carrying the code.

use jni::objects::{JClass, JObject};
use jni::JNIEnv;

/// `LocalFirstAndroid.init(context)`: see the module documentation.
// A JNI symbol must keep its exact name; the function itself contains no unsafe code.
#[allow(unsafe_code)]
#[no_mangle]
pub extern "system" fn Java_dev_localfirst_LocalFirstAndroid_init<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    context: JObject<'local>,
) {
    localfirst_core::secret_store::keystore::init_android_or_throw(&mut env, &context);
}
