//! The `Db`: open it with a [`DbConfig`], read and write rows as JSON, listen to
//! auth changes and query results, sync with a server, log out.
//!
//! Type conversion only: every method forwards to [`localfirst_core::db::Db`].

mod callbacks;
mod config;
mod discard;
mod types;

use std::sync::Arc;

use localfirst_core::db::{self as core_db, query_from_json, DbDeps, RowValues};

use crate::error::LocalFirstError;

pub use callbacks::{
    AuthStateListener, JwtRefresher, RowsListener, Subscription, SyncStatusListener,
};
pub use config::{AuthConfig, CookieSession, DbConfig, StorageMode, SyncWhen};
pub use discard::{AccountDiscardMigrator, DiscardedAccount};
pub use types::{AuthMode, AuthState, Row, SyncRejection, SyncReport, SyncState, SyncStatus};

use callbacks::{AuthAdapter, RowsAdapter, SyncStatusAdapter};
use types::rows;

/// A client database bound to one principal and one storage namespace.
#[derive(Debug, uniffi::Object)]
pub struct Db {
    inner: core_db::Db,
}

#[uniffi::export(async_runtime = "tokio")]
impl Db {
    /// Opens (or creates) the namespace's database for `config`.
    #[uniffi::constructor]
    pub fn open(config: DbConfig) -> Result<Arc<Db>, LocalFirstError> {
        let inner = core_db::Db::open(config::core_config(config)?, DbDeps::default())?;
        Ok(Db::wrap(inner))
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
        AuthState::from(self.inner.get_auth_state())
    }

    /// Calls `listener` at once with the current state, then after every change.
    pub fn on_auth_changed(&self, listener: Arc<dyn AuthStateListener>) -> Arc<Subscription> {
        Subscription::new(self.inner.on_auth_changed(Arc::new(AuthAdapter(listener))))
    }

    /// Replaces the bearer JWT with a fresh one for the same user.
    pub fn update_auth_token(&self, jwt: String) -> Result<(), LocalFirstError> {
        Ok(self.inner.update_auth_token(jwt)?)
    }

    /// Replaces the mirrored cookie session (a new cookie value, say) for the
    /// same user; another user is `principal-change` (open a new `Db`). The same
    /// session again is a no-op; a new one clears a credential `error`.
    pub fn update_cookie_session(
        &self,
        session: Arc<CookieSession>,
    ) -> Result<(), LocalFirstError> {
        Ok(self.inner.update_cookie_session(session.core())?)
    }

    /// A short-lived identity proof for an app backend (`audience` defaults to
    /// the app id; `ttlSeconds` 1..=600); `null` unless the `Db` is local-first.
    pub fn get_local_first_identity_proof(
        &self,
        ttl_seconds: u64,
        audience: Option<String>,
    ) -> Result<Option<String>, LocalFirstError> {
        Ok(self
            .inner
            .get_local_first_identity_proof(ttl_seconds, audience)?)
    }

    /// Inserts a row; `values_json` is a JSON object of column values.
    pub fn insert(&self, table: String, values_json: String) -> Result<Row, LocalFirstError> {
        let values = RowValues::from_json_str(&values_json)?;
        Ok(Row::from(self.inner.insert(&table, values)?))
    }

    /// Inserts the rows of `rows_json` (a JSON array of objects) in one
    /// transaction: all or none. Subscriptions see them in one delivery.
    pub fn insert_many(
        &self,
        table: String,
        rows_json: String,
    ) -> Result<Vec<Row>, LocalFirstError> {
        let values = RowValues::list_from_json_str(&rows_json)?;
        Ok(rows(self.inner.insert_many(&table, values)?))
    }

    /// Patches row `id` with the columns of `patch_json`.
    pub fn update(
        &self,
        table: String,
        id: String,
        patch_json: String,
    ) -> Result<Row, LocalFirstError> {
        let patch = RowValues::from_json_str(&patch_json)?;
        Ok(Row::from(self.inner.update(&table, &id, patch)?))
    }

    /// Deletes row `id`; returns it as it was.
    pub fn delete(&self, table: String, id: String) -> Result<Row, LocalFirstError> {
        Ok(Row::from(self.inner.delete(&table, &id)?))
    }

    /// Row `id`, or `null` when it is missing or not readable.
    pub fn get(&self, table: String, id: String) -> Result<Option<Row>, LocalFirstError> {
        Ok(self.inner.get(&table, &id)?.map(Row::from))
    }

    /// The rows matching `query_json` (docs/DB.md query form).
    pub fn query(&self, query_json: String) -> Result<Vec<Row>, LocalFirstError> {
        let query = query_from_json(&query_json)?;
        Ok(rows(self.inner.query(&query)?))
    }

    /// Calls `listener` at once with the rows of `query_json`, then whenever they change.
    pub fn subscribe(
        &self,
        query_json: String,
        listener: Arc<dyn RowsListener>,
    ) -> Result<Arc<Subscription>, LocalFirstError> {
        let query = query_from_json(&query_json)?;
        let inner = self
            .inner
            .subscribe(query, Arc::new(RowsAdapter(listener)))?;
        Ok(Subscription::new(inner))
    }

    /// Picks up changes other processes committed to this namespace: when the
    /// database changed, every subscription re-runs. Returns whether it changed.
    pub fn refresh(&self) -> Result<bool, LocalFirstError> {
        Ok(self.inner.refresh()?)
    }

    /// Stops listeners and background work and closes the database; later
    /// calls fail with `logged-out`. Never touches a secret store.
    pub fn logout(&self) -> Result<(), LocalFirstError> {
        Ok(self.inner.logout()?)
    }

    /// Like `logout`, and deletes this namespace's database files.
    pub fn logout_and_wipe(&self) -> Result<(), LocalFirstError> {
        Ok(self.inner.logout_and_wipe()?)
    }

    /// Deletes this namespace's database without logging out.
    pub fn delete_client_storage(&self) -> Result<(), LocalFirstError> {
        Ok(self.inner.delete_client_storage()?)
    }

    /// Starts background sync (no-op when running); never blocks on the network.
    pub fn start_sync(&self) -> Result<(), LocalFirstError> {
        Ok(self.inner.start_sync()?)
    }

    /// Stops background sync; pending writes stay in the outbox.
    pub fn stop_sync(&self) {
        self.inner.stop_sync();
    }

    /// A snapshot of the sync engine.
    pub fn sync_status(&self) -> SyncStatus {
        SyncStatus::from(self.inner.sync_status())
    }

    /// Calls `listener` at once with the sync status, then after every change.
    pub fn on_sync_status(&self, listener: Arc<dyn SyncStatusListener>) -> Arc<Subscription> {
        Subscription::new(
            self.inner
                .on_sync_status(Arc::new(SyncStatusAdapter(listener))),
        )
    }

    /// The writes the server refused since this `Db` opened, most recent last
    /// (`syncStatus().lastRejections`).
    pub fn last_rejections(&self) -> Vec<SyncRejection> {
        self.sync_status().last_rejections
    }

    /// Connects, pushes everything pending, pulls until caught up, disconnects.
    /// An `expired` rejection with a refresher refreshes once and retries.
    pub async fn sync_once(&self) -> Result<SyncReport, LocalFirstError> {
        Ok(SyncReport::from(self.inner.sync_once().await?))
    }
}

impl Db {
    /// Wraps the core's `Db`.
    pub(crate) fn wrap(inner: core_db::Db) -> Arc<Db> {
        Arc::new(Db { inner })
    }
}
