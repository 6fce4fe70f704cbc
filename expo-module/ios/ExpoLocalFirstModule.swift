// The ExpoLocalFirst native module (iOS): thin calls into the localfirst Swift bindings
// (AuthSecret, RecoveryPhrase, tokens, StorageKey, KeychainSecretStore), which are compiled
// into this pod from vendor/ (see ExpoLocalFirst.podspec). Secrets cross the bridge as
// unpadded base64url strings. A `LocalFirstError` of the bindings crosses as a JavaScript
// `Error` whose `code` is its catalogue code (`ErrorCode.description`) and whose message is
// its reason; any other error is passed on to Expo unchanged.
// Written, not built, in this repository (no Swift toolchain on its CI).
import ExpoModulesCore

public final class ExpoLocalFirstModule: Module {
  public func definition() -> ModuleDefinition {
    Name("ExpoLocalFirst")

    Function("generateSecret") { () throws -> String in
      try coded { try AuthSecret.generate().toBase64Url() }
    }

    Function("userIdOf") { (secret: String) throws -> String in
      try coded { try AuthSecret.fromBase64Url(text: secret).userId() }
    }

    Function("publicKeyOf") { (secret: String) throws -> String in
      try coded { try AuthSecret.fromBase64Url(text: secret).publicKey() }
    }

    Function("recoveryPhraseFromSecret") { (secret: String) throws -> String in
      try coded { recoveryPhraseFromSecret(secret: try AuthSecret.fromBase64Url(text: secret)) }
    }

    Function("recoveryPhraseToSecret") { (phrase: String) throws -> String in
      try coded { try recoveryPhraseToSecret(phrase: phrase).toBase64Url() }
    }

    Function("mintLocalFirstToken") { (secret: String, audience: String, ttlSeconds: Double) throws -> String in
      try coded {
        try mintLocalFirstToken(
          secret: try AuthSecret.fromBase64Url(text: secret), audience: audience,
          ttlSeconds: try seconds(ttlSeconds))
      }
    }

    Function("identityProofFor") { (secret: String, ttlSeconds: Double?, audience: String) throws -> String in
      try coded {
        try identityProofFor(
          secret: try AuthSecret.fromBase64Url(text: secret),
          ttlSeconds: try ttlSeconds.map { try seconds($0) }, audience: audience)
      }
    }

    Function("verifyLocalFirstIdentityProof") { (token: String, audience: String) -> ProofResult in
      ProofResult(verifyLocalFirstIdentityProof(token: token, audience: audience))
    }

    Function("storageKeyFor") { (options: StoreOptions) throws -> String in
      try coded { try options.storageKey().asString() }
    }

    AsyncFunction("loadSecret") { (options: StoreOptions) throws -> String? in
      try coded { try options.store().loadSecret()?.toBase64Url() }
    }

    AsyncFunction("saveSecret") { (options: StoreOptions, secret: String) throws in
      try coded { try options.store().saveSecret(secret: try AuthSecret.fromBase64Url(text: secret)) }
    }

    AsyncFunction("clearSecret") { (options: StoreOptions) throws in
      try coded { try options.store().clearSecret() }
    }

    AsyncFunction("createSecret") { (options: StoreOptions, secret: String) throws -> String in
      try coded {
        try options.store().createSecret(secret: try AuthSecret.fromBase64Url(text: secret)).toBase64Url()
      }
    }

    AsyncFunction("getOrCreateSecret") { (options: StoreOptions) throws -> String in
      try coded { try options.store().getOrCreateSecret().toBase64Url() }
    }

    // The vault flow's steps (the core decides; TypeScript does the vault I/O). A step's own
    // failure is its result's `code`, so a conflict keeps both user ids across the bridge.
    AsyncFunction("vaultRestore") { (options: StoreOptions, value: String) throws -> VaultStepResult in
      try coded { VaultStepResult(vaultRestore(store: try options.store(), value: value)) }
    }

    AsyncFunction("vaultBackupSecret") { (options: StoreOptions) throws -> VaultStepResult in
      try coded { VaultStepResult(vaultBackupSecret(store: try options.store())) }
    }

    Function("vaultConfirmReadback") { (secret: String, created: Bool, readBack: String?) throws -> VaultStepResult in
      try coded {
        VaultStepResult(vaultConfirmReadback(
          secret: try AuthSecret.fromBase64Url(text: secret), created: created, readBack: readBack))
      }
    }

    AsyncFunction("vaultAdopt") { (options: StoreOptions, value: String?, vaultUserId: String) throws -> VaultStepResult in
      try coded { VaultStepResult(vaultAdopt(store: try options.store(), value: value, vaultUserId: vaultUserId)) }
    }

    // The Jazz import's decision (the core's `import_jazz_secret`); TypeScript reads and
    // deletes expo-secure-store's copy.
    AsyncFunction("importJazzSecret") { (options: StoreOptions, jazzValue: String?) throws -> JazzImportRecord in
      try coded { JazzImportRecord(try importJazzSecret(store: try options.store(), jazzValue: jazzValue)) }
    }

    // Passkeys: the Swift package's PasskeyBackup runs AuthenticationServices; the core
    // builds the request and checks the assertion. Needs `webcredentials:<rpId>`.
    AsyncFunction("passkeyBackup") { (appName: String, rpId: String, secret: String, displayName: String) async throws in
      try await codedAsync {
        try await PasskeyBackup(appName: appName, relyingPartyId: rpId)
          .backup(secret: try AuthSecret.fromBase64Url(text: secret), displayName: displayName)
      }
    }

    AsyncFunction("passkeyRestore") { (appName: String, rpId: String) async throws -> String in
      try await codedAsync {
        try await PasskeyBackup(appName: appName, relyingPartyId: rpId).restore().toBase64Url()
      }
    }
  }
}

/// The Jazz import as JavaScript sees it (`NativeJazzImport`): absent values `null`.
struct JazzImportRecord: Record {
  @Field var outcome: String = "not-found"
  @Field var userId: String?
  @Field var existingUserId: String?
  @Field var removeSource: Bool = false

  init() {}

  init(_ done: JazzImport) {
    removeSource = done.removeSource
    switch done.outcome {
    case .notFound:
      outcome = "not-found"
    case .imported(let user):
      outcome = "imported"
      userId = user
    case .alreadyImported(let user):
      outcome = "already-imported"
      userId = user
    case .conflict(let user, let existing):
      outcome = "conflict"
      userId = user
      existingUserId = existing
    }
  }
}

/// A vault step as JavaScript sees it (`NativeVaultStep`): absent values `null`.
struct VaultStepResult: Record {
  @Field var code: String?
  @Field var message: String?
  @Field var deviceUserId: String?
  @Field var vaultUserId: String?
  @Field var outcome: String?
  @Field var created: Bool = false
  @Field var userId: String?
  @Field var secret: String?
  @Field var replaced: String?

  init() {}

  init(_ step: VaultStep) {
    code = step.code?.description
    message = step.message
    deviceUserId = step.deviceUserId
    vaultUserId = step.vaultUserId
    outcome = step.outcome
    created = step.created
    userId = step.userId
    secret = step.secret?.toBase64Url()
    replaced = step.replaced?.toBase64Url()
  }
}

/// The store options the TypeScript layer sends (foreign types checked there).
struct StoreOptions: Record {
  @Field var key: String?
  @Field var appId: String?
  @Field var userId: String?
  @Field var sessionId: String?
  @Field var accessibility: String = "afterFirstUnlockThisDeviceOnly"
  @Field var accessGroup: String?
  @Field var requireAuthentication: Bool = false

  /// The core's choice of key (`invalid-storage-key` for a key given with any id).
  func storageKey() throws -> StorageKey {
    try storageKeyFor(key: key, appId: appId, userId: userId, sessionId: sessionId)
  }

  func store() throws -> KeychainSecretStore {
    try KeychainSecretStore(
      storageKey: try storageKey(),
      options: KeychainOptions(
        service: nil,
        accessibility: try keychainAccessibility(),
        accessGroup: accessGroup,
        userPresence: requireAuthentication))
  }

  private func keychainAccessibility() throws -> KeychainAccessibility {
    switch accessibility {
    case "afterFirstUnlockThisDeviceOnly": return .afterFirstUnlockThisDeviceOnly
    case "afterFirstUnlock": return .afterFirstUnlock
    case "whenUnlockedThisDeviceOnly": return .whenUnlockedThisDeviceOnly
    case "whenUnlocked": return .whenUnlocked
    case "whenPasscodeSetThisDeviceOnly": return .whenPasscodeSetThisDeviceOnly
    default: throw LocalFirstException(code: .invalidArgument, reason: "unknown accessibility \(accessibility)")
    }
  }
}

/// `ProofVerification` as JavaScript sees it: `{ ok, id, error, code }`, absent values `null`.
struct ProofResult: Record {
  @Field var ok: Bool = false
  @Field var id: String?
  @Field var error: String?
  @Field var code: String?

  init() {}

  init(_ outcome: ProofVerification) {
    ok = outcome.ok
    id = outcome.id
    error = outcome.error
    code = outcome.code?.description
  }
}

/// A `LocalFirstError` as the bridge carries it: a JavaScript `Error` whose `code` is the
/// catalogue code and whose message is the reason.
final class LocalFirstException: Exception, @unchecked Sendable {
  init(code: ErrorCode, reason: String) {
    super.init(name: "LocalFirstError", description: reason, code: code.description)
  }

  convenience init(_ error: LocalFirstError) {
    self.init(code: error.code(), reason: error.reason())
  }
}

/// Runs `body`; a `LocalFirstError` is rethrown as the bridge's `LocalFirstException` with
/// its code and reason, read from the error itself. Any other error passes unchanged.
private func coded<T>(_ body: () throws -> T) throws -> T {
  do {
    return try body()
  } catch let error as LocalFirstError {
    throw LocalFirstException(error)
  }
}

/// `coded` for async bodies (the passkey ceremonies).
private func codedAsync<T>(_ body: () async throws -> T) async throws -> T {
  do {
    return try await body()
  } catch let error as LocalFirstError {
    throw LocalFirstException(error)
  }
}

private func seconds(_ value: Double) throws -> Int64 {
  guard value.isFinite, value >= 0, value.rounded() == value, value <= Double(UInt32.max) else {
    throw LocalFirstException(code: .invalidArgument, reason: "ttlSeconds must be a whole number of seconds")
  }
  return Int64(value)
}
