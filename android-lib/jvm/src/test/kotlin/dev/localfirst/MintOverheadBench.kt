package dev.localfirst

import com.sun.jna.Native
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Assumptions.assumeTrue
import org.junit.jupiter.api.Test
import java.io.File

/**
 * The FFI overhead of minting a token from Kotlin: `mintLocalFirstToken` through JNA,
 * against the same Rust function called from Rust (`bindings/benches/mint.rs`), both
 * run by `scripts/bench-ffi.sh` one after the other on a release library. Skipped
 * unless `-Dlocalfirst.bench=true`: timing is measured, never asserted.
 *
 * Beside the mint it prints where a crossing's time goes: a call that does almost no
 * work in Rust (`toBase64Url`), a bare JNA direct-mapped call (`getpid`), and the
 * allocation of the call-status structure the generated code makes for every call.
 */
class MintOverheadBench {
    @Test
    fun `mint a token from Kotlin`() {
        assumeTrue(System.getProperty("localfirst.bench") == "true", "benchmarks run through scripts/bench-ffi.sh")
        val secret = AuthSecret.fromBase64Url("KioqKioqKioqKioqKioqKioqKioqKioqKioqKioqKio")
        val mint = medianNanos { mintLocalFirstToken(secret, "my-app", 3600) }
        println("kotlin mintLocalFirstToken: median %.0f ns per call over %d rounds of %d".format(mint, ROUNDS, CALLS))
        println("kotlin toBase64Url (no work in Rust): %.0f ns".format(medianNanos { secret.toBase64Url() }))
        println("bare JNA direct call (getpid): %.0f ns".format(medianNanos { LibC.getpid() }))
        println("one call-status structure (JNA Structure): %.0f ns".format(medianNanos { UniffiRustCallStatus.ByValue() }))
        System.getProperty("localfirst.bench.out")?.let { File(it).writeText("%.1f\n".format(mint)) }
        assertTrue(mint > 0)
    }

    /** Warms up, then the median over [ROUNDS] rounds of [CALLS] calls, in ns per call. */
    private fun medianNanos(call: () -> Unit): Double {
        repeat(WARMUP) { call() }
        val rounds = (1..ROUNDS).map {
            val start = System.nanoTime()
            repeat(CALLS) { call() }
            (System.nanoTime() - start).toDouble() / CALLS
        }.sorted()
        return rounds[rounds.size / 2]
    }

    private companion object {
        const val WARMUP = 20_000
        const val ROUNDS = 7
        const val CALLS = 20_000
    }
}

/** libc's `getpid` through JNA direct mapping: the floor of a JNA crossing. */
private object LibC {
    init {
        Native.register("c")
    }

    @JvmStatic external fun getpid(): Int
}
