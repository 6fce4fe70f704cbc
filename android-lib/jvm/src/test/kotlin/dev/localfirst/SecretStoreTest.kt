package dev.localfirst

import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows
import org.junit.jupiter.api.io.TempDir
import java.io.File
import java.nio.file.Path
import java.util.concurrent.ConcurrentHashMap
import java.util.concurrent.atomic.AtomicInteger

/** A secret store written in Kotlin: secrets in a map shared by every instance over it. */
class MapStore(
    private val key: StorageKey,
    private val shelf: ConcurrentHashMap<String, AuthSecret>,
) : ForeignSecretStore() {
    val loads = AtomicInteger()

    override fun storageKey(): StorageKey = key

    override fun loadSecret(): AuthSecret? {
        loads.incrementAndGet()
        return shelf[key.asString()]
    }

    override fun saveSecret(secret: AuthSecret) {
        shelf[key.asString()] = secret
    }

    override fun clearSecret() {
        shelf.remove(key.asString())
    }

    override fun createSecret(secret: AuthSecret): AuthSecret = shelf.putIfAbsent(key.asString(), secret) ?: secret
}

/** A store whose reads fail with a chosen exception. */
class FailingStore(private val key: StorageKey, private val failure: () -> Throwable) : ForeignSecretStore() {
    val writes = AtomicInteger()

    override fun storageKey(): StorageKey = key

    override fun loadSecret(): AuthSecret? = throw failure()

    override fun saveSecret(secret: AuthSecret) {
        writes.incrementAndGet()
    }

    override fun clearSecret() {}

    override fun createSecret(secret: AuthSecret): AuthSecret {
        writes.incrementAndGet()
        return secret
    }
}

class SecretStoreTest {
    @Test
    fun `a Kotlin store passes the conformance suite`() {
        val shelf = ConcurrentHashMap<String, AuthSecret>()
        val report = runSecretStoreConformance { key -> MapStore(key, shelf) }
        assertEquals(emptyList<String>(), report.failures)
        assertTrue(report.passed)
        assertEquals(
            listOf(
                "absent_create_load", "save_replaces", "clear_then_absent", "namespacing",
                "concurrent_get_or_create", "failures_never_mint", "spurious_absence_never_replaces",
            ),
            report.checks,
        )
        assertTrue(shelf.size > 10, "the suite used the Kotlin store: ${shelf.size} items")
    }

    @Test
    fun `the suite catches a Kotlin store that forgets`() {
        // Every instance gets fresh memory: a reopened store never sees what was saved.
        val report = runSecretStoreConformance { key -> MapStore(key, ConcurrentHashMap()) }
        assertFalse(report.passed)
        assertTrue(report.failures.any { it.startsWith("absent_create_load:") && "reopened" in it }, report.failures.toString())
    }

    @Test
    fun `the suite catches a Kotlin store that overwrites on create`() {
        val shelf = ConcurrentHashMap<String, AuthSecret>()
        val report = runSecretStoreConformance { key ->
            object : ForeignSecretStore() {
                val inner = MapStore(key, shelf)
                override fun storageKey() = key
                override fun loadSecret() = inner.loadSecret()
                override fun saveSecret(secret: AuthSecret) = inner.saveSecret(secret)
                override fun clearSecret() = inner.clearSecret()
                override fun createSecret(secret: AuthSecret): AuthSecret {
                    inner.saveSecret(secret)
                    return secret
                }
            }
        }
        assertFalse(report.passed)
        assertEquals(1, report.failures.size, report.failures.toString())
        assertTrue(report.failures[0].startsWith("spurious_absence_never_replaces:"), report.failures.toString())
    }

    @Test
    fun `a failing Kotlin read never becomes a new identity`() {
        val key = StorageKey.forApp("my-app")
        val locked = FailingStore(key) {
            LocalFirstException.Failed(ErrorCode.SECRET_STORE_UNAVAILABLE, "device locked", null)
        }
        val error = assertThrows<LocalFirstException> { locked.getOrCreateSecret() }
        assertEquals(ErrorCode.SECRET_STORE_UNAVAILABLE, error.code())
        assertEquals("secret store unavailable: device locked", error.reason())
        assertEquals(0, locked.writes.get())

        // A code that is not a store's is a backend failure naming it.
        val odd = FailingStore(key) { LocalFirstException.Failed(ErrorCode.VAULT_TIMEOUT, "late", null) }
        val renamed = assertThrows<LocalFirstException> { odd.getOrCreateSecret() }
        assertEquals(ErrorCode.SECRET_STORE_BACKEND, renamed.code())
        assertTrue("[vault-timeout] late" in renamed.reason(), renamed.reason())
        assertEquals(0, odd.writes.get())

        val crashing = FailingStore(key) { IllegalStateException("boom") }
        val backend = assertThrows<LocalFirstException> { crashing.getOrCreateSecret() }
        assertEquals(ErrorCode.SECRET_STORE_BACKEND, backend.code())
        assertTrue("boom" in backend.reason(), backend.reason())
        assertEquals(0, crashing.writes.get())
    }

    @Test
    fun `getOrCreate on a Kotlin store creates once`() {
        val shelf = ConcurrentHashMap<String, AuthSecret>()
        val store = MapStore(StorageKey.defaultKey(), shelf)
        assertNull(store.loadSecret())
        val created = store.getOrCreateSecret()
        assertEquals(created, store.getOrCreateSecret())
        assertEquals(created, MapStore(StorageKey.defaultKey(), shelf).loadSecret())
        assertEquals(setOf("jazz-auth-secret"), shelf.keys)
    }

    @Test
    fun `the file store persists, passes the suite and keeps its files private`(@TempDir dir: Path) {
        val key = StorageKey.forApp("my-app")
        val store = FileSecretStore(dir.toString(), key)
        assertNull(store.loadSecret())
        val created = store.getOrCreateSecret()
        val reopened = FileSecretStore(dir.toString(), StorageKey.forApp("my-app"))
        assertEquals(created, reopened.loadSecret())
        assertEquals(created, reopened.getOrCreateSecret())
        val file = File(store.path())
        assertTrue(file.isFile, store.path())
        assertFalse(file.readText().contains("\u0000"))
        reopened.clearSecret()
        assertNull(store.loadSecret())

        val suiteDir = dir.resolve("suite").toString()
        val report = runSecretStoreConformance { k -> FileSecretStore(suiteDir, k) }
        assertEquals(emptyList<String>(), report.failures)
    }

    @Test
    fun `the memory store passes the suite`() {
        val root = MemorySecretStore(StorageKey.defaultKey())
        val report = runSecretStoreConformance { key -> root.sibling(key) }
        assertTrue(report.passed, report.failures.toString())
        val secret = AuthSecret.generate()
        root.saveSecret(secret)
        assertEquals(secret, root.sibling(StorageKey.defaultKey()).loadSecret())
        assertNull(root.sibling(StorageKey.forApp("other")).loadSecret())
    }

    @Test
    fun `storage keys follow Jazz's format`() {
        assertEquals("jazz-auth-secret", StorageKey.defaultKey().asString())
        assertEquals("jazz-auth-secret:my%20app", StorageKey.forApp("  my app ").asString())
        assertEquals("jazz-auth-secret:a:u", StorageKey.namespaced("a", "u", null).asString())
        assertEquals("jazz-auth-secret:user=alice", StorageKey.namespaced(null, "alice", null).asString())
        assertEquals("custom", StorageKey.explicit("custom").asString())
        assertEquals(StorageKey.forApp("x"), StorageKey.namespaced("x", null, null))
        val blank = assertThrows<LocalFirstException> { StorageKey.explicit("  ") }
        assertEquals(ErrorCode.INVALID_STORAGE_KEY, blank.code())
    }

    @Test
    fun `suspending wrappers reach the store`(@TempDir dir: Path) = runBlocking {
        val store = FileSecretStore(dir.toString(), StorageKey.defaultKey())
        assertNull(store.loadSecretAsync())
        val secret = AuthSecret.generate()
        store.saveSecretAsync(secret)
        assertEquals(secret, store.loadSecretAsync())
        assertEquals(secret, store.getOrCreateSecretAsync())
        store.clearSecretAsync()
        assertNull(store.loadSecretAsync())
    }
}
