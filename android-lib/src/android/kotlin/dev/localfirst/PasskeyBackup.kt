// Android-only part of the hand-written layer (not compiled by the desktop-JVM build).
// Thin on purpose: the requests are the core's JSON (`PasskeyCeremony`) and the answer is
// checked by the core (`secretFromAssertionJson`), the same path the JVM tests run.
package dev.localfirst

import android.content.Context
import android.os.Build
import androidx.credentials.CreatePublicKeyCredentialRequest
import androidx.credentials.CredentialManager
import androidx.credentials.GetCredentialRequest
import androidx.credentials.GetPublicKeyCredentialOption
import androidx.credentials.PublicKeyCredential
import androidx.credentials.exceptions.CreateCredentialException
import androidx.credentials.exceptions.CreateCredentialNoCreateOptionException
import androidx.credentials.exceptions.CreateCredentialProviderConfigurationException
import androidx.credentials.exceptions.CreateCredentialUnsupportedException
import androidx.credentials.exceptions.GetCredentialCancellationException
import androidx.credentials.exceptions.GetCredentialException
import androidx.credentials.exceptions.GetCredentialProviderConfigurationException
import androidx.credentials.exceptions.GetCredentialUnsupportedException
import androidx.credentials.exceptions.NoCredentialException

/**
 * Passkey backup of the account secret through Android's Credential Manager
 * (`androidx.credentials`), byte-compatible with Jazz's browser passkey backup: the secret
 * is the `user.id` of a resident passkey on [relyingPartyId].
 *
 * [context] launches the system's passkey sheets: use an `Activity` (and a backup per
 * screen, since it is kept). [appName] is shown as the relying party; [relyingPartyId] is
 * the app's web domain (`myapp.example`), which must list the app in its
 * `/.well-known/assetlinks.json` (docs/RECOVERY.md, "Domain association"). Throws
 * [LocalFirstException] `invalid-argument` for a bad name or id.
 *
 * Every failure is a [LocalFirstException] with the catalogue's code: `not-supported`
 * (Android 8.1 or older, Credential Manager unavailable, no provider set up),
 * `create-failed`, `get-failed`, `no-credential` (no passkey of the id, or the user
 * dismissed the picker), and from the core `invalid-credential` and `verification-failed`.
 */
class PasskeyBackup(
    private val context: Context,
    appName: String,
    relyingPartyId: String,
) {
    private val ceremony = PasskeyCeremony(appName, relyingPartyId)
    private val credentials by lazy { CredentialManager.create(context) }

    /** The relying-party id passkeys are made and looked up under. */
    val relyingPartyId: String get() = ceremony.relyingPartyId()

    /**
     * Creates a passkey whose user handle is [secret], shown as [displayName] in the
     * passkey sheet. A second backup of the same account adds another passkey; the
     * provider may replace the first (same user handle).
     */
    suspend fun backup(secret: AuthSecret, displayName: String) {
        requireSupported()
        val request = ceremony.registrationRequest(secret, displayName)
        try {
            credentials.createCredential(context, CreatePublicKeyCredentialRequest(request.toJson()))
        } catch (e: CreateCredentialUnsupportedException) {
            throw platformError(PasskeyPlatformFailure.NOT_SUPPORTED, e)
        } catch (e: CreateCredentialProviderConfigurationException) {
            throw platformError(PasskeyPlatformFailure.NOT_SUPPORTED, e)
        } catch (e: CreateCredentialNoCreateOptionException) {
            throw platformError(PasskeyPlatformFailure.NOT_SUPPORTED, e)
        } catch (e: CreateCredentialException) {
            // Cancelled, interrupted, a DOM error of the provider (e.g. the domain does not
            // list the app), unknown.
            throw platformError(PasskeyPlatformFailure.CREATE_FAILED, e)
        } finally {
            request.close()
        }
    }

    /**
     * Asks for a passkey of [relyingPartyId] (any, the user picks) and returns the secret
     * it carries, after the core checked the response (user present and verified, a
     * 32-byte user handle).
     */
    suspend fun restore(): AuthSecret {
        requireSupported()
        val request = ceremony.assertionRequest()
        val response = try {
            credentials.getCredential(
                context,
                GetCredentialRequest(listOf(GetPublicKeyCredentialOption(request.toJson()))),
            )
        } catch (e: NoCredentialException) {
            throw platformError(PasskeyPlatformFailure.NO_CREDENTIAL, e)
        } catch (e: GetCredentialCancellationException) {
            // The user dismissed the picker: no credential was chosen.
            throw platformError(PasskeyPlatformFailure.NO_CREDENTIAL, e)
        } catch (e: GetCredentialUnsupportedException) {
            throw platformError(PasskeyPlatformFailure.NOT_SUPPORTED, e)
        } catch (e: GetCredentialProviderConfigurationException) {
            throw platformError(PasskeyPlatformFailure.NOT_SUPPORTED, e)
        } catch (e: GetCredentialException) {
            throw platformError(PasskeyPlatformFailure.GET_FAILED, e)
        } finally {
            request.close()
        }
        val credential = response.credential as? PublicKeyCredential
            ?: throw passkeyPlatformError(
                PasskeyPlatformFailure.NO_CREDENTIAL,
                "the provider returned a ${response.credential.type} credential, not a passkey",
            )
        return secretFromAssertionJson(credential.authenticationResponseJson)
    }

    private fun requireSupported() {
        // Passkeys through Credential Manager need Android 9 (API 28) or later.
        if (Build.VERSION.SDK_INT < Build.VERSION_CODES.P) {
            throw passkeyPlatformError(
                PasskeyPlatformFailure.NOT_SUPPORTED,
                "passkeys need Android 9 or later (API ${Build.VERSION.SDK_INT})",
            )
        }
    }

    private fun platformError(failure: PasskeyPlatformFailure, cause: Exception): LocalFirstException =
        passkeyPlatformError(failure, "${cause.javaClass.simpleName}: ${cause.message ?: "no message"}")
}
