//! The one place integration tests find their data files (`core/tests/data/`).
// Each test binary uses some of these helpers, never all of them.
#![allow(dead_code, clippy::expect_used, clippy::panic)] // test helpers: a missing data file is a failed test

use std::path::{Path, PathBuf};

use serde_json::Value;

/// Path of a file under `core/tests/data/`.
pub fn data_file(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

/// Reads a test data file as text.
pub fn data_text(name: &str) -> String {
    let path = data_file(name);
    std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read test data {}: {e}", path.display()))
}

/// Reads and parses a JSON test data file.
pub fn data_json(name: &str) -> Value {
    serde_json::from_str(&data_text(name)).expect("parse test data")
}

/// Path of a file relative to the repository root (docs, the shared vectors beside it).
pub fn repo_file(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(relative)
}
