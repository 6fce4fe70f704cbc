package dev.localfirst

import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows
import org.junit.jupiter.api.io.TempDir
import java.nio.file.Path

/**
 * `insertMany`, the server's write rejections (`lastRejections`), cookie-session updates and
 * the account-discard migrator, against a real `localfirst server` (see [Server]).
 */
class DbExportsTest : ServerSuite() {
    private fun localFirst(secret: AuthSecret) = AuthConfig.LocalFirst(secret)

    @Test
    fun `insertMany writes all rows in one transaction and a subscription sees them at once`() = runBlocking {
        val db = openDb(server.config(localFirst(AuthSecret.generate()), null))
        val seen = RowsQueue()
        val sub = db.subscribe("""{"table":"todos","orderBy":"n"}""", seen)
        assertEquals(emptyList<Row>(), seen.poll())

        val inserted = db.insertManyAsync("todos", """[{"n":1,"title":"a"},{"n":2,"title":"b"},{"id":"third","n":3}]""")
        assertEquals(3, inserted.size)
        assertEquals("third", inserted[2].id)
        assertTrue(inserted.all { it.createdBy == db.userId() })
        assertEquals(inserted, seen.poll(), "one delivery with every row")
        assertNull(seen.poll(200), "no delivery per row")
        assertEquals(3uL, db.syncStatus().pending)

        // All or none: a bad row in the batch leaves nothing behind.
        val bad = assertThrows<LocalFirstException> { db.insertMany("todos", """[{"n":4},{"${'$'}createdBy":"x"}]""") }
        assertEquals("invalid-row", bad.code().toString())
        assertEquals("invalid-argument", assertThrows<LocalFirstException> { db.insertMany("todos", """{"n":4}""") }.code().toString())
        assertEquals(3, db.queryAsync("""{"table":"todos"}""").size)
        assertNull(seen.poll(200))

        val report = db.syncOnce()
        assertEquals(3uL, report.acknowledged)
        assertEquals(emptyList<SyncRejection>(), db.lastRejections())
        sub.cancel()
        db.logoutAsync()
    }

    @Test
    fun `a write the server refuses shows in lastRejections`() = runBlocking {
        val id = "dup-" + System.nanoTime()
        val first = openDb(server.config(localFirst(AuthSecret.generate()), null))
        first.insertAsync("todos", """{"id":"$id","title":"first"}""")
        assertEquals(1uL, first.syncOnce().acknowledged)

        val second = openDb(server.config(localFirst(AuthSecret.generate()), null))
        second.insertAsync("todos", """{"id":"$id","title":"second"}""")
        val report = second.syncOnce()
        assertEquals(1uL, report.rejected)
        assertEquals(0uL, report.acknowledged)
        val rejections = second.lastRejections()
        assertEquals(1, rejections.size, rejections.toString())
        assertEquals("row-exists", rejections[0].code)
        assertEquals("todos", rejections[0].table)
        assertEquals(id, rejections[0].id)
        assertTrue(rejections[0].message.isNotEmpty())
        assertEquals(rejections, second.syncStatus().lastRejections)
        assertEquals(0uL, second.syncStatus().pending, "a refused write leaves the outbox")
        assertEquals(emptyList<SyncRejection>(), first.lastRejections())
        first.logoutAsync()
        second.logoutAsync()
    }

    @Test
    fun `a refused cookie is no rejected write and a new cookie value resumes sync`() = runBlocking {
        val user = "cookie-user-" + System.nanoTime()
        val expired = CookieSession(user).withCookie(signer.jwt(user, -60))
        assertTrue(expired.hasCookie())
        val db = openDb(server.config(AuthConfig.CookieSession(expired), null))
        assertEquals(AuthMode.EXTERNAL, db.getAuthState().authMode)
        assertEquals(user, db.userId())
        db.insertAsync("todos", """{"title":"from a cookie user"}""")

        val refused = assertThrows<LocalFirstException> { db.syncOnce() }
        assertEquals("sync-auth-rejected", refused.code().toString())
        assertEquals(ErrorDetails.SyncCode("expired"), refused.details())
        assertEquals("expired", db.getAuthState().error)
        assertEquals(emptyList<SyncRejection>(), db.lastRejections(), "the credential, not the write, was refused")
        assertEquals(1uL, db.syncStatus().pending, "the write waits in the outbox")

        db.updateCookieSession(CookieSession(user).withCookie(signer.jwt(user, 600)))
        assertNull(db.getAuthState().error)
        assertEquals(1uL, db.syncOnce().acknowledged)

        val other = assertThrows<LocalFirstException> { db.updateCookieSession(CookieSession("someone-else")) }
        assertEquals("principal-change", other.code().toString())
        db.logoutAsync()
    }

    /** Writes two todos and a note as a new local-first identity in [dir]; returns its user id. */
    private suspend fun localFirstRows(dir: Path): String {
        val secret = AuthSecret.generate()
        val db = openDb(server.config(localFirst(secret), dir))
        db.insertManyAsync("todos", """[{"title":"milk"},{"title":"eggs"}]""")
        db.insertAsync("notes", """{"text":"private"}""")
        db.logoutAsync()
        return secret.userId()
    }

    @Test
    fun `the discard migrator copies the old identity's rows before they are discarded`(@TempDir dir: Path) = runBlocking {
        val old = localFirstRows(dir)
        val user = "external-" + System.nanoTime()
        val seen = mutableListOf<String>()
        var snapshot: List<Row> = emptyList()
        val migrator = accountDiscardMigrator { account ->
            seen.add(account.userId())
            assertTrue(account.tables().containsAll(listOf("todos", "notes")), account.tables().toString())
            snapshot = account.rows("todos")
            // Copy the todos (values only: the new rows get new ids and the new author).
            val copies = snapshot.joinToString(",", "[", "]") { it.valuesJson }
            account.db().insertMany("todos", copies)
        }
        val db = openDb(server.config(AuthConfig.Jwt(signer.jwt(user, 600)), dir, migrator = migrator))
        assertEquals(listOf(old), seen)
        assertEquals(2, snapshot.size)
        assertTrue(snapshot.all { it.createdBy == old })

        val todos = db.queryAsync("""{"table":"todos"}""")
        assertEquals(setOf("""{"title":"milk"}""", """{"title":"eggs"}"""), todos.map { it.valuesJson }.toSet())
        assertTrue(todos.all { it.createdBy == user }, "the old identity's rows are gone")
        assertEquals(emptyList<Row>(), db.queryAsync("""{"table":"notes"}"""), "what was not migrated is discarded")
        db.logoutAsync()

        // Discarded once: the next open of the account does not ask again.
        val again = openDb(server.config(AuthConfig.Jwt(signer.jwt(user, 600)), dir, migrator = migrator))
        assertEquals(1, seen.size)
        again.logoutAsync()
    }

    @Test
    fun `a declining migrator fails the open with a code and keeps every row`(@TempDir dir: Path) = runBlocking {
        val old = localFirstRows(dir)
        val user = "external-" + System.nanoTime()
        val calls = mutableListOf<String>()
        val declining = accountDiscardMigrator { account ->
            calls.add(account.userId())
            throw LocalFirstException.Failed(ErrorCode.MIGRATION_FAILED, "the user keeps the local account", null)
        }
        val declined = assertThrows<LocalFirstException> {
            Db.open(server.config(AuthConfig.Jwt(signer.jwt(user, 600)), dir, migrator = declining))
        }
        assertEquals("migration-failed", declined.code().toString())
        assertTrue(declined.reason().contains("the user keeps the local account"), declined.reason())
        assertEquals(listOf(old), calls)

        // Any exception declines too (it crosses as `callback-failed` inside the message).
        val crashing = accountDiscardMigrator { throw IllegalStateException("migrator bug") }
        val crashed = assertThrows<LocalFirstException> {
            Db.open(server.config(AuthConfig.Jwt(signer.jwt(user, 600)), dir, migrator = crashing))
        }
        assertEquals("migration-failed", crashed.code().toString())

        // Nothing was discarded: the external account sees the old identity's rows, still its own.
        val db = openDb(server.config(AuthConfig.Jwt(signer.jwt(user, 600)), dir))
        val todos = db.queryAsync("""{"table":"todos"}""")
        assertEquals(2, todos.size)
        assertTrue(todos.all { it.createdBy == old })
        assertEquals(1, db.queryAsync("""{"table":"notes"}""").size)
        db.logoutAsync()
    }
}
