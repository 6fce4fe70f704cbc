// Hand-written idiomatic layer over the generated bindings (Generated/LocalFirst.swift,
// produced by scripts/gen-bindings.sh and never committed).
import Foundation

/// Recovery phrases: the 24 BIP39 words that *are* the account secret.
///
/// `RecoveryPhrase.fromSecret(_:)` and `RecoveryPhrase.toSecret(_:)` read the same in
/// Swift, Kotlin and TypeScript; they forward to the generated free functions.
public enum RecoveryPhrase {
    /// The 24-word phrase of `secret` (lowercase, single spaces). Show it only to its owner.
    public static func fromSecret(_ secret: AuthSecret) -> String {
        recoveryPhraseFromSecret(secret: secret)
    }

    /// The secret `phrase` encodes. Throws `LocalFirstError` whose `code()` is
    /// `.invalidLength`, `.invalidWord` (its `details()` say which word), `.invalidChecksum`
    /// or `.invalidSecret`.
    public static func toSecret(_ phrase: String) throws -> AuthSecret {
        try recoveryPhraseToSecret(phrase: phrase)
    }
}

/// Stores written in Swift get the core's atomic `getOrCreateSecret` for free: implement
/// `storageKey`, `loadSecret`, `saveSecret`, `clearSecret` and `createSecret`. A failed
/// read must throw `LocalFirstError.Failed(code: .secretStoreUnavailable, reason: "why",
/// details: nil)` (or another `secretStore...` code), never return `nil`.
public extension AuthSecretStore {
    func getOrCreateSecret() throws -> AuthSecret {
        try defaultGetOrCreateSecret(store: self)
    }
}

// The built-in stores implement every requirement; declare the conformance Swift
// does not generate.
extension FileSecretStore: AuthSecretStore {}
extension MemorySecretStore: AuthSecretStore {}
extension KeychainSecretStore: AuthSecretStore {}
extension KeystoreSecretStore: AuthSecretStore {}

// The platform stores exist on every platform with one API. `KeychainSecretStore(storageKey:options:)`
// keeps the secret in the Keychain on iOS and macOS (default `KeychainOptions()`: after first
// unlock, this device only, no access group, no presence prompt); elsewhere it throws
// `LocalFirstError` `.secretStoreUnavailable`. `KeystoreSecretStore` is the
// Android Keystore store: from Swift its constructor throws (`secret-store-unavailable`).
// Test builds of the library add `KeystoreSecretStore.withDesktopKeystore` (`secret-store-backend`
// on a desktop without a JVM) and the conformance suite (Tests/LocalFirstTests/Conformance.swift).

public extension AuthSecretStore {
    /// `loadSecret()` off the caller's task (stores may block on disk or the Keychain).
    func loadSecretAsync() async throws -> AuthSecret? {
        try await Task.detached { try self.loadSecret() }.value
    }

    /// `getOrCreateSecret()` off the caller's task.
    func getOrCreateSecretAsync() async throws -> AuthSecret {
        try await Task.detached { try self.getOrCreateSecret() }.value
    }
}
