//! Runs `localfirst demo` as a real process: every step runs and passes, the
//! JSON form tells the same story, nothing secret but the phrase is printed,
//! and the temp dir is cleaned up.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed unwrap is a failed test

use std::process::{Command, Output};
use std::time::{Duration, Instant};

use localfirst_core::phrase::phrase_to_secret;
use serde_json::Value;

const STEPS: [&str; 15] = [
    "1. Start the embedded identity provider",
    "2. Start the embedded sync server",
    "3. Device A: create a local-first identity",
    "4. Show the recovery phrase",
    "5. Device A: write rows and sync",
    "6. Device B: restore from the recovery phrase and sync",
    "7. Device A: mint an identity proof for the provider",
    "8. The provider verifies the proof and issues a JWT",
    "9. Device A: back up the secret into the provider's vault",
    "10. Device C: sign in through the provider and restore from the vault (no phrase)",
    "11. Device A: recreate the Db in external mode",
    "12. The JWT expires",
    "13. Sync: the server rejects the expired JWT, exactly one refresh, the queue flushes",
    "14. Device A: log out with wipe",
    "15. Shut down",
];

const CHECKS: [&str; 16] = [
    "[ok] the vault was empty: device A's secret was written and read back",
    "[ok] device C got the same user id from the vault, no phrase typed",
    "[ok] device C sees the same rows",
    "[ok] auth mode is local-first and the session is this user",
    "[ok] the server acknowledged all 3 rows",
    "[ok] device B sees the same rows",
    "[ok] the JWT's sub is the local-first user id",
    "[ok] the proof names this user and the provider's audience",
    "[ok] auth mode is external with the same user id",
    "[ok] the same rows are there",
    "[ok] the server rejected the expired JWT (auth state error: expired)",
    "[ok] exactly one refresh (one /token call)",
    "[ok] all 5 queued writes were acknowledged",
    "[ok] the server has them: device B now sees all 8 rows",
    "[ok] no rows are left locally",
    "[ok] the secret is still in the store (same user id)",
];

fn demo(args: &[&str], tmp: &std::path::Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_localfirst"))
        .args(args)
        .env("TMPDIR", tmp)
        .output()
        .unwrap()
}

fn phrase_in(text: &str) -> String {
    text.lines()
        .find_map(|line| line.trim().strip_prefix("recovery phrase: "))
        .unwrap_or_else(|| panic!("no recovery phrase line in {text}"))
        .to_owned()
}

#[test]
fn demo_runs_every_step_and_exits_0() {
    let tmp = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let out = demo(&["demo"], tmp.path());
    let elapsed = started.elapsed();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(0),
        "stdout:\n{stdout}\nstderr:\n{stderr}"
    );
    let mut from = 0;
    for step in STEPS {
        let at = stdout[from..]
            .find(&format!("\n{step}"))
            .unwrap_or_else(|| panic!("missing step {step:?} (in order) in:\n{stdout}"));
        from += at + 1;
    }
    for check in CHECKS {
        assert!(stdout.contains(check), "missing {check:?} in:\n{stdout}");
    }
    assert!(!stdout.contains("[FAILED]"), "{stdout}");
    assert!(stdout.contains("Keep it secret"), "{stdout}");
    assert!(stdout.contains("getAuthState(): {\"authMode\":\"external\""));
    assert!(stdout.contains("provider /token calls: 1"), "{stdout}");

    // The phrase is shown (that is the step); the secret itself and the tokens are not.
    let phrase = phrase_in(&stdout);
    assert_eq!(phrase.split_whitespace().count(), 24);
    let secret = phrase_to_secret(&phrase).unwrap();
    assert!(!stdout.contains(secret.to_base64url().as_str()));
    assert!(!stderr.contains(secret.to_base64url().as_str()));
    assert!(!stdout.contains("eyJ"), "no JWT is printed:\n{stdout}");

    // Everything the demo created lived in the temp dir and is gone.
    let left: Vec<_> = std::fs::read_dir(tmp.path()).unwrap().collect();
    assert!(left.is_empty(), "left behind: {left:?}");
    assert!(elapsed < Duration::from_secs(30), "took {elapsed:?}");
}

#[test]
fn demo_json_prints_one_object_per_event_and_a_summary() {
    let tmp = tempfile::tempdir().unwrap();
    let out = demo(&["--json", "demo"], tmp.path());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    let events: Vec<Value> = stdout
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}")))
        .collect();
    let titles: Vec<&str> = events
        .iter()
        .filter_map(|e| e.get("title").and_then(Value::as_str))
        .collect();
    assert_eq!(titles.len(), STEPS.len());
    for (title, step) in titles.iter().zip(STEPS) {
        let (_, name) = step.split_once(". ").unwrap();
        assert!(title.starts_with(name), "{title:?} vs {step:?}");
    }
    let checks: Vec<&Value> = events.iter().filter(|e| e.get("check").is_some()).collect();
    assert!(checks.iter().all(|c| c["ok"] == true), "{stdout}");
    let summary = events.last().unwrap();
    assert_eq!(summary["ok"], true);
    assert_eq!(summary["steps"], STEPS.len());
    assert_eq!(summary["checks"], checks.len());
    assert!(checks.len() >= CHECKS.len());
}
