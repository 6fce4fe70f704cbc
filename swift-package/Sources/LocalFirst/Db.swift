// The idiomatic Swift layer over the generated `Db` (Generated/LocalFirst.swift): async
// forms of the calls that touch SQLite or the disk, AsyncStreams over the listener
// registrations, and closure forms of the callbacks an app implements. The names match
// the Kotlin layer (android-lib/src/main/kotlin/dev/localfirst/DbExtensions.kt).
// `Db.syncOnce()` is generated `async throws` already (an async Rust export).
import Foundation

/// `Db.open(config:)` off the caller's task (opening creates or migrates the SQLite file,
/// and may run the account-discard migrator).
public func openDb(_ config: DbConfig) async throws -> Db {
    try await Task.detached { try Db.open(config: config) }.value
}

public extension Db {
    /// The auth state as an `AsyncStream`: the current state first, then every change
    /// (`onAuthChanged`). Ending the iteration cancels the subscription. Slow consumers
    /// get every state (unbounded buffer, in order).
    func authStates() -> AsyncStream<AuthState> {
        AsyncStream { continuation in
            let subscription = self.onAuthChanged(listener: AuthStateForwarder(continuation))
            continuation.onTermination = { _ in subscription.cancel() }
        }
    }

    /// The sync status as an `AsyncStream`: the current status first, then every change
    /// (`onSyncStatus`), `lastRejections` included.
    func syncStatuses() -> AsyncStream<SyncStatus> {
        AsyncStream { continuation in
            let subscription = self.onSyncStatus(listener: SyncStatusForwarder(continuation))
            continuation.onTermination = { _ in subscription.cancel() }
        }
    }

    /// The rows of `queryJson` as a stream: the current result first, then every changed
    /// result. Finishes with the `LocalFirstError` when the query is invalid or the `Db` logged out.
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

    /// `insert` off the caller's task.
    func insertAsync(table: String, valuesJson: String) async throws -> Row {
        try await detached { try $0.insert(table: table, valuesJson: valuesJson) }
    }

    /// `insertMany` off the caller's task: `rowsJson` is a JSON array of objects, all or none.
    func insertManyAsync(table: String, rowsJson: String) async throws -> [Row] {
        try await detached { try $0.insertMany(table: table, rowsJson: rowsJson) }
    }

    /// `update` off the caller's task.
    func updateAsync(table: String, id: String, patchJson: String) async throws -> Row {
        try await detached { try $0.update(table: table, id: id, patchJson: patchJson) }
    }

    /// `delete` off the caller's task.
    func deleteAsync(table: String, id: String) async throws -> Row {
        try await detached { try $0.delete(table: table, id: id) }
    }

    /// `get` off the caller's task.
    func getAsync(table: String, id: String) async throws -> Row? {
        try await detached { try $0.get(table: table, id: id) }
    }

    /// `query` off the caller's task.
    func queryAsync(queryJson: String) async throws -> [Row] {
        try await detached { try $0.query(queryJson: queryJson) }
    }

    /// `refresh` off the caller's task: picks up other processes' commits.
    func refreshAsync() async throws -> Bool {
        try await detached { try $0.refresh() }
    }

    /// `logout` off the caller's task.
    func logoutAsync() async throws {
        try await detached { try $0.logout() }
    }

    /// `logoutAndWipe` off the caller's task (deletes files).
    func logoutAndWipeAsync() async throws {
        try await detached { try $0.logoutAndWipe() }
    }

    /// `deleteClientStorage` off the caller's task (deletes files).
    func deleteClientStorageAsync() async throws {
        try await detached { try $0.deleteClientStorage() }
    }

    private func detached<T: Sendable>(_ body: @escaping @Sendable (Db) throws -> T) async throws -> T {
        let db = self
        return try await Task.detached { try body(db) }.value
    }
}

/// A `JwtRefresher` from an async closure: return a fresh JWT for the same user, or `nil`;
/// a thrown error fails the refresh. The core waits at most 30 s and applies a later token.
public func jwtRefresher(_ body: @escaping @Sendable () async throws -> String?) -> JwtRefresher {
    ClosureJwtRefresher(body)
}

/// A `JwtRefresher` from an async closure (see `jwtRefresher(_:)`).
public final class ClosureJwtRefresher: JwtRefresher {
    private let body: @Sendable () async throws -> String?

    /// Wraps `body`.
    public init(_ body: @escaping @Sendable () async throws -> String?) {
        self.body = body
    }

    public func refresh() async throws -> String? {
        try await body()
    }
}

/// An `AccountDiscardMigrator` from a closure, called synchronously inside `Db.open` when
/// an external account replaces the namespace's local-first identity: copy what should
/// survive with `account.db()`, or throw (ask the user first; throw when they decline) and
/// `Db.open` fails with code `migration-failed`, discarding nothing.
public func accountDiscardMigrator(
    _ body: @escaping @Sendable (DiscardedAccount) throws -> Void
) -> AccountDiscardMigrator {
    ClosureAccountDiscardMigrator(body)
}

/// An `AccountDiscardMigrator` from a closure (see `accountDiscardMigrator(_:)`).
public final class ClosureAccountDiscardMigrator: AccountDiscardMigrator {
    private let body: @Sendable (DiscardedAccount) throws -> Void

    /// Wraps `body`.
    public init(_ body: @escaping @Sendable (DiscardedAccount) throws -> Void) {
        self.body = body
    }

    public func migrate(account: DiscardedAccount) throws {
        try body(account)
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

private final class SyncStatusForwarder: SyncStatusListener {
    let continuation: AsyncStream<SyncStatus>.Continuation

    init(_ continuation: AsyncStream<SyncStatus>.Continuation) {
        self.continuation = continuation
    }

    func onSyncStatus(status: SyncStatus) throws {
        continuation.yield(status)
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
