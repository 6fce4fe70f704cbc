// Desktop-JVM stand-in for the Android-only `LocalFirstAndroid`
// (android-lib/src/android/kotlin): the same class name and native method, so the
// library's one JNI entry point, `Java_dev_localfirst_LocalFirstAndroid_init` (JNI short
// names do not encode parameter types), records this JVM and a directory here too.
package dev.localfirst

import java.io.File

/** Records the JVM and `context.getNoBackupFilesDir()` for the Java KeyStore store. */
object LocalFirstAndroid {
    init {
        // The file JNA loads (jna.library.path, set by the pom): loading it again gives
        // the same copy of the library, so JNA's calls see what `init` recorded.
        val dir = System.getProperty("jna.library.path") ?: error("jna.library.path is not set")
        System.load(File(dir, System.mapLibraryName("localfirst_ffi")).absolutePath)
    }

    /**
     * Any object with `getNoBackupFilesDir(): java.io.File` will do. The first successful
     * call wins; failures throw `IllegalStateException("localfirst init failed [<code>]: ...")`.
     */
    @JvmStatic
    external fun init(context: Any)
}

/** The one method of `android.content.Context` that `LocalFirstAndroid.init` calls. */
class FakeContext(private val dir: File?) {
    /** Where the Keystore store keeps its envelope files (`null` models a broken context). */
    fun getNoBackupFilesDir(): File? = dir
}
