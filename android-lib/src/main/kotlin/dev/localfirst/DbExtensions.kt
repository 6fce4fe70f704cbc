// Idiomatic Kotlin over the generated `Db` (package dev.localfirst): suspend forms of the
// calls that touch SQLite or the disk, and Flows over the listener registrations.
// Shared by the Android library and the desktop-JVM build; keep it free of android.* imports.
// `Db.syncOnce()` is generated as a suspend function already (an async Rust export).
package dev.localfirst

import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.channels.awaitClose
import kotlinx.coroutines.flow.Flow
import kotlinx.coroutines.flow.callbackFlow
import kotlinx.coroutines.withContext

/**
 * The auth state as a [Flow]: the current state first, then every change. Collecting
 * registers an [AuthStateListener] with [Db.onAuthChanged]; cancelling the collection
 * cancels the [Subscription]. Slow collectors get every state (buffered, in order).
 */
fun Db.authStates(): Flow<AuthState> = callbackFlow {
    val subscription = onAuthChanged(
        object : AuthStateListener {
            override fun onAuthChanged(state: AuthState) {
                trySend(state)
            }
        },
    )
    awaitClose {
        subscription.cancel()
        subscription.close()
    }
}

/**
 * The sync status as a [Flow]: the current status first, then every change
 * ([Db.onSyncStatus]); cancelling the collection cancels the [Subscription].
 */
fun Db.syncStatuses(): Flow<SyncStatus> = callbackFlow {
    val subscription = onSyncStatus(
        object : SyncStatusListener {
            override fun onSyncStatus(status: SyncStatus) {
                trySend(status)
            }
        },
    )
    awaitClose {
        subscription.cancel()
        subscription.close()
    }
}

/**
 * The rows of [queryJson] as a [Flow]: the current result first, then every changed
 * result. Throws [LocalFirstException] (from the collector) when the query is invalid or the
 * `Db` is logged out.
 */
fun Db.rows(queryJson: String): Flow<List<Row>> = callbackFlow {
    val subscription = subscribe(
        queryJson,
        object : RowsListener {
            override fun onRowsChanged(rows: List<Row>) {
                trySend(rows)
            }
        },
    )
    awaitClose {
        subscription.cancel()
        subscription.close()
    }
}

/**
 * A [JwtRefresher] from a suspending function: return a fresh JWT for the same user, or
 * `null`. It runs in a coroutine the bindings launch; do blocking network calls in
 * `withContext(Dispatchers.IO)`. A thrown exception fails the refresh.
 */
fun jwtRefresher(body: suspend () -> String?): JwtRefresher =
    object : JwtRefresher {
        override suspend fun refresh(): String? = body()
    }

/**
 * An [AccountDiscardMigrator] from a function, called inside [Db.open] when an external
 * account replaces the namespace's local-first identity: copy what should survive with
 * `account.db()`, or throw (ask the user first; throw when they decline) and [Db.open]
 * fails with code `migration-failed`, discarding nothing.
 */
fun accountDiscardMigrator(body: (DiscardedAccount) -> Unit): AccountDiscardMigrator =
    object : AccountDiscardMigrator {
        override fun migrate(account: DiscardedAccount) = body(account)
    }

/** [Db.open] off the caller's thread (opening creates or migrates the SQLite file). */
suspend fun openDb(config: DbConfig): Db = withContext(Dispatchers.IO) { Db.open(config) }

/** [Db.insert] off the caller's thread. */
suspend fun Db.insertAsync(table: String, valuesJson: String): Row =
    withContext(Dispatchers.IO) { insert(table, valuesJson) }

/** [Db.insertMany] off the caller's thread: [rowsJson] is a JSON array of objects, all or none. */
suspend fun Db.insertManyAsync(table: String, rowsJson: String): List<Row> =
    withContext(Dispatchers.IO) { insertMany(table, rowsJson) }

/** [Db.update] off the caller's thread. */
suspend fun Db.updateAsync(table: String, id: String, patchJson: String): Row =
    withContext(Dispatchers.IO) { update(table, id, patchJson) }

/** [Db.delete] off the caller's thread. */
suspend fun Db.deleteAsync(table: String, id: String): Row = withContext(Dispatchers.IO) { delete(table, id) }

/** [Db.get] off the caller's thread. */
suspend fun Db.getAsync(table: String, id: String): Row? = withContext(Dispatchers.IO) { get(table, id) }

/** [Db.query] off the caller's thread. */
suspend fun Db.queryAsync(queryJson: String): List<Row> = withContext(Dispatchers.IO) { query(queryJson) }

/** [Db.refresh] off the caller's thread: picks up other processes' commits. */
suspend fun Db.refreshAsync(): Boolean = withContext(Dispatchers.IO) { refresh() }

/** [Db.logout] off the caller's thread. */
suspend fun Db.logoutAsync(): Unit = withContext(Dispatchers.IO) { logout() }

/** [Db.logoutAndWipe] off the caller's thread (deletes files). */
suspend fun Db.logoutAndWipeAsync(): Unit = withContext(Dispatchers.IO) { logoutAndWipe() }

/** [Db.deleteClientStorage] off the caller's thread (deletes files). */
suspend fun Db.deleteClientStorageAsync(): Unit = withContext(Dispatchers.IO) { deleteClientStorage() }
