//! Passkey backup: the request JSON is exactly Jazz's field set, and the corpus of
//! assertion responses (tests/data/passkey) gives each its secret or its code,
//! through the JSON path (Android) and the raw-bytes path (iOS) alike.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed unwrap is a failed test

use base64::engine::general_purpose::{URL_SAFE, URL_SAFE_NO_PAD};
use base64::Engine as _;
use localfirst_core::error::ErrorCode as _;
use localfirst_core::recovery::passkey::{
    secret_from_assertion, secret_from_assertion_json, PasskeyBackup, PasskeyError, CHALLENGE_LEN,
    MAX_ASSERTION_JSON_LEN,
};
use localfirst_core::secret::Secret;
use serde_json::Value;

fn corpus(name: &str) -> Value {
    let path = format!("{}/tests/data/passkey/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

fn text(value: &Value, key: &str) -> String {
    value[key]
        .as_str()
        .unwrap_or_else(|| panic!("{key}"))
        .to_owned()
}

#[test]
fn registration_and_assertion_requests_match_the_corpus_byte_for_byte() {
    let data = corpus("requests.json");
    let backup = PasskeyBackup::new(&text(&data, "app_name"), &text(&data, "rp_id")).unwrap();
    let secret = Secret::parse_base64url(&text(&data, "secret")).unwrap();
    let challenge = URL_SAFE_NO_PAD.decode(text(&data, "challenge")).unwrap();
    let request = backup
        .registration_request_with_challenge(
            &secret,
            &text(&data, "display_name"),
            challenge.clone(),
        )
        .unwrap();
    assert_eq!(*request.to_json(), text(&data, "registration_json"));
    // The fields iOS reads.
    assert_eq!(request.rp_id(), "myapp.example");
    assert_eq!(request.rp_name(), "My App");
    assert_eq!(request.user_name(), "alice@myapp.example");
    assert_eq!(request.user_display_name(), "alice@myapp.example");
    assert_eq!(request.user_id(), secret.expose_bytes());
    assert_eq!(request.challenge(), challenge.as_slice());

    let assertion = backup.assertion_request_with_challenge(challenge).unwrap();
    assert_eq!(assertion.to_json(), text(&data, "assertion_json"));
    assert_eq!(assertion.rp_id(), "myapp.example");
}

#[test]
fn the_registration_json_carries_jazz_fields() {
    let backup = PasskeyBackup::new("My App", "myapp.example").unwrap();
    let secret = Secret::from_bytes([9u8; 32]);
    let json: Value = serde_json::from_str(
        &backup
            .registration_request(&secret, "Bob")
            .unwrap()
            .to_json(),
    )
    .unwrap();
    assert_eq!(json["user"]["id"], URL_SAFE_NO_PAD.encode([9u8; 32]));
    assert_eq!(json["user"]["name"], "Bob");
    assert_eq!(json["rp"]["name"], "My App");
    let algs: Vec<i64> = json["pubKeyCredParams"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["alg"].as_i64().unwrap())
        .collect();
    assert_eq!(algs, [-7, -257]);
    assert_eq!(json["authenticatorSelection"]["residentKey"], "required");
    assert_eq!(json["authenticatorSelection"]["requireResidentKey"], true);
    assert_eq!(
        json["authenticatorSelection"]["userVerification"],
        "required"
    );
    assert_eq!(
        json["extensions"]["credentialProtectionPolicy"],
        "userVerificationRequired"
    );
    let challenge = URL_SAFE_NO_PAD
        .decode(json["challenge"].as_str().unwrap())
        .unwrap();
    assert_eq!(challenge.len(), CHALLENGE_LEN);
}

#[test]
fn challenges_are_fresh_random_bytes() {
    let backup = PasskeyBackup::new("My App", "myapp.example").unwrap();
    let a = backup.assertion_request().unwrap();
    let b = backup.assertion_request().unwrap();
    assert_eq!(a.challenge().len(), CHALLENGE_LEN);
    assert_ne!(a.challenge(), b.challenge());
    let secret = Secret::from_bytes([1u8; 32]);
    let c = backup.registration_request(&secret, "x").unwrap();
    let d = backup.registration_request(&secret, "x").unwrap();
    assert_ne!(c.challenge(), d.challenge());
}

#[test]
fn every_assertion_in_the_corpus_gives_its_secret_or_its_code() {
    let data = corpus("assertions.json");
    let cases = data["cases"].as_array().unwrap();
    assert!(cases.len() >= 40, "the corpus shrank");
    let (mut valid, mut refused) = (0, 0);
    for case in cases {
        let name = text(case, "name");
        let json = match case.get("raw") {
            Some(raw) => raw.as_str().unwrap().to_owned(),
            None => serde_json::to_string(&case["response"]).unwrap(),
        };
        let got = secret_from_assertion_json(&json);
        match (case["expect"].get("secret"), case["expect"].get("code")) {
            (Some(secret), None) => {
                let want = Secret::parse_base64url(secret.as_str().unwrap()).unwrap();
                assert_eq!(got.as_ref().ok(), Some(&want), "{name}: {got:?}");
                valid += 1;
            }
            (None, Some(code)) => {
                let error = got.err().unwrap_or_else(|| panic!("{name}: accepted"));
                assert_eq!(error.code(), code.as_str().unwrap(), "{name}: {error}");
                refused += 1;
            }
            _ => panic!("{name}: expect needs a secret or a code"),
        }
        // The raw-bytes path (iOS) agrees wherever both fields decode.
        if let Some(bytes) = raw_fields(&case["response"]) {
            let (authenticator_data, user_handle) = bytes;
            let raw = secret_from_assertion(&authenticator_data, user_handle.as_deref());
            assert_eq!(
                raw.map_err(|e| e.code()),
                secret_from_assertion_json(&json).map_err(|e| e.code()),
                "{name}: the two paths disagree"
            );
        }
    }
    assert!(
        valid >= 5 && refused >= 30,
        "{valid} valid, {refused} refused"
    );
}

/// Authenticator data and user handle of a well-formed response, decoded.
fn raw_fields(response: &Value) -> Option<(Vec<u8>, Option<Vec<u8>>)> {
    let inner = response.get("response")?;
    let decode = |v: &str| {
        URL_SAFE_NO_PAD
            .decode(v)
            .or_else(|_| URL_SAFE.decode(v))
            .ok()
    };
    let authenticator_data = decode(inner.get("authenticatorData")?.as_str()?)?;
    let user_handle = match inner.get("userHandle") {
        None | Some(Value::Null) => None,
        Some(Value::String(text)) => Some(decode(text)?),
        Some(_) => return None,
    };
    if response.get("type").is_some_and(|t| t != "public-key") {
        return None;
    }
    Some((authenticator_data, user_handle))
}

#[test]
fn an_oversized_response_is_refused_before_parsing() {
    let huge = format!("\"{}\"", "A".repeat(MAX_ASSERTION_JSON_LEN));
    let error = secret_from_assertion_json(&huge).unwrap_err();
    assert_eq!(error.code(), "invalid-credential");
    assert!(error.to_string().contains("larger than"), "{error}");
}

#[test]
fn refusals_never_print_the_user_handle() {
    let secret = Secret::from_bytes([0x41; 32]);
    let mut data = [0u8; 37];
    data[32] = 0x01;
    let error = secret_from_assertion(&data, Some(secret.expose_bytes())).unwrap_err();
    assert_eq!(error, PasskeyError::VerificationFailed { flags: 0x01 });
    assert!(!format!("{error} {error:?}").contains(&*secret.to_base64url()));
    let backup = PasskeyBackup::new("My App", "myapp.example").unwrap();
    let request = backup.registration_request(&secret, "x").unwrap();
    let shown = format!("{request:?}");
    assert!(shown.contains("<redacted>"), "{shown}");
    assert!(!shown.contains(&*secret.to_base64url()), "{shown}");
}

#[test]
fn bad_arguments_are_refused_with_codes() {
    for rp_id in [
        "",
        "https://myapp.example",
        "myapp.example:443",
        "myapp.example/x",
        "MyApp.example",
        "my app.example",
        "-a.example",
        "a..example",
    ] {
        let error = PasskeyBackup::new("My App", rp_id).unwrap_err();
        assert_eq!(error.code(), "invalid-argument", "{rp_id:?}");
    }
    for name in ["", "   ", "a\nb", &"x".repeat(256)] {
        assert_eq!(
            PasskeyBackup::new(name, "a.example").unwrap_err().code(),
            "invalid-argument"
        );
    }
    let backup = PasskeyBackup::new("My App", "localhost").unwrap();
    let secret = Secret::from_bytes([1u8; 32]);
    assert_eq!(
        backup
            .registration_request(&secret, " ")
            .unwrap_err()
            .code(),
        "invalid-argument"
    );
    for len in [0, 15, 65] {
        assert_eq!(
            backup
                .assertion_request_with_challenge(vec![0; len])
                .unwrap_err()
                .code(),
            "invalid-argument",
            "{len}"
        );
    }
    for bad in ["", "AAAA", "QEFCQ0RFRkdISUpLTE1OT1BRUlNUVVZXWFlaW1xdXl8="] {
        assert_eq!(
            backup
                .registration_request_for_text(bad, "x")
                .unwrap_err()
                .code(),
            "invalid-secret",
            "{bad:?}"
        );
    }
    let ok = backup
        .registration_request_for_text("QEFCQ0RFRkdISUpLTE1OT1BRUlNUVVZXWFlaW1xdXl8", "x")
        .unwrap();
    assert_eq!(ok.user_id()[0], 0x40);
}

#[test]
fn every_flags_byte_is_accepted_exactly_when_present_and_verified_are_set() {
    let secret = Secret::from_bytes([0x42; 32]);
    for flags in 0..=u8::MAX {
        let mut data = vec![0u8; 37];
        data[32] = flags;
        let got = secret_from_assertion(&data, Some(secret.expose_bytes()));
        if flags & 0x05 == 0x05 {
            assert_eq!(got, Ok(secret.clone()), "{flags:#04x}");
        } else {
            assert_eq!(
                got,
                Err(PasskeyError::VerificationFailed { flags }),
                "{flags:#04x}"
            );
        }
    }
}
