//! External (provider-issued) JWTs decoded on the client: size limit, duplicate
//! claims and control characters in `sub`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed unwrap is a failed test

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use localfirst_core::auth::session_from_jwt;
use localfirst_core::token::{self, TokenError, MAX_EXTERNAL_TOKEN_LEN, MAX_TOKEN_LEN};
use localfirst_core::ErrorCode as _;

/// A compact JWT whose claims part is exactly `claims_json` (signature not checked here).
fn jwt_with_claims(claims_json: &str) -> String {
    format!(
        "{}.{}.{}",
        URL_SAFE_NO_PAD.encode(br#"{"alg":"RS256","typ":"JWT"}"#),
        URL_SAFE_NO_PAD.encode(claims_json.as_bytes()),
        URL_SAFE_NO_PAD.encode([7u8; 64]),
    )
}

#[test]
fn duplicate_claims_are_refused_not_last_wins() {
    let jwt = jwt_with_claims(r#"{"sub":"alice","sub":"mallory"}"#);
    let error = token::decode_claims_unverified(&jwt).unwrap_err();
    assert!(
        matches!(error, TokenError::InvalidClaims { .. }),
        "{error:?}"
    );
    assert!(
        error.to_string().contains("duplicate field `sub`"),
        "{error}"
    );
    let refused = session_from_jwt(&jwt).unwrap_err();
    assert_eq!(refused.code(), "invalid-token");

    // Any claim, not only the ones the core reads.
    let jwt = jwt_with_claims(r#"{"sub":"alice","role":"user","role":"admin"}"#);
    assert!(session_from_jwt(&jwt).is_err());
    // Distinct claims are fine.
    let jwt = jwt_with_claims(r#"{"sub":"alice","role":"user"}"#);
    let session = session_from_jwt(&jwt).unwrap();
    assert_eq!(session.user_id, "alice");
}

#[test]
fn the_self_signed_verifier_refuses_duplicates_with_the_same_message() {
    let jwt = jwt_with_claims(r#"{"iss":"urn:jazz:local-first","iss":"urn:jazz:local-first"}"#);
    let external = token::decode_claims_unverified(&jwt).unwrap_err();
    let header = URL_SAFE_NO_PAD.encode(token::HEADER_JSON.as_bytes());
    let parts: Vec<&str> = jwt.split('.').collect();
    let self_signed = format!("{header}.{}.{}", parts[1], parts[2]);
    let options = token::VerifyOptions::new("app");
    let verified = token::verify(
        &self_signed,
        &options,
        &localfirst_core::clock::FixedClock::new(1),
    )
    .unwrap_err();
    assert_eq!(verified.code(), external.code());
    assert!(
        verified.to_string().contains("duplicate field `iss`"),
        "{verified}"
    );
}

#[test]
fn control_characters_in_sub_are_refused() {
    for sub in [
        "ali\u{1b}[31mce",
        "alice\n",
        "a\u{0}b",
        "\u{7f}",
        "a\u{85}b",
    ] {
        let claims = serde_json::json!({ "sub": sub }).to_string();
        let error = session_from_jwt(&jwt_with_claims(&claims)).unwrap_err();
        assert_eq!(error.code(), "invalid-token", "{sub:?}");
        assert!(error.to_string().contains("control characters"), "{error}");
        assert!(
            !error.to_string().contains(sub),
            "the raw sub is not echoed"
        );
    }
    let ok = serde_json::json!({ "sub": "Zoë O'Brien | user:42" }).to_string();
    assert_eq!(
        session_from_jwt(&jwt_with_claims(&ok)).unwrap().user_id,
        "Zoë O'Brien | user:42"
    );
}

#[test]
fn the_client_reads_sub_by_the_servers_user_id_rule() {
    // Trimmed as the server trims it, so both sides name the same user.
    let padded = serde_json::json!({ "sub": "  alice " }).to_string();
    assert_eq!(
        session_from_jwt(&jwt_with_claims(&padded)).unwrap().user_id,
        "alice"
    );
    for sub in ["   ".to_owned(), "x".repeat(257)] {
        let claims = serde_json::json!({ "sub": sub }).to_string();
        let error = session_from_jwt(&jwt_with_claims(&claims)).unwrap_err();
        assert_eq!(error.code(), "invalid-token", "{sub:?}");
    }
    let longest = serde_json::json!({ "sub": "x".repeat(256) }).to_string();
    assert!(session_from_jwt(&jwt_with_claims(&longest)).is_ok());
}

#[test]
fn external_tokens_have_their_own_larger_limit() {
    let padding = |target: usize| {
        let base = jwt_with_claims(r#"{"sub":"alice","groups":""}"#).len();
        // Three base64 characters per two bytes of claims, roughly: grow until the size fits.
        let mut fill = (target.saturating_sub(base)) * 3 / 4;
        loop {
            let claims = format!(r#"{{"sub":"alice","groups":"{}"}}"#, "g".repeat(fill));
            let jwt = jwt_with_claims(&claims);
            if jwt.len() >= target {
                return jwt;
            }
            fill += 1;
        }
    };
    // A provider token of 8 KiB (too large for a self-signed token) is accepted.
    let large = padding(8 * 1024);
    assert!(large.len() > MAX_TOKEN_LEN);
    assert_eq!(session_from_jwt(&large).unwrap().user_id, "alice");
    // Beyond the external limit it is refused as too large.
    let huge = padding(MAX_EXTERNAL_TOKEN_LEN + 1);
    assert_eq!(
        token::decode_claims_unverified(&huge).unwrap_err(),
        TokenError::TooLarge {
            len: huge.len(),
            max: MAX_EXTERNAL_TOKEN_LEN
        }
    );
    assert_eq!(session_from_jwt(&huge).unwrap_err().code(), "invalid-token");
}
