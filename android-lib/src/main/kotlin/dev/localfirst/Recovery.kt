// Recovery beyond the phrase, the platform-neutral part: the vault flow's Kotlin forms. The
// Android passkey code
// (`PasskeyBackup`, androidx.credentials) lives in src/android/kotlin.
// Shared by the Android library and the desktop-JVM build; keep it free of android.* imports.
package dev.localfirst

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
        override suspend fun load(): String? = load()

        override suspend fun store(secret: String) = store(secret)
    }

/**
 * [restoreOrBackupWithVault] with a [Duration] bound on each vault call (default 10 s):
 * makes [store] and [vault] hold the same identity. Throws [LocalFirstException]; on
 * [ErrorCode.VAULT_IDENTITY_CONFLICT] nothing was replaced: ask the user, then call
 * [adoptVaultIdentity] with the `vaultUserId` of its [ErrorDetails.IdentityConflict].
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
