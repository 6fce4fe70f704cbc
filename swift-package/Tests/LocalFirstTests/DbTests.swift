// Mirrors android-lib/jvm/src/test/kotlin/dev/localfirst/DbTest.kt against a real
// `localfirst server` (TestServer.swift). Not run here (no Swift toolchain):
// `cargo build -p localfirst-cli && scripts/gen-bindings.sh`, then in swift-package/
// `swift test -Xlinker -L../target/debug`.
import Foundation
import XCTest
@testable import LocalFirst

final class DbTests: ServerTestCase {
    func testRowsWrittenByOneDeviceReachAnotherDeviceOfTheSameSecret() async throws {
        let secret = try AuthSecret.generate()
        let tag = String(secret.userId().prefix(8))
        let writer = try await openDb(server.config(.localFirst(secret: secret), dir: temporaryDirectory()))
        XCTAssertEqual(writer.userId(), secret.userId())
        let milk = try await writer.insertAsync(table: "todos", valuesJson: #"{"title":"milk \#(tag)","done":false}"#)
        let eggs = try await writer.insertAsync(table: "todos", valuesJson: #"{"title":"eggs \#(tag)","done":true}"#)
        XCTAssertEqual(milk.createdBy, secret.userId())
        XCTAssertTrue(milk.valuesJson.contains("milk \(tag)"), milk.valuesJson)
        XCTAssertEqual(writer.syncStatus().pending, 2)

        // The push always lands in a later second than the writes: a row keeps the
        // writer's stamps, so every copy still equals what insert returned.
        while UInt64(Date().timeIntervalSince1970) <= eggs.createdAt {
            try await Task.sleep(nanoseconds: 20_000_000)
        }
        let pushed = try await writer.syncOnce()
        XCTAssertEqual(pushed.acknowledged, 2)
        XCTAssertEqual(pushed.rejected, 0)
        XCTAssertEqual(writer.syncStatus().pending, 0)
        let milkHere = try await writer.getAsync(table: "todos", id: milk.id)
        XCTAssertEqual(milkHere, milk)

        let copy = try AuthSecret.fromBase64Url(text: secret.toBase64Url())
        let reader = try await openDb(server.config(.localFirst(secret: copy), dir: temporaryDirectory()))
        let before = try await reader.getAsync(table: "todos", id: milk.id)
        XCTAssertNil(before, "nothing before the reader syncs")
        let pulled = try await reader.syncOnce()
        XCTAssertGreaterThanOrEqual(pulled.pulled, 2)
        let milkThere = try await reader.getAsync(table: "todos", id: milk.id)
        let eggsThere = try await reader.getAsync(table: "todos", id: eggs.id)
        XCTAssertEqual(milkThere, milk)
        XCTAssertEqual(eggsThere, eggs)
        XCTAssertEqual(pulled.skipped, 0)
        XCTAssertEqual(reader.syncStatus().skippedChanges, [])
        let notDone = try await reader.queryAsync(queryJson: #"{"table":"todos","where":{"done":false}}"#)
        XCTAssertEqual(notDone.map(\.id), [milk.id])

        try await writer.logoutAndWipeAsync()
        try await reader.logoutAndWipeAsync()
    }

    func testAuthStateStreamStartsWithTheCurrentStateAndUpdateDeleteSubscribeWork() async throws {
        let secret = try AuthSecret.generate()
        let db = try await openDb(server.config(.localFirst(secret: secret)))
        let firstState = try await first(db.authStates())
        let initial = try XCTUnwrap(firstState)
        XCTAssertEqual(initial.authMode, .localFirst)
        XCTAssertEqual(initial.userId, secret.userId())
        XCTAssertNil(initial.error)
        XCTAssertEqual(initial, db.getAuthState())

        let listener = RowsInbox()
        let sub = try db.subscribe(queryJson: #"{"table":"notes"}"#, listener: listener)
        XCTAssertEqual(listener.inbox.poll(), [])
        let note = try await db.insertAsync(table: "notes", valuesJson: #"{"text":"a"}"#)
        XCTAssertEqual(listener.inbox.poll(), [note])
        let edited = try await db.updateAsync(table: "notes", id: note.id, patchJson: #"{"text":"b"}"#)
        XCTAssertTrue(edited.valuesJson.contains("\"b\""), edited.valuesJson)
        XCTAssertEqual(listener.inbox.poll(), [edited])
        sub.cancel()
        XCTAssertFalse(sub.isActive())
        _ = try await db.deleteAsync(table: "notes", id: note.id)
        let gone = try await db.getAsync(table: "notes", id: note.id)
        XCTAssertNil(gone)
        XCTAssertNil(listener.inbox.poll(0.2), "no delivery after cancel")

        let proof = try db.getLocalFirstIdentityProof(ttlSeconds: 60, audience: "my-backend")
        XCTAssertNotNil(proof)
        XCTAssertTrue(verifyLocalFirstIdentityProof(token: proof ?? "", audience: "my-backend").ok)
        try await db.logoutAsync()
    }

    func testBackgroundSyncConnectsPushesNewWritesAndStops() async throws {
        let db = try await openDb(server.config(.localFirst(secret: AuthSecret.generate())))
        XCTAssertEqual(db.syncStatus().state, .disabled)
        try db.startSync()
        let connected = try await first(db.syncStatuses()) { $0.state == .connected }
        XCTAssertEqual(try XCTUnwrap(connected).state, .connected)
        XCTAssertEqual(db.syncStatus().state, .connected)
        _ = try await db.insertAsync(table: "todos", valuesJson: #"{"title":"live"}"#)
        try eventually("the write acknowledged") { db.syncStatus().pending == 0 }
        XCTAssertNil(db.syncStatus().lastErrorCode)
        db.stopSync()
        XCTAssertEqual(db.syncStatus().state, .disabled)
        try await db.logoutAsync()
    }

    func testTheRowsStreamEmitsTheCurrentResultAndThenChanges() async throws {
        let db = try await openDb(server.config(.localFirst(secret: AuthSecret.generate())))
        let empty = try await first(db.rows(queryJson: #"{"table":"notes"}"#))
        XCTAssertEqual(empty, [])
        let note = try await db.insertAsync(table: "notes", valuesJson: #"{"text":"a"}"#)
        let next = try await first(db.rows(queryJson: #"{"table":"notes"}"#))
        XCTAssertEqual(next, [note])
        let code = await dbErrorCode { _ = try await self.first(db.rows(queryJson: #"{"tabel":"notes"}"#)) }
        XCTAssertEqual(code, "invalid-argument")
        try await db.logoutAsync()
    }

    func testAnExpiredExternalTokenIsRefreshedOnceByASwiftRefresher() async throws {
        let user = "swift-user-\(UUID().uuidString)"
        let calls = Recorder<Int>()
        let signer = self.signer
        let refresher = jwtRefresher {
            calls.append(1)
            return signer.jwt(user, expiresIn: 600)
        }
        let db = try await openDb(server.config(.jwt(token: signer.jwt(user, expiresIn: -60)), refresher: refresher))
        XCTAssertEqual(db.getAuthState().authMode, .external)
        XCTAssertEqual(db.userId(), user)
        _ = try await db.insertAsync(table: "todos", valuesJson: #"{"title":"from a JWT user"}"#)

        let report = try await db.syncOnce()
        XCTAssertEqual(calls.values.count, 1, "one refresh for one expired token")
        XCTAssertEqual(report.acknowledged, 1)
        XCTAssertNil(db.getAuthState().error)
        // The fresh token is the one in use now: another sync needs no refresh.
        _ = try await db.syncOnce()
        XCTAssertEqual(calls.values.count, 1)
        try await db.logoutAsync()
    }

    func testErrorsCrossAsLocalFirstErrorWithCatalogueCodes() async throws {
        let anonymous = try await openDb(server.config(.anonymous))
        XCTAssertEqual(anonymous.getAuthState().authMode, .anonymous)
        let denied = await dbErrorCode { _ = try anonymous.insert(table: "todos", valuesJson: #"{"title":"x"}"#) }
        XCTAssertEqual(denied, "anonymous-write-denied")
        do {
            _ = try anonymous.insert(table: "todos", valuesJson: #"{"title":"x"}"#)
            XCTFail("an anonymous write must fail")
        } catch let error as LocalFirstError {
            XCTAssertEqual(error.details(), .tableOperation(table: "todos", operation: .insert))
        }
        XCTAssertNil(try anonymous.getLocalFirstIdentityProof(ttlSeconds: 60, audience: nil))

        let db = try await openDb(server.config(.localFirst(secret: AuthSecret.generate())))
        let ttl = await dbErrorCode { _ = try db.getLocalFirstIdentityProof(ttlSeconds: 0, audience: nil) }
        XCTAssertEqual(ttl, "invalid-ttl")
        let missing = await dbErrorCode { _ = try db.delete(table: "todos", id: "missing") }
        XCTAssertEqual(missing, "not-found")
        try db.logout()
        let afterLogout = await dbErrorCode { _ = try db.insert(table: "todos", valuesJson: "{}") }
        XCTAssertEqual(afterLogout, "logged-out")
        let secondLogout = await dbErrorCode { try db.logout() }
        XCTAssertEqual(secondLogout, "logged-out")
        let syncAfterLogout = await dbErrorCode { _ = try await db.syncOnce() }
        XCTAssertEqual(syncAfterLogout, "logged-out")

        var blank = server.config(.anonymous)
        blank.appId = " "
        let invalid = await dbErrorCode { _ = try Db.open(config: blank) }
        XCTAssertEqual(invalid, "invalid-config")
        try anonymous.logout()
    }
}
