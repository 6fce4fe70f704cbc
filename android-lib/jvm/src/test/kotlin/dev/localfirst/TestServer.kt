package dev.localfirst

import org.junit.jupiter.api.AfterAll
import org.junit.jupiter.api.BeforeAll
import org.junit.jupiter.api.TestInstance
import java.io.File
import java.nio.file.Files
import java.nio.file.Path
import java.security.KeyPair
import java.security.KeyPairGenerator
import java.security.Signature
import java.security.spec.ECGenParameterSpec
import java.util.Base64
import java.util.concurrent.ArrayBlockingQueue
import java.util.concurrent.TimeUnit

/** The app id every Db suite uses (the server serves exactly this app). */
internal const val APP = "kotlin-db-test"

/** The `iss` of the test JWTs; the server accepts exactly this issuer, and [APP] as audience. */
internal const val ISSUER = "https://id.example.test"

/** An ES256 key pair: the server trusts its public key, the tests sign JWTs with it. */
class JwtSigner {
    private val keys: KeyPair =
        KeyPairGenerator.getInstance("EC").apply { initialize(ECGenParameterSpec("secp256r1")) }.generateKeyPair()

    /** The public key as a PEM file (deleted when the JVM exits). */
    fun publicKeyPem(): File {
        val pem = Files.createTempFile("localfirst-jwt", ".pem").toFile()
        pem.deleteOnExit()
        pem.writeText(
            "-----BEGIN PUBLIC KEY-----\n" +
                Base64.getMimeEncoder(64, "\n".toByteArray()).encodeToString(keys.public.encoded) +
                "\n-----END PUBLIC KEY-----\n",
        )
        return pem
    }

    /** An ES256 JWT for [sub] that expires [expiresIn] seconds from now (negative: already expired). */
    fun jwt(sub: String, expiresIn: Long): String {
        val b64 = Base64.getUrlEncoder().withoutPadding()
        val now = System.currentTimeMillis() / 1000
        val header = b64.encodeToString("""{"alg":"ES256","typ":"JWT"}""".toByteArray())
        val claims = b64.encodeToString(
            """{"sub":"$sub","iss":"$ISSUER","aud":"$APP","iat":${now - 120},"exp":${now + expiresIn}}""".toByteArray(),
        )
        // P1363 form is the JOSE form: r || s, 32 bytes each.
        val signer = Signature.getInstance("SHA256withECDSAinP1363Format")
        signer.initSign(keys.private)
        signer.update("$header.$claims".toByteArray())
        return "$header.$claims.${b64.encodeToString(signer.sign())}"
    }
}

/** A `localfirst server` child process on 127.0.0.1, in memory, on a free port. */
class Server(binary: String, publicKeyPem: File) : AutoCloseable {
    private val process: Process = ProcessBuilder(
        binary, "--json", "server", APP,
        "--port", "0", "--in-memory", "--allow-local-first-auth",
        "--jwt-public-key", "@" + publicKeyPem.absolutePath,
        "--jwt-issuer", ISSUER, "--jwt-audience", APP,
    ).redirectError(ProcessBuilder.Redirect.DISCARD).start()

    /** The port the server printed in its `listening` event. */
    val port: Int

    init {
        val stdout = process.inputStream.bufferedReader()
        val line = stdout.readLine() ?: error("the server exited before listening")
        check(line.contains("\"listening\"")) { "unexpected first line: $line" }
        port = Regex("\"port\":\\s*(\\d+)").find(line)!!.groupValues[1].toInt()
        // Keep draining stdout so the server never blocks on a full pipe (until close()).
        Thread { runCatching { stdout.readLines() } }.apply { isDaemon = true }.start()
    }

    /** The base URL clients sync with. */
    val url: String get() = "ws://127.0.0.1:$port"

    /** A config for [APP] syncing with this server; in memory when [dir] is null. */
    fun config(
        auth: AuthConfig,
        dir: Path?,
        refresher: JwtRefresher? = null,
        migrator: AccountDiscardMigrator? = null,
    ) = DbConfig(
        appId = APP,
        storage = dir?.let { StorageMode.DataDir(it.toString()) } ?: StorageMode.InMemory,
        auth = auth,
        serverUrl = url,
        syncWhen = SyncWhen.ALWAYS,
        policiesJson = null,
        jwtRefresher = refresher,
        accountDiscardMigrator = migrator,
    )

    override fun close() {
        process.destroy()
        if (!process.waitFor(5, TimeUnit.SECONDS)) process.destroyForcibly()
    }
}

/** A test class with one [Server] (and the [JwtSigner] it trusts) for all its tests. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class ServerSuite {
    protected lateinit var server: Server
    protected val signer = JwtSigner()

    @BeforeAll
    fun startServer() {
        server = Server(System.getProperty("localfirst.server.bin"), signer.publicKeyPem())
    }

    @AfterAll
    fun stopServer() {
        server.close()
    }
}

/** A [RowsListener] that queues every delivery; [poll] takes the oldest within a timeout. */
class RowsQueue : RowsListener {
    private val seen = ArrayBlockingQueue<List<Row>>(64)

    override fun onRowsChanged(rows: List<Row>) {
        seen.add(rows)
    }

    /** The oldest delivery, or `null` when none arrives within [millis]. */
    fun poll(millis: Long = 5_000): List<Row>? = seen.poll(millis, TimeUnit.MILLISECONDS)
}
