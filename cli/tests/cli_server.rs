//! Runs `localfirst server` as a real process: free port, /health, SIGTERM.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed unwrap is a failed test

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::TcpStream;
use std::process::{ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

#[test]
fn server_prints_its_port_serves_health_and_stops_on_sigterm() {
    let data = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_localfirst"))
        .args([
            "--json",
            "server",
            "cli-app",
            "--port",
            "0",
            "--allow-local-first-auth",
        ])
        .arg("--data-dir")
        .arg(data.path())
        .env("LOCALFIRST_BACKEND_SECRET", "from-env-0123456789")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    let listening: serde_json::Value = serde_json::from_str(&line).unwrap();
    assert_eq!(listening["event"], "listening", "{line}");
    let port = listening["port"].as_u64().unwrap();
    assert!(port > 0);

    let mut stream = TcpStream::connect(("127.0.0.1", port as u16)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    write!(
        stream,
        "GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(response.contains(r#""appId":"cli-app""#), "{response}");

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
            started.elapsed() < Duration::from_secs(15),
            "no exit after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(status.code(), Some(0));
    let mut rest = String::new();
    stdout.read_to_string(&mut rest).unwrap();
    assert!(rest.contains(r#""stopped":true"#), "{rest}");
    // The database was flushed into the data directory.
    assert!(data.path().join("server.sqlite3").exists());
}

/// Environment variables for one run.
type Env<'a> = &'a [(&'a str, &'a str)];

/// `localfirst --json server cli-app --port 0 --in-memory <args>` with `env` set, stdout
/// and stderr piped.
fn server_command(args: &[&str], env: Env) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_localfirst"));
    command
        .args(["--json", "server", "cli-app", "--port", "0", "--in-memory"])
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (name, value) in env {
        command.env(name, value);
    }
    command
}

/// Starts [`server_command`] and reads its listening line.
fn start_server(args: &[&str], env: Env) -> (std::process::Child, BufReader<ChildStdout>) {
    let mut child = server_command(args, env).spawn().unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    assert!(line.contains(r#""listening""#), "{line}");
    (child, stdout)
}

fn sigterm(child: &std::process::Child) {
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
}

/// Runs [`server_command`] and waits up to 20 s for it to exit by itself: the exit
/// code, stdout and stderr, or `None` (after killing it) when it was still serving.
fn refused_start(args: &[&str], env: Env) -> Option<(i32, String, String)> {
    wait_or_kill(server_command(args, env).spawn().unwrap())
}

fn wait_or_kill(mut child: std::process::Child) -> Option<(i32, String, String)> {
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(20) {
        if child.try_wait().unwrap().is_some() {
            let out = child.wait_with_output().unwrap();
            return Some((
                out.status.code().unwrap_or(-1),
                String::from_utf8_lossy(&out.stdout).into_owned(),
                String::from_utf8_lossy(&out.stderr).into_owned(),
            ));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
    None
}

#[test]
fn empty_and_short_secrets_are_refused_at_start_up() {
    let cases: [(&[&str], Env); 5] = [
        (&["--backend-secret", ""], &[]),
        (&["--admin-secret", ""], &[]),
        (&[], &[("LOCALFIRST_BACKEND_SECRET", "")]),
        (&[], &[("LOCALFIRST_ADMIN_SECRET", "")]),
        (&["--backend-secret", "fifteen-bytes!!"], &[]),
    ];
    for (args, env) in cases {
        let outcome = refused_start(args, env);
        let (code, stdout, _) = outcome.unwrap_or_else(|| panic!("{args:?} {env:?}: it started"));
        assert_eq!(code, 1, "{args:?} {env:?}: {stdout}");
        let json: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
        assert_eq!(json["code"], "shared-secret-too-short", "{json}");
        assert!(
            json["error"].as_str().unwrap().contains("16 bytes"),
            "{json}"
        );
    }
}

#[test]
fn external_keys_without_issuer_and_audience_are_refused_at_start_up() {
    let key = concat!(
        "@",
        env!("CARGO_MANIFEST_DIR"),
        "/../auth/tests/data/es256.pub.pem"
    );
    let (code, stdout, _) = refused_start(&["--jwt-public-key", key], &[]).expect("it started");
    assert_eq!(code, 1, "{stdout}");
    let json: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(json["code"], "server-config", "{json}");
    let message = json["error"].as_str().unwrap();
    assert!(
        message.contains("--jwt-issuer") && message.contains("--jwt-audience"),
        "{message}"
    );
}

#[test]
fn a_closed_stdout_is_an_output_error_not_a_silent_start() {
    // `>&-`: the process starts with descriptor 1 closed.
    let child = Command::new("sh")
        .arg("-c")
        .arg(r#"exec "$0" server cli-app --port 0 --in-memory >&-"#)
        .arg(env!("CARGO_BIN_EXE_localfirst"))
        .stdin(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (code, _, stderr) = wait_or_kill(child).expect("it kept serving with nowhere to print");
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("error [output]"), "{stderr}");
}

#[test]
fn a_stop_line_that_cannot_be_written_is_an_output_error() {
    let (child, stdout) = start_server(&[], &[]);
    drop(stdout); // the reader goes away: the stop line has nowhere to go
    sigterm(&child);
    let (code, _, stderr) = wait_or_kill(child).expect("no exit after SIGTERM");
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("error [output]"), "{stderr}");
}

/// Starts the server with `args` and `env`, reads its listening line, stops it with
/// SIGTERM; its exit code and stderr.
fn start_and_stop(args: &[&str], env: Env) -> (i32, String) {
    let (child, mut stdout) = start_server(args, env);
    sigterm(&child);
    let mut rest = String::new();
    stdout.read_to_string(&mut rest).unwrap();
    let (code, _, stderr) = wait_or_kill(child).expect("no exit after SIGTERM");
    (code, stderr)
}

#[test]
fn issuer_and_audience_come_from_flags_or_lists_in_the_environment() {
    let key = concat!(
        "@",
        env!("CARGO_MANIFEST_DIR"),
        "/../auth/tests/data/es256.pub.pem"
    );
    let flags = [
        "--jwt-public-key",
        key,
        "--jwt-issuer",
        "https://id.example.com",
        "--jwt-audience",
        "cli-app",
    ];
    let (code, stderr) = start_and_stop(&flags, &[]);
    assert_eq!(code, 0, "{stderr}");
    assert!(!stderr.contains("INSECURE"), "{stderr}");
    let env = [
        ("LOCALFIRST_JWT_PUBLIC_KEY", key),
        (
            "LOCALFIRST_JWT_ISSUER",
            "https://a.example.com,https://b.example.com",
        ),
        ("LOCALFIRST_JWT_AUDIENCE", "cli-app"),
    ];
    assert_eq!(start_and_stop(&[], &env).0, 0);
    // An empty list entry is refused, not ignored.
    let env = [
        ("LOCALFIRST_JWT_PUBLIC_KEY", key),
        ("LOCALFIRST_JWT_ISSUER", ""),
        ("LOCALFIRST_JWT_AUDIENCE", "cli-app"),
    ];
    let (code, stdout, _) = refused_start(&[], &env).expect("it started");
    assert_eq!(code, 1);
    assert!(stdout.contains(r#""code":"server-config""#), "{stdout}");
    // Skipping a check is explicit and logged as a warning.
    let skipped = [
        "--jwt-public-key",
        key,
        "--insecure-skip-issuer-check",
        "--jwt-audience",
        "cli-app",
    ];
    let (code, stderr) = start_and_stop(&skipped, &[]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains("WARN") && stderr.contains("INSECURE: the issuer"),
        "{stderr}"
    );
}
