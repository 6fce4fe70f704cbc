// The platform secret stores from Swift; mirrors android-lib/jvm's KeystoreStoreTest.
// Not run here (no Swift toolchain): `swift test -Xlinker -L../target/debug` on Linux,
// Xcode on a Mac or an iOS simulator for the Keychain cases.
import Foundation
import XCTest
@testable import LocalFirst

final class PlatformStoreTests: XCTestCase {
    #if canImport(Security) && (os(iOS) || os(macOS))
    /// A fresh service per run keeps runs apart; every item it made is cleared afterwards.
    private func keychainOptions(accessibility: KeychainAccessibility? = nil) -> KeychainOptions {
        KeychainOptions(service: "localfirst-tests-\(UUID().uuidString)", accessibility: accessibility)
    }

    /// The data-protection keychain needs a keychain entitlement: an unsigned macOS test
    /// bundle gets `errSecMissingEntitlement` (`secret-store-permission-denied`).
    private func skipWithoutKeychainAccess(_ options: KeychainOptions) throws {
        do {
            _ = try KeychainSecretStore(storageKey: StorageKey.forApp(appId: "probe"), options: options).loadSecret()
        } catch let error as LocalFirstError where error.code() == .secretStorePermissionDenied {
            throw XCTSkip("no keychain entitlement in this test host: \(error)")
        }
    }

    func testKeychainStorePassesConformance() throws {
        for accessibility in [nil, KeychainAccessibility.whenUnlockedThisDeviceOnly] {
            let options = keychainOptions(accessibility: accessibility)
            try skipWithoutKeychainAccess(options)
            let opened = KeyLog()
            let report = runSecretStoreConformance { key in
                opened.add(key)
                return try KeychainSecretStore(storageKey: key, options: options)
            }
            for key in opened.all() {
                try KeychainSecretStore(storageKey: key, options: options).clearSecret()
            }
            XCTAssertEqual(report.failures, [])
            XCTAssertTrue(report.passed)
            XCTAssertEqual(report.checks.count, 7)
        }
    }

    func testKeychainStoreKeepsTheSecretAcrossInstances() throws {
        let options = keychainOptions()
        try skipWithoutKeychainAccess(options)
        let key = StorageKey.forApp(appId: "keychain-round-trip")
        let store = try KeychainSecretStore(storageKey: key, options: options)
        defer { try? store.clearSecret() }
        XCTAssertNil(try store.loadSecret())
        let secret = try store.getOrCreateSecret()
        let reopened = try KeychainSecretStore(storageKey: key, options: options)
        XCTAssertEqual(try reopened.loadSecret(), secret)
        XCTAssertEqual(try reopened.getOrCreateSecret(), secret)
        XCTAssertEqual(reopened.storageKey().asString(), key.asString())
        try reopened.clearSecret()
        XCTAssertNil(try store.loadSecret())
    }
    #else
    func testKeychainStoreIsUnavailableOffApplePlatforms() {
        let options = KeychainOptions(accessibility: .whenUnlockedThisDeviceOnly, accessGroup: "TEAMID.group.test", userPresence: true)
        let makers: [() throws -> KeychainSecretStore] = [
            { try KeychainSecretStore(storageKey: StorageKey.forApp(appId: "app")) },
            { try KeychainSecretStore(storageKey: StorageKey.forApp(appId: "app"), options: options) },
        ]
        for make in makers {
            XCTAssertThrowsError(try make()) { error in
                guard let error = error as? LocalFirstError else {
                    return XCTFail("unexpected \(error)")
                }
                XCTAssertEqual(error.code(), .secretStoreUnavailable)
                XCTAssertTrue(error.reason().contains("iOS or macOS"), error.reason())
            }
        }
    }
    #endif

    func testTheAndroidKeystoreIsUnavailableFromSwift() {
        XCTAssertThrowsError(try KeystoreSecretStore(storageKey: StorageKey.defaultKey())) { error in
            XCTAssertEqual((error as? LocalFirstError)?.code(), ErrorCode.secretStoreUnavailable, "\(error)")
        }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent(UUID().uuidString)
        XCTAssertThrowsError(
            try KeystoreSecretStore.withDesktopKeystore(
                storageKey: StorageKey.defaultKey(),
                keystorePath: dir.appendingPathComponent("keys.p12").path,
                password: "password",
                envelopeDir: dir.path
            )
        ) { error in
            // No JVM on iOS; on a desktop, no LocalFirstAndroid.init has recorded one.
            #if os(iOS)
            XCTAssertEqual((error as? LocalFirstError)?.code(), ErrorCode.secretStoreUnavailable, "\(error)")
            #else
            XCTAssertEqual((error as? LocalFirstError)?.code(), ErrorCode.secretStoreBackend, "\(error)")
            #endif
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.path))
    }
}

/// The storage keys a conformance run opened, so the test can clear them afterwards.
final class KeyLog: @unchecked Sendable {
    private let lock = NSLock()
    private var keys: [StorageKey] = []

    func add(_ key: StorageKey) {
        lock.lock()
        defer { lock.unlock() }
        keys.append(key)
    }

    func all() -> [StorageKey] {
        lock.lock()
        defer { lock.unlock() }
        return keys
    }
}
