package dev.localfirst

import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertNotEquals
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows
import java.io.File
import java.util.Base64

/** One identity vector of the shared vector file. */
data class Vector(val name: String, val seed: String, val phrase: String, val publicKey: String, val userId: String)

/** Reads the flat string fields of core/tests/data/identity.json (no JSON library needed). */
fun vectors(): List<Vector> {
    val text = File(System.getProperty("localfirst.vectors")).readText()
    fun field(key: String) = Regex("\"$key\":\\s*\"([^\"]*)\"").findAll(text).map { it.groupValues[1] }.toList()
    val names = field("name")
    val seeds = field("seed_b64url")
    val phrases = field("recovery_phrase")
    val keys = field("public_key_b64url")
    val ids = field("user_id")
    check(names.size == 3 && listOf(seeds, phrases, keys, ids).all { it.size == names.size }) { "vector file shape changed" }
    return names.indices.map { Vector(names[it], seeds[it], phrases[it], keys[it], ids[it]) }
}

class IdentityTest {
    @Test
    fun `vectors match byte for byte`() {
        for (v in vectors()) {
            val secret = AuthSecret.fromBase64Url(v.seed)
            assertEquals(v.seed, secret.toBase64Url(), v.name)
            assertEquals(v.userId, secret.userId(), v.name)
            assertEquals(v.publicKey, secret.publicKey(), v.name)
            assertEquals(v.phrase, RecoveryPhrase.fromSecret(secret), v.name)
            assertEquals(secret, RecoveryPhrase.toSecret("  " + v.phrase.uppercase().replace(" ", " \n\t ") + " "), v.name)
        }
    }

    @Test
    fun `generated secrets are distinct and never printed`() {
        val a = AuthSecret.generate()
        val b = AuthSecret.generate()
        assertNotEquals(a, b)
        assertEquals(a, AuthSecret.fromBase64Url(a.toBase64Url()))
        assertFalse(a.toString().contains(a.toBase64Url()), a.toString())
        assertTrue(a.toString().contains("redacted"), a.toString())
    }

    @Test
    fun `bad secrets throw with codes`() {
        val padded = assertThrows<LocalFirstException> { AuthSecret.fromBase64Url("A".repeat(42) + "=") }
        assertEquals(ErrorCode.SECRET_PADDING, padded.code())
        assertEquals("secret-padding", padded.code().toString())
        assertEquals(ErrorCode.SECRET_INVALID_CHARACTER, assertThrows<LocalFirstException> { AuthSecret.fromBase64Url("+".repeat(43)) }.code())
        assertEquals(ErrorCode.SECRET_INVALID_LENGTH, assertThrows<LocalFirstException> { AuthSecret.fromBase64Url("AAAA") }.code())
        assertEquals(ErrorCode.SECRET_NON_CANONICAL, assertThrows<LocalFirstException> { AuthSecret.fromBase64Url("A".repeat(42) + "B") }.code())
        assertNull(padded.details())
    }

    @Test
    fun `phrase errors carry codes and details`() {
        val short = assertThrows<LocalFirstException> { RecoveryPhrase.toSecret("abandon abandon abandon") }
        assertEquals(ErrorCode.INVALID_LENGTH, short.code())
        assertEquals(ErrorDetails.PhraseLength(3uL), short.details())
        assertEquals("Expected 24 words, got 3", short.reason())

        val words = vectors()[0].phrase.split(" ").toMutableList()
        words[4] = "notaword"
        val bad = assertThrows<LocalFirstException> { RecoveryPhrase.toSecret(words.joinToString(" ")) }
        assertEquals(ErrorCode.INVALID_WORD, bad.code())
        assertEquals(ErrorDetails.InvalidWord(position = 5uL, word = "notaword"), bad.details())
        assertEquals("""{"kind":"invalidWord","position":5,"word":"notaword"}""", bad.detailsJson())

        val checksum = assertThrows<LocalFirstException> { RecoveryPhrase.toSecret(List(24) { "abandon" }.joinToString(" ")) }
        assertEquals(ErrorCode.INVALID_CHECKSUM, checksum.code())
        assertNull(checksum.details())
        // The variant carries the same fields as the accessors.
        val failed = assertThrows<LocalFirstException.Failed> { RecoveryPhrase.toSecret("") }
        assertEquals(ErrorCode.INVALID_LENGTH, failed.code)
        assertEquals(failed.reason(), failed.reason)
    }

    @Test
    fun `error codes are the catalogue's texts both ways`() {
        for (code in ErrorCode.entries) {
            assertEquals(code, errorCodeFromText(code.toString()))
        }
        assertEquals("vault-identity-conflict", ErrorCode.VAULT_IDENTITY_CONFLICT.toString())
        assertEquals("server-busy", ErrorCode.SERVER_BUSY.toString())
        assertNull(errorCodeFromText("no-such-code"))
    }
}

class TokenTest {
    private fun claims(token: String): String {
        val parts = token.split(".")
        assertEquals(3, parts.size)
        return String(Base64.getUrlDecoder().decode(parts[1]))
    }

    @Test
    fun `minted token carries the identity`() {
        val v = vectors()[0]
        val secret = AuthSecret.fromBase64Url(v.seed)
        val token = mintLocalFirstToken(secret, "my-app", 3600uL)
        val json = claims(token)
        assertTrue(json.startsWith("{\"iss\":\"urn:jazz:local-first\",\"sub\":\"${v.userId}\",\"aud\":\"4af0209b-7fe4-57ba-b068-3b47d0855d11\",\"jazz_pub_key\":\"${v.publicKey}\",\"iat\":"), json)
        val iat = Regex("\"iat\":(\\d+)").find(json)!!.groupValues[1].toLong()
        val exp = Regex("\"exp\":(\\d+)").find(json)!!.groupValues[1].toLong()
        assertEquals(3600, exp - iat)
        val now = System.currentTimeMillis() / 1000
        assertTrue(iat in now - 60..now + 1, "iat $iat now $now")
    }

    @Test
    fun `zero ttl throws with a code`() {
        val error = assertThrows<LocalFirstException> { mintLocalFirstToken(AuthSecret.generate(), "my-app", 0uL) }
        assertEquals(ErrorCode.INVALID_TTL, error.code())
    }

    @Test
    fun `proofs verify for their audience only`() {
        val secret = AuthSecret.generate()
        val proof = localFirstIdentityProof(secret, "betterauth-signup", 60uL)
        assertEquals(ProofVerification(ok = true, id = secret.userId(), error = null, code = null), verifyLocalFirstIdentityProof(proof, "betterauth-signup"))

        val wrong = verifyLocalFirstIdentityProof(proof, "other-app")
        assertFalse(wrong.ok)
        assertNull(wrong.id)
        assertEquals(ErrorCode.AUDIENCE_MISMATCH, wrong.code)

        val empty = verifyLocalFirstIdentityProof("", "betterauth-signup")
        assertEquals(ProofVerification(ok = false, id = null, error = "proofToken is required", code = ErrorCode.PROOF_TOKEN_REQUIRED), empty)

        // A long-lived token is not a proof.
        val long = verifyLocalFirstIdentityProof(mintLocalFirstToken(secret, "betterauth-signup", 3600uL), "betterauth-signup")
        assertFalse(long.ok)
        assertEquals(ErrorCode.TTL_TOO_LONG, long.code)

        // A backend that takes Jazz clients' longer proofs chooses its limit, 1 to 3600 s.
        // (Minted as a Jazz client mints it: our proof minters stop at 600 s.)
        val jazzLike = mintLocalFirstToken(secret, "betterauth-signup", 900uL)
        assertEquals(ErrorCode.TTL_TOO_LONG, verifyLocalFirstIdentityProof(jazzLike, "betterauth-signup").code)
        assertTrue(verifyLocalFirstIdentityProof(jazzLike, "betterauth-signup", maxTtlSeconds = 900uL).ok)
        assertEquals(ErrorCode.INVALID_ARGUMENT, verifyLocalFirstIdentityProof(jazzLike, "betterauth-signup", 3601uL).code)

        // The vector proofs were minted in 2023: expired now.
        val expired = verifyLocalFirstIdentityProof(
            Regex("\"proof_token_betterauth_signup_iat1700000000_ttl60\":\\s*\"([^\"]*)\"")
                .find(File(System.getProperty("localfirst.vectors")).readText())!!.groupValues[1],
            "betterauth-signup",
        )
        assertFalse(expired.ok)
        assertEquals(ErrorCode.EXPIRED, expired.code)
    }
}
