package dev.localfirst

import kotlinx.coroutines.CompletableDeferred
import kotlinx.coroutines.awaitCancellation
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withTimeout
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertNotEquals
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows
import org.junit.jupiter.api.io.TempDir
import java.io.IOException
import java.nio.file.Path
import java.util.concurrent.atomic.AtomicInteger
import kotlin.time.Duration.Companion.milliseconds

/**
 * A provider's vault kept in memory, written in Kotlin: the text it holds, call counters,
 * and the faults a real provider shows.
 */
class KotlinVault(@Volatile var value: String? = null) : SecretVault {
    val loads = AtomicInteger()
    val stores = AtomicInteger()

    /** `load` throws this message. */
    @Volatile var loadError: String? = null

    /** `load` never answers; completed when the flow gives up on it (the coroutine is cancelled). */
    @Volatile var hangLoad: CompletableDeferred<Unit>? = null

    /** `store` answers but keeps nothing. */
    @Volatile var dropWrites = false

    /** `store` keeps this instead of what it was given (another device won a race). */
    @Volatile var storeInstead: String? = null

    override suspend fun load(): String? {
        loads.incrementAndGet()
        hangLoad?.let { cancelled ->
            try {
                awaitCancellation()
            } finally {
                cancelled.complete(Unit)
            }
        }
        loadError?.let { throw LocalFirstException.Failed(ErrorCode.VAULT_UNAVAILABLE, it, null) }
        return value
    }

    override suspend fun store(secret: String) {
        stores.incrementAndGet()
        if (!dropWrites) value = storeInstead ?: secret
    }
}

/** The two identities of a `vault-identity-conflict`. */
fun LocalFirstException.conflict(): ErrorDetails.IdentityConflict {
    assertEquals(ErrorCode.VAULT_IDENTITY_CONFLICT, code())
    return details() as ErrorDetails.IdentityConflict
}

class VaultTest {
    private fun emptyStore() = MemorySecretStore(StorageKey.forApp("vault-test"))

    @Test
    fun `an empty vault gets this device's new secret, then both are in sync`() = runBlocking {
        val vault = KotlinVault()
        val store = emptyStore()
        val backedUp = restoreOrBackupWithVault(vault, store)
        assertEquals(VaultOutcome.BackedUp(created = true), backedUp.outcome)
        val stored = store.loadSecret()!!
        assertEquals(stored, backedUp.secret)
        assertEquals(stored.userId(), backedUp.userId)
        assertEquals(stored.toBase64Url(), vault.value)
        assertEquals(2, vault.loads.get()) // the first load, and the read-back
        assertEquals(1, vault.stores.get())

        val again = restoreOrBackupWithVault(vault, store)
        assertEquals(VaultOutcome.InSync, again.outcome)
        assertEquals(backedUp.userId, again.userId)
        assertEquals(1, vault.stores.get())
    }

    @Test
    fun `an empty vault gets the secret the device already has`() = runBlocking {
        val store = emptyStore()
        val existing = store.getOrCreateSecret()
        val vault = KotlinVault()
        val identity = restoreOrBackupWithVault(vault, store)
        assertEquals(VaultOutcome.BackedUp(created = false), identity.outcome)
        assertEquals(existing.userId(), identity.userId)
        assertEquals(existing.toBase64Url(), vault.value)
    }

    @Test
    fun `a populated vault restores its identity on a new device`(@TempDir dir: Path) = runBlocking {
        val account = AuthSecret.generate()
        val vault = KotlinVault(account.toBase64Url())
        val store = FileSecretStore(dir.toString(), StorageKey.forApp("vault-test"))
        val restored = restoreOrBackupWithVault(vault, store)
        assertEquals(VaultOutcome.Restored, restored.outcome)
        assertEquals(account.userId(), restored.userId)
        assertEquals(account, restored.secret)
        assertEquals(0, vault.stores.get())
        // On disk: a store reopened later (the next launch) holds the vault's secret.
        assertEquals(account, FileSecretStore(dir.toString(), StorageKey.forApp("vault-test")).loadSecret())
    }

    @Test
    fun `another identity on the device is a conflict with both ids, then adopted on request`() = runBlocking {
        val store = emptyStore()
        val device = store.getOrCreateSecret()
        val account = AuthSecret.generate()
        val vault = KotlinVault(account.toBase64Url())

        val error = assertThrows<LocalFirstException> { runBlocking { restoreOrBackupWithVault(vault, store) } }
        assertEquals("vault-identity-conflict", error.code().toString())
        val conflict = error.conflict()
        assertEquals(device.userId(), conflict.deviceUserId)
        assertEquals(account.userId(), conflict.vaultUserId)
        assertTrue(error.reason().contains(device.userId()) && error.reason().contains(account.userId()), error.reason())
        // Nothing was replaced on either side.
        assertEquals(device, store.loadSecret())
        assertEquals(account.toBase64Url(), vault.value)
        assertEquals(0, vault.stores.get())

        // The user agreed to an id the vault no longer holds: refused, nothing replaced.
        val stale = AuthSecret.generate().userId()
        val refused = assertThrows<LocalFirstException> { runBlocking { adoptVaultIdentity(vault, store, stale) } }
        assertEquals(account.userId(), refused.conflict().vaultUserId)
        assertEquals(device, store.loadSecret())

        val adopted = adoptVaultIdentity(vault, store, conflict.vaultUserId)
        assertEquals(account.userId(), adopted.userId)
        assertEquals(account, adopted.secret)
        assertEquals(device, adopted.replaced)
        assertEquals(account, store.loadSecret())
        assertEquals(VaultOutcome.InSync, restoreOrBackupWithVault(vault, store).outcome)
    }

    @Test
    fun `a corrupt vault value replaces nothing and creates nothing`() = runBlocking {
        for (bad in listOf("not a secret", "", AuthSecret.generate().toBase64Url() + "=")) {
            val vault = KotlinVault(bad)
            val store = emptyStore()
            val error = assertThrows<LocalFirstException> { runBlocking { restoreOrBackupWithVault(vault, store) } }
            assertEquals(ErrorCode.VAULT_CORRUPT, error.code(), bad)
            assertNull(store.loadSecret(), bad)
            assertEquals(bad, vault.value)
            assertEquals(0, vault.stores.get())
        }
    }

    @Test
    fun `a failing vault never leads to a new identity`() = runBlocking {
        val vault = KotlinVault().apply { loadError = "provider returned 503" }
        val store = emptyStore()
        val error = assertThrows<LocalFirstException> { runBlocking { restoreOrBackupWithVault(vault, store) } }
        assertEquals(ErrorCode.VAULT_UNAVAILABLE, error.code())
        assertTrue(error.reason().contains("provider returned 503"), error.reason())
        assertNull(store.loadSecret())
        assertEquals(0, vault.stores.get())
    }

    @Test
    fun `any exception from a vault is vault-unavailable, never an empty vault`() = runBlocking {
        // Through the convenience: a plain IOException from the provider call.
        val viaLambdas = secretVault(load = { throw IOException("connection reset") }, store = { })
        val store = emptyStore()
        val wrapped = assertThrows<LocalFirstException> { runBlocking { restoreOrBackupWithVault(viaLambdas, store) } }
        assertEquals(ErrorCode.VAULT_UNAVAILABLE, wrapped.code())
        assertTrue(wrapped.reason().contains("connection reset"), wrapped.reason())
        // Implemented directly, throwing something UniFFI does not know.
        val raw = object : SecretVault {
            override suspend fun load(): String? = throw IllegalStateException("unexpected answer")

            override suspend fun store(secret: String) = Unit
        }
        val unexpected = assertThrows<LocalFirstException> { runBlocking { restoreOrBackupWithVault(raw, store) } }
        assertEquals(ErrorCode.VAULT_UNAVAILABLE, unexpected.code())
        assertTrue(unexpected.reason().contains("unexpected answer"), unexpected.reason())
        assertNull(store.loadSecret())
    }

    @Test
    fun `a vault that does not answer times out, is cancelled, and creates nothing`() = runBlocking {
        val cancelled = CompletableDeferred<Unit>()
        val vault = KotlinVault().apply { hangLoad = cancelled }
        val store = emptyStore()
        val error = assertThrows<LocalFirstException> {
            runBlocking { restoreOrBackupWithVault(vault, store, timeout = 200.milliseconds) }
        }
        assertEquals(ErrorCode.VAULT_TIMEOUT, error.code())
        assertEquals(ErrorDetails.VaultTimeout(200uL), error.details())
        assertNull(store.loadSecret())
        assertEquals(0, vault.stores.get())
        // The flow dropped the call: the Kotlin coroutine behind it was cancelled.
        withTimeout(10_000) { cancelled.await() }
    }

    @Test
    fun `a write that does not read back is reported and the device keeps its secret`() = runBlocking {
        val vault = KotlinVault().apply { dropWrites = true }
        val store = emptyStore()
        val error = assertThrows<LocalFirstException> { runBlocking { restoreOrBackupWithVault(vault, store) } }
        assertEquals(ErrorCode.VAULT_WRITE_UNCONFIRMED, error.code())
        assertNull(vault.value)
        assertEquals(1, vault.stores.get())
        // The device's secret was made (the vault said "empty") and stays.
        assertTrue(store.loadSecret() != null)
    }

    @Test
    fun `another device winning the backup race is a conflict`() = runBlocking {
        val winner = AuthSecret.generate()
        val vault = KotlinVault().apply { storeInstead = winner.toBase64Url() }
        val store = emptyStore()
        val conflict = assertThrows<LocalFirstException> { runBlocking { restoreOrBackupWithVault(vault, store) } }.conflict()
        assertEquals(winner.userId(), conflict.vaultUserId)
        assertEquals(store.loadSecret()!!.userId(), conflict.deviceUserId)
        assertNotEquals(conflict.deviceUserId, conflict.vaultUserId)
    }

    @Test
    fun `a failing secret store keeps its own code`() = runBlocking {
        val vault = KotlinVault(AuthSecret.generate().toBase64Url())
        val locked = FailingStore(StorageKey.forApp("vault-test")) {
            LocalFirstException.Failed(ErrorCode.SECRET_STORE_UNAVAILABLE, "device locked", null)
        }
        val error = assertThrows<LocalFirstException> { runBlocking { restoreOrBackupWithVault(vault, locked) } }
        assertEquals(ErrorCode.SECRET_STORE_UNAVAILABLE, error.code())
        assertTrue(error.reason().contains("device locked"), error.reason())
        assertEquals(0, locked.writes.get())
    }

    @Test
    fun `adopting from an empty vault is refused`() = runBlocking {
        val store = emptyStore()
        val device = store.getOrCreateSecret()
        val error = assertThrows<LocalFirstException> {
            runBlocking { adoptVaultIdentity(KotlinVault(), store, device.userId()) }
        }
        assertEquals(ErrorCode.VAULT_UNAVAILABLE, error.code())
        assertEquals(device, store.loadSecret())
    }
}
