// Android-only part of the hand-written layer (not compiled by the desktop-JVM build).
package dev.localfirst

import android.content.Context

/**
 * Hands the `JavaVM` and the app's no-backup directory to the Rust core, for the
 * Android Keystore secret store. Call once, early (e.g. in `Application.onCreate`).
 *
 * JNA loads the library without calling `JNI_OnLoad`, so this small `external fun`
 * is loaded with [System.loadLibrary] and registers the runtime itself.
 */
object LocalFirstAndroid {
    init {
        System.loadLibrary("localfirst_ffi")
    }

    /**
     * Records the `JavaVM` and `context.getNoBackupFilesDir()` (the context itself is not
     * kept). The first successful call wins. Throws `IllegalStateException` carrying the
     * error code (`localfirst init failed [<code>]: ...`) on failure.
     */
    @JvmStatic
    external fun init(context: Context)

    /**
     * The Android Keystore secret store for [storageKey] (envelope in the no-backup
     * directory, key in the `AndroidKeyStore`); the same as `KeystoreSecretStore(storageKey)`.
     * Calls [init] with the application context first (after the first successful call
     * that returns at once). Throws `IllegalStateException` if `init` fails, otherwise
     * [LocalFirstException] with the error code; the store's own operations block on
     * disk and the Keystore, so call them off the main thread (`loadSecretAsync`, ...).
     */
    @JvmStatic
    fun keystoreSecretStore(context: Context, storageKey: StorageKey): KeystoreSecretStore {
        init(context.applicationContext ?: context)
        return KeystoreSecretStore(storageKey)
    }
}
