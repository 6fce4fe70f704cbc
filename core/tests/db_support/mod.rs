//! Helpers shared by the `db_*` integration tests.
// Test helpers panic on unexpected input by design.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use localfirst_core::clock::FixedClock;
use localfirst_core::db::{Db, DbConfig, DbDeps, StorageMode};
use localfirst_core::local_db::Row;
use localfirst_core::secret::Secret;
use serde_json::Value;

/// Start time of every fixed clock in these tests.
pub const T0: u64 = 1_700_000_000;

/// A JSON object literal as a row.
pub fn row(value: Value) -> Row {
    value
        .as_object()
        .cloned()
        .expect("row literal must be an object")
}

/// A secret made from one repeated byte.
pub fn secret(byte: u8) -> Secret {
    Secret::from_bytes([byte; 32])
}

/// An external JWT as a provider would issue it. The client never verifies
/// external tokens (only the server does), so the signature is a placeholder.
pub fn provider_jwt(claims: Value) -> String {
    format!(
        "{}.{}.{}",
        URL_SAFE_NO_PAD.encode(br#"{"alg":"ES256","typ":"JWT","kid":"k1"}"#),
        URL_SAFE_NO_PAD.encode(claims.to_string()),
        URL_SAFE_NO_PAD.encode([9u8; 64])
    )
}

/// A fixed clock and the deps using it.
pub fn fixed_clock() -> (Arc<FixedClock>, DbDeps) {
    let clock = Arc::new(FixedClock::new(T0));
    let deps = DbDeps::with_clock(clock.clone());
    (clock, deps)
}

/// A config on disk under `dir` for app `app`.
pub fn on_disk(dir: &Path, app: &str) -> DbConfig {
    DbConfig::new(app, StorageMode::DataDir(dir.to_path_buf()))
}

/// Opens a local-first Db on disk.
pub fn local_first(dir: &Path, app: &str, byte: u8, deps: &DbDeps) -> Db {
    Db::open(on_disk(dir, app).with_secret(secret(byte)), deps.clone())
        .expect("open local-first db")
}

/// The ids of rows, in order.
pub fn ids(rows: &[Row]) -> Vec<String> {
    rows.iter()
        .map(|r| r["id"].as_str().expect("row id").to_owned())
        .collect()
}

/// Collects what a listener receives.
#[derive(Clone, Default)]
pub struct Recorder<T>(pub Arc<Mutex<Vec<T>>>);

impl<T: Clone> Recorder<T> {
    pub fn new() -> Recorder<T> {
        Recorder(Arc::new(Mutex::new(Vec::new())))
    }
    pub fn push(&self, item: T) {
        self.0.lock().unwrap().push(item);
    }
    pub fn len(&self) -> usize {
        self.0.lock().unwrap().len()
    }
    pub fn all(&self) -> Vec<T> {
        self.0.lock().unwrap().clone()
    }
    pub fn last(&self) -> Option<T> {
        self.0.lock().unwrap().last().cloned()
    }
}

/// Path of a file under `core/tests/data/`.
pub fn data_file(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

/// Reads and parses a JSON test data file.
pub fn data_json(name: &str) -> Value {
    let text = std::fs::read_to_string(data_file(name)).expect("read test data");
    serde_json::from_str(&text).expect("parse test data")
}
