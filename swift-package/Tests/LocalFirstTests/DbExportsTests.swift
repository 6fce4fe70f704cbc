// Mirrors android-lib/jvm/src/test/kotlin/dev/localfirst/DbExportsTest.kt: `insertMany`, the
// server's write rejections (`lastRejections`), cookie-session updates and the
// account-discard migrator, against a real `localfirst server` (TestServer.swift).
import Foundation
import XCTest
@testable import LocalFirst

final class DbExportsTests: ServerTestCase {
    func testInsertManyWritesAllRowsInOneTransactionAndASubscriptionSeesThemAtOnce() async throws {
        let db = try await openDb(server.config(.localFirst(secret: AuthSecret.generate())))
        let listener = RowsInbox()
        let sub = try db.subscribe(queryJson: #"{"table":"todos","orderBy":"n"}"#, listener: listener)
        XCTAssertEqual(listener.inbox.poll(), [])

        let inserted = try await db.insertManyAsync(
            table: "todos",
            rowsJson: #"[{"n":1,"title":"a"},{"n":2,"title":"b"},{"id":"third","n":3}]"#
        )
        XCTAssertEqual(inserted.count, 3)
        XCTAssertEqual(inserted[2].id, "third")
        XCTAssertTrue(inserted.allSatisfy { $0.createdBy == db.userId() })
        XCTAssertEqual(listener.inbox.poll(), inserted, "one delivery with every row")
        XCTAssertNil(listener.inbox.poll(0.2), "no delivery per row")
        XCTAssertEqual(db.syncStatus().pending, 3)

        // All or none: a bad row in the batch leaves nothing behind.
        let bad = await dbErrorCode { _ = try db.insertMany(table: "todos", rowsJson: #"[{"n":4},{"$createdBy":"x"}]"#) }
        XCTAssertEqual(bad, "invalid-row")
        let notArray = await dbErrorCode { _ = try db.insertMany(table: "todos", rowsJson: #"{"n":4}"#) }
        XCTAssertEqual(notArray, "invalid-argument")
        let all = try await db.queryAsync(queryJson: #"{"table":"todos"}"#)
        XCTAssertEqual(all.count, 3)
        XCTAssertNil(listener.inbox.poll(0.2))

        let report = try await db.syncOnce()
        XCTAssertEqual(report.acknowledged, 3)
        XCTAssertEqual(db.lastRejections(), [])
        sub.cancel()
        try await db.logoutAsync()
    }

    func testAWriteTheServerRefusesShowsInLastRejections() async throws {
        let id = "dup-\(UUID().uuidString)"
        let first = try await openDb(server.config(.localFirst(secret: AuthSecret.generate())))
        _ = try await first.insertAsync(table: "todos", valuesJson: #"{"id":"\#(id)","title":"first"}"#)
        let firstReport = try await first.syncOnce()
        XCTAssertEqual(firstReport.acknowledged, 1)

        let second = try await openDb(server.config(.localFirst(secret: AuthSecret.generate())))
        _ = try await second.insertAsync(table: "todos", valuesJson: #"{"id":"\#(id)","title":"second"}"#)
        let report = try await second.syncOnce()
        XCTAssertEqual(report.rejected, 1)
        XCTAssertEqual(report.acknowledged, 0)
        let rejections = second.lastRejections()
        XCTAssertEqual(rejections.count, 1, "\(rejections)")
        let rejection = try XCTUnwrap(rejections.first)
        XCTAssertEqual(rejection.code, "row-exists")
        XCTAssertEqual(rejection.table, "todos")
        XCTAssertEqual(rejection.id, id)
        XCTAssertFalse(rejection.message.isEmpty)
        XCTAssertEqual(second.syncStatus().lastRejections, rejections)
        XCTAssertEqual(second.syncStatus().pending, 0, "a refused write leaves the outbox")
        XCTAssertEqual(first.lastRejections(), [])
        try await first.logoutAsync()
        try await second.logoutAsync()
    }

    func testARefusedCookieIsNoRejectedWriteAndANewCookieValueResumesSync() async throws {
        let user = "cookie-user-\(UUID().uuidString)"
        let expired = CookieSession(userId: user).withCookie(value: signer.jwt(user, expiresIn: -60))
        XCTAssertTrue(expired.hasCookie())
        let db = try await openDb(server.config(.cookieSession(session: expired)))
        XCTAssertEqual(db.getAuthState().authMode, .external)
        XCTAssertEqual(db.userId(), user)
        _ = try await db.insertAsync(table: "todos", valuesJson: #"{"title":"from a cookie user"}"#)

        let refused = await dbErrorCode { _ = try await db.syncOnce() }
        XCTAssertEqual(refused, "sync-auth-rejected")
        XCTAssertEqual(db.getAuthState().error, "expired")
        XCTAssertEqual(db.lastRejections(), [], "the credential, not the write, was refused")
        XCTAssertEqual(db.syncStatus().pending, 1, "the write waits in the outbox")

        try db.updateCookieSession(session: CookieSession(userId: user).withCookie(value: signer.jwt(user, expiresIn: 600)))
        XCTAssertNil(db.getAuthState().error)
        let report = try await db.syncOnce()
        XCTAssertEqual(report.acknowledged, 1)

        let other = await dbErrorCode { try db.updateCookieSession(session: CookieSession(userId: "someone-else")) }
        XCTAssertEqual(other, "principal-change")
        try await db.logoutAsync()
    }

    /// Writes two todos and a note as a new local-first identity in `dir`; returns its user id.
    private func localFirstRows(_ dir: URL) async throws -> String {
        let secret = try AuthSecret.generate()
        let db = try await openDb(server.config(.localFirst(secret: secret), dir: dir))
        _ = try await db.insertManyAsync(table: "todos", rowsJson: #"[{"title":"milk"},{"title":"eggs"}]"#)
        _ = try await db.insertAsync(table: "notes", valuesJson: #"{"text":"private"}"#)
        try await db.logoutAsync()
        return secret.userId()
    }

    func testTheDiscardMigratorCopiesTheOldIdentitysRowsBeforeTheyAreDiscarded() async throws {
        let dir = try temporaryDirectory()
        let old = try await localFirstRows(dir)
        let user = "external-\(UUID().uuidString)"
        let seen = Recorder<String>()
        let snapshots = Recorder<[Row]>()
        let tables = Recorder<[String]>()
        let migrator = accountDiscardMigrator { account in
            seen.append(account.userId())
            tables.append(account.tables())
            let todos = try account.rows(table: "todos")
            snapshots.append(todos)
            // Copy the todos (values only: the new rows get new ids and the new author).
            let copies = "[" + todos.map(\.valuesJson).joined(separator: ",") + "]"
            _ = try account.db().insertMany(table: "todos", rowsJson: copies)
        }
        let jwt = signer.jwt(user, expiresIn: 600)
        let db = try await openDb(server.config(.jwt(token: jwt), dir: dir, migrator: migrator))
        XCTAssertEqual(seen.values, [old])
        XCTAssertTrue(Set(tables.values.first ?? []).isSuperset(of: ["todos", "notes"]), "\(tables.values)")
        let snapshot = try XCTUnwrap(snapshots.values.first)
        XCTAssertEqual(snapshot.count, 2)
        XCTAssertTrue(snapshot.allSatisfy { $0.createdBy == old })

        let todos = try await db.queryAsync(queryJson: #"{"table":"todos"}"#)
        XCTAssertEqual(Set(todos.map(\.valuesJson)), [#"{"title":"milk"}"#, #"{"title":"eggs"}"#])
        XCTAssertTrue(todos.allSatisfy { $0.createdBy == user }, "the old identity's rows are gone")
        let notes = try await db.queryAsync(queryJson: #"{"table":"notes"}"#)
        XCTAssertEqual(notes, [], "what was not migrated is discarded")
        try await db.logoutAsync()

        // Discarded once: the next open of the account does not ask again.
        let again = try await openDb(server.config(.jwt(token: jwt), dir: dir, migrator: migrator))
        XCTAssertEqual(seen.values.count, 1)
        try await again.logoutAsync()
    }

    func testADecliningMigratorFailsTheOpenWithACodeAndKeepsEveryRow() async throws {
        let dir = try temporaryDirectory()
        let old = try await localFirstRows(dir)
        let jwt = signer.jwt("external-\(UUID().uuidString)", expiresIn: 600)
        let calls = Recorder<String>()
        let declining = accountDiscardMigrator { account in
            calls.append(account.userId())
            throw LocalFirstError.Failed(code: .migrationFailed, reason: "the user keeps the local account", details: nil)
        }
        do {
            _ = try await openDb(server.config(.jwt(token: jwt), dir: dir, migrator: declining))
            XCTFail("the open must fail")
        } catch let error as LocalFirstError {
            XCTAssertEqual(error.code(), .migrationFailed)
            XCTAssertTrue(error.reason().contains("the user keeps the local account"), error.reason())
        }
        XCTAssertEqual(calls.values, [old])

        // Any error declines too.
        struct MigratorBug: Error {}
        let crashing = accountDiscardMigrator { _ in throw MigratorBug() }
        let crashed = await dbErrorCode { _ = try Db.open(config: self.server.config(.jwt(token: jwt), dir: dir, migrator: crashing)) }
        XCTAssertEqual(crashed, "migration-failed")

        // Nothing was discarded: the external account sees the old identity's rows, still its own.
        let db = try await openDb(server.config(.jwt(token: jwt), dir: dir))
        let todos = try await db.queryAsync(queryJson: #"{"table":"todos"}"#)
        XCTAssertEqual(todos.count, 2)
        XCTAssertTrue(todos.allSatisfy { $0.createdBy == old })
        let notes = try await db.queryAsync(queryJson: #"{"table":"notes"}"#)
        XCTAssertEqual(notes.count, 1)
        try await db.logoutAsync()
    }
}
