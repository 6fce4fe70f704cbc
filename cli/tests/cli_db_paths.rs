//! Paths and files of `localfirst db` and `logout --wipe-data`, run as a user
//! would: reads and wipes on a missing namespace create nothing, a database
//! that will not open can still be wiped, and new directories and files are
//! private whatever the umask.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

use std::path::Path;
use std::process::Command;

use serde_json::{json, Value};

mod support;

use support::run_json_lenient;

fn listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn wiping_a_mistyped_path_reports_nothing_wiped_and_creates_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("typo").join("data");
    let data = data.to_str().unwrap();
    let (code, out, err) = run_json_lenient(
        &[
            "logout",
            "--data-dir",
            data,
            "--app-id",
            "app",
            "--wipe-data",
        ],
        None,
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(out["wiped"], false, "{out}");
    assert_eq!(out["logged_out"], true);
    assert!(listing(dir.path()).is_empty(), "{:?}", listing(dir.path()));
}

#[test]
fn reads_of_a_missing_namespace_create_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let data = data.to_str().unwrap();
    let base = ["db", "", "--data-dir", data, "--app-id", "app"];
    let read = |cmd: &str, extra: &[&str]| {
        let mut args = base.to_vec();
        args[1] = cmd;
        args.extend_from_slice(extra);
        run_json_lenient(&args, None)
    };
    let (code, out, err) = read("query", &["--table", "t"]);
    assert_eq!((code, out["count"].clone()), (0, json!(0)), "{err}");
    assert_eq!(out["rows"], json!([]));
    let (code, out, _) = read("get", &["--table", "t", "--id", "x"]);
    assert_eq!(
        (code, out["code"].clone()),
        (1, json!("not-found")),
        "{out}"
    );
    let (code, out, _) = read("outbox", &[]);
    assert_eq!(
        (code, out["code"].clone()),
        (1, json!("not-found")),
        "{out}"
    );
    assert!(
        out["error"].as_str().unwrap().contains("no local database"),
        "{out}"
    );
    assert!(listing(dir.path()).is_empty(), "{:?}", listing(dir.path()));
}

fn insert(data: &str, store: &str, umask_000: bool) -> (i32, Value) {
    let args = [
        "--json",
        "db",
        "insert",
        "--data-dir",
        data,
        "--app-id",
        "app",
        "--secret-store",
        store,
        "--table",
        "t",
        "--values",
        r#"{"n": 1}"#,
    ];
    let output = if umask_000 {
        Command::new("sh")
            .args(["-c", "umask 000; exec \"$0\" \"$@\""])
            .arg(env!("CARGO_BIN_EXE_localfirst"))
            .args(args)
            .output()
            .unwrap()
    } else {
        Command::new(env!("CARGO_BIN_EXE_localfirst"))
            .args(args)
            .output()
            .unwrap()
    };
    let value =
        serde_json::from_str(String::from_utf8_lossy(&output.stdout).trim()).unwrap_or(Value::Null);
    (output.status.code().unwrap(), value)
}

/// A data directory (`<dir>/data`) whose namespace `app` holds one row, and the
/// secret store (`file:<dir>/secrets`) of its identity.
fn namespace_with_a_row() -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let store = format!("file:{}", dir.path().join("secrets").display());
    let (code, out) = insert(data.to_str().unwrap(), &store, false);
    assert_eq!(code, 0, "{out}");
    (dir, store)
}

/// `localfirst --json logout --data-dir <data> --app-id app --wipe-data`.
fn wipe(data: &str) -> (i32, Value, String) {
    run_json_lenient(
        &[
            "logout",
            "--data-dir",
            data,
            "--app-id",
            "app",
            "--wipe-data",
        ],
        None,
    )
}

#[test]
fn a_database_that_will_not_open_is_wiped() {
    let (dir, store) = namespace_with_a_row();
    let data = dir.path().join("data");
    let data_str = data.to_str().unwrap();
    let ns = data.join("app");
    std::fs::write(
        ns.join("local.sqlite3"),
        "not a database at all\n".repeat(200),
    )
    .unwrap();
    let (code, out) = insert(data_str, &store, false);
    assert_eq!(code, 1, "the damaged database is refused: {out}");
    let (code, out, err) = wipe(data_str);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out["wiped"], true);
    assert!(listing(&ns).is_empty(), "{:?}", listing(&ns));
    // The namespace works again (same identity, empty data).
    let (code, out) = insert(data_str, &store, false);
    assert_eq!(code, 0, "{out}");
}

#[cfg(unix)]
#[test]
fn database_directories_and_files_are_private_under_umask_000() {
    use std::os::unix::fs::PermissionsExt as _;
    let mode = |path: &Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("new").join("data");
    let store = format!("file:{}", dir.path().join("secrets").display());
    let (code, out) = insert(data.to_str().unwrap(), &store, true);
    assert_eq!(code, 0, "{out}");
    // The umask really was 000 for the child: sh creates 0666 files under it.
    let probe = dir.path().join("probe");
    let status = Command::new("sh")
        .args(["-c", "umask 000; : > \"$0\""])
        .arg(&probe)
        .status()
        .unwrap();
    assert!(status.success());
    assert_eq!(mode(&probe), 0o666);
    for (path, expected) in [
        (dir.path().join("new"), 0o700),
        (data.clone(), 0o700),
        (data.join("app"), 0o700),
        (data.join("app").join("local.sqlite3"), 0o600),
    ] {
        assert_eq!(mode(&path), expected, "{}", path.display());
    }
}

#[test]
fn a_directory_in_place_of_the_database_is_wiped_too() {
    let (dir, store) = namespace_with_a_row();
    let data = dir.path().join("data");
    let data_str = data.to_str().unwrap();
    let ns = data.join("app");
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let _ = std::fs::remove_file(ns.join(format!("local.sqlite3{suffix}")));
    }
    // A directory (with something in it) where the database file belongs.
    std::fs::create_dir_all(ns.join("local.sqlite3").join("inner")).unwrap();
    std::fs::write(ns.join("local.sqlite3").join("inner").join("f"), "x").unwrap();
    std::fs::create_dir(ns.join("local.sqlite3-wal")).unwrap();
    let (code, out) = insert(data_str, &store, false);
    assert_eq!(code, 1, "the blocked namespace is refused: {out}");
    let (code, out, err) = wipe(data_str);
    assert_eq!(code, 0, "{out} {err}");
    assert_eq!(out["wiped"], true, "{out}");
    assert!(listing(&ns).is_empty(), "{:?}", listing(&ns));
    let (code, out) = insert(data_str, &store, false);
    assert_eq!(code, 0, "{out}");
}

/// The app ids of the core's corpus (`core/tests/data/app/app_ids.json`), each
/// entry a string or `{"repeat": unit, "times": n}`.
fn corpus_app_ids(list: &str) -> Vec<String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../core/tests/data/app/app_ids.json");
    let corpus: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    corpus[list]
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| match entry {
            Value::String(id) => id.clone(),
            spec => spec["repeat"]
                .as_str()
                .unwrap()
                .repeat(usize::try_from(spec["times"].as_u64().unwrap()).unwrap()),
        })
        .collect()
}

/// `--app-id` is judged by the core's rule (`db::validate_app_id`, what
/// `Db::open` applies) with the core's message, before any store is touched.
#[test]
fn app_ids_are_judged_by_the_core_rule_before_any_store_is_touched() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let secrets = dir.path().join("secrets");
    let store = format!("file:{}", secrets.display());
    let insert = |app_id: &str| {
        run_json_lenient(
            &[
                "db",
                "insert",
                "--data-dir",
                data.to_str().unwrap(),
                "--app-id",
                app_id,
                "--secret-store",
                &store,
                "--table",
                "todos",
                "--values",
                "{}",
            ],
            None,
        )
    };
    for app_id in corpus_app_ids("refused") {
        let (code, out, _) = insert(&app_id);
        let expected = localfirst_core::db::validate_app_id(app_id.clone()).unwrap_err();
        assert_eq!(
            (code, out["code"].as_str()),
            (1, Some("invalid-config")),
            "{app_id:?}: {out}"
        );
        assert_eq!(
            out["error"].as_str(),
            Some(expected.to_string().as_str()),
            "{app_id:?}"
        );
        assert!(!secrets.exists(), "{app_id:?}: a store was created");
        assert!(!data.exists(), "{app_id:?}: a namespace was created");
    }
    for app_id in corpus_app_ids("accepted") {
        let (code, out, err) = insert(&app_id);
        assert_eq!(code, 0, "{app_id:?}: {out} {err}");
    }
}
