//! Helpers shared by the `Db` integration tests.
// Test helpers panic on unexpected input by design.
#![allow(dead_code)]

use std::path::Path;
use std::sync::{Arc, Mutex};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
pub use localfirst_core::auth::AuthState;
use localfirst_core::auth::{AuthFailure, CookieSession};
use localfirst_core::clock::FixedClock;
pub use localfirst_core::db::Row;
use localfirst_core::db::{
    AuthConfig, Db, DbConfig, DbDeps, DbError, DiscardedAccount, MigrationError, RefreshOutcome,
    RowValues, RowsListener, StorageMode, Subscription,
};
use localfirst_core::local_db::Query;
use localfirst_core::secret::Secret;
use serde_json::Value;

/// Start time of every fixed clock in these tests.
pub const T0: u64 = 1_700_000_000;

/// A JSON object literal as row values.
pub fn row(value: Value) -> RowValues {
    RowValues::from_json_value(value).expect("row literal must be an object")
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
    DbConfig::new(app, data_dir(dir), AuthConfig::Anonymous)
}

/// On-disk storage under `dir`.
pub fn data_dir(dir: &Path) -> StorageMode {
    StorageMode::DataDir(dir.to_str().expect("UTF-8 temp dir").to_owned())
}

/// An anonymous in-memory config for app `app`.
pub fn memory() -> DbConfig {
    DbConfig::new("app", StorageMode::InMemory, AuthConfig::Anonymous)
}

/// Shorthands for the credential of a config.
pub trait ConfigExt {
    /// Local-first auth with `secret`.
    fn with_secret(self, secret: Secret) -> DbConfig;
    /// External auth with a bearer JWT.
    fn with_jwt_token(self, jwt: impl Into<String>) -> DbConfig;
    /// External auth with a cookie session.
    fn with_cookie_session(self, session: CookieSession) -> DbConfig;
    /// An account-discard migrator from a closure over a borrowed account.
    fn on_anonymous_account_discarded(
        self,
        hook: impl Fn(&DiscardedAccount) -> Result<(), String> + Send + Sync + 'static,
    ) -> DbConfig;
}

impl ConfigExt for DbConfig {
    fn with_secret(self, secret: Secret) -> DbConfig {
        self.with_auth(AuthConfig::LocalFirst(secret))
    }
    fn with_jwt_token(self, jwt: impl Into<String>) -> DbConfig {
        self.with_auth(AuthConfig::Jwt(jwt.into()))
    }
    fn with_cookie_session(self, session: CookieSession) -> DbConfig {
        self.with_auth(AuthConfig::CookieSession(session))
    }
    fn on_anonymous_account_discarded(
        self,
        hook: impl Fn(&DiscardedAccount) -> Result<(), String> + Send + Sync + 'static,
    ) -> DbConfig {
        self.with_account_discard_migrator(Arc::new(move |account: DiscardedAccount| {
            hook(&account).map_err(MigrationError::from)
        }))
    }
}

/// Reports a server rejection from synchronous test code (the Db runs the
/// refresh on its own runtime; this thread only drives the wait).
pub fn reject(db: &Db, failure: AuthFailure) -> Result<RefreshOutcome, DbError> {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap()
        .block_on(db.report_server_rejection(failure))
}

/// Registers an auth listener closure.
pub fn on_auth(db: &Db, listener: impl Fn(AuthState) + Send + Sync + 'static) -> Subscription {
    db.on_auth_changed(Arc::new(listener))
}

/// Subscribes a rows listener closure.
pub fn subscribe(
    db: &Db,
    query: Query,
    listener: impl Fn(Vec<Row>) + Send + Sync + 'static,
) -> Result<Subscription, DbError> {
    let listener: Arc<dyn RowsListener> = Arc::new(listener);
    db.subscribe(query, listener)
}

/// Opens a local-first Db on disk.
pub fn local_first(dir: &Path, app: &str, byte: u8, deps: &DbDeps) -> Db {
    Db::open(on_disk(dir, app).with_secret(secret(byte)), deps.clone())
        .expect("open local-first db")
}

/// The ids of rows, in order.
pub fn ids(rows: &[Row]) -> Vec<String> {
    rows.iter().map(Row::id).collect()
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

pub use crate::common::data_json;
