//! Runs the built `localfirst` binary against file stores: get-or-create,
//! load, save, clear, namespacing, secrecy of the output, damaged files, and
//! 16 processes racing `get-or-create` on one directory.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed unwrap is a failed test

use std::process::Child;

use serde_json::Value;
use support::{parse_json as parse, run, spawn, ZERO_ID, ZERO_SECRET};
use tempfile::TempDir;

mod support;

/// Runs `localfirst --json secret <args>`; returns the exit code and the JSON.
fn secret(args: &[&str], stdin: Option<&str>) -> (i32, Value) {
    let mut full = vec!["--json", "secret"];
    full.extend_from_slice(args);
    let out = run(&full, stdin);
    (out.status.code().unwrap(), parse(&out))
}

fn store_arg(dir: &TempDir) -> String {
    format!("file:{}", dir.path().join("secrets").display())
}

#[test]
fn get_or_create_persists_and_load_agrees() {
    let dir = TempDir::new().unwrap();
    let store = store_arg(&dir);
    let (code, first) = secret(&["get-or-create", "--store", &store], None);
    assert_eq!(code, 0, "{first}");
    let user_id = first["user_id"].as_str().unwrap().to_owned();
    assert_eq!(user_id.len(), 36);
    assert_eq!(first["storage_key"], "jazz-auth-secret");
    assert!(
        first.get("secret").is_none(),
        "secret printed without --reveal"
    );

    let (code, again) = secret(&["get-or-create", "--store", &store], None);
    assert_eq!(code, 0);
    assert_eq!(again["user_id"], first["user_id"]);
    assert_eq!(again["public_key"], first["public_key"]);

    let (code, loaded) = secret(&["load", "--store", &store, "--reveal"], None);
    assert_eq!(code, 0);
    assert_eq!(loaded["user_id"], first["user_id"]);
    let revealed = loaded["secret"].as_str().unwrap().to_owned();
    assert_eq!(revealed.len(), 43);

    // The revealed secret really is the stored identity.
    let derived = run(
        &["--json", "identity", "derive", "--secret", "-"],
        Some(&revealed),
    );
    assert_eq!(parse(&derived)["user_id"], first["user_id"]);

    // Neither human nor JSON output of the plain commands contains it.
    for args in [
        vec!["secret", "get-or-create", "--store", &store],
        vec!["secret", "load", "--store", &store],
        vec!["--json", "secret", "load", "--store", &store],
    ] {
        let out = run(&args, None);
        assert!(out.status.success());
        let all = [out.stdout, out.stderr].concat();
        assert!(
            !String::from_utf8_lossy(&all).contains(&revealed),
            "{args:?} printed the secret"
        );
    }
}

#[test]
fn save_clear_and_absent() {
    let dir = TempDir::new().unwrap();
    let store = store_arg(&dir);
    let (code, missing) = secret(&["load", "--store", &store], None);
    assert_eq!(code, 1);
    assert_eq!(missing["code"], "absent");

    let (code, saved) = secret(
        &["save", "--store", &store, "--secret", "-"],
        Some(ZERO_SECRET),
    );
    assert_eq!(code, 0, "{saved}");
    assert_eq!(saved["user_id"], ZERO_ID);
    let (_, loaded) = secret(&["load", "--store", &store], None);
    assert_eq!(loaded["user_id"], ZERO_ID);
    let (code, created) = secret(&["get-or-create", "--store", &store], None);
    assert_eq!(code, 0);
    assert_eq!(
        created["user_id"], ZERO_ID,
        "get-or-create replaced a stored secret"
    );

    let (code, cleared) = secret(&["clear", "--store", &store], None);
    assert_eq!(code, 0);
    assert_eq!(cleared["cleared"], true);
    let (code, missing) = secret(&["load", "--store", &store], None);
    assert_eq!((code, missing["code"].as_str()), (1, Some("absent")));
    let (code, _) = secret(&["clear", "--store", &store], None);
    assert_eq!(code, 0, "clearing an absent secret must succeed");

    let (code, fresh) = secret(&["get-or-create", "--store", &store], None);
    assert_eq!(code, 0);
    assert_ne!(fresh["user_id"], ZERO_ID);

    let (code, bad) = secret(&["save", "--store", &store, "--secret", "AAAA"], None);
    assert_eq!(code, 1);
    assert_eq!(bad["code"], "secret-invalid-length");
    let (_, still) = secret(&["load", "--store", &store], None);
    assert_eq!(
        still["user_id"], fresh["user_id"],
        "a rejected save changed the store"
    );
}

#[test]
fn storage_keys_keep_apps_apart() {
    let dir = TempDir::new().unwrap();
    let store = store_arg(&dir);
    let (_, a) = secret(
        &["get-or-create", "--store", &store, "--app-id", "app-a"],
        None,
    );
    let (_, b) = secret(
        &["get-or-create", "--store", &store, "--app-id", "app-b"],
        None,
    );
    let (_, plain) = secret(&["get-or-create", "--store", &store], None);
    let (_, user) = secret(
        &[
            "get-or-create",
            "--store",
            &store,
            "--app-id",
            "app-a",
            "--user-id",
            "u 1",
        ],
        None,
    );
    let (_, explicit) = secret(
        &["get-or-create", "--store", &store, "--key", "custom"],
        None,
    );
    assert_eq!(a["storage_key"], "jazz-auth-secret:app-a");
    assert_eq!(user["storage_key"], "jazz-auth-secret:app-a:u%201");
    assert_eq!(explicit["storage_key"], "custom");
    let ids: std::collections::HashSet<_> = [&a, &b, &plain, &user, &explicit]
        .iter()
        .map(|v| v["user_id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids.len(), 5);

    secret(&["clear", "--store", &store, "--app-id", "app-a"], None);
    let (code, _) = secret(&["load", "--store", &store, "--app-id", "app-a"], None);
    assert_eq!(code, 1);
    let (_, b_again) = secret(&["load", "--store", &store, "--app-id", "app-b"], None);
    assert_eq!(b_again["user_id"], b["user_id"]);
}

#[test]
fn sixteen_processes_racing_get_or_create_agree() {
    for round in 0..5 {
        let dir = TempDir::new().unwrap();
        let store = store_arg(&dir);
        let children: Vec<Child> = (0..16)
            .map(|_| {
                spawn(&[
                    "--json",
                    "secret",
                    "get-or-create",
                    "--store",
                    &store,
                    "--app-id",
                    "race",
                ])
            })
            .collect();
        let ids: Vec<String> = children
            .into_iter()
            .map(|child| {
                let out = child.wait_with_output().unwrap();
                assert_eq!(out.status.code(), Some(0), "round {round}: {out:?}");
                parse(&out)["user_id"].as_str().unwrap().to_owned()
            })
            .collect();
        assert!(
            ids.iter().all(|id| id == &ids[0]),
            "round {round}: processes created different identities: {ids:?}"
        );
        let (_, loaded) = secret(&["load", "--store", &store, "--app-id", "race"], None);
        assert_eq!(loaded["user_id"].as_str(), Some(ids[0].as_str()));
    }
}

#[test]
fn damaged_file_is_reported_and_kept() {
    let dir = TempDir::new().unwrap();
    let store = store_arg(&dir);
    let (code, _) = secret(&["get-or-create", "--store", &store], None);
    assert_eq!(code, 0);
    let file = dir.path().join("secrets").join("jazz-auth-secret.secret");
    std::fs::write(&file, b"localfirst-secret-v1\ntruncat").unwrap();
    for command in ["load", "get-or-create"] {
        let (code, out) = secret(&[command, "--store", &store], None);
        assert_eq!(code, 1, "{command}: {out}");
        assert_eq!(out["code"], "secret-store-corrupted", "{command}");
    }
    assert_eq!(
        std::fs::read(&file).unwrap(),
        b"localfirst-secret-v1\ntruncat",
        "a damaged secret file was overwritten"
    );
    let human = run(&["secret", "get-or-create", "--store", &store], None);
    assert_eq!(human.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&human.stderr).contains("error [secret-store-corrupted]"));
}

#[test]
fn bad_store_arguments_are_usage_errors() {
    for args in [
        vec!["secret", "load", "--store", "keychain:x"],
        vec!["secret", "load", "--store", "file:"],
        vec!["secret", "load"],
        vec![
            "secret",
            "load",
            "--store",
            "file:/tmp/x",
            "--key",
            "k",
            "--app-id",
            "a",
        ],
    ] {
        let out = run(&args, None);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
    }
    let (code, out) = secret(
        &["load", "--store", "file:/tmp/unused-lf", "--key", "  "],
        None,
    );
    assert_eq!(code, 1);
    assert_eq!(out["code"], "invalid-storage-key");
}

#[test]
fn header_only_and_crlf_files_get_messages_that_say_so() {
    let dir = TempDir::new().unwrap();
    let store = store_arg(&dir);
    let (code, saved) = secret(&["save", "--store", &store, "--secret", ZERO_SECRET], None);
    assert_eq!(code, 0, "{saved}");
    let file = dir.path().join("secrets").join("jazz-auth-secret.secret");
    let crlf = format!("localfirst-secret-v1\r\n{ZERO_SECRET}\r\n");
    for (contents, expected) in [
        ("localfirst-secret-v1\n", "holds only the header line"),
        ("localfirst-secret-v1", "holds only the header line"),
        (crlf.as_str(), "CRLF"),
    ] {
        std::fs::write(&file, contents).unwrap();
        let (code, out) = secret(&["load", "--store", &store], None);
        assert_eq!(code, 1, "{contents:?}: {out}");
        assert_eq!(out["code"], "secret-store-corrupted", "{contents:?}");
        let message = out["error"].as_str().unwrap();
        assert!(message.contains(expected), "{contents:?}: {message}");
        assert!(
            !message.contains("does not start with"),
            "{contents:?}: {message}"
        );
        assert!(
            !message.contains(ZERO_SECRET),
            "the message quotes the file"
        );
    }
}

#[test]
fn load_and_clear_never_create_the_store_directory() {
    let dir = TempDir::new().unwrap();
    let missing = dir.path().join("not-yet").join("secrets");
    let store = format!("file:{}", missing.display());
    let (code, out) = secret(&["load", "--store", &store], None);
    assert_eq!((code, out["code"].as_str()), (1, Some("absent")), "{out}");
    let (code, out) = secret(&["clear", "--store", &store, "--app-id", "a"], None);
    assert_eq!(code, 0, "{out}");
    assert_eq!(out["cleared"], true);
    assert!(
        !dir.path().join("not-yet").exists(),
        "a read or a clear created the store directory"
    );
    // A write creates it.
    let (code, _) = secret(&["get-or-create", "--store", &store], None);
    assert_eq!(code, 0);
    assert!(missing.is_dir());
}

#[test]
fn a_tilde_store_is_under_home() {
    let home = TempDir::new().unwrap();
    let cwd = TempDir::new().unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_localfirst"))
        .args([
            "--json",
            "secret",
            "get-or-create",
            "--store",
            "file:~/lf-secrets",
        ])
        .current_dir(cwd.path())
        .env("HOME", home.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(home.path().join("lf-secrets").is_dir());
    assert!(
        !cwd.path().join("~").exists(),
        "a literal `~` directory was created"
    );
    // `~user` forms are refused, not taken literally.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_localfirst"))
        .args(["--json", "secret", "load", "--store", "file:~other/x"])
        .current_dir(cwd.path())
        .env("HOME", home.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert_eq!(parse(&out)["code"], "usage");
    assert!(!cwd.path().join("~other").exists());
}

// flock(1) is a util-linux tool; the core's own test holds the lock from a child
// process on every platform.
#[cfg(target_os = "linux")]
#[test]
fn a_held_store_lock_fails_after_the_wait_with_a_code() {
    let dir = TempDir::new().unwrap();
    let store = store_arg(&dir);
    let (code, _) = secret(&["get-or-create", "--store", &store], None);
    assert_eq!(code, 0);
    let lock = dir.path().join("secrets").join("jazz-auth-secret.lock");
    // Another process holds the store's lock: flock(1) keeps it until its command,
    // which waits for its stdin to close, ends.
    let mut holder = std::process::Command::new("flock")
        .args(["--exclusive", "--close"])
        .arg(&lock)
        .args(["-c", "echo held; cat >/dev/null"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(holder.stdout.take().unwrap()),
        &mut line,
    )
    .unwrap();
    assert_eq!(line.trim(), "held");
    let started = std::time::Instant::now();
    let (code, out) = secret(
        &["get-or-create", "--store", &store, "--lock-timeout", "1"],
        None,
    );
    let waited = started.elapsed();
    drop(holder.stdin.take());
    assert!(holder.wait().unwrap().success());
    assert_eq!(code, 1, "{out}");
    assert_eq!(out["code"], "secret-store-locked", "{out}");
    assert!(out["error"].as_str().unwrap().contains("1 s"), "{out}");
    assert!(
        waited >= std::time::Duration::from_secs(1),
        "gave up before the wait: {waited:?}"
    );
    // Released: the same command succeeds.
    let (code, out) = secret(
        &["get-or-create", "--store", &store, "--lock-timeout", "60"],
        None,
    );
    assert_eq!(code, 0, "{out}");
}
