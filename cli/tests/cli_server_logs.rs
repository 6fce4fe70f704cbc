//! `localfirst server` logs through `tracing` at INFO on stderr, `RUST_LOG` overriding
//! the level, and stdout keeps only what scripts read (the listening line).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed unwrap is a failed test

use std::io::{BufRead as _, BufReader, Read as _};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Starts the server, waits for its listening line, stops it with SIGTERM and
/// returns (stdout, stderr).
fn run_server(rust_log: Option<&str>) -> (String, String) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_localfirst"));
    command
        .args(["server", "log-app", "--port", "0", "--in-memory"])
        .env_remove("RUST_LOG")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(filter) = rust_log {
        command.env("RUST_LOG", filter);
    }
    let mut child = command.spawn().unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    stdout.read_line(&mut first).unwrap();
    assert!(first.starts_with("listening"), "{first}");
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let started = Instant::now();
    while child.try_wait().unwrap().is_none() {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "no exit after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let mut rest = String::new();
    stdout.read_to_string(&mut rest).unwrap();
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    (first + &rest, stderr)
}

#[cfg(unix)]
#[test]
fn the_server_logs_info_on_stderr_and_rust_log_sets_the_level() {
    let (stdout, stderr) = run_server(None);
    assert!(
        stderr.contains("INFO") && stderr.contains("sync server listening"),
        "{stderr}"
    );
    assert!(stderr.contains("sync server stopped"), "{stderr}");
    assert!(!stdout.contains("INFO"), "logs went to stdout: {stdout}");

    let (_, quiet) = run_server(Some("warn"));
    assert!(
        !quiet.contains("INFO"),
        "RUST_LOG=warn still logged INFO: {quiet}"
    );
}
