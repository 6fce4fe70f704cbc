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

    /// The secret `phrase` encodes. Throws `PhraseError` whose `code` is
    /// `invalid-length`, `invalid-word`, `invalid-checksum` or `invalid-secret`.
    public static func toSecret(_ phrase: String) throws -> AuthSecret {
        try recoveryPhraseToSecret(phrase: phrase)
    }
}

/// Stores written in Swift get the core's atomic `getOrCreateSecret` for free: implement
/// `storageKey`, `loadSecret`, `saveSecret`, `clearSecret` and `createSecret`. A failed
/// read must throw a `SecretStoreError`, never return `nil`.
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
// `SecretStoreError.Unavailable` (`secret-store-unavailable`). `KeystoreSecretStore` is the
// Android Keystore store: from Swift its constructors throw (`secret-store-unavailable`, or
// `secret-store-backend` for `withDesktopKeystore` on a desktop without a JVM).

public extension SecretStoreError {
    /// The catalogue code (docs/ERRORS.md) of any case, e.g. `secret-store-unavailable`.
    var code: String {
        switch self {
        case let .Unavailable(code, _), let .KeyInvalidated(code, _), let .Corrupted(code, _),
             let .PermissionDenied(code, _), let .Io(code, _), let .Backend(code, _),
             let .InvalidStorageKey(code, _), let .Rng(code, _):
            return code
        }
    }
}

/// Runs the core's conformance suite against the stores `open` returns.
public func runSecretStoreConformance(
    _ open: @escaping @Sendable (StorageKey) throws -> AuthSecretStore
) -> ConformanceReport {
    runSecretStoreConformance(harness: ClosureHarness(open: open))
}

private final class ClosureHarness: SecretStoreHarness {
    let openStore: @Sendable (StorageKey) throws -> AuthSecretStore

    init(open: @escaping @Sendable (StorageKey) throws -> AuthSecretStore) {
        openStore = open
    }

    func open(storageKey: StorageKey) throws -> AuthSecretStore {
        try openStore(storageKey)
    }
}

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

// MARK: - Db

public extension Db {
    /// The auth state as an `AsyncStream`: the current state first, then every change
    /// (`onAuthChanged`). Ending the iteration cancels the subscription.
    func authStates() -> AsyncStream<AuthState> {
        AsyncStream { continuation in
            let subscription = self.onAuthChanged(listener: AuthStateForwarder(continuation))
            continuation.onTermination = { _ in subscription.cancel() }
        }
    }

    /// The rows of `queryJson` as a stream: the current result first, then every changed
    /// result. Finishes with the `DbError` when the query is invalid or the `Db` logged out.
    func rows(queryJson: String) -> AsyncThrowingStream<[Row], Error> {
        AsyncThrowingStream { continuation in
            do {
                let subscription = try self.subscribe(queryJson: queryJson, listener: RowsForwarder(continuation))
                continuation.onTermination = { _ in subscription.cancel() }
            } catch {
                continuation.finish(throwing: error)
            }
        }
    }
}

/// A `JwtRefresher` from a closure: return a fresh JWT for the same user, or `nil`.
/// Called on a background thread of the `Db`; it may block on the network.
public final class ClosureJwtRefresher: JwtRefresher {
    private let body: @Sendable () throws -> String?

    /// Wraps `body`.
    public init(_ body: @escaping @Sendable () throws -> String?) {
        self.body = body
    }

    public func refresh() throws -> String? {
        try body()
    }
}

private final class AuthStateForwarder: AuthStateListener {
    let continuation: AsyncStream<AuthState>.Continuation

    init(_ continuation: AsyncStream<AuthState>.Continuation) {
        self.continuation = continuation
    }

    func onAuthChanged(state: AuthState) throws {
        continuation.yield(state)
    }
}

private final class RowsForwarder: RowsListener {
    let continuation: AsyncThrowingStream<[Row], Error>.Continuation

    init(_ continuation: AsyncThrowingStream<[Row], Error>.Continuation) {
        self.continuation = continuation
    }

    func onRowsChanged(rows: [Row]) throws {
        continuation.yield(rows)
    }
}
