//! The `Db`: open it with a [`DbConfig`], read and write rows as JSON, listen to
//! auth changes and query results, sync with a server, log out.
//!
//! Type conversion only: every method forwards to [`localfirst_core::db::Db`].

use std::sync::Arc;

use localfirst_core::auth::{AuthState as CoreAuthState, CookieSession, SyncWhen as CoreSyncWhen};
use localfirst_core::db::{
    self as core_db, query_from_json, AuthConfig as CoreAuthConfig, DbConfig as CoreDbConfig,
    DbDeps, RefreshError, RefreshFuture, Row as CoreRow, RowValues, StorageMode as CoreStorage,
};
use localfirst_core::error::{Code, ErrorCode};
use localfirst_core::policy::PolicySet;
use localfirst_core::session::AuthMode as CoreAuthMode;
use localfirst_core::sync::{
    SyncReport as CoreSyncReport, SyncState as CoreSyncState, SyncStatus as CoreSyncStatus,
    SyncStatusListener as CoreSyncStatusListener,
};

use crate::identity::AuthSecret;

/// A `Db` operation failed (Kotlin `DbException`). `code` is the catalogue's
/// stable code (`anonymous-write-denied`, `logged-out`, `not-found`,
/// `policy-denied`, `sync-network`, ...; docs/ERRORS.md).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, uniffi::Error)]
pub enum DbError {
    /// The operation failed; `code` tells why.
    #[error("[{code}] {reason}")]
    Failed {
        /// The stable error code.
        code: String,
        /// The core's message.
        reason: String,
    },
}

impl From<core_db::DbError> for DbError {
    fn from(error: core_db::DbError) -> DbError {
        DbError::Failed {
            code: error.code().as_str().to_owned(),
            reason: error.to_string(),
        }
    }
}

/// An exception thrown by a foreign listener or refresher that is not a
/// `DbError` becomes one (code `callback-failed`) instead of a panic.
impl From<uniffi::UnexpectedUniFFICallbackError> for DbError {
    fn from(error: uniffi::UnexpectedUniFFICallbackError) -> DbError {
        DbError::Failed {
            code: Code::CallbackFailed.as_str().to_owned(),
            reason: error.reason,
        }
    }
}

/// Where the `Db` keeps its rows.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
pub enum StorageMode {
    /// In memory, private to this `Db` (tests, previews).
    InMemory,
    /// On disk, under `<path>/<encoded app id>/`.
    DataDir {
        /// A filesystem directory.
        path: String,
    },
}

/// Who the `Db` acts as: exactly one credential, or none.
#[derive(Debug, uniffi::Enum)]
pub enum AuthConfig {
    /// A random ephemeral identity that can only read.
    Anonymous,
    /// Local-first auth with the identity secret (from a secret store).
    LocalFirst {
        /// The account secret.
        secret: Arc<AuthSecret>,
    },
    /// External auth with a bearer JWT.
    Jwt {
        /// The JWT.
        token: String,
    },
    /// External auth with an HttpOnly cookie; the app tells whose it is.
    CookieSession {
        /// The user id (the `sub` the server sees).
        user_id: String,
    },
}

/// When sync may run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum SyncWhen {
    /// For every auth mode.
    Always,
    /// Only for external (signed-up) sessions.
    SignedUp,
    /// Never: the data stays local.
    Never,
}

/// Supplies a fresh JWT after the server rejected the current one as expired.
/// Implemented by the app. Synchronous (UniFFI 0.32.2's Swift for async foreign
/// traits breaks Swift 6 mode): it runs on a blocking thread of the `Db`'s
/// runtime, so it may do network I/O, and should bound its own time.
#[uniffi::export(foreign)]
pub trait JwtRefresher: Send + Sync {
    /// A fresh JWT for the same user, or `null` when there is none.
    fn refresh(&self) -> Result<Option<String>, DbError>;
}

/// Everything a `Db` is opened with.
#[derive(uniffi::Record)]
pub struct DbConfig {
    /// The application id: the storage namespace and the audience of self-signed tokens.
    pub app_id: String,
    /// Where rows are stored.
    pub storage: StorageMode,
    /// Who the `Db` acts as.
    pub auth: AuthConfig,
    /// The sync server (`ws://host:port`, or a full sync URL).
    #[uniffi(default = None)]
    pub server_url: Option<String>,
    /// When sync may run.
    pub sync_when: SyncWhen,
    /// The policy set as JSON (docs/POLICIES.md); without one local access is permissive.
    #[uniffi(default = None)]
    pub policies_json: Option<String>,
    /// Source of a fresh JWT after an `expired` rejection.
    #[uniffi(default = None)]
    pub jwt_refresher: Option<Arc<dyn JwtRefresher>>,
}

/// How a `Db` authenticates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum AuthMode {
    /// An ephemeral identity; read-only.
    Anonymous,
    /// A persistent identity from a stored secret.
    LocalFirst,
    /// Tokens from an external provider (JWT or cookie session).
    External,
}

/// A snapshot of the `Db`'s auth.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct AuthState {
    /// How the `Db` authenticates.
    pub auth_mode: AuthMode,
    /// The session's user id, if there is a session.
    pub user_id: Option<String>,
    /// The session's claims as a JSON object (`{}` without a session).
    pub claims_json: String,
    /// Set while the server refuses the credential: `expired`, `missing`,
    /// `invalid` or `disabled`.
    pub error: Option<String>,
}

/// One row: its metadata and its column values as a JSON object.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Row {
    /// The row id.
    pub id: String,
    /// Who created it.
    pub created_by: String,
    /// When it was created (Unix milliseconds, as in the core).
    pub created_at: u64,
    /// Who changed it last.
    pub updated_by: String,
    /// When it was changed last.
    pub updated_at: u64,
    /// The column values, a JSON object.
    pub values_json: String,
}

/// What the sync engine is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum SyncState {
    /// Not running.
    Disabled,
    /// Opening the socket and handshaking.
    Connecting,
    /// Connected and subscribed to live changes.
    Connected,
    /// The last attempt failed; retrying after a backoff.
    Offline,
    /// The server refused the credential; waiting for a new token.
    Paused,
}

/// A snapshot of the sync engine.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct SyncStatus {
    /// What the engine is doing.
    pub state: SyncState,
    /// Outbox entries not yet acknowledged.
    pub pending: u64,
    /// The persisted server cursor.
    pub cursor: u64,
    /// The last failure's stable code, if any.
    pub last_error_code: Option<String>,
    /// The last failure's message, if any.
    pub last_error_message: Option<String>,
}

/// What one `syncOnce` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Record)]
pub struct SyncReport {
    /// Entries sent (resends included).
    pub pushed: u64,
    /// Entries the server acknowledged.
    pub acknowledged: u64,
    /// Entries the server refused.
    pub rejected: u64,
    /// Changes applied locally.
    pub pulled: u64,
    /// The persisted cursor afterwards.
    pub cursor: u64,
}

/// Receives auth snapshots: once at once, then after every real change, in
/// order, on a thread of the core, with no lock held.
#[uniffi::export(foreign)]
pub trait AuthStateListener: Send + Sync {
    /// The auth state changed.
    fn on_auth_changed(&self, state: AuthState) -> Result<(), DbError>;
}

/// Receives query results: once at once, then whenever the result changed.
#[uniffi::export(foreign)]
pub trait RowsListener: Send + Sync {
    /// The rows of the subscribed query.
    fn on_rows_changed(&self, rows: Vec<Row>) -> Result<(), DbError>;
}

/// Receives sync status snapshots: once at once, then after every change.
#[uniffi::export(foreign)]
pub trait SyncStatusListener: Send + Sync {
    /// The sync status changed.
    fn on_sync_status(&self, status: SyncStatus) -> Result<(), DbError>;
}

/// A listener registration; `cancel()` (or closing/releasing it) unsubscribes.
#[derive(Debug, uniffi::Object)]
pub struct Subscription {
    inner: core_db::Subscription,
}

#[uniffi::export]
impl Subscription {
    /// Unsubscribes; idempotent.
    pub fn cancel(&self) {
        self.inner.cancel();
    }

    /// Whether the listener is still registered.
    pub fn is_active(&self) -> bool {
        self.inner.is_active()
    }
}

/// A client database bound to one principal and one storage namespace.
#[derive(Debug, uniffi::Object)]
pub struct Db {
    inner: core_db::Db,
}

#[uniffi::export(async_runtime = "tokio")]
impl Db {
    /// Opens (or creates) the namespace's database for `config`.
    #[uniffi::constructor]
    pub fn open(config: DbConfig) -> Result<Arc<Db>, DbError> {
        let inner = core_db::Db::open(core_config(config)?, DbDeps::default())?;
        Ok(Arc::new(Db { inner }))
    }

    /// The application id.
    pub fn app_id(&self) -> String {
        self.inner.app_id()
    }

    /// The user id of the session.
    pub fn user_id(&self) -> String {
        self.inner.user_id()
    }

    /// The current auth snapshot.
    pub fn get_auth_state(&self) -> AuthState {
        auth_state(self.inner.get_auth_state())
    }

    /// Calls `listener` at once with the current state, then after every change.
    pub fn on_auth_changed(&self, listener: Arc<dyn AuthStateListener>) -> Arc<Subscription> {
        let adapter = AuthAdapter(listener);
        Arc::new(Subscription {
            inner: self.inner.on_auth_changed(Arc::new(adapter)),
        })
    }

    /// Replaces the bearer JWT with a fresh one for the same user.
    pub fn update_auth_token(&self, jwt: String) -> Result<(), DbError> {
        Ok(self.inner.update_auth_token(jwt)?)
    }

    /// A short-lived identity proof for an app backend (`audience` defaults to
    /// the app id; `ttlSeconds` 1..=600); `null` unless the `Db` is local-first.
    pub fn get_local_first_identity_proof(
        &self,
        ttl_seconds: u64,
        audience: Option<String>,
    ) -> Result<Option<String>, DbError> {
        Ok(self
            .inner
            .get_local_first_identity_proof(ttl_seconds, audience)?)
    }

    /// Inserts a row; `values_json` is a JSON object of column values.
    pub fn insert(&self, table: String, values_json: String) -> Result<Row, DbError> {
        let values = RowValues::from_json_str(&values_json)?;
        Ok(row(self.inner.insert(&table, values)?))
    }

    /// Patches row `id` with the columns of `patch_json`.
    pub fn update(&self, table: String, id: String, patch_json: String) -> Result<Row, DbError> {
        let patch = RowValues::from_json_str(&patch_json)?;
        Ok(row(self.inner.update(&table, &id, patch)?))
    }

    /// Deletes row `id`; returns it as it was.
    pub fn delete(&self, table: String, id: String) -> Result<Row, DbError> {
        Ok(row(self.inner.delete(&table, &id)?))
    }

    /// Row `id`, or `null` when it is missing or not readable.
    pub fn get(&self, table: String, id: String) -> Result<Option<Row>, DbError> {
        Ok(self.inner.get(&table, &id)?.map(row))
    }

    /// The rows matching `query_json` (docs/DB.md query form).
    pub fn query(&self, query_json: String) -> Result<Vec<Row>, DbError> {
        let query = query_from_json(&query_json)?;
        Ok(self.inner.query(&query)?.into_iter().map(row).collect())
    }

    /// Calls `listener` at once with the rows of `query_json`, then whenever they change.
    pub fn subscribe(
        &self,
        query_json: String,
        listener: Arc<dyn RowsListener>,
    ) -> Result<Arc<Subscription>, DbError> {
        let query = query_from_json(&query_json)?;
        let inner = self
            .inner
            .subscribe(query, Arc::new(RowsAdapter(listener)))?;
        Ok(Arc::new(Subscription { inner }))
    }

    /// Stops listeners and background work and closes the database; later
    /// calls fail with `logged-out`. Never touches a secret store.
    pub fn logout(&self) -> Result<(), DbError> {
        Ok(self.inner.logout()?)
    }

    /// Like `logout`, and deletes this namespace's database files.
    pub fn logout_and_wipe(&self) -> Result<(), DbError> {
        Ok(self.inner.logout_and_wipe()?)
    }

    /// Deletes this namespace's database without logging out.
    pub fn delete_client_storage(&self) -> Result<(), DbError> {
        Ok(self.inner.delete_client_storage()?)
    }

    /// Starts background sync (no-op when running); never blocks on the network.
    pub fn start_sync(&self) -> Result<(), DbError> {
        Ok(self.inner.start_sync()?)
    }

    /// Stops background sync; pending writes stay in the outbox.
    pub fn stop_sync(&self) {
        self.inner.stop_sync();
    }

    /// A snapshot of the sync engine.
    pub fn sync_status(&self) -> SyncStatus {
        sync_status(self.inner.sync_status())
    }

    /// Calls `listener` at once with the sync status, then after every change.
    pub fn on_sync_status(&self, listener: Arc<dyn SyncStatusListener>) -> Arc<Subscription> {
        let adapter = SyncStatusAdapter(listener);
        Arc::new(Subscription {
            inner: self.inner.on_sync_status(Arc::new(adapter)),
        })
    }
    /// Connects, pushes everything pending, pulls until caught up, disconnects.
    /// An `expired` rejection with a refresher refreshes once and retries.
    pub async fn sync_once(&self) -> Result<SyncReport, DbError> {
        let report: CoreSyncReport = self.inner.sync_once().await?;
        Ok(SyncReport {
            pushed: report.pushed,
            acknowledged: report.acknowledged,
            rejected: report.rejected,
            pulled: report.pulled,
            cursor: report.cursor,
        })
    }
}

fn core_config(config: DbConfig) -> Result<CoreDbConfig, DbError> {
    let storage = match config.storage {
        StorageMode::InMemory => CoreStorage::InMemory,
        StorageMode::DataDir { path } => CoreStorage::DataDir(path),
    };
    let auth = match config.auth {
        AuthConfig::Anonymous => CoreAuthConfig::Anonymous,
        AuthConfig::LocalFirst { secret } => CoreAuthConfig::LocalFirst(secret.secret().clone()),
        AuthConfig::Jwt { token } => CoreAuthConfig::Jwt(token),
        AuthConfig::CookieSession { user_id } => {
            CoreAuthConfig::CookieSession(CookieSession::new(user_id))
        }
    };
    let mut core =
        CoreDbConfig::new(config.app_id, storage, auth).with_sync_when(match config.sync_when {
            SyncWhen::Always => CoreSyncWhen::Always,
            SyncWhen::SignedUp => CoreSyncWhen::SignedUp,
            SyncWhen::Never => CoreSyncWhen::Never,
        });
    if let Some(url) = config.server_url {
        core = core.with_server_url(url);
    }
    if let Some(json) = config.policies_json {
        let policies =
            PolicySet::from_json(&json).map_err(|e| DbError::from(core_db::DbError::Policy(e)))?;
        core = core.with_policies(policies);
    }
    if let Some(refresher) = config.jwt_refresher {
        core = core.with_jwt_refresher(Arc::new(RefresherAdapter(refresher)));
    }
    Ok(core)
}

fn sync_status(status: CoreSyncStatus) -> SyncStatus {
    let (last_error_code, last_error_message) = match status.last_error {
        Some((code, message)) => (Some(code), Some(message)),
        None => (None, None),
    };
    SyncStatus {
        state: match status.state {
            CoreSyncState::Disabled => SyncState::Disabled,
            CoreSyncState::Connecting => SyncState::Connecting,
            CoreSyncState::Connected => SyncState::Connected,
            CoreSyncState::Offline => SyncState::Offline,
            CoreSyncState::Paused => SyncState::Paused,
        },
        pending: status.pending,
        cursor: status.cursor,
        last_error_code,
        last_error_message,
    }
}

fn auth_state(state: CoreAuthState) -> AuthState {
    let (user_id, claims_json) = match state.session {
        Some(session) => (
            Some(session.user_id),
            serde_json::Value::Object(session.claims).to_string(),
        ),
        None => (None, "{}".to_owned()),
    };
    AuthState {
        auth_mode: match state.auth_mode {
            CoreAuthMode::Anonymous => AuthMode::Anonymous,
            CoreAuthMode::LocalFirst => AuthMode::LocalFirst,
            CoreAuthMode::External => AuthMode::External,
        },
        user_id,
        claims_json,
        error: state.error.map(|e| e.as_str().to_owned()),
    }
}

fn row(row: CoreRow) -> Row {
    Row {
        id: row.id(),
        created_by: row.created_by(),
        created_at: row.created_at(),
        updated_by: row.updated_by(),
        updated_at: row.updated_at(),
        values_json: row.values_json(),
    }
}

struct AuthAdapter(Arc<dyn AuthStateListener>);

impl core_db::AuthStateListener for AuthAdapter {
    fn on_auth_changed(&self, state: CoreAuthState) {
        // A listener's exception has nowhere to go: the core's delivery goes on.
        let _ = self.0.on_auth_changed(auth_state(state));
    }
}

struct RowsAdapter(Arc<dyn RowsListener>);

impl core_db::RowsListener for RowsAdapter {
    fn on_rows_changed(&self, rows: Vec<CoreRow>) {
        let _ = self.0.on_rows_changed(rows.into_iter().map(row).collect());
    }
}

struct RefresherAdapter(Arc<dyn JwtRefresher>);

impl core_db::JwtRefresher for RefresherAdapter {
    fn refresh(&self) -> RefreshFuture {
        let foreign = Arc::clone(&self.0);
        Box::pin(async move {
            // The foreign call may block (network): keep it off the runtime's workers.
            match tokio::task::spawn_blocking(move || foreign.refresh()).await {
                Ok(Ok(token)) => Ok(token),
                Ok(Err(error)) => Err(RefreshError::new(error.to_string())),
                Err(join) => Err(RefreshError::new(join.to_string())),
            }
        })
    }
}

struct SyncStatusAdapter(Arc<dyn SyncStatusListener>);

impl CoreSyncStatusListener for SyncStatusAdapter {
    fn on_sync_status(&self, status: CoreSyncStatus) {
        let _ = self.0.on_sync_status(sync_status(status));
    }
}
