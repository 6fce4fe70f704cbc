//! `localfirst db sync` and the core's sync engine against `localfirst server`
//! child processes (real sockets on 127.0.0.1), including a SIGKILL mid-sync.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed unwrap is a failed test

mod support;

use std::io::{BufRead as _, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use localfirst_core::db::{AuthConfig, Db, DbConfig, DbDeps, RowValues, StorageMode};
use localfirst_core::local_db::Query;
use localfirst_core::secret::Secret;
use localfirst_core::sync::Backoff;
use support::run_json;

const APP: &str = "cli-sync-app";

/// Starts `localfirst server` on `port` (0: a free one); returns it and its port.
fn server(data: &Path, port: u16) -> (Child, u16) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_localfirst"))
        .args(["--json", "server", APP, "--allow-local-first-auth"])
        .arg("--port")
        .arg(port.to_string())
        .arg("--data-dir")
        .arg(data)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    let listening: serde_json::Value = serde_json::from_str(&line).unwrap();
    assert_eq!(listening["event"], "listening", "{line}");
    let port = listening["port"].as_u64().unwrap() as u16;
    // Keep reading stdout so the server never blocks on a full pipe.
    std::thread::spawn(move || std::io::copy(&mut stdout, &mut std::io::sink()));
    (child, port)
}

fn stop(mut child: Child) {
    let _ = child.kill();
    let _ = child.wait();
}

#[test]
fn db_sync_pushes_and_a_second_namespace_pulls() {
    let server_data = tempfile::tempdir().unwrap();
    let (child, port) = server(server_data.path(), 0);
    let url = format!("ws://127.0.0.1:{port}");
    let secrets = tempfile::tempdir().unwrap();
    let store = format!("file:{}", secrets.path().display());
    let first = tempfile::tempdir().unwrap();
    let second = tempfile::tempdir().unwrap();
    let first_dir = first.path().to_str().unwrap();
    let second_dir = second.path().to_str().unwrap();

    let (code, inserted) = run_json(
        &[
            "db",
            "insert",
            "--data-dir",
            first_dir,
            "--app-id",
            APP,
            "--secret-store",
            &store,
            "--table",
            "todos",
            "--values",
            r#"{"title":"milk"}"#,
        ],
        None,
    );
    assert_eq!(code, 0, "{inserted}");
    let (code, synced) = db_sync(first_dir, &store, &url);
    assert_eq!(code, 0, "{synced}");
    assert_eq!(synced["acknowledged"], 1, "{synced}");
    assert_eq!(synced["rejected"], 0, "{synced}");

    let (code, pulled) = db_sync(second_dir, &store, &url);
    assert_eq!(code, 0, "{pulled}");
    assert_eq!(pulled["pulled"], 1, "{pulled}");
    let (code, rows) = run_json(
        &[
            "db",
            "query",
            "--data-dir",
            second_dir,
            "--app-id",
            APP,
            "--secret-store",
            &store,
            "--table",
            "todos",
        ],
        None,
    );
    assert_eq!(code, 0, "{rows}");
    assert_eq!(rows["count"], 1);
    assert_eq!(rows["rows"][0]["id"], inserted["row"]["id"]);
    assert_eq!(rows["rows"][0]["title"], "milk");

    // Nothing listening: exit 1 with a code.
    stop(child);
    let (code, failed) = db_sync(first_dir, &store, &url);
    assert_eq!(code, 1, "{failed}");
    assert_eq!(failed["code"], "sync-network", "{failed}");
}

/// `localfirst --json db sync` of one namespace as the store's identity.
fn db_sync(data_dir: &str, store: &str, url: &str) -> (i32, serde_json::Value) {
    run_json(
        &[
            "db",
            "sync",
            "--data-dir",
            data_dir,
            "--app-id",
            APP,
            "--secret-store",
            store,
            "--server-url",
            url,
        ],
        None,
    )
}

fn db(dir: &Path, port: u16) -> Db {
    let config = DbConfig::new(
        APP,
        StorageMode::DataDir(dir.to_str().unwrap().to_owned()),
        AuthConfig::LocalFirst(Secret::from_bytes([9; 32])),
    )
    .with_server_url(format!("ws://127.0.0.1:{port}"));
    Db::open(config, DbDeps::default()).unwrap()
}

fn wait_for(what: &str, mut check: impl FnMut() -> bool) {
    let started = Instant::now();
    while !check() {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "timed out: {what}"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn a_server_killed_mid_sync_loses_and_duplicates_nothing() {
    let server_data = tempfile::tempdir().unwrap();
    let (child, port) = server(server_data.path(), 0);
    let client_dir = tempfile::tempdir().unwrap();
    let client = db(client_dir.path(), port);
    for i in 0..400 {
        client
            .insert("todos", RowValues::new().set("n", i))
            .unwrap();
    }
    let backoff = Backoff {
        base: Duration::from_millis(20),
        max_exponent: 3,
        cap: Duration::from_millis(200),
        jitter_percent: 20,
    };
    client.start_sync_with(backoff).unwrap();
    // Kill the server (SIGKILL) as soon as part of the outbox went through.
    wait_for("a first ack", || client.outbox_len().unwrap() < 400);
    let killed = Command::new("kill")
        .args(["-KILL", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let mut child = child;
    child.wait().unwrap();
    for i in 400..450 {
        client
            .insert("todos", RowValues::new().set("n", i))
            .unwrap();
    }
    // Same data dir, same port: the client reconnects by itself.
    let (child, _) = server(server_data.path(), port);
    wait_for("the outbox drains", || client.outbox_len().unwrap() == 0);
    client.logout().unwrap();

    // A fresh namespace pulls everything: each row once.
    let fresh_dir = tempfile::tempdir().unwrap();
    let fresh = db(fresh_dir.path(), port);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let report = runtime.block_on(fresh.sync_once()).unwrap();
    assert_eq!(report.pulled, 450, "one change per row on the server");
    let rows = fresh.query(&Query::table("todos")).unwrap();
    let mut ns: Vec<i64> = rows
        .iter()
        .map(|r| r.to_json_value()["n"].as_i64().unwrap())
        .collect();
    ns.sort_unstable();
    assert_eq!(ns, (0..450).collect::<Vec<_>>());
    stop(child);
}
