// The ExpoLocalFirst native module (Android): thin calls into the localfirst Kotlin bindings
// (AuthSecret, RecoveryPhrase, tokens, StorageKey, KeystoreSecretStore) from the Android
// library. Secrets cross the bridge as unpadded base64url strings. A LocalFirstException of the
// bindings crosses as a JavaScript `Error` whose `code` is its catalogue code
// (`ErrorCode.toString()`) and whose message is its reason; any other exception is passed on
// to Expo unchanged. Written, not built, in this repository (no Android SDK on CI).
package dev.localfirst.expo

import dev.localfirst.AuthSecret
import dev.localfirst.ErrorCode
import dev.localfirst.KeystoreSecretStore
import dev.localfirst.LocalFirstAndroid
import dev.localfirst.LocalFirstException
import dev.localfirst.PasskeyBackup
import dev.localfirst.RecoveryPhrase
import dev.localfirst.StorageKey
import dev.localfirst.VaultStep
import dev.localfirst.JazzImport
import dev.localfirst.JazzImportOutcome
import dev.localfirst.identityProofFor
import dev.localfirst.importJazzSecret
import dev.localfirst.storageKeyFor
import dev.localfirst.mintLocalFirstToken
import dev.localfirst.vaultAdopt
import dev.localfirst.vaultBackupSecret
import dev.localfirst.vaultConfirmReadback
import dev.localfirst.vaultRestore
import dev.localfirst.verifyLocalFirstIdentityProof
import expo.modules.kotlin.exception.CodedException
import expo.modules.kotlin.functions.Coroutine
import expo.modules.kotlin.modules.Module
import expo.modules.kotlin.modules.ModuleDefinition
import expo.modules.kotlin.records.Field
import expo.modules.kotlin.records.Record
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.withContext

class ExpoLocalFirstModule : Module() {
  override fun definition() = ModuleDefinition {
    Name("ExpoLocalFirst")

    OnCreate {
      // Records the JavaVM and the no-backup directory for the Keystore store (once per
      // process). A failure is not thrown here: every store operation then fails with the
      // store's own typed error (`secret-store-backend`), which JavaScript sees as `code`.
      appContext.reactContext?.let { context ->
        runCatching { LocalFirstAndroid.init(context.applicationContext) }
      }
    }

    Function("generateSecret") { coded { AuthSecret.generate().toBase64Url() } }
    Function("userIdOf") { secret: String -> coded { parse(secret).userId() } }
    Function("publicKeyOf") { secret: String -> coded { parse(secret).publicKey() } }
    Function("recoveryPhraseFromSecret") { secret: String ->
      coded { RecoveryPhrase.fromSecret(parse(secret)) }
    }
    Function("recoveryPhraseToSecret") { phrase: String ->
      coded { RecoveryPhrase.toSecret(phrase).toBase64Url() }
    }
    Function("mintLocalFirstToken") { secret: String, audience: String, ttlSeconds: Double ->
      coded { mintLocalFirstToken(parse(secret), audience, seconds(ttlSeconds)) }
    }
    Function("identityProofFor") { secret: String, ttlSeconds: Double?, audience: String ->
      coded { identityProofFor(parse(secret), ttlSeconds?.let { seconds(it) }, audience) }
    }
    Function("verifyLocalFirstIdentityProof") { token: String, audience: String ->
      val outcome = verifyLocalFirstIdentityProof(token, audience)
      mapOf("ok" to outcome.ok, "id" to outcome.id, "error" to outcome.error, "code" to outcome.code?.toString())
    }
    Function("storageKeyFor") { options: StoreOptions -> coded { options.storageKey().asString() } }

    // Store operations run on the IO dispatcher: the Keystore and the disk may block.
    AsyncFunction("loadSecret") Coroutine { options: StoreOptions ->
      io { options.store().loadSecret()?.toBase64Url() }
    }
    AsyncFunction("saveSecret") Coroutine { options: StoreOptions, secret: String ->
      io { options.store().saveSecret(parse(secret)) }
    }
    AsyncFunction("clearSecret") Coroutine { options: StoreOptions ->
      io { options.store().clearSecret() }
    }
    AsyncFunction("createSecret") Coroutine { options: StoreOptions, secret: String ->
      io { options.store().createSecret(parse(secret)).toBase64Url() }
    }
    AsyncFunction("getOrCreateSecret") Coroutine { options: StoreOptions ->
      io { options.store().getOrCreateSecret().toBase64Url() }
    }

    // The vault flow's steps (the core decides; TypeScript does the vault I/O). A step's own
    // failure is its result's `code`, so a conflict keeps both user ids across the bridge.
    // The Jazz import's decision (the core's `import_jazz_secret`); TypeScript reads and
    // deletes expo-secure-store's copy.
    AsyncFunction("importJazzSecret") Coroutine { options: StoreOptions, jazzValue: String? ->
      io { jazzImportMap(importJazzSecret(options.store(), jazzValue)) }
    }
    AsyncFunction("vaultRestore") Coroutine { options: StoreOptions, value: String ->
      io { stepMap(vaultRestore(options.store(), value)) }
    }
    AsyncFunction("vaultBackupSecret") Coroutine { options: StoreOptions ->
      io { stepMap(vaultBackupSecret(options.store())) }
    }
    Function("vaultConfirmReadback") { secret: String, created: Boolean, readBack: String? ->
      coded { stepMap(vaultConfirmReadback(parse(secret), created, readBack)) }
    }
    AsyncFunction("vaultAdopt") Coroutine { options: StoreOptions, value: String?, vaultUserId: String ->
      io { stepMap(vaultAdopt(options.store(), value, vaultUserId)) }
    }

    // Passkeys: the Android library's PasskeyBackup runs Credential Manager (it needs the
    // foreground activity); the core builds the request and checks the assertion.
    AsyncFunction("passkeyBackup") Coroutine { appName: String, rpId: String, secret: String, displayName: String ->
      coded { PasskeyBackup(activity(), appName, rpId).backup(parse(secret), displayName) }
    }
    AsyncFunction("passkeyRestore") Coroutine { appName: String, rpId: String ->
      coded { PasskeyBackup(activity(), appName, rpId).restore().toBase64Url() }
    }
  }

  private fun activity(): android.app.Activity =
    appContext.currentActivity
      ?: throw BridgeException(ErrorCode.NOT_SUPPORTED, "passkeys need an activity in the foreground")
}

/** A vault step as JavaScript sees it (`NativeVaultStep`): absent values `null`. */
/** The Jazz import as JavaScript sees it (`NativeJazzImport`): absent values `null`. */
private fun jazzImportMap(done: JazzImport): Map<String, Any?> {
  val (outcome, userId, existingUserId) = when (val found = done.outcome) {
    is JazzImportOutcome.NotFound -> Triple("not-found", null, null)
    is JazzImportOutcome.Imported -> Triple("imported", found.userId, null)
    is JazzImportOutcome.AlreadyImported -> Triple("already-imported", found.userId, null)
    is JazzImportOutcome.Conflict -> Triple("conflict", found.userId, found.existingUserId)
  }
  return mapOf(
    "outcome" to outcome,
    "userId" to userId,
    "existingUserId" to existingUserId,
    "removeSource" to done.removeSource,
  )
}

private fun stepMap(step: VaultStep): Map<String, Any?> =
  mapOf(
    "code" to step.code?.toString(),
    "message" to step.message,
    "deviceUserId" to step.deviceUserId,
    "vaultUserId" to step.vaultUserId,
    "outcome" to step.outcome,
    "created" to step.created,
    "userId" to step.userId,
    "secret" to step.secret?.toBase64Url(),
    "replaced" to step.replaced?.toBase64Url(),
  )

/** The store options the TypeScript layer sends (foreign types checked there). */
class StoreOptions : Record {
  @Field val key: String? = null
  @Field val appId: String? = null
  @Field val userId: String? = null
  @Field val sessionId: String? = null
  @Field val requireAuthentication: Boolean = false

  /** The core's choice of key (`invalid-storage-key` for a key given with any id). */
  fun storageKey(): StorageKey = storageKeyFor(key, appId, userId, sessionId)

  fun store(): KeystoreSecretStore {
    if (requireAuthentication) {
      throw BridgeException(ErrorCode.INVALID_ARGUMENT, "requireAuthentication is not supported on Android yet")
    }
    return KeystoreSecretStore(storageKey())
  }
}

/**
 * An error as the bridge carries it: a JavaScript `Error` whose `code` is the catalogue code
 * and whose message is the reason.
 */
class BridgeException(code: ErrorCode, reason: String) : CodedException(code.toString(), reason, null) {
  /** A [LocalFirstException] of the bindings, with its own code and reason. */
  constructor(error: LocalFirstException) : this(error.code(), error.reason())
}

private fun parse(secret: String): AuthSecret = AuthSecret.fromBase64Url(secret)

private fun seconds(value: Double): Long {
  if (!value.isFinite() || value < 0 || value != Math.rint(value) || value > UInt.MAX_VALUE.toDouble()) {
    throw BridgeException(ErrorCode.INVALID_ARGUMENT, "ttlSeconds must be a whole number of seconds")
  }
  return value.toLong()
}

private suspend fun <T> io(body: () -> T): T = withContext(Dispatchers.IO) { coded(body) }

/**
 * Runs [body]; a [LocalFirstException] is rethrown as a [BridgeException] with its code and
 * reason, read from the exception itself. Any other exception passes unchanged.
 */
private inline fun <T> coded(body: () -> T): T =
  try {
    body()
  } catch (error: LocalFirstException) {
    throw BridgeException(error)
  }
