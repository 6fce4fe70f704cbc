package dev.localfirst

import kotlinx.serialization.json.Json
import kotlinx.serialization.json.JsonArray
import kotlinx.serialization.json.JsonElement
import kotlinx.serialization.json.JsonNull
import kotlinx.serialization.json.JsonObject
import kotlinx.serialization.json.JsonPrimitive
import kotlinx.serialization.json.boolean
import kotlinx.serialization.json.int
import kotlinx.serialization.json.jsonArray
import kotlinx.serialization.json.jsonObject
import kotlinx.serialization.json.jsonPrimitive
import org.junit.jupiter.api.Assertions.assertArrayEquals
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertNotEquals
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows
import java.io.File
import java.util.Base64

/** A file of the passkey corpus (core/tests/data/passkey), parsed. */
fun passkeyCorpus(name: String): JsonObject =
    Json.parseToJsonElement(File(System.getProperty("localfirst.passkey.corpus"), name).readText()).jsonObject

private fun JsonObject.text(key: String): String = getValue(key).jsonPrimitive.content

private val urlDecoder: Base64.Decoder = Base64.getUrlDecoder()
private val urlEncoder: Base64.Encoder = Base64.getUrlEncoder().withoutPadding()

/** Strict base64url (padding optional, canonical trailing bits), or null. */
private fun strictDecode(text: String): ByteArray? {
    val bytes = try {
        urlDecoder.decode(text)
    } catch (e: IllegalArgumentException) {
        return null
    }
    return bytes.takeIf { urlEncoder.encodeToString(it) == text.trimEnd('=') }
}

/** The secret or the code a call gave, to compare two paths. */
private fun outcome(call: () -> AuthSecret): String =
    try {
        "secret:" + call().toBase64Url()
    } catch (e: LocalFirstException) {
        "code:" + e.code()
    }

class PasskeyTest {
    private val requests = passkeyCorpus("requests.json")

    @Test
    fun `requests match the corpus byte for byte`() {
        val ceremony = PasskeyCeremony(requests.text("app_name"), requests.text("rp_id"))
        assertEquals("myapp.example", ceremony.relyingPartyId())
        assertEquals("My App", ceremony.appName())
        val secret = AuthSecret.fromBase64Url(requests.text("secret"))
        val challenge = urlDecoder.decode(requests.text("challenge"))
        val registration = ceremony.registrationRequestWithChallenge(secret, requests.text("display_name"), challenge)
        assertEquals(requests.text("registration_json"), registration.toJson())
        // The fields iOS reads.
        assertEquals("myapp.example", registration.rpId())
        assertEquals("My App", registration.rpName())
        assertEquals("alice@myapp.example", registration.userName())
        assertEquals("alice@myapp.example", registration.userDisplayName())
        assertArrayEquals(urlDecoder.decode(secret.toBase64Url()), registration.userId())
        assertArrayEquals(challenge, registration.challenge())

        val assertion = ceremony.assertionRequestWithChallenge(challenge)
        assertEquals(requests.text("assertion_json"), assertion.toJson())
        assertEquals("myapp.example", assertion.rpId())
        assertArrayEquals(challenge, assertion.challenge())
    }

    @Test
    fun `registration json carries the scheme's fields with a fresh challenge`() {
        val ceremony = PasskeyCeremony("My App", "myapp.example")
        val secret = AuthSecret.generate()
        val first = ceremony.registrationRequest(secret, "Bob")
        val json = Json.parseToJsonElement(first.toJson()).jsonObject
        val rp = json.getValue("rp").jsonObject
        assertEquals("myapp.example", rp.text("id"))
        assertEquals("My App", rp.text("name"))
        val user = json.getValue("user").jsonObject
        assertEquals(secret.toBase64Url(), user.text("id"))
        assertEquals("Bob", user.text("name"))
        assertEquals("Bob", user.text("displayName"))
        val algs = json.getValue("pubKeyCredParams").jsonArray.map { it.jsonObject.getValue("alg").jsonPrimitive.int }
        assertEquals(listOf(-7, -257), algs)
        assertTrue(json.getValue("pubKeyCredParams").jsonArray.all { it.jsonObject.text("type") == "public-key" })
        val selection = json.getValue("authenticatorSelection").jsonObject
        assertEquals("required", selection.text("residentKey"))
        assertTrue(selection.getValue("requireResidentKey").jsonPrimitive.boolean)
        assertEquals("required", selection.text("userVerification"))
        assertEquals("platform", selection.text("authenticatorAttachment"))
        assertEquals("none", json.text("attestation"))
        assertEquals(32, urlDecoder.decode(json.text("challenge")).size)
        assertEquals(32, first.challenge().size)
        assertNotEquals(first.challenge().toList(), ceremony.registrationRequest(secret, "Bob").challenge().toList())

        val assertion = ceremony.assertionRequest()
        val ask = Json.parseToJsonElement(assertion.toJson()).jsonObject
        assertEquals("myapp.example", ask.text("rpId"))
        assertEquals("required", ask.text("userVerification"))
        assertEquals(JsonArray(emptyList()), ask.getValue("allowCredentials"))
        assertEquals(32, assertion.challenge().size)
        assertNotEquals(assertion.challenge().toList(), ceremony.assertionRequest().challenge().toList())
    }

    @Test
    fun `the registration request never prints the secret`() {
        val secret = AuthSecret.generate()
        val request = PasskeyCeremony("My App", "myapp.example").registrationRequest(secret, "x")
        val shown = request.toString()
        assertTrue(shown.contains("<redacted>"), shown)
        assertFalse(shown.contains(secret.toBase64Url()), shown)
    }

    @Test
    fun `every assertion in the corpus gives its secret or its code`() {
        val data = passkeyCorpus("assertions.json")
        val cases = data.getValue("cases").jsonArray.map { it.jsonObject }
        assertTrue(cases.size >= 40, "the corpus shrank: ${cases.size}")
        var valid = 0
        var refused = 0
        var rawChecked = 0
        for (case in cases) {
            val name = case.text("name")
            val json = case["raw"]?.jsonPrimitive?.content ?: case.getValue("response").toString()
            val expect = case.getValue("expect").jsonObject
            val got = outcome { secretFromAssertionJson(json) }
            val want = expect["secret"]?.let { "secret:" + it.jsonPrimitive.content }
                ?: "code:" + expect.text("code")
            assertEquals(want, got, name)
            if (want.startsWith("secret:")) valid++ else refused++
            // The raw-bytes path (iOS) agrees wherever both fields decode.
            rawFields(case["response"])?.let { (authenticatorData, userHandle) ->
                assertEquals(got, outcome { secretFromAssertion(authenticatorData, userHandle) }, "$name: raw path")
                rawChecked++
            }
        }
        assertTrue(valid >= 5 && refused >= 30, "$valid valid, $refused refused")
        assertTrue(rawChecked >= 25, "$rawChecked cases through the raw path")
    }

    /** Authenticator data and user handle of a well-formed response, decoded strictly. */
    private fun rawFields(response: JsonElement?): Pair<ByteArray, ByteArray?>? {
        val outer = response as? JsonObject ?: return null
        val type = outer["type"]
        if (type != null && (type as? JsonPrimitive)?.content != "public-key") return null
        val inner = outer["response"] as? JsonObject ?: return null
        val data = (inner["authenticatorData"] as? JsonPrimitive)?.takeIf { it.isString } ?: return null
        val authenticatorData = strictDecode(data.content) ?: return null
        val userHandle = when (val handle = inner["userHandle"]) {
            null, JsonNull -> null
            is JsonPrimitive -> if (handle.isString) strictDecode(handle.content) ?: return null else return null
            else -> return null
        }
        return authenticatorData to userHandle
    }

    @Test
    fun `the raw path checks flags and the user handle`() {
        val secret = AuthSecret.generate()
        val handle = urlDecoder.decode(secret.toBase64Url())
        val data = ByteArray(37)
        data[32] = 0x05
        assertEquals(secret, secretFromAssertion(data, handle))
        data[32] = 0x01
        val unverified = assertThrows<LocalFirstException> { secretFromAssertion(data, handle) }
        assertEquals(ErrorCode.VERIFICATION_FAILED, unverified.code())
        assertEquals(ErrorDetails.AuthenticatorFlags(0x01.toUByte()), unverified.details())
        assertFalse(unverified.toString().contains(secret.toBase64Url()))
        data[32] = 0x05
        assertEquals("invalid-credential", assertThrows<LocalFirstException> { secretFromAssertion(data, null) }.code().toString())
        assertEquals("invalid-credential", assertThrows<LocalFirstException> { secretFromAssertion(data, handle.copyOf(31)) }.code().toString())
        assertEquals("invalid-credential", assertThrows<LocalFirstException> { secretFromAssertion(ByteArray(36), handle) }.code().toString())
        assertEquals("no-credential", assertThrows<LocalFirstException> { secretFromAssertionJson("null") }.code().toString())
    }

    @Test
    fun `bad arguments are refused with codes`() {
        for (rpId in listOf("", "https://myapp.example", "myapp.example:443", "MyApp.example", "a..example")) {
            assertEquals("invalid-argument", assertThrows<LocalFirstException> { PasskeyCeremony("My App", rpId) }.code().toString(), rpId)
        }
        assertEquals("invalid-argument", assertThrows<LocalFirstException> { PasskeyCeremony(" ", "myapp.example") }.code().toString())
        val ceremony = PasskeyCeremony("My App", "myapp.example")
        val secret = AuthSecret.generate()
        assertEquals("invalid-argument", assertThrows<LocalFirstException> { ceremony.registrationRequest(secret, "a\nb") }.code().toString())
        assertEquals("invalid-argument", assertThrows<LocalFirstException> { ceremony.assertionRequestWithChallenge(ByteArray(15)) }.code().toString())
        assertEquals("invalid-argument", assertThrows<LocalFirstException> { ceremony.registrationRequestWithChallenge(secret, "x", ByteArray(65)) }.code().toString())
        for (bad in listOf("", "AAAA", secret.toBase64Url() + "=")) {
            assertEquals("invalid-secret", assertThrows<LocalFirstException> { ceremony.registrationRequestForText(bad, "x") }.code().toString(), bad)
        }
        val fromText = ceremony.registrationRequestForText(secret.toBase64Url(), "x")
        assertArrayEquals(urlDecoder.decode(secret.toBase64Url()), fromText.userId())
    }

    @Test
    fun `platform failures carry the catalogue codes`() {
        val cases = mapOf(
            PasskeyPlatformFailure.NOT_SUPPORTED to "not-supported",
            PasskeyPlatformFailure.CREATE_FAILED to "create-failed",
            PasskeyPlatformFailure.GET_FAILED to "get-failed",
            PasskeyPlatformFailure.NO_CREDENTIAL to "no-credential",
        )
        for ((failure, code) in cases) {
            val error = passkeyPlatformError(failure, "provider said no")
            assertEquals(code, error.code().toString(), failure.name)
            // Thrown like any other LocalFirstException.
            assertEquals(code, assertThrows<LocalFirstException> { throw error }.code().toString())
        }
        assertEquals(ErrorCode.CREATE_FAILED, passkeyPlatformError(PasskeyPlatformFailure.CREATE_FAILED, "provider said no").code())
        val notSupported = passkeyPlatformError(PasskeyPlatformFailure.NOT_SUPPORTED, "API 27")
        assertTrue(notSupported.reason().contains("API 27"), notSupported.reason())
    }
}
