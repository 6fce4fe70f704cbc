//! Helpers shared by the unit tests of the local database.

use std::path::Path;
use std::sync::Arc;

use serde_json::Value;

use crate::clock::FixedClock;
use crate::db::{AuthConfig, Db, DbConfig, DbDeps, RowValues, StorageMode};
use crate::local_db::Row;
use crate::secret::Secret;

/// A fixed time for tests.
pub(super) const T0: u64 = 1_700_000_000;

/// A row literal as the values a `Db` write takes.
pub(super) fn row(value: Value) -> RowValues {
    RowValues::from_json_value(value).unwrap()
}

/// A row literal in the local database's stored form.
pub(super) fn raw(value: Value) -> Row {
    value.as_object().cloned().unwrap()
}

/// A secret made from one repeated byte.
pub(super) fn secret(byte: u8) -> Secret {
    Secret::from_bytes([byte; 32])
}

/// A fixed clock and the `Db` dependencies using it.
pub(super) fn fixed_clock() -> (Arc<FixedClock>, DbDeps) {
    let clock = Arc::new(FixedClock::new(T0));
    let deps = DbDeps::with_clock(clock.clone());
    (clock, deps)
}

/// A config on disk under `dir` for app `app`.
pub(super) fn on_disk(dir: &Path, app: &str) -> DbConfig {
    DbConfig::new(
        app,
        StorageMode::DataDir(dir.to_str().unwrap().to_owned()),
        AuthConfig::Anonymous,
    )
}

/// Opens a local-first Db on disk.
pub(super) fn local_first(dir: &Path, app: &str, byte: u8, deps: &DbDeps) -> Db {
    Db::open(
        on_disk(dir, app).with_auth(AuthConfig::LocalFirst(secret(byte))),
        deps.clone(),
    )
    .unwrap()
}
