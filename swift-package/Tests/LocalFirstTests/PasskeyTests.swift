// Mirrors android-lib/jvm/src/test/kotlin/dev/localfirst/PasskeyTest.kt: the exported passkey
// requests and checks against the corpus files of core/tests/data/passkey. Not run here (no
// Swift toolchain); the AuthenticationServices ceremony itself needs a device.
import Foundation
import XCTest
@testable import LocalFirst

/// A file of the passkey corpus, parsed.
func passkeyCorpus(_ name: String) throws -> [String: Any] {
    let url = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent() // LocalFirstTests
        .deletingLastPathComponent() // Tests
        .deletingLastPathComponent() // swift-package
        .deletingLastPathComponent()
        .appendingPathComponent("core/tests/data/passkey/\(name)")
    let object = try JSONSerialization.jsonObject(with: Data(contentsOf: url))
    return try XCTUnwrap(object as? [String: Any])
}

/// Strict base64url (padding optional, canonical trailing bits), or nil.
func strictBase64Url(_ text: String) -> Data? {
    var standard = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
    if text.contains("+") || text.contains("/") { return nil }
    while standard.count % 4 != 0 { standard += "=" }
    guard let data = Data(base64Encoded: standard) else { return nil }
    return base64Url(data) == text.trimmingCharacters(in: CharacterSet(charactersIn: "=")) ? data : nil
}

/// Unpadded base64url of `data`.
func base64Url(_ data: Data) -> String {
    data.base64EncodedString()
        .replacingOccurrences(of: "+", with: "-")
        .replacingOccurrences(of: "/", with: "_")
        .replacingOccurrences(of: "=", with: "")
}

private func outcome(_ call: () throws -> AuthSecret) -> String {
    do {
        return "secret:" + (try call()).toBase64Url()
    } catch let error as LocalFirstError {
        return "code:" + error.code().description
    } catch {
        return "unexpected:\(error)"
    }
}

final class PasskeyTests: XCTestCase {
    func testRequestsMatchTheCorpusByteForByte() throws {
        let data = try passkeyCorpus("requests.json")
        let ceremony = try PasskeyCeremony(appName: data["app_name"] as! String, relyingPartyId: data["rp_id"] as! String)
        XCTAssertEqual(ceremony.relyingPartyId(), "myapp.example")
        let secret = try AuthSecret.fromBase64Url(text: data["secret"] as! String)
        let challenge = try XCTUnwrap(strictBase64Url(data["challenge"] as! String))
        let registration = try ceremony.registrationRequestWithChallenge(
            secret: secret, displayName: data["display_name"] as! String, challenge: challenge
        )
        XCTAssertEqual(registration.toJson(), data["registration_json"] as? String)
        // The fields PasskeyBackup hands to AuthenticationServices.
        XCTAssertEqual(registration.rpId(), "myapp.example")
        XCTAssertEqual(registration.rpName(), "My App")
        XCTAssertEqual(registration.userName(), "alice@myapp.example")
        XCTAssertEqual(registration.userDisplayName(), "alice@myapp.example")
        XCTAssertEqual(registration.userId(), strictBase64Url(secret.toBase64Url()))
        XCTAssertEqual(registration.challenge(), challenge)

        let assertion = try ceremony.assertionRequestWithChallenge(challenge: challenge)
        XCTAssertEqual(assertion.toJson(), data["assertion_json"] as? String)
        XCTAssertEqual(assertion.rpId(), "myapp.example")
    }

    func testRegistrationJsonFieldsAndFreshChallenges() throws {
        let ceremony = try PasskeyCeremony(appName: "My App", relyingPartyId: "myapp.example")
        let secret = try AuthSecret.generate()
        let request = try ceremony.registrationRequest(secret: secret, displayName: "Bob")
        let json = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(request.toJson().utf8)) as? [String: Any])
        XCTAssertEqual((json["rp"] as? [String: Any])?["id"] as? String, "myapp.example")
        XCTAssertEqual((json["user"] as? [String: Any])?["id"] as? String, secret.toBase64Url())
        let algs = (json["pubKeyCredParams"] as? [[String: Any]])?.compactMap { $0["alg"] as? Int }
        XCTAssertEqual(algs, [-7, -257])
        let selection = try XCTUnwrap(json["authenticatorSelection"] as? [String: Any])
        XCTAssertEqual(selection["residentKey"] as? String, "required")
        XCTAssertEqual(selection["userVerification"] as? String, "required")
        XCTAssertEqual(request.challenge().count, 32)
        XCTAssertNotEqual(request.challenge(), try ceremony.registrationRequest(secret: secret, displayName: "Bob").challenge())
        XCTAssertFalse(String(describing: request).contains(secret.toBase64Url()))
        let ask = try ceremony.assertionRequest()
        XCTAssertNotEqual(ask.challenge(), try ceremony.assertionRequest().challenge())
    }

    func testEveryAssertionInTheCorpusGivesItsSecretOrItsCode() throws {
        let data = try passkeyCorpus("assertions.json")
        let cases = try XCTUnwrap(data["cases"] as? [[String: Any]])
        XCTAssertGreaterThanOrEqual(cases.count, 40)
        var rawChecked = 0
        for item in cases {
            let name = item["name"] as! String
            let json: String
            if let raw = item["raw"] as? String {
                json = raw
            } else {
                let encoded = try JSONSerialization.data(withJSONObject: item["response"]!, options: [.fragmentsAllowed])
                json = String(decoding: encoded, as: UTF8.self)
            }
            let expect = item["expect"] as! [String: Any]
            let want = (expect["secret"] as? String).map { "secret:" + $0 } ?? "code:" + (expect["code"] as! String)
            let got = outcome { try secretFromAssertionJson(json: json) }
            XCTAssertEqual(got, want, name)
            // The raw-bytes path PasskeyBackup uses on Apple platforms agrees.
            if let (authenticatorData, userHandle) = rawFields(item["response"]) {
                XCTAssertEqual(outcome { try secretFromAssertion(authenticatorData: authenticatorData, userHandle: userHandle) }, got, name)
                rawChecked += 1
            }
        }
        XCTAssertGreaterThanOrEqual(rawChecked, 25)
    }

    private func rawFields(_ response: Any?) -> (Data, Data?)? {
        guard let outer = response as? [String: Any] else { return nil }
        if let type = outer["type"], (type as? String) != "public-key" { return nil }
        guard let inner = outer["response"] as? [String: Any],
              let text = inner["authenticatorData"] as? String,
              let authenticatorData = strictBase64Url(text) else { return nil }
        switch inner["userHandle"] {
        case nil, is NSNull:
            return (authenticatorData, nil)
        case let handle as String:
            guard let bytes = strictBase64Url(handle) else { return nil }
            return (authenticatorData, bytes)
        default:
            return nil
        }
    }

    func testPlatformFailuresCarryTheCatalogueCodes() {
        let cases: [(PasskeyPlatformFailure, String)] = [
            (.notSupported, "not-supported"), (.createFailed, "create-failed"),
            (.getFailed, "get-failed"), (.noCredential, "no-credential"),
        ]
        for (failure, code) in cases {
            XCTAssertEqual(passkeyPlatformError(failure: failure, reason: "provider said no").code().description, code)
        }
    }

    func testBadArgumentsAreRefusedWithCodes() throws {
        XCTAssertThrowsError(try PasskeyCeremony(appName: "My App", relyingPartyId: "https://myapp.example")) { error in
            XCTAssertEqual((error as? LocalFirstError)?.code().description, "invalid-argument")
        }
        let ceremony = try PasskeyCeremony(appName: "My App", relyingPartyId: "myapp.example")
        XCTAssertThrowsError(try ceremony.registrationRequestForText(secret: "AAAA", displayName: "x")) { error in
            XCTAssertEqual((error as? LocalFirstError)?.code().description, "invalid-secret")
        }
        XCTAssertThrowsError(try ceremony.assertionRequestWithChallenge(challenge: Data(count: 15))) { error in
            XCTAssertEqual((error as? LocalFirstError)?.code().description, "invalid-argument")
        }
    }
}
