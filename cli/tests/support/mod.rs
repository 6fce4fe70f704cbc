//! Helpers shared by the CLI test files: run the built `localfirst` binary as a
//! separate process and read its output. Include with `mod support;`.

#![allow(dead_code)] // each test file uses a different subset
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed unwrap is a failed test

use std::io::Write as _;
use std::process::{Child, Command, Output, Stdio};

use serde_json::Value;

/// The all-zero secret of the shared vectors and its user id.
pub const ZERO_SECRET: &str = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
/// The user id of [`ZERO_SECRET`].
pub const ZERO_ID: &str = "412a3d72-132d-5e55-bad2-d3bad0eb5ea5";

/// Starts the binary with piped stdin/stdout/stderr.
pub fn spawn(args: &[&str]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_localfirst"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Runs the binary to completion, feeding `stdin` (or nothing) and closing it.
pub fn run(args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = spawn(args);
    let mut input = child.stdin.take().unwrap();
    if let Some(text) = stdin {
        input.write_all(text.as_bytes()).unwrap();
    }
    drop(input);
    child.wait_with_output().unwrap()
}

/// Stdout parsed as one JSON value; panics with both streams when it is not JSON.
pub fn parse_json(out: &Output) -> Value {
    let text = String::from_utf8_lossy(&out.stdout);
    serde_json::from_str(text.trim()).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}): {text:?} stderr={:?}",
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

/// Runs `localfirst --json <args>`: exit code and the JSON it printed.
pub fn run_json(args: &[&str], stdin: Option<&str>) -> (i32, Value) {
    let out = run(&[&["--json"], args].concat(), stdin);
    (out.status.code().unwrap(), parse_json(&out))
}

/// Like [`run_json`] but tolerant: `Value::Null` when stdout is not JSON (usage
/// errors print to stderr), plus stderr.
pub fn run_json_lenient(args: &[&str], stdin: Option<&str>) -> (i32, Value, String) {
    let out = run(&[&["--json"], args].concat(), stdin);
    let value =
        serde_json::from_str(String::from_utf8_lossy(&out.stdout).trim()).unwrap_or(Value::Null);
    (
        out.status.code().unwrap(),
        value,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}
