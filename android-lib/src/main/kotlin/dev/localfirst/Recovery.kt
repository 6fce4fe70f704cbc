// Recovery beyond the phrase, the platform-neutral part: the vault flow's Kotlin forms and
// the codes of the passkey and vault exceptions. The Android passkey code
// (`PasskeyBackup`, androidx.credentials) lives in src/android/kotlin.
// Shared by the Android library and the desktop-JVM build; keep it free of android.* imports.
package dev.localfirst

import kotlin.coroutines.cancellation.CancellationException
import kotlin.time.Duration

/**
 * A [SecretVault] from two suspending functions over the app's identity provider.
 *
 * [load] returns the stored text (the secret's 43-character base64url) or `null` **only**
 * when the provider definitively holds nothing for the signed-in user; [store] keeps the
 * text given, replacing what is there. Any exception they throw (network, refused
 * credential, unexpected answer) fails the vault call: the flow reports
 * `vault-unavailable` and never makes a new identity over it. Do blocking I/O in
 * `withContext(Dispatchers.IO)`.
 */
fun secretVault(load: suspend () -> String?, store: suspend (String) -> Unit): SecretVault =
    object : SecretVault {
        override suspend fun load(): String? = guarded { load() }

        override suspend fun store(secret: String) = guarded { store(secret) }
    }

/** Rethrows cancellation as is and any other failure as [VaultAccessException.Failed]. */
private suspend fun <T> guarded(call: suspend () -> T): T =
    try {
        call()
    } catch (e: CancellationException) {
        throw e
    } catch (e: VaultAccessException) {
        throw e
    } catch (e: Exception) {
        throw VaultAccessException.Failed(e.message ?: e.javaClass.name)
    }

/**
 * [restoreOrBackupWithVault] with a [Duration] bound on each vault call (default 10 s):
 * makes [store] and [vault] hold the same identity. Throws [VaultException]; on
 * [VaultException.IdentityConflict] nothing was replaced: ask the user, then call
 * [adoptVaultIdentity] with its `vaultUserId`.
 */
suspend fun restoreOrBackupWithVault(
    vault: SecretVault,
    store: AuthSecretStore,
    timeout: Duration? = null,
): VaultIdentity = restoreOrBackupWithVault(vault, store, timeout?.toMillisBound())

/**
 * [adoptVaultIdentity] with a [Duration] bound on each vault call (default 10 s):
 * replaces the device's identity with the vault's [vaultUserId] after the user agreed.
 */
suspend fun adoptVaultIdentity(
    vault: SecretVault,
    store: AuthSecretStore,
    vaultUserId: String,
    timeout: Duration? = null,
): AdoptedIdentity = adoptVaultIdentity(vault, store, vaultUserId, timeout?.toMillisBound())

private fun Duration.toMillisBound(): ULong = inWholeMilliseconds.coerceAtLeast(0).toULong()

/** The catalogue code (docs/ERRORS.md) of any [PasskeyException], e.g. `verification-failed`. */
val PasskeyException.code: String
    get() = when (this) {
        is PasskeyException.NotSupported -> code
        is PasskeyException.InvalidSecret -> code
        is PasskeyException.CreateFailed -> code
        is PasskeyException.GetFailed -> code
        is PasskeyException.NoCredential -> code
        is PasskeyException.InvalidCredential -> code
        is PasskeyException.VerificationFailed -> code
        is PasskeyException.InvalidArgument -> code
        is PasskeyException.Rng -> code
    }

/** The catalogue code (docs/ERRORS.md) of any [VaultException], e.g. `vault-identity-conflict`. */
val VaultException.code: String
    get() = when (this) {
        is VaultException.Unavailable -> code
        is VaultException.Timeout -> code
        is VaultException.Corrupt -> code
        is VaultException.WriteUnconfirmed -> code
        is VaultException.IdentityConflict -> code
        is VaultException.Store -> code
        is VaultException.Runtime -> code
    }
