//! Callbacks the app implements ([`AuthStateListener`], [`RowsListener`],
//! [`SyncStatusListener`], [`JwtRefresher`]), the [`Subscription`] handle, and
//! the adapters that hand them to the core.

use std::sync::Arc;

use localfirst_core::auth::AuthState as CoreAuthState;
use localfirst_core::db::{self as core_db, RefreshError, RefreshFuture, Row as CoreRow};
use localfirst_core::sync::{
    SyncStatus as CoreSyncStatus, SyncStatusListener as CoreSyncStatusListener,
};

use super::types::{rows, AuthState, Row, SyncStatus};
use crate::error::LocalFirstError;

/// Receives auth snapshots: once at once, then after every real change, in
/// order, on a thread of the core, with no lock held.
#[uniffi::export(foreign)]
pub trait AuthStateListener: Send + Sync {
    /// The auth state changed.
    fn on_auth_changed(&self, state: AuthState) -> Result<(), LocalFirstError>;
}

/// Receives query results: once at once, then whenever the result changed.
#[uniffi::export(foreign)]
pub trait RowsListener: Send + Sync {
    /// The rows of the subscribed query.
    fn on_rows_changed(&self, rows: Vec<Row>) -> Result<(), LocalFirstError>;
}

/// Receives sync status snapshots: once at once, then after every change.
#[uniffi::export(foreign)]
pub trait SyncStatusListener: Send + Sync {
    /// The sync status changed.
    fn on_sync_status(&self, status: SyncStatus) -> Result<(), LocalFirstError>;
}

/// Supplies a fresh JWT after the server rejected the current one as expired.
/// Implemented by the app, asynchronously (Kotlin `suspend`, Swift `async`):
/// it may do network I/O and should bound its own time (the core waits at
/// most its refresh timeout, 30 s, and applies a later token when it arrives).
/// One refresh runs at a time, however many writes failed.
#[uniffi::export(foreign)]
#[async_trait::async_trait]
pub trait JwtRefresher: Send + Sync {
    /// A fresh JWT for the same user, or `null` when there is none.
    async fn refresh(&self) -> Result<Option<String>, LocalFirstError>;
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

impl Subscription {
    /// Wraps the core's registration.
    pub(crate) fn new(inner: core_db::Subscription) -> Arc<Subscription> {
        Arc::new(Subscription { inner })
    }
}

/// A foreign [`AuthStateListener`] as the core's.
pub(crate) struct AuthAdapter(pub(crate) Arc<dyn AuthStateListener>);

impl core_db::AuthStateListener for AuthAdapter {
    fn on_auth_changed(&self, state: CoreAuthState) {
        // A listener's exception has nowhere to go: the core's delivery goes on.
        let _ = self.0.on_auth_changed(AuthState::from(state));
    }
}

/// A foreign [`RowsListener`] as the core's.
pub(crate) struct RowsAdapter(pub(crate) Arc<dyn RowsListener>);

impl core_db::RowsListener for RowsAdapter {
    fn on_rows_changed(&self, changed: Vec<CoreRow>) {
        let _ = self.0.on_rows_changed(rows(changed));
    }
}

/// A foreign [`SyncStatusListener`] as the core's.
pub(crate) struct SyncStatusAdapter(pub(crate) Arc<dyn SyncStatusListener>);

impl CoreSyncStatusListener for SyncStatusAdapter {
    fn on_sync_status(&self, status: CoreSyncStatus) {
        let _ = self.0.on_sync_status(SyncStatus::from(status));
    }
}

/// A foreign [`JwtRefresher`] as the core's: the foreign future is awaited on
/// the `Db`'s runtime; its error (a thrown exception included) fails the refresh.
pub(crate) struct RefresherAdapter(pub(crate) Arc<dyn JwtRefresher>);

impl core_db::JwtRefresher for RefresherAdapter {
    fn refresh(&self) -> RefreshFuture {
        let foreign = Arc::clone(&self.0);
        Box::pin(async move {
            foreign
                .refresh()
                .await
                .map_err(|error| RefreshError::new(error.to_string()))
        })
    }
}
