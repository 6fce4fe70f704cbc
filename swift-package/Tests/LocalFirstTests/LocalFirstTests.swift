// Mirrors part of the Kotlin suite (android-lib/jvm/src/test). Not run here (no Swift
// toolchain); `swift test -Xlinker -L../target/debug` after scripts/gen-bindings.sh.
import Foundation
import XCTest
@testable import LocalFirst

final class LocalFirstTests: XCTestCase {
    func testZeroSeedVector() throws {
        let secret = try AuthSecret.fromBase64Url(text: String(repeating: "A", count: 43))
        XCTAssertEqual(secret.userId(), "412a3d72-132d-5e55-bad2-d3bad0eb5ea5")
        XCTAssertEqual(secret.publicKey(), "-fUyyDuDwhS56I9m_xWQZ_Y9I7tAW4yCvlTdKga4BtQ")
        let phrase = RecoveryPhrase.fromSecret(secret)
        XCTAssertEqual(try RecoveryPhrase.toSecret(phrase), secret)
        XCTAssertFalse(String(describing: secret).contains(secret.toBase64Url()))
    }

    func testPhraseErrorsCarryCodesAndDetails() {
        XCTAssertThrowsError(try RecoveryPhrase.toSecret("abandon abandon")) { error in
            guard let error = error as? LocalFirstError else {
                return XCTFail("unexpected \(error)")
            }
            XCTAssertEqual(error.code(), .invalidLength)
            XCTAssertEqual(error.code().description, "invalid-length")
            XCTAssertEqual(error.details(), .phraseLength(got: 2))
            XCTAssertEqual(error.reason(), "Expected 24 words, got 2")
        }
        var words = Array(repeating: "abandon", count: 24)
        words[4] = "notaword"
        XCTAssertThrowsError(try RecoveryPhrase.toSecret(words.joined(separator: " "))) { error in
            guard case let LocalFirstError.Failed(code, _, details) = error else {
                return XCTFail("unexpected \(error)")
            }
            XCTAssertEqual(code, .invalidWord)
            XCTAssertEqual(details, .invalidWord(position: 5, word: "notaword"))
        }
    }

    func testErrorCodesAreTheCatalogueTexts() {
        XCTAssertEqual(ErrorCode.vaultIdentityConflict.description, "vault-identity-conflict")
        XCTAssertEqual(errorCodeFromText(text: "server-busy"), .serverBusy)
        XCTAssertNil(errorCodeFromText(text: "no-such-code"))
    }

    func testEmptyProofIsRequired() {
        let outcome = verifyLocalFirstIdentityProof(token: "", audience: "my-app")
        XCTAssertFalse(outcome.ok)
        XCTAssertEqual(outcome.error, "proofToken is required")
        XCTAssertEqual(outcome.code, .proofTokenRequired)
    }

    func testSwiftStorePassesConformance() {
        let shelf = Shelf()
        let report = runSecretStoreConformance { key in DictionaryStore(key: key, shelf: shelf) }
        XCTAssertEqual(report.failures, [])
        XCTAssertTrue(report.passed)
    }
}

final class Shelf: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [String: AuthSecret] = [:]

    func with<T>(_ body: (inout [String: AuthSecret]) -> T) -> T {
        lock.lock()
        defer { lock.unlock() }
        return body(&items)
    }
}

final class DictionaryStore: AuthSecretStore, @unchecked Sendable {
    let key: StorageKey
    let shelf: Shelf

    init(key: StorageKey, shelf: Shelf) {
        self.key = key
        self.shelf = shelf
    }

    func storageKey() -> StorageKey { key }
    func loadSecret() throws -> AuthSecret? { shelf.with { $0[key.asString()] } }
    func saveSecret(secret: AuthSecret) throws { shelf.with { $0[key.asString()] = secret } }
    func clearSecret() throws { _ = shelf.with { $0.removeValue(forKey: key.asString()) } }
    func createSecret(secret: AuthSecret) throws -> AuthSecret {
        shelf.with { items in
            if let existing = items[key.asString()] { return existing }
            items[key.asString()] = secret
            return secret
        }
    }
}
