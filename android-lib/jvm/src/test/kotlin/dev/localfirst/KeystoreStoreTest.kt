package dev.localfirst

import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows
import org.junit.jupiter.api.io.TempDir
import java.io.File
import java.nio.file.Files
import java.nio.file.Path
import java.util.concurrent.TimeUnit

/**
 * The no-backup directory of this test JVM. `LocalFirstAndroid.init` records the first
 * context of the process only, so every test here shares this one (and no other test
 * class calls `init`).
 */
object DesktopRuntime {
    val noBackupDir: File by lazy {
        val dir = Files.createTempDirectory("localfirst-no-backup").toFile()
        Runtime.getRuntime().addShutdownHook(Thread { dir.deleteRecursively() })
        LocalFirstAndroid.init(FakeContext(dir))
        dir
    }
}

/**
 * What a fresh JVM reports before and after `LocalFirstAndroid.init`: run as a child
 * process by the test, one `name=result` line per step (`ok`, the error code, or
 * `ISE:` and the message of an `IllegalStateException`).
 */
object FreshProcess {
    @JvmStatic
    fun main(args: Array<String>) {
        val dir = File(args[0])
        val keystore = File(dir, "keys.p12").path
        val noBackup = File(dir, "no_backup")
        fun step(name: String, block: () -> Unit) {
            val result = try {
                block()
                "ok"
            } catch (e: LocalFirstException) {
                e.code().toString()
            } catch (e: IllegalStateException) {
                "ISE:${e.message}"
            }
            println("$name=$result")
        }
        step("desktop-before-init") {
            KeystoreSecretStore.withDesktopKeystore(StorageKey.defaultKey(), keystore, "password", dir.path)
        }
        step("init-not-a-context") { LocalFirstAndroid.init("not a context") }
        step("init-null-dir") { LocalFirstAndroid.init(FakeContext(null)) }
        step("init") { LocalFirstAndroid.init(FakeContext(noBackup)) }
        step("init-again-elsewhere") { LocalFirstAndroid.init(FakeContext(File(dir, "elsewhere"))) }
        step("store-after-init") {
            val store = KeystoreSecretStore.withDesktopKeystore(StorageKey.defaultKey(), keystore, "password")
            val secret = store.getOrCreateSecret()
            check(File(store.envelopePath()).parentFile == noBackup) { "envelope at ${store.envelopePath()}" }
            check(store.loadSecret()?.toBase64Url() == secret.toBase64Url()) { "read back another secret" }
        }
        step("android-after-init") { KeystoreSecretStore(StorageKey.defaultKey()) }
    }
}

class KeystoreStoreTest {
    private val password = "desktop-test-password"

    private fun desktopStore(
        key: StorageKey,
        dir: Path,
        password: String = this.password,
        keystore: String = "keys.p12",
    ): KeystoreSecretStore {
        DesktopRuntime.noBackupDir
        return KeystoreSecretStore.withDesktopKeystore(key, dir.resolve(keystore).toString(), password, dir.toString())
    }

    @Test
    fun `the desktop Keystore store passes the conformance suite`(@TempDir dir: Path) {
        val report = runSecretStoreConformance { key -> desktopStore(key, dir) }
        assertEquals(emptyList<String>(), report.failures)
        assertTrue(report.passed)
        assertEquals(7, report.checks.size)
        assertTrue(dir.resolve("keys.p12").toFile().isFile, "the keys went to the PKCS12 file")
        val envelopes = dir.toFile().list { _, name -> name.endsWith(".envelope.json") }.orEmpty()
        assertTrue(envelopes.isNotEmpty(), "the suite left secrets as envelopes in $dir")
    }

    @Test
    fun `the envelope goes to the no-backup directory init recorded`(@TempDir dir: Path) {
        val noBackup = DesktopRuntime.noBackupDir
        val key = StorageKey.forApp("keystore-envelope-${System.nanoTime()}")
        val keystore = dir.resolve("keys.p12").toString()
        val store = KeystoreSecretStore.withDesktopKeystore(key, keystore, password)
        val envelope = File(store.envelopePath())
        assertEquals(noBackup.canonicalFile, envelope.parentFile.canonicalFile)
        assertFalse(envelope.exists())
        assertNull(store.loadSecret())

        val secret = store.getOrCreateSecret()
        assertTrue(envelope.isFile)
        val text = envelope.readText()
        assertTrue(Regex("""\{"v":1,"iv":"[A-Za-z0-9_-]{16}","ct":"[A-Za-z0-9_-]{64}"\}""").matches(text), text)
        assertFalse(secret.toBase64Url() in text, "the envelope holds no plaintext")

        val reopened = KeystoreSecretStore.withDesktopKeystore(key, keystore, password)
        assertEquals(secret.toBase64Url(), reopened.loadSecret()?.toBase64Url())
        assertEquals(key.asString(), reopened.storageKey().asString())
        assertEquals(secret.toBase64Url(), reopened.getOrCreateSecret().toBase64Url())
        reopened.clearSecret()
        assertFalse(envelope.exists())
        assertNull(store.loadSecret())
    }

    @Test
    fun `a wrong password, a damaged envelope or a lost keystore is a coded error, never absence`(@TempDir dir: Path) {
        val key = StorageKey.forApp("keystore-errors")
        val store = desktopStore(key, dir)
        val secret = store.getOrCreateSecret()
        val envelope = File(store.envelopePath())
        val good = envelope.readText()

        val wrong = desktopStore(key, dir, password = "not-the-password")
        assertEquals("secret-store-backend", assertThrows<LocalFirstException> { wrong.loadSecret() }.code().toString())
        assertEquals(ErrorCode.SECRET_STORE_BACKEND, assertThrows<LocalFirstException> { wrong.getOrCreateSecret() }.code())

        // The envelope without its keystore: what a restored backup would find.
        val lost = desktopStore(key, dir, keystore = "other.p12")
        val invalidated = assertThrows<LocalFirstException> { lost.getOrCreateSecret() }
        assertEquals("secret-store-key-invalidated", invalidated.code().toString())
        assertFalse(dir.resolve("other.p12").toFile().exists(), "no key was made for a lost one")

        // Wrong lengths, then one altered ciphertext character (the GCM tag fails).
        val ct = Regex(""""ct":"(.)""").find(good)!!.groups[1]!!
        val flipped = good.replaceRange(ct.range, if (ct.value == "A") "B" else "A")
        for (damaged in listOf("""{"v":1,"iv":"AAAA","ct":"BBBB"}""", flipped, "")) {
            envelope.writeText(damaged)
            val corrupted = assertThrows<LocalFirstException> { store.loadSecret() }
            assertEquals("secret-store-corrupted", corrupted.code().toString(), damaged)
            assertEquals(ErrorCode.SECRET_STORE_CORRUPTED, assertThrows<LocalFirstException> { store.getOrCreateSecret() }.code())
            assertEquals(damaged, envelope.readText(), "a damaged envelope is left as it is")
        }
        envelope.writeText(good)
        assertEquals(secret.toBase64Url(), store.loadSecret()?.toBase64Url())

        val empty = assertThrows<LocalFirstException> { desktopStore(key, dir, password = "") }
        assertEquals("secret-store-backend", empty.code().toString())
    }

    @Test
    fun `the Android Keystore and Keychain constructors are unavailable on a desktop JVM`() {
        val android = assertThrows<LocalFirstException> { KeystoreSecretStore(StorageKey.defaultKey()) }
        assertEquals("secret-store-unavailable", android.code().toString())
        assertTrue("withDesktopKeystore" in android.reason(), android.reason())

        val options = KeychainOptions(
            service = "localfirst-test",
            accessibility = KeychainAccessibility.WHEN_UNLOCKED_THIS_DEVICE_ONLY,
            accessGroup = "TEAMID.group.test",
            userPresence = true,
        )
        for (make in listOf({ KeychainSecretStore(StorageKey.forApp("app")) }, { KeychainSecretStore(StorageKey.forApp("app"), options) })) {
            val keychain = assertThrows<LocalFirstException> { make() }
            assertEquals("secret-store-unavailable", keychain.code().toString())
            assertTrue("iOS or macOS" in keychain.reason(), keychain.reason())
        }
    }

    @Test
    fun `a fresh JVM reports a missing or broken init with codes`(@TempDir dir: Path) {
        val java = File(System.getProperty("java.home"), "bin/java").path
        val classpath = System.getProperty("surefire.test.class.path") ?: System.getProperty("java.class.path")
        val process = ProcessBuilder(
            java, "-cp", classpath,
            "-Djna.library.path=${System.getProperty("jna.library.path")}",
            FreshProcess::class.java.name, dir.toString(),
        ).redirectErrorStream(true).start()
        val output = process.inputStream.bufferedReader().readText()
        assertTrue(process.waitFor(120, TimeUnit.SECONDS), "the child JVM finished")
        assertEquals(0, process.exitValue(), output)
        val steps = output.lines().filter { Regex("^[a-z-]+=").containsMatchIn(it) }
            .associate { it.substringBefore("=") to it.substringAfter("=") }
        assertFalse("FATAL ERROR" in output, output)
        assertEquals("secret-store-backend", steps["desktop-before-init"], output)
        assertTrue(steps["init-not-a-context"].orEmpty().startsWith("ISE:localfirst init failed [secret-store-backend]"), output)
        assertTrue(steps["init-null-dir"].orEmpty().startsWith("ISE:localfirst init failed [secret-store-unavailable]"), output)
        assertEquals("ok", steps["init"], output)
        assertEquals("ok", steps["init-again-elsewhere"], output)
        assertEquals("ok", steps["store-after-init"], output)
        assertEquals("secret-store-unavailable", steps["android-after-init"], output)
        assertFalse(File(dir.toFile(), "elsewhere").exists(), "the first init wins")
    }
}
