// Mirrors android-lib/jvm/src/test/kotlin/dev/localfirst/VaultTest.kt: the vault flow over a
// vault written in Swift. Not run here (no Swift toolchain).
import Foundation
import XCTest
@testable import LocalFirst

struct ProviderDown: Error, CustomStringConvertible {
    var description: String { "connection reset" }
}

/// A provider's vault kept in memory, written in Swift, with the faults a real one shows.
final class SwiftVault: SecretVault, @unchecked Sendable {
    private let lock = NSLock()
    private var stored: String?
    private var loadCount = 0
    private var storeCount = 0
    var loadError: String?
    var hangLoad = false
    var dropWrites = false
    var storeInstead: String?

    init(_ value: String? = nil) {
        stored = value
    }

    private func locked<T>(_ body: () -> T) -> T {
        lock.lock()
        defer { lock.unlock() }
        return body()
    }

    var value: String? { locked { stored } }
    var loads: Int { locked { loadCount } }
    var stores: Int { locked { storeCount } }

    func load() async throws -> String? {
        let (hang, error, current) = locked { () -> (Bool, String?, String?) in
            loadCount += 1
            return (hangLoad, loadError, stored)
        }
        if hang {
            // Until the flow gives up and the task is cancelled.
            try await Task.sleep(nanoseconds: 3_600_000_000_000)
        }
        if let error { throw LocalFirstError.Failed(code: .vaultUnavailable, reason: error, details: nil) }
        return current
    }

    func store(secret: String) async throws {
        locked {
            storeCount += 1
            if !dropWrites { stored = storeInstead ?? secret }
        }
    }
}

final class VaultTests: XCTestCase {
    private func emptyStore() -> MemorySecretStore {
        MemorySecretStore(storageKey: StorageKey.forApp(appId: "vault-test"))
    }

    private func vaultError(_ call: () async throws -> Void) async -> LocalFirstError? {
        do {
            try await call()
            return nil
        } catch {
            return error as? LocalFirstError
        }
    }

    func testEmptyVaultBacksUpThenInSync() async throws {
        let vault = SwiftVault()
        let store = emptyStore()
        let backedUp = try await restoreOrBackupWithVault(vault: vault, store: store)
        XCTAssertEqual(backedUp.outcome, .backedUp(created: true))
        let stored = try XCTUnwrap(try store.loadSecret())
        XCTAssertEqual(backedUp.userId, stored.userId())
        XCTAssertEqual(vault.value, stored.toBase64Url())
        let again = try await restoreOrBackupWithVault(vault: vault, store: store)
        XCTAssertEqual(again.outcome, .inSync)
        XCTAssertEqual(vault.stores, 1)
    }

    func testPopulatedVaultRestores() async throws {
        let account = try AuthSecret.generate()
        let vault = SwiftVault(account.toBase64Url())
        let store = emptyStore()
        let restored = try await restoreOrBackupWithVault(vault: vault, store: store)
        XCTAssertEqual(restored.outcome, .restored)
        XCTAssertEqual(restored.userId, account.userId())
        XCTAssertEqual(try store.loadSecret(), account)
        XCTAssertEqual(vault.stores, 0)
    }

    func testConflictReportsBothIdsThenAdopts() async throws {
        let store = emptyStore()
        let device = try store.getOrCreateSecret()
        let account = try AuthSecret.generate()
        let vault = SwiftVault(account.toBase64Url())
        let error = await vaultError { _ = try await restoreOrBackupWithVault(vault: vault, store: store) }
        guard let error, case let .identityConflict(deviceUserId, vaultUserId)? = error.details() else {
            return XCTFail("unexpected \(String(describing: error))")
        }
        XCTAssertEqual(error.code().description, "vault-identity-conflict")
        XCTAssertEqual(deviceUserId, device.userId())
        XCTAssertEqual(vaultUserId, account.userId())
        XCTAssertEqual(try store.loadSecret(), device)

        let adopted = try await adoptVaultIdentity(vault: vault, store: store, vaultUserId: vaultUserId)
        XCTAssertEqual(adopted.userId, account.userId())
        XCTAssertEqual(adopted.replaced, device)
        XCTAssertEqual(try store.loadSecret(), account)
    }

    func testCorruptVaultCreatesNothing() async throws {
        let vault = SwiftVault("not a secret")
        let store = emptyStore()
        let error = await vaultError { _ = try await restoreOrBackupWithVault(vault: vault, store: store) }
        XCTAssertEqual(error?.code(), ErrorCode.vaultCorrupt)
        XCTAssertNil(try store.loadSecret())
    }

    func testFailingVaultCreatesNothing() async throws {
        let vault = SwiftVault()
        vault.loadError = "provider returned 503"
        let store = emptyStore()
        let error = await vaultError { _ = try await restoreOrBackupWithVault(vault: vault, store: store) }
        XCTAssertEqual(error?.code(), ErrorCode.vaultUnavailable)
        XCTAssertNil(try store.loadSecret())
        XCTAssertEqual(vault.stores, 0)

        let closures = secretVault(load: { throw ProviderDown() }, store: { _ in })
        let wrapped = await vaultError { _ = try await restoreOrBackupWithVault(vault: closures, store: store) }
        guard let wrapped, wrapped.code() == .vaultUnavailable else {
            return XCTFail("unexpected \(String(describing: wrapped))")
        }
        XCTAssertTrue(wrapped.reason().contains("connection reset"), wrapped.reason())
        XCTAssertNil(try store.loadSecret())
    }

    func testSilentVaultTimesOutAndCreatesNothing() async throws {
        let vault = SwiftVault()
        vault.hangLoad = true
        let store = emptyStore()
        let error = await vaultError { _ = try await restoreOrBackupWithVault(vault: vault, store: store, timeout: 0.2) }
        XCTAssertEqual(error?.code(), ErrorCode.vaultTimeout)
        XCTAssertEqual(error?.details(), ErrorDetails.vaultTimeout(timeoutMs: 200))
        XCTAssertNil(try store.loadSecret())
    }

    func testUnconfirmedWriteKeepsTheDeviceSecret() async throws {
        let vault = SwiftVault()
        vault.dropWrites = true
        let store = emptyStore()
        let error = await vaultError { _ = try await restoreOrBackupWithVault(vault: vault, store: store) }
        XCTAssertEqual(error?.code(), ErrorCode.vaultWriteUnconfirmed)
        XCTAssertNil(vault.value)
        XCTAssertNotNil(try store.loadSecret())
    }
}
