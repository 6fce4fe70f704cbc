package dev.localfirst

import kotlinx.coroutines.delay
import kotlinx.coroutines.flow.first
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withTimeout
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertNotNull
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows
import org.junit.jupiter.api.io.TempDir
import java.nio.file.Path
import java.util.concurrent.atomic.AtomicInteger

class DbTest : ServerSuite() {
    private fun jwt(sub: String, expiresIn: Long) = signer.jwt(sub, expiresIn)

    private fun config(auth: AuthConfig, dir: Path?, refresher: JwtRefresher? = null) =
        server.config(auth, dir, refresher)

    @Test
    fun `rows written by one device reach another device of the same secret`(
        @TempDir first: Path,
        @TempDir second: Path,
    ) = runBlocking {
        val secret = AuthSecret.generate()
        val tag = secret.userId().take(8)
        val writer = openDb(config(AuthConfig.LocalFirst(secret), first))
        assertEquals(secret.userId(), writer.userId())
        val milk = writer.insertAsync("todos", """{"title":"milk $tag","done":false}""")
        val eggs = writer.insertAsync("todos", """{"title":"eggs $tag","done":true}""")
        assertEquals(secret.userId(), milk.createdBy)
        assertTrue(milk.valuesJson.contains("milk $tag"), milk.valuesJson)
        assertEquals(2uL, writer.syncStatus().pending)

        // The push always lands in a later second than the writes: a row keeps the
        // writer's stamps, so every copy still equals what insert returned.
        while (System.currentTimeMillis() / 1000 <= eggs.createdAt.toLong()) delay(20)
        val pushed = writer.syncOnce()
        assertEquals(2uL, pushed.acknowledged)
        assertEquals(0uL, pushed.rejected)
        assertEquals(0uL, writer.syncStatus().pending)
        assertEquals(milk, writer.getAsync("todos", milk.id))

        val reader = openDb(config(AuthConfig.LocalFirst(AuthSecret.fromBase64Url(secret.toBase64Url())), second))
        assertNull(reader.getAsync("todos", milk.id), "nothing before the reader syncs")
        val pulled = reader.syncOnce()
        assertTrue(pulled.pulled >= 2uL, "pulled ${pulled.pulled}")
        assertEquals(milk, reader.getAsync("todos", milk.id))
        assertEquals(eggs, reader.getAsync("todos", eggs.id))
        assertEquals(0uL, pulled.skipped)
        assertEquals(emptyList<SkippedChange>(), reader.syncStatus().skippedChanges)
        val open = reader.queryAsync("""{"table":"todos","where":{"done":false}}""")
        assertEquals(listOf(milk.id), open.map { it.id })

        writer.logoutAndWipeAsync()
        reader.logoutAndWipeAsync()
    }

    @Test
    fun `the auth state flow starts with the current state and update delete and subscribe work`() = runBlocking {
        val secret = AuthSecret.generate()
        val db = openDb(config(AuthConfig.LocalFirst(secret), null))
        val first = withTimeout(5_000) { db.authStates().first() }
        assertEquals(AuthMode.LOCAL_FIRST, first.authMode)
        assertEquals(secret.userId(), first.userId)
        assertNull(first.error)
        assertEquals(first, db.getAuthState())

        val seen = RowsQueue()
        val sub = db.subscribe("""{"table":"notes"}""", seen)
        assertEquals(emptyList<Row>(), seen.poll())
        val note = db.insertAsync("notes", """{"text":"a"}""")
        assertEquals(listOf(note), seen.poll())
        val edited = db.updateAsync("notes", note.id, """{"text":"b"}""")
        assertTrue(edited.valuesJson.contains("\"b\""), edited.valuesJson)
        assertEquals(listOf(edited), seen.poll())
        sub.cancel()
        assertFalse(sub.isActive())
        db.deleteAsync("notes", note.id)
        assertNull(db.getAsync("notes", note.id))
        assertNull(seen.poll(200), "no delivery after cancel")

        val proof = db.getLocalFirstIdentityProof(60uL, "my-backend")
        assertNotNull(proof)
        assertTrue(verifyLocalFirstIdentityProof(proof!!, "my-backend").ok)
        db.logoutAsync()
    }

    /** Polls [condition] every 20 ms for up to 10 s (waits for background sync, not for time to pass). */
    private fun eventually(what: String, condition: () -> Boolean) {
        val deadline = System.nanoTime() + 10_000_000_000L
        while (!condition()) {
            check(System.nanoTime() < deadline) { "timed out waiting for $what" }
            Thread.sleep(20)
        }
    }

    @Test
    fun `background sync connects, pushes new writes and stops`() = runBlocking {
        val db = openDb(config(AuthConfig.LocalFirst(AuthSecret.generate()), null))
        assertEquals(SyncState.DISABLED, db.syncStatus().state)
        db.startSync()
        val connected = withTimeout(10_000) { db.syncStatuses().first { it.state == SyncState.CONNECTED } }
        assertEquals(SyncState.CONNECTED, connected.state)
        assertEquals(SyncState.CONNECTED, db.syncStatus().state)
        db.insertAsync("todos", """{"title":"live"}""")
        eventually("the write acknowledged") { db.syncStatus().pending == 0uL }
        assertNull(db.syncStatus().lastErrorCode)
        db.stopSync()
        assertEquals(SyncState.DISABLED, db.syncStatus().state)
        db.logoutAsync()
    }

    @Test
    fun `the rows flow emits the current result and then changes`() = runBlocking {
        val db = openDb(config(AuthConfig.LocalFirst(AuthSecret.generate()), null))
        val first = withTimeout(5_000) { db.rows("""{"table":"notes"}""").first() }
        assertEquals(emptyList<Row>(), first)
        val note = db.insertAsync("notes", """{"text":"a"}""")
        val next = withTimeout(5_000) { db.rows("""{"table":"notes"}""").first() }
        assertEquals(listOf(note), next)
        val bad = assertThrows<LocalFirstException> {
            withTimeout(5_000) { db.rows("""{"tabel":"notes"}""").first() }
        }
        assertEquals("invalid-argument", bad.code().toString())
        db.logoutAsync()
    }

    @Test
    fun `an expired external token is refreshed once by a Kotlin refresher`() = runBlocking {
        val user = "kotlin-user-" + System.nanoTime()
        val calls = AtomicInteger()
        val refresher = jwtRefresher {
            calls.incrementAndGet()
            jwt(user, 600)
        }
        val db = openDb(config(AuthConfig.Jwt(jwt(user, -60)), null, refresher))
        assertEquals(AuthMode.EXTERNAL, db.getAuthState().authMode)
        assertEquals(user, db.userId())
        db.insertAsync("todos", """{"title":"from a JWT user"}""")

        val report = db.syncOnce()
        assertEquals(1, calls.get(), "one refresh for one expired token")
        assertEquals(1uL, report.acknowledged)
        assertNull(db.getAuthState().error)
        // The fresh token is the one in use now: another sync needs no refresh.
        db.syncOnce()
        assertEquals(1, calls.get())
        db.logoutAsync()
    }

    @Test
    fun `errors cross as LocalFirstException with catalogue codes`() = runBlocking {
        val anonymous = openDb(config(AuthConfig.Anonymous, null))
        assertEquals(AuthMode.ANONYMOUS, anonymous.getAuthState().authMode)
        val denied = assertThrows<LocalFirstException> { anonymous.insert("todos", """{"title":"x"}""") }
        assertEquals("anonymous-write-denied", denied.code().toString())
        assertEquals(ErrorDetails.TableOperation(table = "todos", operation = Operation.INSERT), denied.details())
        assertNull(anonymous.getLocalFirstIdentityProof(60uL, null), "no proof without a local-first identity")

        val db = openDb(config(AuthConfig.LocalFirst(AuthSecret.generate()), null))
        assertEquals(ErrorCode.INVALID_TTL, assertThrows<LocalFirstException> { db.getLocalFirstIdentityProof(0uL, null) }.code())
        assertEquals("not-found", assertThrows<LocalFirstException> { db.delete("todos", "missing") }.code().toString())
        db.logout()
        assertEquals("logged-out", assertThrows<LocalFirstException> { db.insert("todos", "{}") }.code().toString())
        assertEquals("logged-out", assertThrows<LocalFirstException> { db.logout() }.code().toString())
        assertEquals("logged-out", assertThrows<LocalFirstException> { db.syncOnce() }.code().toString())

        val blank = assertThrows<LocalFirstException> { Db.open(config(AuthConfig.Anonymous, null).copy(appId = " ")) }
        assertEquals("invalid-config", blank.code().toString())
        anonymous.logout()
    }
}
