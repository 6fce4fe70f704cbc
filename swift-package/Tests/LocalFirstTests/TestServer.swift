// The Db suites' fixture, as in the Kotlin suite (android-lib/jvm/src/test/kotlin/dev/localfirst/
// TestServer.kt): a real `localfirst server` child process, an ES256 key the server trusts,
// and small helpers for waiting on callbacks.
import Foundation
import XCTest
@testable import LocalFirst
#if canImport(CryptoKit)
import CryptoKit
#else
import Crypto
#endif

/// The app id every Db suite uses (the server serves exactly this app).
let testApp = "swift-db-test"

/// The `iss` of the test JWTs; the server accepts exactly this issuer, and `testApp` as audience.
let testIssuer = "https://id.example.test"

/// An ES256 key pair: the server trusts its public key, the tests sign JWTs with it.
final class JwtSigner: @unchecked Sendable {
    private let key = P256.Signing.PrivateKey()

    /// The public key as a PEM file in the temporary directory.
    func publicKeyPem() throws -> URL {
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("localfirst-jwt-\(UUID().uuidString).pem")
        try key.publicKey.pemRepresentation.write(to: url, atomically: true, encoding: .utf8)
        return url
    }

    /// An ES256 JWT for `sub` that expires `expiresIn` seconds from now (negative: already expired).
    func jwt(_ sub: String, expiresIn: Int) -> String {
        let now = Int(Date().timeIntervalSince1970)
        let header = base64Url(Data(#"{"alg":"ES256","typ":"JWT"}"#.utf8))
        let claims = base64Url(Data(
            #"{"sub":"\#(sub)","iss":"\#(testIssuer)","aud":"\#(testApp)","iat":\#(now - 120),"exp":\#(now + expiresIn)}"#.utf8
        ))
        // The raw form is the JOSE form: r || s, 32 bytes each.
        let signature = try! key.signature(for: Data("\(header).\(claims)".utf8)).rawRepresentation
        return "\(header).\(claims).\(base64Url(signature))"
    }

    private func base64Url(_ data: Data) -> String {
        data.base64EncodedString()
            .replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}

enum TestServerError: Error {
    case exitedBeforeListening
    case unexpectedFirstLine(String)
    case timedOut(String)
}

/// A `localfirst server` child process on 127.0.0.1, in memory, on a free port. The binary
/// is `$LOCALFIRST_SERVER_BIN`, or `target/debug/localfirst` of this repository
/// (`cargo build -p localfirst-cli`).
final class TestServer: @unchecked Sendable {
    private let process: Process
    /// The port the server printed in its `listening` event.
    let port: Int

    init(publicKeyPem: URL) throws {
        let repo = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent() // LocalFirstTests
            .deletingLastPathComponent() // Tests
            .deletingLastPathComponent() // swift-package
            .deletingLastPathComponent()
        let binary = ProcessInfo.processInfo.environment["LOCALFIRST_SERVER_BIN"]
            ?? repo.appendingPathComponent("target/debug/localfirst").path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = [
            "--json", "server", testApp,
            "--port", "0", "--in-memory", "--allow-local-first-auth",
            "--jwt-public-key", "@" + publicKeyPem.path,
            "--jwt-issuer", testIssuer, "--jwt-audience", testApp,
        ]
        let stdout = Pipe()
        process.standardOutput = stdout
        process.standardError = FileHandle.nullDevice
        try process.run()

        let reader = stdout.fileHandleForReading
        var buffer = Data()
        while !buffer.contains(UInt8(ascii: "\n")) {
            let chunk = reader.availableData
            if chunk.isEmpty { throw TestServerError.exitedBeforeListening }
            buffer.append(chunk)
        }
        let line = String(decoding: buffer.prefix { $0 != UInt8(ascii: "\n") }, as: UTF8.self)
        guard line.contains("\"listening\""),
              let match = try NSRegularExpression(pattern: #""port":\s*(\d+)"#)
                  .firstMatch(in: line, range: NSRange(line.startIndex..., in: line)),
              let range = Range(match.range(at: 1), in: line),
              let port = Int(line[range])
        else {
            process.terminate()
            throw TestServerError.unexpectedFirstLine(line)
        }
        self.process = process
        self.port = port
        // Keep draining stdout so the server never blocks on a full pipe.
        Thread { while !reader.availableData.isEmpty {} }.start()
    }

    /// The base URL clients sync with.
    var url: String { "ws://127.0.0.1:\(port)" }

    /// A config for `testApp` syncing with this server; in memory when `dir` is nil.
    func config(
        _ auth: AuthConfig,
        dir: URL? = nil,
        refresher: JwtRefresher? = nil,
        migrator: AccountDiscardMigrator? = nil
    ) -> DbConfig {
        DbConfig(
            appId: testApp,
            storage: dir.map { .dataDir(path: $0.path) } ?? .inMemory,
            auth: auth,
            serverUrl: url,
            syncWhen: .always,
            policiesJson: nil,
            jwtRefresher: refresher,
            accountDiscardMigrator: migrator
        )
    }

    func close() {
        process.terminate()
        process.waitUntilExit()
    }
}

/// A test case with one `TestServer` (and the `JwtSigner` it trusts) for all its tests.
class ServerTestCase: XCTestCase {
    static let signer = JwtSigner()
    private static var running: TestServer?

    var server: TestServer { Self.running! }
    var signer: JwtSigner { Self.signer }

    override class func setUp() {
        super.setUp()
        running = try! TestServer(publicKeyPem: signer.publicKeyPem())
    }

    override class func tearDown() {
        running?.close()
        running = nil
        super.tearDown()
    }

    /// A fresh temporary directory, removed after the test.
    func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent(UUID().uuidString)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url
    }

    /// The catalogue code (its text) of the `LocalFirstError` `body` throws (fails the test when it does not throw).
    func dbErrorCode(
        file: StaticString = #filePath,
        line: UInt = #line,
        _ body: () async throws -> Void
    ) async -> String? {
        do {
            try await body()
            XCTFail("expected a LocalFirstError", file: file, line: line)
            return nil
        } catch let error as LocalFirstError {
            return error.code().description
        } catch {
            XCTFail("expected a LocalFirstError, got \(error)", file: file, line: line)
            return nil
        }
    }

    /// The first element of `sequence` matching `condition`, within `seconds`.
    func first<S: AsyncSequence>(
        _ sequence: S,
        within seconds: Double = 10,
        where condition: @escaping @Sendable (S.Element) -> Bool = { _ in true }
    ) async throws -> S.Element? where S.Element: Sendable {
        try await withThrowingTaskGroup(of: S.Element?.self) { group in
            group.addTask {
                for try await element in sequence where condition(element) { return element }
                return nil
            }
            group.addTask {
                try await Task.sleep(nanoseconds: UInt64(seconds * 1_000_000_000))
                return nil
            }
            let found = try await group.next() ?? nil
            group.cancelAll()
            return found
        }
    }

    /// Polls `condition` every 20 ms for up to 10 s (waits for background sync, not for time to pass).
    func eventually(_ what: String, _ condition: () -> Bool) throws {
        let deadline = Date().addingTimeInterval(10)
        while !condition() {
            if Date() > deadline { throw TestServerError.timedOut(what) }
            Thread.sleep(forTimeInterval: 0.02)
        }
    }
}

/// Values handed over by callbacks on other threads, taken in order with a timeout.
final class Inbox<T>: @unchecked Sendable {
    private let condition = NSCondition()
    private var items: [T] = []

    func put(_ item: T) {
        condition.lock()
        items.append(item)
        condition.signal()
        condition.unlock()
    }

    /// The oldest value, or nil when none arrives within `seconds`.
    func poll(_ seconds: Double = 5) -> T? {
        let deadline = Date().addingTimeInterval(seconds)
        condition.lock()
        defer { condition.unlock() }
        while items.isEmpty {
            if !condition.wait(until: deadline) { return nil }
        }
        return items.removeFirst()
    }
}

/// A `RowsListener` that puts every delivery into an `Inbox`.
final class RowsInbox: RowsListener, @unchecked Sendable {
    let inbox = Inbox<[Row]>()

    func onRowsChanged(rows: [Row]) throws {
        inbox.put(rows)
    }
}

/// A thread-safe list for what callbacks saw.
final class Recorder<T>: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [T] = []

    func append(_ item: T) {
        lock.lock()
        items.append(item)
        lock.unlock()
    }

    var values: [T] {
        lock.lock()
        defer { lock.unlock() }
        return items
    }
}
