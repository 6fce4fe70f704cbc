package dev.localfirst

import android.content.Context
import android.util.Xml
import org.junit.Assert.assertEquals
import org.junit.Assert.assertTrue
import org.junit.Test
import org.junit.runner.RunWith
import org.robolectric.RobolectricTestRunner
import org.robolectric.RuntimeEnvironment
import org.robolectric.annotation.Config
import org.robolectric.annotation.ConscryptMode
import org.xmlpull.v1.XmlPullParser
import java.io.File
import java.nio.file.Files

/**
 * The Android library's `LocalFirstAndroid` (android-lib/src/android/kotlin), compiled against
 * the Android framework, with a real framework `Context` from Robolectric (API 34, the one SDK
 * level the build fetches). No manifest or compiled resources: the library's `res/xml` rules are
 * read from their files with the framework's XML parser.
 */
@RunWith(RobolectricTestRunner::class)
@Config(sdk = [34], manifest = Config.NONE)
// Conscrypt (Robolectric's default TLS provider) reads the framework's Build class outside
// the sandbox; the JDK's providers serve here.
@ConscryptMode(ConscryptMode.Mode.OFF)
class LocalFirstAndroidTest {
    // No framework type in a member's signature: the runner reflects on this class outside
    // the sandbox, where the framework is not on the class path.

    @Test
    fun `init records the app's no-backup directory and the Keystore store keeps its envelope there`() {
        val context: Context = RuntimeEnvironment.getApplication()
        val noBackup = context.noBackupFilesDir
        // The framework's directory is `no_backup/` under the app's data directory: the path the
        // backup rules below exclude.
        assertEquals(File(context.dataDir, "no_backup"), noBackup)

        LocalFirstAndroid.init(context)
        val keys = Files.createTempDirectory("localfirst-keys").toFile()
        try {
            val store = KeystoreSecretStore.withDesktopKeystore(
                StorageKey.forApp("robolectric-app"), File(keys, "keys.p12").path, "password", null,
            )
            val secret = store.getOrCreateSecret()
            val envelopes = noBackup.listFiles { file -> file.name.endsWith(".envelope.json") }.orEmpty()
            assertEquals("one envelope in ${noBackup.path}", 1, envelopes.size)
            assertEquals(secret.userId(), store.loadSecret()?.userId())
        } finally {
            keys.deleteRecursively()
        }
    }

    @Test
    fun `keystoreSecretStore initialises from the context, and off Android the AndroidKeyStore is unavailable`() {
        val context: Context = RuntimeEnvironment.getApplication()
        val error = runCatching {
            LocalFirstAndroid.keystoreSecretStore(context, StorageKey.defaultKey())
        }.exceptionOrNull()
        assertTrue("got $error", error is LocalFirstException)
        assertEquals(ErrorCode.SECRET_STORE_UNAVAILABLE, (error as LocalFirstException).code())
    }

    @Test
    fun `the backup rules exclude no_backup from Auto Backup`() {
        assertEquals(
            listOf("full-backup-content/exclude root no_backup/"),
            rules("localfirst_backup_rules"),
        )
    }

    @Test
    fun `the data extraction rules exclude no_backup from cloud backup and device transfer`() {
        assertEquals(
            listOf(
                "data-extraction-rules/cloud-backup/exclude root no_backup/",
                "data-extraction-rules/device-transfer/exclude root no_backup/",
            ),
            rules("localfirst_data_extraction_rules"),
        )
    }

    /** Every `include`/`exclude` of `res/xml/<name>.xml`: its element path, domain and path. */
    private fun rules(name: String): List<String> {
        val file = File(System.getProperty("localfirst.res.dir"), "xml/$name.xml")
        val parser = Xml.newPullParser()
        val found = mutableListOf<String>()
        file.inputStream().use { input ->
            parser.setInput(input, "UTF-8")
            val path = ArrayDeque<String>()
            while (parser.next() != XmlPullParser.END_DOCUMENT) {
                when (parser.eventType) {
                    XmlPullParser.START_TAG -> {
                        path.addLast(parser.name)
                        if (parser.name == "include" || parser.name == "exclude") {
                            val domain = parser.getAttributeValue(null, "domain")
                            val at = parser.getAttributeValue(null, "path")
                            found += "${path.joinToString("/")} $domain $at"
                        }
                    }
                    XmlPullParser.END_TAG -> path.removeLast()
                }
            }
        }
        return found
    }
}
