//! Wire-compatibility vectors: every value in `tests/data/identity.json` (a copy of
//! the shared vectors) must be reproduced byte for byte.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed unwrap is a failed test

mod common;

use localfirst_core::clock::FixedClock;
use localfirst_core::identity::Identity;
use localfirst_core::phrase::{phrase_to_secret, secret_to_phrase};
use localfirst_core::secret::Secret;
use localfirst_core::token::{self, Issuer, VerifyOptions};
use serde_json::Value;

const IAT: u64 = 1_700_000_000;

fn vectors() -> Value {
    common::data_json("identity.json")
}

fn cases() -> Vec<Value> {
    let v = vectors();
    let list = v["vectors"].as_array().expect("vectors array").clone();
    assert!(list.len() >= 3, "expected at least three vectors");
    list
}

fn s<'a>(case: &'a Value, key: &str) -> &'a str {
    case[key]
        .as_str()
        .unwrap_or_else(|| panic!("missing {key}"))
}

fn hex32(text: &str) -> [u8; 32] {
    let mut out = [0u8; 32];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&text[2 * i..2 * i + 2], 16).expect("hex");
    }
    out
}

#[test]
fn seeds_parse_and_format() {
    for case in cases() {
        let secret = Secret::from_bytes(hex32(s(&case, "seed_hex")));
        assert_eq!(&*secret.to_base64url(), s(&case, "seed_b64url"));
        assert_eq!(
            Secret::parse_base64url(s(&case, "seed_b64url")).unwrap(),
            secret
        );
    }
}

#[test]
fn public_keys_and_user_ids() {
    for case in cases() {
        let identity = Identity::from_secret(&Secret::from_bytes(hex32(s(&case, "seed_hex"))));
        assert_eq!(
            identity.public_key().to_base64url(),
            s(&case, "public_key_b64url")
        );
        assert_eq!(identity.user_id().to_string(), s(&case, "user_id"));
    }
}

#[test]
fn audience_normalisation() {
    let v = vectors();
    for (aud, expected) in v["audience_normalisation"].as_object().unwrap() {
        assert_eq!(token::normalize_audience(aud), expected.as_str().unwrap());
    }
}

#[test]
fn local_first_and_anonymous_tokens() {
    let clock = FixedClock::new(IAT + 10);
    for case in cases() {
        let identity = Identity::from_secret(&Secret::from_bytes(hex32(s(&case, "seed_hex"))));
        let lf = token::mint(&identity, Issuer::LocalFirst, "my-app", IAT, 3600).unwrap();
        assert_eq!(
            lf,
            s(&case, "local_first_token_my_app_iat1700000000_ttl3600")
        );
        let anon = token::mint(&identity, Issuer::Anonymous, "my-app", IAT, 3600).unwrap();
        assert_eq!(
            anon,
            s(&case, "anonymous_token_my_app_iat1700000000_ttl3600")
        );
        for (jwt, issuer) in [(&lf, Issuer::LocalFirst), (&anon, Issuer::Anonymous)] {
            let verified = token::verify(jwt, &VerifyOptions::new("my-app"), &clock).unwrap();
            assert_eq!(verified.issuer, issuer);
            assert_eq!(verified.user_id.to_string(), s(&case, "user_id"));
        }
    }
}

#[test]
fn proof_tokens() {
    let clock = FixedClock::new(IAT);
    for case in cases() {
        let secret = Secret::from_bytes(hex32(s(&case, "seed_hex")));
        let proof = token::identity_proof(&secret, 60, "betterauth-signup", &clock).unwrap();
        assert_eq!(
            proof,
            s(&case, "proof_token_betterauth_signup_iat1700000000_ttl60")
        );
        let result = token::verify_local_first_identity_proof(&proof, "betterauth-signup", &clock);
        assert!(result.ok, "{result:?}");
        assert_eq!(result.id.as_deref(), Some(s(&case, "user_id")));
        let late = FixedClock::new(IAT + 60);
        let expired = token::verify_local_first_identity_proof(&proof, "betterauth-signup", &late);
        assert_eq!(expired.code.map(|code| code.as_str()), Some("expired"));
    }
}

#[test]
fn recovery_phrases() {
    for case in cases() {
        let secret = Secret::from_bytes(hex32(s(&case, "seed_hex")));
        assert_eq!(
            secret_to_phrase(&secret).expose(),
            s(&case, "recovery_phrase")
        );
        assert_eq!(
            phrase_to_secret(s(&case, "recovery_phrase")).unwrap(),
            secret
        );
    }
}
