//! The `localfirst` binary at its edges: values that start with `-`, output that
//! cannot be written, unbounded or blocking input, `--json` on every outcome, inputs
//! validated before the secret store is touched, and storage keys that never collide.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed unwrap is a failed test

use std::fs::File;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use support::{parse_json, run, run_json, ZERO_ID, ZERO_SECRET};

mod support;

/// A secret whose base64url form starts with `-` (1 in 64 do).
const DASH_SECRET: &str = "-XbS2cLfzin9WNAjo0B6StYBuWraK6dKYvgzT129Jn4";

/// Runs the binary with stdin and stdout taken from the given files.
fn run_with(args: &[&str], stdin: Stdio, stdout: Stdio) -> Output {
    let child = Command::new(env!("CARGO_BIN_EXE_localfirst"))
        .args(args)
        .stdin(stdin)
        .stdout(stdout)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_bounded(child)
}

/// Waits at most 20 s: a command that hangs fails the test instead of hanging it.
fn wait_bounded(mut child: std::process::Child) -> Output {
    let deadline = Instant::now() + Duration::from_secs(20);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            child.kill().unwrap();
            panic!("the command hung");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn dir_entries(dir: &Path) -> Vec<String> {
    match std::fs::read_dir(dir) {
        Ok(entries) => entries
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect(),
        Err(_) => Vec::new(),
    }
}

#[test]
fn values_starting_with_a_dash_are_values() {
    let (code, derived) = run_json(&["identity", "derive", "--secret", DASH_SECRET], None);
    assert_eq!(code, 0, "{derived}");
    assert!(derived["user_id"].as_str().unwrap().len() == 36);

    let (code, phrase) = run_json(&["phrase", "encode", "--secret", DASH_SECRET], None);
    assert_eq!(code, 0, "{phrase}");
    assert_eq!(phrase["user_id"], derived["user_id"]);

    // A negative lifetime is a range error, not a usage error.
    let (code, out) = run_json(
        &[
            "token",
            "mint",
            "--secret",
            ZERO_SECRET,
            "--audience",
            "a",
            "--ttl",
            "-1",
        ],
        None,
    );
    assert_eq!((code, out["code"].as_str()), (1, Some("invalid-ttl")));

    // A token starting with `-` reaches the verifier.
    let (code, out) = run_json(
        &[
            "token",
            "verify",
            "--token",
            "-abc.def.ghi",
            "--audience",
            "a",
        ],
        None,
    );
    assert_eq!(code, 1);
    assert_eq!(out["ok"], false);
    assert_eq!(out["code"], "invalid-header", "{out}");

    // `-` alone still means stdin.
    let (code, out) = run_json(
        &["identity", "derive", "--secret", "-"],
        Some(&format!("{DASH_SECRET}\n")),
    );
    assert_eq!((code, &out["user_id"]), (0, &derived["user_id"]));

    let dir = tempfile::tempdir().unwrap();
    let store = format!("file:{}", dir.path().join("s").display());
    let (code, saved) = run_json(
        &[
            "secret",
            "save",
            "--store",
            &store,
            "--app-id",
            "-app",
            "--secret",
            DASH_SECRET,
        ],
        None,
    );
    assert_eq!(code, 0, "{saved}");
    assert_eq!(saved["user_id"], derived["user_id"]);
    assert_eq!(saved["storage_key"], "jazz-auth-secret:-app");
}

#[test]
fn output_that_cannot_be_written_is_an_error() {
    for args in [
        vec!["--json", "identity", "new"],
        vec!["identity", "new"],
        vec!["--json", "identity", "derive", "--secret", "short"],
        vec!["--help"],
    ] {
        let full = File::options().write(true).open("/dev/full").unwrap();
        let out = run_with(&args, Stdio::null(), Stdio::from(full));
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        assert!(
            stderr(&out).contains("error [output]"),
            "{args:?}: {}",
            stderr(&out)
        );
    }
}

#[test]
fn stdin_is_bounded() {
    for args in [
        vec!["--json", "identity", "derive", "--secret", "-"],
        vec!["--json", "phrase", "decode", "--phrase", "-"],
        vec![
            "--json",
            "token",
            "verify",
            "--token",
            "-",
            "--audience",
            "a",
        ],
    ] {
        let zero = File::open("/dev/zero").unwrap();
        let out = run_with(&args, Stdio::from(zero), Stdio::piped());
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let value = parse_json(&out);
        assert_eq!(value["code"], "input-too-large", "{args:?}");
    }
}

#[test]
fn a_phrase_on_stdin_may_have_one_word_per_line() {
    let (_, new) = run_json(&["identity", "new"], None);
    let sheet: String = new["phrase"]
        .as_str()
        .unwrap()
        .split(' ')
        .map(|word| format!("{word}\n"))
        .collect();
    let (code, decoded) = run_json(&["phrase", "decode", "--phrase", "-"], Some(&sheet));
    assert_eq!(code, 0, "{decoded}");
    assert_eq!(decoded["secret"], new["secret"]);
    let numbered = format!("\n\n{}\t\r\n", sheet.replace('\n', "  \n "));
    let (code, decoded) = run_json(&["phrase", "decode", "--phrase", "-"], Some(&numbered));
    assert_eq!((code, &decoded["user_id"]), (0, &new["user_id"]));
}

#[test]
fn policy_files_are_bounded_and_must_be_regular_files() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data").display().to_string();
    let big = dir.path().join("big.json");
    File::create(&big)
        .unwrap()
        .set_len(64 * 1024 * 1024)
        .unwrap();
    let fifo = dir.path().join("fifo.json");
    assert!(Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    for (file, expected) in [
        (&big, "input-too-large"),
        (&fifo, "input-not-a-file"),
        (&dir.path().to_path_buf(), "input-not-a-file"),
    ] {
        let file = file.display().to_string();
        let args = [
            "--json",
            "db",
            "query",
            "--data-dir",
            &data,
            "--app-id",
            "app",
            "--policies",
            &file,
            "--table",
            "t",
        ];
        let out = run_with(&args, Stdio::null(), Stdio::piped());
        assert_eq!(out.status.code(), Some(1), "{file}");
        assert_eq!(parse_json(&out)["code"], expected, "{file}");
    }
}

#[test]
fn rejected_commands_leave_the_secret_store_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let secrets = dir.path().join("secrets");
    let store = format!("file:{}", secrets.display());
    let data = dir.path().join("data").display().to_string();
    let bad_policies = dir.path().join("bad.json");
    std::fs::write(&bad_policies, "{not json").unwrap();
    let bad_policies = bad_policies.display().to_string();
    let db = |app: &str, extra: &[&str]| -> (i32, Value) {
        let mut args = vec![
            "db",
            "insert",
            "--data-dir",
            &data,
            "--app-id",
            app,
            "--secret-store",
            &store,
        ];
        args.extend_from_slice(extra);
        run_json(&args, None)
    };
    let cases: Vec<(&str, Vec<&str>, &str)> = vec![
        (
            "  ",
            vec!["--table", "t", "--values", "{}"],
            "invalid-config",
        ),
        (
            "app",
            vec![
                "--table",
                "t",
                "--values",
                "{}",
                "--policies",
                &bad_policies,
            ],
            "",
        ),
        (
            "app",
            vec!["--table", "bad name", "--values", "{}"],
            "invalid-name",
        ),
        (
            "app",
            vec!["--table", "t", "--values", "[1]"],
            "invalid-json",
        ),
        (
            "app",
            vec!["--table", "t", "--values", r#"{"$createdBy":"x"}"#],
            "invalid-row",
        ),
    ];
    for (app, extra, expected) in cases {
        let (code, out) = db(app, &extra);
        assert_eq!(code, 1, "{extra:?}: {out}");
        if !expected.is_empty() {
            assert_eq!(out["code"], expected, "{extra:?}");
        }
        assert_eq!(dir_entries(&secrets), Vec::<String>::new(), "{extra:?}");
    }
    let (code, out) = run_json(
        &[
            "secret",
            "get-or-create",
            "--store",
            &store,
            "--app-id",
            " ",
        ],
        None,
    );
    assert_eq!(
        (code, out["code"].as_str()),
        (1, Some("invalid-storage-key"))
    );
    let (code, out) = run_json(
        &["secret", "save", "--store", &store, "--secret", "short"],
        None,
    );
    assert_eq!(
        (code, out["code"].as_str()),
        (1, Some("secret-invalid-length"))
    );
    assert_eq!(dir_entries(&secrets), Vec::<String>::new());
}

#[test]
fn user_session_and_app_ids_never_share_a_key() {
    let dir = tempfile::tempdir().unwrap();
    let store = format!("file:{}", dir.path().join("s").display());
    let mut keys = std::collections::HashSet::new();
    let mut users = std::collections::HashSet::new();
    for flags in [
        vec!["--app-id", "alice"],
        vec!["--user-id", "alice"],
        vec!["--session-id", "alice"],
        vec!["--app-id", "alice", "--user-id", "alice"],
        vec!["--app-id", "alice", "--session-id", "alice"],
        vec!["--user-id", "alice", "--session-id", "alice"],
        vec![],
    ] {
        let mut args = vec!["secret", "get-or-create", "--store", &store];
        args.extend_from_slice(&flags);
        let (code, out) = run_json(&args, None);
        assert_eq!(code, 0, "{flags:?}: {out}");
        assert!(
            keys.insert(out["storage_key"].as_str().unwrap().to_owned()),
            "{flags:?}"
        );
        assert!(
            users.insert(out["user_id"].as_str().unwrap().to_owned()),
            "{flags:?}"
        );
    }
    assert!(keys.contains("jazz-auth-secret:alice"));
    assert!(keys.contains("jazz-auth-secret"));
}

#[test]
fn json_mode_prints_one_object_for_every_outcome() {
    for args in [
        vec!["--json", "token", "bogus"],
        vec!["token", "mint", "--audience", "x", "--json"],
        vec!["--json", "identity", "derive"],
        vec!["--json", "secret", "load", "--store", "keychain:x"],
    ] {
        let out = run(&args, None);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let value = parse_json(&out);
        assert_eq!(value["code"], "usage", "{args:?}");
        assert_eq!(value["ok"], false);
        assert!(value["error"].as_str().unwrap().len() > 5);
        assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 1);
    }
    // The stdin failure of `token verify` has the shape of every other rejection.
    let (code, out) = run_json(
        &["token", "verify", "--token", "-", "--audience", "a"],
        Some(""),
    );
    assert_eq!(code, 1);
    assert_eq!(out["ok"], false);
    assert_eq!(out["id"], Value::Null);
    assert_eq!(out["code"], "stdin");
    assert!(out["error"].is_string());
}

#[test]
fn json_key_order_is_fixed_by_the_cli() {
    let out = run(
        &["--json", "identity", "derive", "--secret", ZERO_SECRET],
        None,
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.starts_with(&format!(r#"{{"user_id":"{ZERO_ID}","public_key":""#)),
        "{text}"
    );
    let out = run(&["--json", "identity", "derive", "--secret", "short"], None);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.starts_with(r#"{"ok":false,"error":"#), "{text}");
    assert!(
        text.trim_end()
            .ends_with(r#","code":"secret-invalid-length"}"#),
        "{text}"
    );

    // Row columns are printed sorted by name, whatever order they were given in.
    let dir = tempfile::tempdir().unwrap();
    let store = format!("file:{}", dir.path().join("s").display());
    let data = dir.path().join("d").display().to_string();
    let out = run(
        &[
            "--json",
            "db",
            "insert",
            "--data-dir",
            &data,
            "--app-id",
            "app",
            "--secret-store",
            &store,
            "--table",
            "t",
            "--values",
            r#"{"zeta":1,"alpha":2,"mid":{"b":1,"a":2}}"#,
            "--id",
            "r1",
        ],
        None,
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let row_start = text.find(r#""row":{"#).unwrap();
    let row = &text[row_start..];
    let position = |key: &str| row.find(&format!("\"{key}\"")).unwrap();
    assert!(position("$createdAt") < position("alpha"), "{row}");
    assert!(position("alpha") < position("id"), "{row}");
    assert!(position("id") < position("mid"), "{row}");
    assert!(row.contains(r#""mid":{"a":2,"b":1}"#), "{row}");
    assert!(position("mid") < position("zeta"), "{row}");
}
