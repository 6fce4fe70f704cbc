//! `localfirst db sync` against servers that break the protocol (small
//! WebSocket servers on 127.0.0.1 written here): it never reports success for
//! writes the server did not receive, never runs forever, and exits 1 with the
//! code `sync-protocol`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed unwrap is a failed test

mod support;

use std::io::Read as _;
use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::{SinkExt as _, StreamExt as _};
use serde_json::{json, Value};
use support::run_json;
use tokio_tungstenite::tungstenite::Message;

const APP: &str = "cli-untrusted-app";

/// Answers every client frame with `script`, on its own thread and runtime.
fn hostile(script: impl Fn(&Value) -> Vec<Value> + Send + Sync + 'static) -> u16 {
    let script = Arc::new(script);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        runtime.block_on(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let script = Arc::clone(&script);
                tokio::spawn(async move {
                    let Ok(mut ws) = tokio_tungstenite::accept_async(stream).await else {
                        return;
                    };
                    while let Some(Ok(Message::Text(text))) = ws.next().await {
                        let frame: Value = serde_json::from_str(text.as_str()).unwrap();
                        for answer in script(&frame) {
                            if ws.send(Message::text(answer.to_string())).await.is_err() {
                                return;
                            }
                        }
                    }
                });
            }
        })
    });
    port
}

fn welcome(max_batch: u64) -> Value {
    json!({
        "type": "welcome", "version": 1,
        "session": {"userId": "u", "authMode": "local-first"},
        "cursor": 0,
        "limits": {"maxFrameBytes": 1_048_576, "maxBatch": max_batch, "maxPull": 1000}
    })
}

struct Namespace {
    _dir: tempfile::TempDir,
    _secrets: tempfile::TempDir,
    data_dir: String,
    store: String,
}

fn namespace_with_writes(n: usize) -> Namespace {
    let dir = tempfile::tempdir().unwrap();
    let secrets = tempfile::tempdir().unwrap();
    let data_dir = dir.path().to_str().unwrap().to_owned();
    let store = format!("file:{}", secrets.path().display());
    for i in 0..n {
        let values = format!(r#"{{"n":{i}}}"#);
        let args = ns_args(
            "insert",
            &data_dir,
            &store,
            &["--table", "todos", "--values", &values],
        );
        let (code, out) = run_json(&args, None);
        assert_eq!(code, 0, "{out}");
    }
    Namespace {
        _dir: dir,
        _secrets: secrets,
        data_dir,
        store,
    }
}

/// `db <command>` on a namespace, then `extra`.
fn ns_args<'a>(
    command: &'a str,
    data_dir: &'a str,
    store: &'a str,
    extra: &[&'a str],
) -> Vec<&'a str> {
    let mut args = vec![
        "db",
        command,
        "--data-dir",
        data_dir,
        "--app-id",
        APP,
        "--secret-store",
        store,
    ];
    args.extend_from_slice(extra);
    args
}

/// `localfirst --json db sync`, killed (and the test failed) after 60 s.
fn db_sync(ns: &Namespace, port: u16) -> (i32, Value) {
    let url = format!("ws://127.0.0.1:{port}");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_localfirst"))
        .arg("--json")
        .args(ns_args(
            "sync",
            &ns.data_dir,
            &ns.store,
            &["--server-url", &url],
        ))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("db sync still running after 60 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut out = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut out)
        .unwrap();
    (
        status.code().unwrap(),
        serde_json::from_str(out.trim()).unwrap(),
    )
}

/// `db sync` exits 1 with `sync-protocol`, and its message names `violation`.
fn assert_protocol_failure(ns: &Namespace, port: u16, violation: &str) {
    let (code, out) = db_sync(ns, port);
    assert_eq!(code, 1, "{out}");
    assert_eq!(out["code"], "sync-protocol", "{out}");
    assert!(out["error"].as_str().unwrap().contains(violation), "{out}");
}

fn outbox_count(ns: &Namespace) -> u64 {
    let args = ns_args("outbox", &ns.data_dir, &ns.store, &[]);
    let (code, out) = run_json(&args, None);
    assert_eq!(code, 0, "{out}");
    out["count"].as_u64().unwrap()
}

#[test]
fn db_sync_fails_when_acks_name_writes_never_sent() {
    let port = hostile(|frame| match frame["type"].as_str() {
        Some("hello") => vec![welcome(1)],
        Some("pull") => vec![json!({"type": "changes", "changes": [], "cursor": 0, "more": false})],
        Some("push") => {
            let all: Vec<i64> = (1..100_000).collect();
            vec![json!({"type": "ack", "seqs": all, "cursor": 0})]
        }
        _ => vec![],
    });
    let ns = namespace_with_writes(3);
    assert_protocol_failure(&ns, port, "unexpected-ack");
    assert_eq!(outbox_count(&ns), 2, "only the entry sent left the outbox");
}

#[test]
fn db_sync_fails_instead_of_pulling_forever() {
    let port = hostile(|frame| match frame["type"].as_str() {
        Some("hello") => vec![welcome(10)],
        Some("pull") => {
            vec![json!({"type": "changes", "changes": [], "cursor": frame["cursor"], "more": true})]
        }
        _ => vec![],
    });
    let ns = namespace_with_writes(1);
    assert_protocol_failure(&ns, port, "cursor-not-advancing");
}
