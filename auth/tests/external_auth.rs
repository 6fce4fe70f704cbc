//! External JWT verification against a real loopback JWKS endpoint, static keys, and
//! the verified-token cache. Time moves only through the injected clock.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use common::jwks::*;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use localfirst_auth::external::{
    ExternalAuthConfig, ExternalAuthError, ExternalKeySource, ExternalVerifier, JwksOptions,
    MAX_EXTERNAL_TOKEN_LEN,
};
use localfirst_auth::token_cache::{token_hash, VerifiedTokenCache};
use localfirst_core::auth::AuthFailure;
use localfirst_core::session::{AuthMode, Session};
use localfirst_core::ErrorCode;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

fn code<T: std::fmt::Debug>(result: Result<T, ExternalAuthError>) -> &'static str {
    result.unwrap_err().code().as_str()
}

#[tokio::test]
async fn es256_rs256_and_eddsa_tokens_verify_through_jwks() {
    let stub = Stub::start(jwks(&["es256", "rs256", "eddsa"])).await;
    let verifier = stub.verifier(&clock());
    for key in [ES256, RS256, EDDSA] {
        let session = verifier.verify(&key.sign(&claims("user-1"))).await.unwrap();
        assert_eq!(session.user_id, "user-1");
        assert_eq!(session.auth_mode, AuthMode::External);
        assert_eq!(session.claims["email"], "ada@example.com");
        assert_eq!(session.claims["exp"], NOW + 3600);
    }
    assert_eq!(stub.fetches(), 1, "one fetch serves every key for the TTL");
}

#[tokio::test]
async fn expiry_uses_the_injected_clock() {
    let stub = Stub::start(jwks(&["es256"])).await;
    let clock = clock();
    let verifier = stub.verifier(&clock);
    let mut c = claims("user-1");
    c["exp"] = json!(NOW + 60);
    let token = ES256.sign(&c);
    clock.set(NOW + 59);
    assert!(verifier.verify(&token).await.is_ok());
    clock.set(NOW + 60);
    let error = verifier.verify(&token).await.unwrap_err();
    assert_eq!(
        error,
        ExternalAuthError::Expired {
            exp: NOW + 60,
            now: NOW + 60
        }
    );
    assert_eq!(error.code(), "expired");
    assert_eq!(error.failure(), AuthFailure::Expired);
}

#[tokio::test]
async fn bad_signature_forces_one_refresh_then_fails() {
    let stub = Stub::start(jwks(&["es256"])).await;
    let clock = clock();
    let verifier = stub.verifier(&clock);
    verifier.verify(&ES256.sign(&claims("u"))).await.unwrap();
    assert_eq!(stub.fetches(), 1);
    clock.advance(10);
    // Signed by another key but claiming the known kid.
    let forged = ROTATED.sign_with_kid(Some(ES256.kid()), &claims("u"));
    let error = verifier.verify(&forged).await.unwrap_err();
    assert_eq!(error, ExternalAuthError::InvalidSignature);
    assert_eq!(error.failure(), AuthFailure::Invalid);
    assert_eq!(stub.fetches(), 2, "a bad signature forces one refresh");
    assert_eq!(code(verifier.verify(&forged).await), "invalid-signature");
    assert_eq!(stub.fetches(), 2, "inside the cooldown: cache only");
    // A tampered claims part fails the same way.
    let good = ES256.sign(&claims("u"));
    let mut parts: Vec<&str> = good.split('.').collect();
    let other = URL_SAFE_NO_PAD.encode(claims("someone-else").to_string());
    parts[1] = &other;
    assert_eq!(
        code(verifier.verify(&parts.join(".")).await),
        "invalid-signature"
    );
}

#[tokio::test]
async fn a_key_rotated_right_after_a_fetch_gets_in_at_once() {
    let stub = Stub::start(jwks(&["es256"])).await;
    let clock = clock();
    let verifier = stub.verifier(&clock);
    verifier.verify(&ES256.sign(&claims("u"))).await.unwrap();
    assert_eq!(stub.fetches(), 1);
    // The provider publishes a new key and signs with it one second later.
    stub.serve(jwks(&["es256", "es256-rotated"]));
    clock.advance(1);
    let rotated = ROTATED.sign(&claims("u"));
    let session = verifier.verify(&rotated).await.unwrap();
    assert_eq!(session.user_id, "u");
    assert_eq!(stub.fetches(), 2, "exactly one refresh");
    verifier.verify(&rotated).await.unwrap();
    verifier.verify(&ES256.sign(&claims("u"))).await.unwrap();
    assert_eq!(stub.fetches(), 2);
}

/// A token naming `kid` with a signature no key made: it fails at key selection.
fn fabricated(kid: &str) -> String {
    let header = URL_SAFE_NO_PAD.encode(json!({"alg": "ES256", "kid": kid}).to_string());
    let claims = URL_SAFE_NO_PAD.encode(claims("u").to_string());
    format!("{header}.{claims}.c2ln")
}

/// Polls `task` for up to 30 s (it waits for the injected clock, read every 250 ms).
async fn finish<T>(task: tokio::task::JoinHandle<T>) -> T {
    tokio::time::timeout(Duration::from_secs(30), task)
        .await
        .expect("still waiting 30 s after the cooldown ended")
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_rotated_during_an_attack_waits_for_the_cooldown_instead_of_failing() {
    let stub = Stub::start(jwks(&["es256"])).await;
    let clock = clock();
    let verifier = Arc::new(stub.verifier(&clock));
    verifier.verify(&ES256.sign(&claims("u"))).await.unwrap();
    clock.advance(10);
    // An attacker's fabricated kid forces a fetch: the cooldown starts.
    assert_eq!(
        verifier.verify(&fabricated("made-up")).await.unwrap_err(),
        ExternalAuthError::UnknownKey {
            kid: Some("made-up".into())
        }
    );
    assert_eq!(stub.fetches(), 2);
    stub.serve(jwks(&["es256", "es256-rotated"]));
    clock.advance(1);
    let rotated = ROTATED.sign(&claims("u"));
    let waiting = {
        let verifier = verifier.clone();
        tokio::spawn(async move { verifier.verify(&rotated).await })
    };
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert!(!waiting.is_finished(), "refused inside the cooldown");
    assert_eq!(stub.fetches(), 2, "no fetch inside the cooldown");
    clock.advance(9);
    assert_eq!(finish(waiting).await.unwrap().user_id, "u");
    assert_eq!(stub.fetches(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_waiting_miss_fetches_after_one_cooldown_of_real_time_if_the_clock_stands_still() {
    let stub = Stub::start(jwks(&["es256"])).await;
    let clock = clock();
    let options = JwksOptions {
        forced_refresh_cooldown: Duration::from_secs(1),
        ..JwksOptions::default()
    };
    let verifier = stub.verifier_with(&clock, options);
    verifier.verify(&ES256.sign(&claims("u"))).await.unwrap();
    verifier.verify(&fabricated("made-up")).await.unwrap_err();
    assert_eq!(stub.fetches(), 2);
    stub.serve(jwks(&["es256", "es256-rotated"]));
    // The injected clock never moves; the wait still ends.
    let started = Instant::now();
    let session = tokio::time::timeout(
        Duration::from_secs(30),
        verifier.verify(&ROTATED.sign(&claims("u"))),
    )
    .await
    .expect("waited for ever")
    .unwrap();
    assert_eq!(session.user_id, "u");
    assert!(started.elapsed() >= Duration::from_millis(900));
    assert_eq!(stub.fetches(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eleven_thousand_fabricated_kids_fetch_at_most_once_per_cooldown() {
    let stub = Stub::start(jwks(&["es256"])).await;
    let clock = clock();
    let verifier = Arc::new(stub.verifier(&clock));
    verifier.verify(&ES256.sign(&claims("u"))).await.unwrap();
    // The attack opens with a forced fetch; every later miss starts inside a cooldown.
    let opening = verifier.verify(&fabricated("opening")).await.unwrap_err();
    assert_eq!(opening.code(), "unknown-key");
    assert_eq!(stub.fetches(), 2);
    let mut windows = 0;
    for wave in 0..3 {
        let tasks: Vec<_> = (0..3704)
            .map(|i| {
                let verifier = verifier.clone();
                let kid = format!("fabricated-{wave}-{i}");
                tokio::spawn(async move {
                    let error = verifier.verify(&fabricated(&kid)).await.unwrap_err();
                    assert_eq!(error, ExternalAuthError::UnknownKey { kid: Some(kid) });
                })
            })
            .collect();
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(stub.fetches(), 2 + windows, "a fetch inside the cooldown");
        // Each cooldown window that passes allows one fetch, shared by all the waiters.
        let started = Instant::now();
        while tasks.iter().any(|task| !task.is_finished()) {
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "wave {wave} hangs"
            );
            clock.advance(10);
            windows += 1;
            let window = Instant::now();
            while window.elapsed() < Duration::from_secs(5)
                && tasks.iter().any(|task| !task.is_finished())
            {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
        for task in tasks {
            task.await.unwrap();
        }
    }
    let forced = stub.fetches() - 2;
    println!("11,112 fabricated key ids: {forced} fetches in {windows} cooldown windows");
    assert!(
        forced >= 3 && forced <= windows,
        "{forced} fetches in {windows} windows"
    );
    // Real tokens verify from the cache meanwhile.
    let fetches = stub.fetches();
    verifier.verify(&ES256.sign(&claims("u"))).await.unwrap();
    assert_eq!(stub.fetches(), fetches);
}

#[tokio::test]
async fn an_unknown_key_is_named_without_debug_text() {
    let verifier = static_verifier(&data("es256.jwk.json"));
    let error = verifier.verify(&fabricated("es1")).await.unwrap_err();
    assert_eq!(
        error.to_string(),
        r#"no key matches the token's key id "es1""#
    );
    let error = ExternalAuthError::UnknownKey { kid: None };
    assert_eq!(
        error.to_string(),
        "no key matches the token, which names no key id"
    );
    // Text from the token is quoted as JSON, control characters escaped.
    let odd = verifier
        .verify(&fabricated("a\u{7}b"))
        .await
        .unwrap_err()
        .to_string();
    assert_eq!(odd, r#"no key matches the token's key id "a\u0007b""#);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_misses_share_one_fetch() {
    let stub = Stub::start(jwks(&["es256"])).await;
    stub.delay_ms.store(200, Ordering::SeqCst);
    let clock = clock();
    let verifier = Arc::new(stub.verifier(&clock));
    let run_all = |token: String| {
        let tasks: Vec<_> = (0..20)
            .map(|_| {
                let verifier = verifier.clone();
                let token = token.clone();
                tokio::spawn(async move { verifier.verify(&token).await })
            })
            .collect();
        async move {
            for task in tasks {
                assert_eq!(task.await.unwrap().unwrap().user_id, "u");
            }
        }
    };
    // Cold cache: twenty first verifications, one fetch.
    run_all(ES256.sign(&claims("u"))).await;
    assert_eq!(stub.fetches(), 1);
    // A rotated-in kid missed by twenty verifications at once: one forced fetch.
    stub.serve(jwks(&["es256", "es256-rotated"]));
    clock.advance(10);
    run_all(ROTATED.sign(&claims("u"))).await;
    assert_eq!(stub.fetches(), 2);
}

#[tokio::test]
async fn jwks_down_serves_stale_keys_then_fails_cleanly() {
    let stub = Stub::start(jwks(&["es256"])).await;
    let clock = clock();
    let verifier = stub.verifier(&clock);
    let token = ES256.sign(&claims("u"));
    verifier.verify(&token).await.unwrap();
    stub.fail();
    clock.set(NOW + 300); // TTL over: a refresh is tried, fails, stale keys serve.
    verifier.verify(&token).await.unwrap();
    assert_eq!(stub.fetches(), 2);
    verifier.verify(&token).await.unwrap();
    assert_eq!(
        stub.fetches(),
        2,
        "a failed endpoint is not retried inside the cooldown"
    );
    clock.set(NOW + 599); // Last second of the stale window.
    verifier.verify(&token).await.unwrap();
    assert_eq!(stub.fetches(), 3);
    clock.set(NOW + 600); // TTL + grace over: clean typed failure.
    let error = verifier.verify(&token).await.unwrap_err();
    assert_eq!(error.code(), "jwks-unavailable");
    assert!(error.to_string().contains("503"), "{error}");
    assert_eq!(error.failure(), AuthFailure::Invalid);
    let fetches = stub.fetches();
    assert_eq!(code(verifier.verify(&token).await), "jwks-unavailable");
    assert_eq!(stub.fetches(), fetches, "no fetch storm while down");
    // The endpoint comes back: the next attempt after the cooldown recovers.
    stub.serve(jwks(&["es256"]));
    clock.advance(10);
    verifier.verify(&token).await.unwrap();
}

#[tokio::test]
async fn endpoint_down_from_the_start_is_a_typed_error() {
    let stub = Stub::start(jwks(&["es256"])).await;
    stub.fail();
    let verifier = stub.verifier(&clock());
    let error = verifier
        .verify(&ES256.sign(&claims("u")))
        .await
        .unwrap_err();
    assert_eq!(error.code(), "jwks-unavailable");
}

#[tokio::test]
async fn an_empty_key_set_is_an_error() {
    let stub = Stub::start(json!({ "keys": [] })).await;
    let clock = clock();
    let verifier = stub.verifier(&clock);
    let token = ES256.sign(&claims("u"));
    assert_eq!(
        verifier.verify(&token).await.unwrap_err(),
        ExternalAuthError::EmptyKeySet
    );
    // Only unusable keys (a symmetric key, an encryption key) is empty as well.
    let mut enc = jwk("es256");
    enc["use"] = json!("enc");
    stub.serve(json!({ "keys": [{ "kty": "oct", "k": "c2VjcmV0", "kid": "hmac" }, enc] }));
    clock.advance(10);
    assert_eq!(code(verifier.verify(&token).await), "empty-key-set");
    stub.serve(json!({ "no_keys": true }));
    clock.advance(10);
    assert_eq!(code(verifier.verify(&token).await), "invalid-key");
}

#[tokio::test]
async fn oversized_tokens_are_refused_before_any_fetch() {
    let stub = Stub::start(jwks(&["es256"])).await;
    let verifier = stub.verifier(&clock());
    let huge = "a".repeat(MAX_EXTERNAL_TOKEN_LEN + 1);
    assert_eq!(
        verifier.verify(&huge).await.unwrap_err(),
        ExternalAuthError::TooLarge {
            len: MAX_EXTERNAL_TOKEN_LEN + 1,
            max: MAX_EXTERNAL_TOKEN_LEN
        }
    );
    assert_eq!(stub.fetches(), 0);
    // A large but legal token (just under 16 KiB) verifies; a slightly larger one not.
    let mut c = claims("u");
    c["pad"] = json!("x".repeat(11_000));
    let big = ES256.sign(&c);
    assert!(
        big.len() < MAX_EXTERNAL_TOKEN_LEN && big.len() > 14_000,
        "{}",
        big.len()
    );
    verifier.verify(&big).await.unwrap();
    c["pad"] = json!("x".repeat(13_000));
    assert_eq!(
        code(verifier.verify(&ES256.sign(&c)).await),
        "token-too-large"
    );
    assert_eq!(code(verifier.verify("").await), "missing");
    assert_eq!(
        verifier.verify("").await.unwrap_err().failure(),
        AuthFailure::Missing
    );
}

#[tokio::test]
async fn duplicate_claims_are_refused_even_when_signed() {
    let verifier = static_verifier(&data("es256.jwk.json"));
    let header = r#"{"alg":"ES256","typ":"JWT","kid":"es256-key"}"#;
    let fields = r#""iss":"https://id.example.com","aud":"my-app""#;
    let ok = format!(r#"{{{fields},"sub":"alice","exp":{}}}"#, NOW + 60);
    assert_eq!(
        verifier
            .verify(&ES256.sign_raw(header, &ok))
            .await
            .unwrap()
            .user_id,
        "alice"
    );
    let duplicated = format!(
        r#"{{{fields},"sub":"alice","exp":{},"sub":"admin"}}"#,
        NOW + 60
    );
    assert_eq!(
        verifier
            .verify(&ES256.sign_raw(header, &duplicated))
            .await
            .unwrap_err(),
        ExternalAuthError::DuplicateClaim {
            claim: "sub".to_owned()
        }
    );
    let duplicated_header = r#"{"alg":"ES256","alg":"ES256"}"#;
    assert_eq!(
        code(
            verifier
                .verify(&ES256.sign_raw(duplicated_header, &ok))
                .await
        ),
        "token-malformed"
    );
}

#[tokio::test]
async fn subject_is_trimmed_non_empty_and_free_of_control_characters() {
    let verifier = static_verifier(&data("es256.jwk.json"));
    let session = verifier
        .verify(&ES256.sign(&claims("  user-7 ")))
        .await
        .unwrap();
    assert_eq!(session.user_id, "user-7");
    for bad in ["", "   ", "user\u{7}x", "user\nx", "\u{0}"] {
        assert_eq!(
            verifier
                .verify(&ES256.sign(&claims(bad)))
                .await
                .unwrap_err(),
            ExternalAuthError::InvalidSubject,
            "{bad:?}"
        );
    }
    let mut c = claims("u");
    c.as_object_mut().unwrap().remove("sub");
    assert_eq!(
        verifier.verify(&ES256.sign(&c)).await.unwrap_err(),
        ExternalAuthError::MissingClaim { claim: "sub" }
    );
    c["sub"] = json!(42);
    assert_eq!(
        code(verifier.verify(&ES256.sign(&c)).await),
        "invalid-claims"
    );
}

#[tokio::test]
async fn time_claims_are_checked_against_the_clock() {
    let verifier = static_verifier(&data("es256.jwk.json"));
    let with = |name: &str, value: Value| {
        let mut c = claims("u");
        c[name] = value;
        ES256.sign(&c)
    };
    assert!(verifier.verify(&with("nbf", json!(NOW + 60))).await.is_ok());
    assert_eq!(
        verifier
            .verify(&with("nbf", json!(NOW + 61)))
            .await
            .unwrap_err(),
        ExternalAuthError::NotYetValid {
            nbf: NOW + 61,
            now: NOW
        }
    );
    assert!(verifier.verify(&with("iat", json!(NOW + 60))).await.is_ok());
    assert_eq!(
        code(verifier.verify(&with("iat", json!(NOW + 61))).await),
        "issued-in-future"
    );
    assert_eq!(
        code(verifier.verify(&with("exp", json!("soon"))).await),
        "invalid-claims"
    );
    assert_eq!(
        code(verifier.verify(&with("exp", json!(-1))).await),
        "invalid-claims"
    );
    let mut c = claims("u");
    c.as_object_mut().unwrap().remove("exp");
    assert_eq!(
        verifier.verify(&ES256.sign(&c)).await.unwrap_err(),
        ExternalAuthError::MissingClaim { claim: "exp" }
    );
}

#[tokio::test]
async fn static_jwk_jwk_set_and_pem_keys() {
    for key in [ES256, RS256, EDDSA] {
        let token = key.sign(&claims("u"));
        let no_kid = key.sign_with_kid(None, &claims("u"));
        let jwk = static_verifier(&data(&format!("{}.jwk.json", key.name)));
        assert_eq!(jwk.verify(&token).await.unwrap().user_id, "u");
        assert_eq!(jwk.verify(&no_kid).await.unwrap().user_id, "u");
        let pem = static_verifier(&data(&format!("{}.pub.pem", key.name)));
        assert_eq!(
            pem.verify(&token).await.unwrap().user_id,
            "u",
            "{}",
            key.name
        );
        assert_eq!(pem.verify(&no_kid).await.unwrap().user_id, "u");
        // The PEM key is not the rotated key's.
        let other = ROTATED.sign(&claims("u"));
        if key.alg == Algorithm::ES256 {
            assert_eq!(code(pem.verify(&other).await), "invalid-signature");
        } else {
            assert_eq!(code(pem.verify(&other).await), "algorithm-mismatch");
        }
    }
    let set = static_verifier(&jwks(&["es256", "eddsa"]).to_string());
    set.verify(&ES256.sign(&claims("u"))).await.unwrap();
    set.verify(&EDDSA.sign(&claims("u"))).await.unwrap();
    assert_eq!(
        code(set.verify(&RS256.sign(&claims("u"))).await),
        "unknown-key"
    );
}

#[tokio::test]
async fn the_algorithm_must_match_the_key() {
    let verifier = static_verifier(&data("es256.jwk.json"));
    // An EdDSA token presenting the ES256 key's kid.
    let token = EDDSA.sign_with_kid(Some(ES256.kid()), &claims("u"));
    assert_eq!(
        verifier.verify(&token).await.unwrap_err(),
        ExternalAuthError::AlgorithmMismatch {
            alg: "EdDSA".to_owned()
        }
    );
    // A key whose declared alg does not fit its type is refused at load time.
    let mut wrong = jwk("es256");
    wrong["alg"] = json!("RS256");
    let result = ExternalVerifier::new(
        expecting(ExternalKeySource::Static {
            key: wrong.to_string(),
        }),
        clock(),
    );
    assert_eq!(code(result), "invalid-key");
    // HMAC and `none` are never accepted.
    let hs = jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims("u"),
        &EncodingKey::from_secret(b"secret").unwrap(),
    )
    .unwrap();
    assert_eq!(code(verifier.verify(&hs).await), "unsupported-algorithm");
}

#[tokio::test]
async fn bad_static_keys_and_urls_are_refused_at_construction() {
    for key in [
        "",
        "not a key",
        "{}",
        r#"{"kty":"oct","k":"c2VjcmV0"}"#,
        r#"{"kty":"OKP","crv":"Ed25519","x":"AAAA"}"#,
        r#"{"kty":"EC","crv":"P-256","x":"AAAA","y":"AAAA"}"#,
        "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n",
    ] {
        let result = ExternalVerifier::new(
            expecting(ExternalKeySource::Static {
                key: key.to_owned(),
            }),
            clock(),
        );
        assert_eq!(code(result), "invalid-key", "{key:?}");
    }
    assert_eq!(
        code(ExternalVerifier::new(
            expecting(ExternalKeySource::Static {
                key: r#"{"keys":[]}"#.to_owned()
            }),
            clock()
        )),
        "empty-key-set"
    );
    for url in [
        "http://id.example.com/jwks",
        "ftp://127.0.0.1/jwks",
        "not a url",
    ] {
        let result = ExternalVerifier::new(
            expecting(ExternalKeySource::Jwks {
                url: url.to_owned(),
                options: JwksOptions::default(),
            }),
            clock(),
        );
        assert_eq!(code(result), "invalid-jwks-url", "{url}");
    }
    for url in [
        "https://id.example.com/jwks",
        "http://127.0.0.1:1/jwks",
        "http://[::1]:1/jwks",
        "http://localhost:1/jwks",
    ] {
        let source = ExternalKeySource::Jwks {
            url: url.to_owned(),
            options: JwksOptions::default(),
        };
        assert!(
            ExternalVerifier::new(expecting(source), clock()).is_ok(),
            "{url}"
        );
    }
}

fn es256_key() -> ExternalKeySource {
    ExternalKeySource::Static {
        key: data("es256.jwk.json"),
    }
}

fn checked(config: ExternalAuthConfig) -> ExternalVerifier {
    ExternalVerifier::new(config, clock()).unwrap()
}

#[tokio::test]
async fn issuer_and_audience_are_checked_against_every_accepted_value() {
    let token = ES256.sign(&claims("u"));
    checked(ExternalAuthConfig::new(es256_key(), ISSUER, AUDIENCE))
        .verify(&token)
        .await
        .unwrap();
    // A token of the same provider for another app, or from another issuer.
    let other_app = checked(ExternalAuthConfig::new(es256_key(), ISSUER, "other-app"));
    let error = other_app.verify(&token).await.unwrap_err();
    assert_eq!(error, ExternalAuthError::AudienceMismatch);
    assert_eq!(error.failure(), AuthFailure::Invalid);
    let other_issuer = checked(ExternalAuthConfig::new(
        es256_key(),
        "https://evil.example.com",
        AUDIENCE,
    ));
    assert_eq!(code(other_issuer.verify(&token).await), "issuer-mismatch");
    // Several accepted values: any one matches.
    let several = checked(
        ExternalAuthConfig::new(es256_key(), "https://old.example.com", "other-app")
            .with_issuer(ISSUER)
            .with_audience(AUDIENCE),
    );
    several.verify(&token).await.unwrap();
    let mut c = claims("u");
    c["aud"] = json!(["a", "my-app"]);
    several.verify(&ES256.sign(&c)).await.unwrap();
    c["aud"] = json!(["a", "b"]);
    assert_eq!(
        code(several.verify(&ES256.sign(&c)).await),
        "audience-mismatch"
    );
    // Absent claims fail the checks.
    for claim in ["aud", "iss"] {
        let mut c = claims("u");
        c.as_object_mut().unwrap().remove(claim);
        let error = several.verify(&ES256.sign(&c)).await.unwrap_err();
        assert_eq!(
            error.code(),
            format!(
                "{}-mismatch",
                if claim == "aud" { "audience" } else { "issuer" }
            )
        );
    }
}

#[tokio::test]
async fn a_verifier_without_expected_issuer_and_audience_is_refused_unless_skipped() {
    let none = ExternalAuthConfig {
        issuers: vec![],
        audiences: vec![],
        ..ExternalAuthConfig::new(es256_key(), ISSUER, AUDIENCE)
    };
    let error = ExternalVerifier::new(none.clone(), clock()).unwrap_err();
    assert_eq!(
        error,
        ExternalAuthError::ChecksNotConfigured {
            issuer: true,
            audience: true
        }
    );
    assert_eq!(error.code(), "invalid-config");
    assert!(error
        .to_string()
        .contains("an expected issuer and an expected audience"));
    let no_audience = ExternalAuthConfig {
        issuers: vec![ISSUER.into()],
        ..none.clone()
    };
    assert_eq!(
        ExternalVerifier::new(no_audience.clone(), clock()).unwrap_err(),
        ExternalAuthError::ChecksNotConfigured {
            issuer: false,
            audience: true
        }
    );
    // Skipping a check is an explicit choice; then tokens of any audience get in.
    let skipped = ExternalAuthConfig {
        insecure_skip_audience_check: true,
        ..no_audience
    };
    let verifier = checked(skipped.clone());
    let mut c = claims("u");
    c["aud"] = json!("some-other-app");
    verifier.verify(&ES256.sign(&c)).await.unwrap();
    // A skip next to values, or a blank value, is a contradiction.
    for config in [
        ExternalAuthConfig {
            audiences: vec![AUDIENCE.into()],
            ..skipped
        },
        ExternalAuthConfig::new(es256_key(), " ", AUDIENCE),
        ExternalAuthConfig::new(es256_key(), ISSUER, ""),
    ] {
        let error = ExternalVerifier::new(config, clock()).unwrap_err();
        assert_eq!(error.code(), "invalid-config", "{error}");
    }
}

#[test]
fn failure_maps_expired_missing_and_everything_else_invalid() {
    assert_eq!(
        ExternalAuthError::Expired { exp: 1, now: 2 }.failure(),
        AuthFailure::Expired
    );
    assert_eq!(
        ExternalAuthError::MissingToken.failure(),
        AuthFailure::Missing
    );
    for error in [
        ExternalAuthError::InvalidSignature,
        ExternalAuthError::EmptyKeySet,
        ExternalAuthError::InvalidSubject,
        ExternalAuthError::UnknownKey { kid: None },
    ] {
        assert_eq!(error.failure(), AuthFailure::Invalid);
    }
}

fn session(user: &str) -> Session {
    Session::new(user, AuthMode::External)
}

#[test]
fn token_cache_hit_miss_and_expiry() {
    let cache = VerifiedTokenCache::new(10);
    assert!(cache.get("a.b.c", NOW).is_none());
    cache.insert("a.b.c", session("u1"), NOW + 10);
    assert_eq!(cache.get("a.b.c", NOW).unwrap().user_id, "u1");
    assert_eq!(cache.get("a.b.c", NOW + 9).unwrap().user_id, "u1");
    assert!(cache.get("a.b.d", NOW).is_none(), "another token misses");
    assert!(cache.get("a.b.c", NOW + 10).is_none(), "never at exp");
    assert!(cache.is_empty(), "an expired entry is dropped on lookup");
    assert!(cache.get("a.b.c", NOW).is_none(), "and stays gone");
    cache.insert("x", session("u2"), NOW);
    assert!(cache.get("x", NOW).is_none(), "already expired on insert");
}

#[test]
fn token_cache_evicts_the_least_recently_used_at_capacity() {
    let cache = VerifiedTokenCache::new(3);
    for (token, user) in [("t1", "u1"), ("t2", "u2"), ("t3", "u3")] {
        cache.insert(token, session(user), NOW + 100);
    }
    assert_eq!(cache.len(), 3);
    assert!(cache.get("t1", NOW).is_some()); // t1 now most recent; t2 oldest.
    cache.insert("t4", session("u4"), NOW + 100);
    assert_eq!(cache.len(), 3);
    assert!(
        cache.get("t2", NOW).is_none(),
        "least recently used evicted"
    );
    for token in ["t1", "t3", "t4"] {
        assert!(cache.get(token, NOW).is_some(), "{token}");
    }
    // Re-inserting a present token replaces it without evicting another.
    cache.insert("t3", session("u3b"), NOW + 100);
    assert_eq!(cache.len(), 3);
    assert_eq!(cache.get("t3", NOW).unwrap().user_id, "u3b");
    let none = VerifiedTokenCache::new(0);
    none.insert("t", session("u"), NOW + 100);
    assert!(none.get("t", NOW).is_none());
}

#[test]
fn token_cache_is_keyed_by_the_sha256_of_the_token() {
    let cache = VerifiedTokenCache::new(4);
    let token = ES256.sign(&claims("u"));
    cache.insert(&token, session("u"), NOW + 100);
    let hash: [u8; 32] = Sha256::digest(token.as_bytes()).into();
    assert_eq!(token_hash(&token), hash);
    assert!(cache.contains_hash(&hash));
    assert!(!cache.contains_hash(&token_hash("other")));
    let debug = format!("{cache:?}");
    assert!(!debug.contains(&token[..20]), "{debug}");
}

#[test]
fn token_cache_is_shared_between_threads() {
    let cache = Arc::new(VerifiedTokenCache::new(64));
    // Four threads fill the cache exactly to capacity: nothing may be evicted.
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let cache = cache.clone();
            std::thread::spawn(move || {
                for i in 0..16 {
                    let token = format!("token-{t}-{i}");
                    cache.insert(&token, session(&token), NOW + 100);
                }
                for round in 0..50 {
                    for i in 0..16 {
                        let token = format!("token-{t}-{i}");
                        let found = cache.get(&token, NOW + round).map(|s| s.user_id);
                        assert_eq!(found, Some(token));
                    }
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().unwrap();
    }
    assert_eq!(cache.len(), 64);
    cache.insert("one-more", session("u"), NOW + 100);
    assert_eq!(cache.len(), 64);
}

#[tokio::test]
async fn cached_tokens_skip_verification_until_exp() {
    let stub = Stub::start(jwks(&["es256"])).await;
    let clock = clock();
    let verifier = stub.verifier(&clock);
    let cache = VerifiedTokenCache::new(16);
    let token = ES256.sign(&claims("u"));
    verifier.verify_cached(&token, &cache).await.unwrap();
    assert_eq!(cache.len(), 1);
    // The endpoint dies and the stale window passes: a full verify fails, the cache
    // still answers for the already verified token.
    stub.fail();
    clock.set(NOW + 1000);
    assert_eq!(code(verifier.verify(&token).await), "jwks-unavailable");
    let session = verifier.verify_cached(&token, &cache).await.unwrap();
    assert_eq!(session.user_id, "u");
    // At exp the cache no longer answers.
    stub.serve(jwks(&["es256"]));
    clock.set(NOW + 3600);
    assert_eq!(
        code(verifier.verify_cached(&token, &cache).await),
        "expired"
    );
}
