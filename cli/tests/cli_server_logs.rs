//! `localfirst server` logs through `tracing` at INFO on stderr, `RUST_LOG` overriding
//! the level, and stdout keeps only what scripts read (the listening line).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed unwrap is a failed test

use std::io::{BufRead as _, BufReader, Read as _};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Starts the server, waits for its listening line, stops it with SIGTERM at
/// once and returns (stdout, stderr), after checking that it exited cleanly.
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
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "no exit after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut rest = String::new();
    stdout.read_to_string(&mut rest).unwrap();
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    // Killed by the signal's default action, it would exit without a status.
    assert!(status.success(), "{status:?}: {stderr}");
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

/// The listening line means the server is up: a SIGTERM sent the moment it
/// appears is handled (a graceful stop), never the signal's default action.
#[cfg(unix)]
#[test]
fn a_sigterm_right_after_the_listening_line_stops_gracefully() {
    for round in 0..10 {
        let (_, stderr) = run_server(None);
        assert!(
            stderr.contains("sync server stopped"),
            "round {round}: {stderr}"
        );
    }
}
