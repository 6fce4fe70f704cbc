//! Runs the built `localfirst` binary: identity, token and phrase commands,
//! exit codes (0 ok, 1 rejected input, 2 usage) and JSON output.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed unwrap is a failed test

use serde_json::Value;
use support::{run, run_json as json, ZERO_ID, ZERO_SECRET};

mod support;

const ZERO_PUB: &str = "-fUyyDuDwhS56I9m_xWQZ_Y9I7tAW4yCvlTdKga4BtQ";

fn vectors() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../core/tests/data/identity.json"
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn identity_new_is_consistent_with_derive_and_phrase() {
    let (code, new) = json(&["identity", "new"], None);
    assert_eq!(code, 0);
    let secret = new["secret"].as_str().unwrap();
    assert_eq!(secret.len(), 43);
    let (_, derived) = json(&["identity", "derive", "--secret", secret], None);
    assert_eq!(derived["user_id"], new["user_id"]);
    assert_eq!(derived["public_key"], new["public_key"]);
    let (_, decoded) = json(
        &[
            "phrase",
            "decode",
            "--phrase",
            new["phrase"].as_str().unwrap(),
        ],
        None,
    );
    assert_eq!(decoded["secret"], new["secret"]);
    let (_, other) = json(&["identity", "new"], None);
    assert_ne!(other["user_id"], new["user_id"]);
}

#[test]
fn derive_reads_the_secret_from_stdin() {
    let (code, out) = json(
        &["identity", "derive", "--secret", "-"],
        Some(&format!("{ZERO_SECRET}\n")),
    );
    assert_eq!(code, 0);
    assert_eq!(out["user_id"], ZERO_ID);
    assert_eq!(out["public_key"], ZERO_PUB);
}

#[test]
fn mint_reproduces_vectors_and_verify_accepts_them() {
    for case in vectors()["vectors"].as_array().unwrap() {
        let secret = case["seed_b64url"].as_str().unwrap();
        let (code, minted) = json(
            &[
                "token",
                "mint",
                "--secret",
                secret,
                "--audience",
                "my-app",
                "--iat",
                "1700000000",
            ],
            None,
        );
        assert_eq!(code, 0);
        assert_eq!(
            minted["token"],
            case["local_first_token_my_app_iat1700000000_ttl3600"]
        );
        let (_, anon) = json(
            &[
                "token",
                "mint",
                "--secret",
                secret,
                "--audience",
                "my-app",
                "--iat",
                "1700000000",
                "--issuer",
                "anonymous",
            ],
            None,
        );
        assert_eq!(
            anon["token"],
            case["anonymous_token_my_app_iat1700000000_ttl3600"]
        );
        let (code, verified) = json(
            &[
                "token",
                "verify",
                "--token",
                minted["token"].as_str().unwrap(),
                "--audience",
                "my-app",
                "--now",
                "1700000001",
            ],
            None,
        );
        assert_eq!(code, 0);
        assert_eq!(verified["ok"], true);
        assert_eq!(verified["id"], case["user_id"]);
        assert_eq!(verified["error"], Value::Null);
        assert_eq!(verified["code"], Value::Null);
    }
}

#[test]
fn verify_rejections_exit_1_with_code() {
    let token = vectors()["vectors"][0]["local_first_token_my_app_iat1700000000_ttl3600"]
        .as_str()
        .unwrap()
        .to_owned();
    let cases: [(&[&str], &str); 4] = [
        (&["--audience", "my-app", "--now", "1700003600"], "expired"),
        (
            &["--audience", "other", "--now", "1700000001"],
            "audience-mismatch",
        ),
        (
            &[
                "--audience",
                "my-app",
                "--now",
                "1700000001",
                "--max-ttl",
                "60",
            ],
            "ttl-too-long",
        ),
        (
            &["--audience", "my-app", "--now", "1699999000"],
            "issued-in-future",
        ),
    ];
    for (extra, expected) in cases {
        let mut args = vec!["token", "verify", "--token", token.as_str()];
        args.extend_from_slice(extra);
        let (code, out) = json(&args, None);
        assert_eq!(code, 1, "{expected}");
        assert_eq!(out["ok"], false);
        assert_eq!(out["id"], Value::Null);
        assert_eq!(out["code"], expected);
        assert!(out["error"].as_str().unwrap().len() > 5);
    }
    let (code, out) = json(
        &["token", "verify", "--token", "-", "--audience", "a"],
        Some("a.b\n"),
    );
    assert_eq!((code, out["code"].as_str()), (1, Some("token-malformed")));
    let huge = "x".repeat(100_000);
    let (code, out) = json(
        &["token", "verify", "--token", "-", "--audience", "a"],
        Some(&huge),
    );
    assert_eq!((code, out["code"].as_str()), (1, Some("token-too-large")));
}

#[test]
fn bad_secrets_are_rejected_with_codes() {
    for (secret, expected) in [
        ("AAAA", "secret-invalid-length"),
        (
            "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
            "secret-padding",
        ),
        (
            "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA+",
            "secret-invalid-character",
        ),
        (
            "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB",
            "secret-non-canonical",
        ),
    ] {
        let (code, out) = json(&["identity", "derive", "--secret", secret], None);
        assert_eq!(code, 1);
        assert_eq!(out["code"], expected);
    }
    let (code, out) = json(&["identity", "derive", "--secret", "-"], Some(""));
    assert_eq!((code, out["code"].as_str()), (1, Some("stdin")));
}

#[test]
fn phrase_commands_round_trip_and_report_errors() {
    let case = &vectors()["vectors"][2];
    let (code, out) = json(
        &[
            "phrase",
            "encode",
            "--secret",
            case["seed_b64url"].as_str().unwrap(),
        ],
        None,
    );
    assert_eq!(code, 0);
    assert_eq!(out["phrase"], case["recovery_phrase"]);
    let shouted = case["recovery_phrase"].as_str().unwrap().to_uppercase();
    let (code, out) = json(
        &["phrase", "decode", "--phrase", "-"],
        Some(&format!("  {shouted}  \n")),
    );
    assert_eq!(code, 0);
    assert_eq!(out["secret"], case["seed_b64url"]);
    assert_eq!(out["user_id"], case["user_id"]);
    let (code, out) = json(&["phrase", "decode", "--phrase", "abandon abandon"], None);
    assert_eq!((code, out["code"].as_str()), (1, Some("invalid-length")));
    assert_eq!(out["error"], "Expected 24 words, got 2");
}

#[test]
fn usage_errors_exit_2_and_human_output_has_no_json() {
    assert_eq!(run(&["token", "bogus"], None).status.code(), Some(2));
    assert_eq!(
        run(&["token", "mint", "--audience", "x"], None)
            .status
            .code(),
        Some(2)
    );
    assert_eq!(run(&["--help"], None).status.code(), Some(0));
    let out = run(&["identity", "derive", "--secret", ZERO_SECRET], None);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains(ZERO_ID) && !text.contains('{'), "{text}");
    let out = run(&["identity", "derive", "--secret", "short"], None);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8(out.stderr)
        .unwrap()
        .contains("secret-invalid-length"));
}

#[test]
fn verify_proof_takes_the_backend_s_limit_and_names_the_audience() {
    // A 900 s proof, as a Jazz client may ask for: over our default of 600 s.
    let (code, minted) = json(
        &[
            "token",
            "mint",
            "--secret",
            ZERO_SECRET,
            "--audience",
            "signup",
            "--iat",
            "1700000000",
            "--ttl",
            "900",
        ],
        None,
    );
    assert_eq!(code, 0, "{minted}");
    let proof = minted["token"].as_str().unwrap();
    let verify = |extra: &[&str]| {
        let mut args = vec![
            "token",
            "verify-proof",
            "--token",
            proof,
            "--now",
            "1700000001",
        ];
        args.extend_from_slice(extra);
        json(&args, None)
    };
    let (code, out) = verify(&["--audience", "signup"]);
    assert_eq!(
        (code, out["code"].as_str()),
        (1, Some("ttl-too-long")),
        "{out}"
    );
    let (code, out) = verify(&["--audience", "signup", "--max-ttl", "900"]);
    assert_eq!(code, 0, "{out}");
    assert_eq!(out["ok"], true);
    assert_eq!(out["id"], ZERO_ID);
    for bad in ["0", "3601"] {
        let (code, out) = verify(&["--audience", "signup", "--max-ttl", bad]);
        assert_eq!(code, 1, "{out}");
        assert_eq!(out["code"], "invalid-argument", "{out}");
        assert_eq!(out["id"], Value::Null);
    }
    // The refusal names the audience as given, not only its UUID.
    let (code, out) = verify(&["--audience", "other-app", "--max-ttl", "900"]);
    assert_eq!(code, 1, "{out}");
    assert_eq!(out["code"], "audience-mismatch");
    assert!(
        out["error"].as_str().unwrap().contains("\"other-app\""),
        "{out}"
    );
}
