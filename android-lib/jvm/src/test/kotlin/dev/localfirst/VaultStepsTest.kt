package dev.localfirst

import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertNotNull
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.io.TempDir
import java.nio.file.Path

/**
 * The vault flow step by step, as the Expo module's Kotlin side calls it (`vaultRestore`,
 * `vaultBackupSecret`, `vaultConfirmReadback`, `vaultAdopt` over a store): the vault's I/O is
 * the caller's, every decision the core's, every failure a `code` in the returned `VaultStep`.
 */
class VaultStepsTest {
    private fun memory(name: String = "vault-steps") = MemorySecretStore(StorageKey.forApp(name))

    @Test
    fun emptyVaultBackupReadBackThenInSync() {
        val store = memory()
        var vault: String? = null

        val backup = vaultBackupSecret(store)
        assertNull(backup.code)
        assertEquals("backup", backup.outcome)
        assertTrue(backup.created)
        val written = backup.secret!!
        assertEquals(written.toBase64Url(), store.loadSecret()!!.toBase64Url())
        vault = written.toBase64Url()

        val confirmed = vaultConfirmReadback(written, backup.created, vault)
        assertNull(confirmed.code)
        assertEquals("backed-up", confirmed.outcome)
        assertTrue(confirmed.created)
        assertEquals(written.userId(), confirmed.userId)

        assertEquals("vault-write-unconfirmed", vaultConfirmReadback(written, true, null).code?.toString())
        assertEquals("in-sync", vaultRestore(store, vault).outcome)
    }

    @Test
    fun populatedVaultRestoresOntoAFileStore(@TempDir dir: Path) {
        val theirs = AuthSecret.generate()
        val store = FileSecretStore(dir.toString(), StorageKey.forApp("vault-steps"))
        val restored = vaultRestore(store, theirs.toBase64Url())
        assertNull(restored.code)
        assertEquals("restored", restored.outcome)
        assertEquals(theirs.userId(), restored.userId)
        assertEquals(theirs.toBase64Url(), restored.secret!!.toBase64Url())
        val reopened = FileSecretStore(dir.toString(), StorageKey.forApp("vault-steps"))
        assertEquals(theirs.toBase64Url(), reopened.loadSecret()!!.toBase64Url())
    }

    @Test
    fun conflictCarriesBothIdsAndAdoptReplacesOnlyWithConsent() {
        val mine = AuthSecret.generate()
        val theirs = AuthSecret.generate()
        val store = memory()
        store.saveSecret(mine)

        val conflict = vaultRestore(store, theirs.toBase64Url())
        assertEquals("vault-identity-conflict", conflict.code?.toString())
        assertEquals(mine.userId(), conflict.deviceUserId)
        assertEquals(theirs.userId(), conflict.vaultUserId)
        assertNotNull(conflict.message)
        assertNull(conflict.secret)
        assertEquals(mine.toBase64Url(), store.loadSecret()!!.toBase64Url())

        assertEquals("vault-identity-conflict", vaultAdopt(store, theirs.toBase64Url(), mine.userId()).code?.toString())
        assertEquals("vault-unavailable", vaultAdopt(store, null, theirs.userId()).code?.toString())
        assertEquals(mine.toBase64Url(), store.loadSecret()!!.toBase64Url())

        val adopted = vaultAdopt(store, theirs.toBase64Url(), conflict.vaultUserId!!)
        assertNull(adopted.code)
        assertEquals("adopted", adopted.outcome)
        assertEquals(mine.toBase64Url(), adopted.replaced!!.toBase64Url())
        assertEquals(theirs.toBase64Url(), store.loadSecret()!!.toBase64Url())
    }

    @Test
    fun corruptValuesReplaceNothing() {
        val mine = AuthSecret.generate()
        val store = memory()
        store.saveSecret(mine)
        for (bad in listOf("", "QUJD", "not a secret", "A".repeat(44))) {
            assertEquals("vault-corrupt", vaultRestore(store, bad).code?.toString(), bad)
            assertEquals("vault-corrupt", vaultAdopt(store, bad, "any").code?.toString(), bad)
            assertEquals("vault-corrupt", vaultConfirmReadback(mine, false, bad).code?.toString(), bad)
        }
        assertEquals(mine.toBase64Url(), store.loadSecret()!!.toBase64Url())
        assertNull(memory("vault-steps-empty").also { vaultRestore(it, "QUJD") }.loadSecret())
    }
}
