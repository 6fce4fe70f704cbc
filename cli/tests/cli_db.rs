//! Runs the built `localfirst` binary against real data directories: every
//! invocation is a fresh process, so these also prove persistence across restarts.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed unwrap is a failed test

use std::path::Path;

use base64::Engine as _;
use serde_json::{json, Value};
use support::run_json_lenient as run;

mod support;

struct Env {
    _dir: tempfile::TempDir,
    data: String,
    store: String,
}

impl Env {
    fn new() -> Env {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data").display().to_string();
        let store = format!("file:{}", dir.path().join("secrets").display());
        Env {
            _dir: dir,
            data,
            store,
        }
    }

    /// `db <cmd> --data-dir D --app-id app [credential] extra...`
    fn db(&self, cmd: &str, credential: &[&str], extra: &[&str]) -> (i32, Value, String) {
        let mut args = vec!["db", cmd, "--data-dir", &self.data, "--app-id", "app"];
        args.extend_from_slice(credential);
        args.extend_from_slice(extra);
        run(&args, None)
    }

    fn local(&self) -> [&str; 2] {
        ["--secret-store", &self.store]
    }
}

fn provider_jwt(sub: &str) -> String {
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    format!(
        "{}.{}.{}",
        b64.encode(br#"{"alg":"ES256","typ":"JWT"}"#),
        b64.encode(json!({"sub": sub}).to_string()),
        b64.encode([7u8; 64])
    )
}

#[test]
fn insert_query_get_delete_across_processes_as_one_local_first_user() {
    let env = Env::new();
    let local = env.local();
    let (code, first, err) = env.db(
        "insert",
        &local,
        &[
            "--table",
            "todos",
            "--values",
            r#"{"title": "milk", "done": false}"#,
            "--id",
            "t1",
        ],
    );
    assert_eq!(code, 0, "{err}");
    let user = first["user_id"].as_str().unwrap().to_owned();
    assert_eq!(first["row"]["id"], "t1");
    assert_eq!(first["row"]["$createdBy"], json!(user));
    let (code, second, _) = env.db(
        "insert",
        &local,
        &[
            "--table",
            "todos",
            "--values",
            r#"{"title": "eggs", "done": true}"#,
        ],
    );
    assert_eq!(code, 0);
    assert_eq!(
        second["user_id"],
        json!(user),
        "same secret, same user, new process"
    );

    let (code, open, _) = env.db(
        "query",
        &local,
        &["--table", "todos", "--where", r#"{"done": false}"#],
    );
    assert_eq!(code, 0);
    assert_eq!(open["count"], 1);
    assert_eq!(open["rows"][0]["title"], "milk");
    let (_, mine, _) = env.db(
        "query",
        &local,
        &[
            "--table",
            "todos",
            "--where",
            &format!(r#"{{"$createdBy": "{user}"}}"#),
            "--order-by",
            "title",
            "--desc",
        ],
    );
    assert_eq!(mine["count"], 2);
    assert_eq!(mine["rows"][0]["title"], "milk");

    let (code, patched, _) = env.db(
        "update",
        &local,
        &[
            "--table",
            "todos",
            "--id",
            "t1",
            "--values",
            r#"{"done": true}"#,
        ],
    );
    assert_eq!(code, 0);
    assert_eq!(patched["row"]["done"], true);
    let (_, outbox, _) = env.db("outbox", &local, &[]);
    assert_eq!(outbox["count"], 3);
    assert_eq!(outbox["entries"][2]["op"], "update");

    let (code, deleted, _) = env.db("delete", &local, &["--table", "todos", "--id", "t1"]);
    assert_eq!(code, 0);
    assert_eq!(deleted["row"]["title"], "milk");
    let (code, missing, _) = env.db("get", &local, &["--table", "todos", "--id", "t1"]);
    assert_eq!(code, 1);
    assert_eq!(missing["code"], "not-found");
    let (code, again, _) = env.db("delete", &local, &["--table", "todos", "--id", "t1"]);
    assert_eq!((code, again["code"].clone()), (1, json!("not-found")));
}

#[test]
fn anonymous_reads_but_cannot_write_and_jwt_users_write_as_their_sub() {
    let env = Env::new();
    let jwt = provider_jwt("alice");
    let (code, inserted, err) = env.db(
        "insert",
        &["--jwt", &jwt],
        &["--table", "posts", "--values", r#"{"text": "hi"}"#],
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(inserted["row"]["$createdBy"], "alice");

    // The JWT may come from stdin instead of the command line.
    let args = [
        "db",
        "insert",
        "--data-dir",
        &env.data,
        "--app-id",
        "app",
        "--jwt",
        "-",
        "--table",
        "posts",
        "--values",
        "{}",
    ];
    let (code, piped, _) = run(&args, Some(&format!("{jwt}\n")));
    assert_eq!(code, 0);
    assert_eq!(piped["user_id"], "alice");

    for (cmd, extra) in [
        ("insert", vec!["--table", "posts", "--values", "{}"]),
        (
            "update",
            vec!["--table", "posts", "--id", "x", "--values", "{}"],
        ),
        ("delete", vec!["--table", "posts", "--id", "x"]),
    ] {
        let (code, denied, _) = env.db(cmd, &[], &extra);
        assert_eq!(code, 1, "{cmd}");
        assert_eq!(denied["code"], "anonymous-write-denied", "{cmd}");
    }
    let (code, read, _) = env.db("query", &[], &["--table", "posts"]);
    assert_eq!((code, read["count"].clone()), (0, json!(2)));
}

/// Review finding: `db get|query` with `--secret-store` created and stored an
/// identity, a side effect of a read-only command.
#[test]
fn reading_commands_never_create_an_identity() {
    let env = Env::new();
    let local = env.local();
    let secret_load = || {
        run(
            &["secret", "load", "--store", &env.store, "--app-id", "app"],
            None,
        )
    };
    for (cmd, extra) in [
        ("get", vec!["--table", "t", "--id", "x"]),
        ("query", vec!["--table", "t"]),
        ("outbox", vec![]),
    ] {
        let (code, out, _) = env.db(cmd, &local, &extra);
        assert_eq!((code, out["code"].clone()), (1, json!("absent")), "{cmd}");
        assert!(
            out["error"]
                .as_str()
                .unwrap()
                .contains("jazz-auth-secret:app"),
            "{out}"
        );
        let (code, load, _) = secret_load();
        assert_eq!(
            (code, load["code"].clone()),
            (1, json!("absent")),
            "`db {cmd}` stored a secret"
        );
    }
    // A write creates the identity; reads then act as that user.
    let (code, first, err) = env.db("insert", &local, &["--table", "t", "--values", "{}"]);
    assert_eq!(code, 0, "{err}");
    let (code, load, _) = secret_load();
    assert_eq!(code, 0);
    assert_eq!(load["user_id"], first["user_id"]);
    let (code, rows, _) = env.db("query", &local, &["--table", "t"]);
    assert_eq!((code, rows["count"].clone()), (0, json!(1)));
    let (code, outbox, _) = env.db("outbox", &local, &[]);
    assert_eq!(
        (code, outbox["user_id"].clone()),
        (0, first["user_id"].clone())
    );
}

#[test]
fn logout_wipe_data_deletes_rows_and_keeps_the_identity() {
    let env = Env::new();
    let local = env.local();
    let (_, first, _) = env.db("insert", &local, &["--table", "t", "--values", "{}"]);
    let user = first["user_id"].clone();
    let (code, out, err) = run(
        &[
            "logout",
            "--data-dir",
            &env.data,
            "--app-id",
            "app",
            "--wipe-data",
        ],
        None,
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(out["wiped"], true);
    let ns = Path::new(&env.data).join("app");
    assert_eq!(
        std::fs::read_dir(&ns).unwrap().count(),
        0,
        "db, -wal, -shm deleted"
    );
    let (_, after, _) = env.db("query", &local, &["--table", "t"]);
    assert_eq!(after["count"], 0);
    let (_, again, _) = env.db("insert", &local, &["--table", "t", "--values", "{}"]);
    assert_eq!(again["user_id"], user, "the secret store was not touched");
    let (code, plain, _) = run(
        &["logout", "--data-dir", &env.data, "--app-id", "app"],
        None,
    );
    assert_eq!((code, plain["wiped"].clone()), (0, json!(false)));
    let (_, still, _) = env.db("query", &local, &["--table", "t"]);
    assert_eq!(
        still["count"], 1,
        "logout without --wipe-data keeps the rows"
    );
}

#[test]
fn policies_from_a_file_are_enforced() {
    let env = Env::new();
    let policies = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../core/tests/data/policies/seeds-auth-mode.json"
    );
    // That file wraps the policy in a test case; extract the set itself.
    let case: Value = serde_json::from_str(&std::fs::read_to_string(policies).unwrap()).unwrap();
    let file = env._dir.path().join("policies.json");
    std::fs::write(&file, case["policy"].to_string()).unwrap();
    let file = file.display().to_string();
    let local = env.local();
    let with = |extra: &[&str]| -> Vec<String> {
        let mut v: Vec<String> = vec!["--policies".into(), file.clone()];
        v.extend(extra.iter().map(|s| s.to_string()));
        v
    };
    let args = with(&["--table", "messages", "--values", r#"{"text": "hi"}"#]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (code, denied, _) = env.db("insert", &local, &args);
    assert_eq!(code, 1);
    assert_eq!(denied["code"], "policy-denied");
    let jwt = provider_jwt("bob");
    let (code, _, err) = env.db("insert", &["--jwt", &jwt], &args);
    assert_eq!(code, 0, "{err}");
    let read = with(&["--table", "messages"]);
    let read: Vec<&str> = read.iter().map(String::as_str).collect();
    let (code, rows, _) = env.db("query", &local, &read);
    assert_eq!(
        (code, rows["count"].clone()),
        (0, json!(1)),
        "everyone reads"
    );
}

#[test]
fn bad_input_is_rejected_with_codes_and_usage_errors_exit_2() {
    let env = Env::new();
    let local = env.local();
    let cases: [(&str, Vec<&str>, &str); 5] = [
        (
            "insert",
            vec!["--table", "t", "--values", "not json"],
            "invalid-json",
        ),
        (
            "insert",
            vec!["--table", "t", "--values", "[1]"],
            "invalid-json",
        ),
        (
            "insert",
            vec!["--table", "bad name", "--values", "{}"],
            "invalid-name",
        ),
        (
            "query",
            vec!["--table", "t", "--where", r#"{"n": {"near": 1}}"#],
            "invalid-filter",
        ),
        (
            "insert",
            vec!["--table", "t", "--values", r#"{"$createdBy": "x"}"#],
            "invalid-row",
        ),
    ];
    for (cmd, extra, expected) in cases {
        let (code, out, _) = env.db(cmd, &local, &extra);
        assert_eq!(code, 1, "{extra:?}");
        assert_eq!(out["code"], expected, "{extra:?}");
    }
    let jwt = provider_jwt("x");
    let (code, _, _) = env.db(
        "query",
        &["--secret-store", &env.store, "--jwt", &jwt],
        &["--table", "t"],
    );
    assert_eq!(code, 2, "two credentials is a usage error");
    let (code, _, _) = env.db(
        "query",
        &["--secret-store", "keychain:x"],
        &["--table", "t"],
    );
    assert_eq!(code, 2);
    let (code, out, _) = env.db("query", &["--jwt", "garbage"], &["--table", "t"]);
    assert_eq!((code, out["code"].clone()), (1, json!("invalid-token")));
}

#[test]
fn integers_beyond_the_exact_range_are_compared_exactly_or_refused() {
    let env = Env::new();
    let local = env.local();
    // 2^53 and 2^53 + 1: the same as doubles, different as integers.
    for n in ["9007199254740992", "9007199254740993"] {
        let values = format!(r#"{{"n": {n}}}"#);
        let (code, out, _) = env.db("insert", &local, &["--table", "t", "--values", &values]);
        assert_eq!(code, 0, "{out}");
    }
    for (filter, count) in [
        (r#"{"n": 9007199254740993}"#, 1),
        (r#"{"n": {"gt": 9007199254740992}}"#, 1),
        (
            r#"{"n": {"gte": 9007199254740992, "lt": 9007199254740993}}"#,
            1,
        ),
        (r#"{"n": {"in": [9007199254740993]}}"#, 1),
    ] {
        let (code, out, _) = env.db("query", &local, &["--table", "t", "--where", filter]);
        assert_eq!(code, 0, "{filter}: {out}");
        assert_eq!(out["count"], count, "{filter}: {out}");
    }
    // 2^63 and 2^63 + 1: beyond SQLite's integers, so they cannot be compared
    // exactly; the filter is refused instead of matching both as doubles.
    for n in ["9223372036854775808", "9223372036854775809"] {
        let values = format!(r#"{{"m": {n}}}"#);
        let (code, out, _) = env.db("insert", &local, &["--table", "t", "--values", &values]);
        assert_eq!(code, 0, "{out}");
    }
    for filter in [
        r#"{"m": 9223372036854775809}"#,
        r#"{"m": {"lt": 18446744073709551615}}"#,
        r#"{"m": {"in": [1, 9223372036854775808]}}"#,
    ] {
        let (code, out, _) = env.db("query", &local, &["--table", "t", "--where", filter]);
        assert_eq!(code, 1, "{filter}: {out}");
        assert_eq!(out["code"], "invalid-filter", "{filter}: {out}");
    }
}

#[test]
fn a_negative_limit_is_a_usage_error_that_names_the_flag() {
    let env = Env::new();
    let local = env.local();
    for (cmd, extra) in [
        ("query", vec!["--table", "t", "--limit", "-1"]),
        ("outbox", vec!["--limit", "-1"]),
        ("query", vec!["--table", "t", "--limit", "1.5"]),
    ] {
        let (code, out, err) = env.db(cmd, &local, &extra);
        assert_eq!(code, 2, "{extra:?}: {out} {err}");
        assert_eq!(out["code"], "usage", "{extra:?}: {out}");
        let message = out["error"].as_str().unwrap();
        assert!(message.contains("--limit"), "{extra:?}: {message}");
        assert!(!message.contains("unexpected argument"), "{message}");
    }
    let (code, out, _) = env.db("query", &[], &["--table", "t", "--limit", "0"]);
    assert_eq!((code, out["count"].clone()), (0, json!(0)), "{out}");
}

#[test]
fn duplicate_keys_in_values_and_filters_are_refused() {
    let env = Env::new();
    let local = env.local();
    let (code, out, _) = env.db(
        "insert",
        &local,
        &["--table", "t", "--values", r#"{"n": 1, "n": 2}"#],
    );
    assert_eq!(code, 1, "{out}");
    assert_eq!(out["code"], "invalid-json", "{out}");
    assert!(
        out["error"].as_str().unwrap().contains("duplicate"),
        "{out}"
    );
    let (code, out, _) = env.db(
        "insert",
        &local,
        &["--table", "t", "--values", r#"{"o": {"a": 1, "a": 2}}"#],
    );
    assert_eq!(
        (code, out["code"].clone()),
        (1, json!("invalid-json")),
        "{out}"
    );
    // Nothing was written by the refused inserts, so no identity was created either.
    let (code, out, _) = env.db("query", &local, &["--table", "t"]);
    assert_eq!((code, out["code"].clone()), (1, json!("absent")), "{out}");
    let store_dir = Path::new(env.store.strip_prefix("file:").unwrap());
    assert!(
        !store_dir.exists(),
        "a refused write or a read created the store"
    );

    let (code, row, _) = env.db(
        "insert",
        &local,
        &["--table", "t", "--values", r#"{"n": 1}"#],
    );
    assert_eq!(code, 0, "{row}");
    let id = row["row"]["id"].as_str().unwrap();
    let (code, out, _) = env.db(
        "update",
        &local,
        &[
            "--table",
            "t",
            "--id",
            id,
            "--values",
            r#"{"n": 2, "n": 3}"#,
        ],
    );
    assert_eq!(
        (code, out["code"].clone()),
        (1, json!("invalid-json")),
        "{out}"
    );
    let (code, out, _) = env.db(
        "query",
        &local,
        &["--table", "t", "--where", r#"{"n": 1, "n": 5}"#],
    );
    assert_eq!(
        (code, out["code"].clone()),
        (1, json!("invalid-json")),
        "{out}"
    );
    let (_, out, _) = env.db("get", &local, &["--table", "t", "--id", id]);
    assert_eq!(out["row"]["n"], 1, "a refused update changed the row");
}
