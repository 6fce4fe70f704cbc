// Hand-written idiomatic layer over the generated bindings (package dev.localfirst).
// Shared by the Android library and the desktop-JVM build; keep it free of android.* imports.
package dev.localfirst

import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.withContext

/**
 * Recovery phrases: the 24 BIP39 words that *are* the account secret.
 *
 * `RecoveryPhrase.fromSecret(secret)` and `RecoveryPhrase.toSecret(phrase)` read the
 * same in Kotlin, Swift and TypeScript; they forward to the generated
 * `recoveryPhraseFromSecret` / `recoveryPhraseToSecret`.
 */
object RecoveryPhrase {
    /** The 24-word phrase of [secret] (lowercase, single spaces). Show it only to its owner. */
    fun fromSecret(secret: AuthSecret): String = recoveryPhraseFromSecret(secret)

    /**
     * The secret [phrase] encodes. Throws [LocalFirstException] with `code()`
     * [ErrorCode.INVALID_LENGTH], [ErrorCode.INVALID_WORD] (its `details()` say which word),
     * [ErrorCode.INVALID_CHECKSUM] or [ErrorCode.INVALID_SECRET].
     */
    fun toSecret(phrase: String): AuthSecret = recoveryPhraseToSecret(phrase)
}

/**
 * Base class for secret stores written in Kotlin: implement `storageKey`, `loadSecret`,
 * `saveSecret`, `clearSecret` and `createSecret`; `getOrCreateSecret` is the core's
 * atomic algorithm over them. When a read fails, throw
 * `LocalFirstException.Failed(ErrorCode.SECRET_STORE_UNAVAILABLE, "why", null)` (or another
 * `SECRET_STORE_*` code) — never return `null` for a read that did not definitively find nothing.
 */
abstract class ForeignSecretStore : AuthSecretStore {
    override fun getOrCreateSecret(): AuthSecret = defaultGetOrCreateSecret(this)
}

/** [AuthSecretStore.loadSecret] off the caller's thread (stores may block on disk or the Keystore). */
suspend fun AuthSecretStore.loadSecretAsync(): AuthSecret? = withContext(Dispatchers.IO) { loadSecret() }

/** [AuthSecretStore.saveSecret] off the caller's thread. */
suspend fun AuthSecretStore.saveSecretAsync(secret: AuthSecret): Unit =
    withContext(Dispatchers.IO) { saveSecret(secret) }

/** [AuthSecretStore.clearSecret] off the caller's thread. */
suspend fun AuthSecretStore.clearSecretAsync(): Unit = withContext(Dispatchers.IO) { clearSecret() }

/** [AuthSecretStore.getOrCreateSecret] off the caller's thread. */
suspend fun AuthSecretStore.getOrCreateSecretAsync(): AuthSecret = withContext(Dispatchers.IO) { getOrCreateSecret() }
