package dev.localfirst

import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows

/** The core's app-facing operations as Kotlin calls them: the core's names, argument order and codes. */
class AppOperationsTest {
    @Test
    fun `storageKeyFor picks one key and refuses a key with ids`() {
        assertEquals("jazz-auth-secret", storageKeyFor().asString())
        assertEquals("jazz-auth-secret:my%20app:u1", storageKeyFor(appId = "my app", userId = "u1").asString())
        assertEquals("mine", storageKeyFor(key = "mine").asString())
        for (refused in listOf<() -> StorageKey>(
            { storageKeyFor(key = "mine", appId = "app") },
            { storageKeyFor(key = "mine", sessionId = "") },
            { storageKeyFor(key = "  ") },
        )) {
            assertEquals(ErrorCode.INVALID_STORAGE_KEY, assertThrows<LocalFirstException> { refused() }.code())
        }
    }

    @Test
    fun `identityProofFor defaults to 60 seconds and never mints over 600`() {
        val secret = AuthSecret.generate()
        val proof = identityProofFor(secret, audience = "signup")
        val verified = verifyLocalFirstToken(proof, "signup")
        assertEquals(60uL, verified.expiresAt - verified.issuedAt)
        assertEquals(secret.userId(), verified.userId)
        assertEquals(Issuer.LOCAL_FIRST, verified.issuer)
        assertTrue(verifyLocalFirstIdentityProof(proof, "signup").ok)
        for (ttl in listOf(0L, 601L, 3600L)) {
            val error = assertThrows<LocalFirstException> { identityProofFor(secret, ttl, "signup") }
            assertEquals(ErrorCode.INVALID_TTL, error.code(), "$ttl")
        }
        val old = assertThrows<LocalFirstException> { localFirstIdentityProof(secret, "signup", 3600) }
        assertEquals(ErrorCode.INVALID_TTL, old.code())
    }

    @Test
    fun `verifyLocalFirstToken throws the first failed check`() {
        val secret = AuthSecret.generate()
        val token = mintLocalFirstToken(secret, "my-app", 900)
        val verified = verifyLocalFirstToken(token, "my-app")
        assertEquals(secret.publicKey(), verified.publicKey)
        assertEquals("my-app", verified.audience)
        val mismatch = assertThrows<LocalFirstException> { verifyLocalFirstToken(token, "other") }
        assertEquals(ErrorCode.AUDIENCE_MISMATCH, mismatch.code())
        val tooLong = assertThrows<LocalFirstException> { verifyLocalFirstToken(token, "my-app", maxTtlSeconds = 600) }
        assertEquals(ErrorCode.TTL_TOO_LONG, tooLong.code())
        val issuer = assertThrows<LocalFirstException> { verifyLocalFirstToken(token, "my-app", issuers = listOf(Issuer.ANONYMOUS)) }
        assertEquals(ErrorCode.ISSUER_NOT_ALLOWED, issuer.code())
    }

    @Test
    fun `importJazzSecret imports once and reports a conflict with both ids`() {
        val store = MemorySecretStore(StorageKey.forApp("jazz-import"))
        assertEquals(JazzImportOutcome.NotFound, importJazzSecret(store, null).outcome)
        val jazz = AuthSecret.generate()
        val first = importJazzSecret(store, jazz.toBase64Url())
        assertEquals(JazzImportOutcome.Imported(jazz.userId()), first.outcome)
        assertTrue(first.removeSource)
        assertEquals(JazzImportOutcome.AlreadyImported(jazz.userId()), importJazzSecret(store, jazz.toBase64Url()).outcome)
        val other = AuthSecret.generate()
        val conflict = importJazzSecret(store, other.toBase64Url())
        assertEquals(JazzImportOutcome.Conflict(other.userId(), jazz.userId()), conflict.outcome)
        assertFalse(conflict.removeSource)
        val garbage = assertThrows<LocalFirstException> { importJazzSecret(store, "not a secret") }
        assertEquals(ErrorCode.SECRET_STORE_CORRUPTED, garbage.code())
        assertEquals(jazz.userId(), store.loadSecret()?.userId())
    }
}
