package dev.localfirst

import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Assumptions.assumeTrue
import org.junit.jupiter.api.Test
import java.io.File

/**
 * The FFI overhead of minting a token from Kotlin: `mintLocalFirstToken` through JNA,
 * against the same Rust function called from Rust (`bindings/benches/mint.rs`), both
 * run by `scripts/bench-ffi.sh` one after the other on a release library. Skipped
 * unless `-Dlocalfirst.bench=true`: timing is measured, never asserted.
 */
class MintOverheadBench {
    @Test
    fun `mint a token from Kotlin`() {
        assumeTrue(System.getProperty("localfirst.bench") == "true", "benchmarks run through scripts/bench-ffi.sh")
        val secret = AuthSecret.fromBase64Url("KioqKioqKioqKioqKioqKioqKioqKioqKioqKioqKio")
        // Warm-up: JIT compilation of the generated code and JNA's call paths.
        repeat(WARMUP) { mintLocalFirstToken(secret, "my-app", 3600uL) }
        val rounds = (1..ROUNDS).map {
            val start = System.nanoTime()
            repeat(CALLS) { mintLocalFirstToken(secret, "my-app", 3600uL) }
            (System.nanoTime() - start).toDouble() / CALLS
        }.sorted()
        val median = rounds[rounds.size / 2]
        println("kotlin mintLocalFirstToken: median %.0f ns per call over %d rounds of %d".format(median, ROUNDS, CALLS))
        System.getProperty("localfirst.bench.out")?.let { File(it).writeText("%.1f\n".format(median)) }
        assertTrue(median > 0)
    }

    private companion object {
        const val WARMUP = 20_000
        const val ROUNDS = 7
        const val CALLS = 20_000
    }
}
