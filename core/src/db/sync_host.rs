//! The `Db` as the sync engine's host: starting and stopping the engine, and
//! the `SyncHost` seam it drives the `Db` through (feature `sync`).

use std::future::Future;
use std::sync::{Arc, Weak};

use tokio::sync::Notify;

use crate::auth::{AuthFailure, AuthState, SyncWhen};
use crate::local_db::OutboxEntry;
use crate::sync::protocol::WireChange;
use crate::sync::{
    AppliedChanges, Backoff, Credential, SyncError, SyncHost, SyncLimits, SyncReport, SyncStatus,
};

use super::inner::Inner;
use super::{lock, Db, DbError, RefreshOutcome};

impl Db {
    /// Starts the background sync task on the `Db`'s runtime (no-op when it
    /// runs already). It connects with the current credential, pushes the
    /// outbox, pulls from the persisted cursor, stays subscribed to live
    /// changes, pushes new local writes promptly, and reconnects with
    /// [`Backoff`] after network failures. When `sync_when` or a missing
    /// server URL keeps the data local, the status stays
    /// [`SyncState::Disabled`](crate::sync::SyncState::Disabled). Never blocks
    /// on the network.
    pub fn start_sync(&self) -> Result<(), DbError> {
        self.start_sync_with(Backoff::default())
    }

    /// [`start_sync`](Self::start_sync) with another reconnect backoff (tests).
    pub fn start_sync_with(&self, backoff: Backoff) -> Result<(), DbError> {
        self.inner.ensure_open()?;
        let handle = self.inner.runtime.handle()?;
        let mut state = lock(&self.inner.sync.state);
        if state.task.as_ref().is_some_and(|t| !t.is_finished()) {
            return Ok(());
        }
        state.task = Some(handle.spawn(crate::sync::run::<Db>(self.downgrade(), backoff)));
        Ok(())
    }

    /// Stops the background sync task (its socket closes). Pending writes stay
    /// in the outbox.
    pub fn stop_sync(&self) {
        self.inner.sync.stop(false);
        self.refresh_pending();
    }

    /// Connects, pushes everything pending (in batches of the server's
    /// `maxBatch`), pulls until caught up, waits for every acknowledgement and
    /// disconnects. Runs on the `Db`'s runtime; the returned future may be
    /// awaited on any executor. An `expired` rejection with a JWT refresher
    /// refreshes once and retries.
    pub fn sync_once(&self) -> impl Future<Output = Result<SyncReport, DbError>> + Send + 'static {
        let db = self.clone();
        let spawned = self
            .inner
            .runtime
            .handle()
            .map(|handle| handle.spawn(crate::sync::once(db)));
        async move {
            match spawned {
                Ok(task) => task.await.unwrap_or_else(|e| {
                    Err(DbError::Runtime {
                        reason: e.to_string(),
                    })
                }),
                Err(e) => Err(e),
            }
        }
    }
}

impl From<SyncError> for DbError {
    fn from(error: SyncError) -> DbError {
        match error {
            SyncError::Unavailable { reason } => DbError::SyncUnavailable { reason },
            SyncError::AuthRejected { code, message } => {
                DbError::SyncAuthRejected { code, message }
            }
            SyncError::Network { reason } => DbError::SyncNetwork { reason },
            SyncError::Protocol { code, message } => DbError::SyncProtocol { code, message },
            SyncError::Gone => DbError::LoggedOut,
        }
    }
}

/// Each method forwards to the `Db` method of the same name (or its state).
impl SyncHost for Db {
    type Weak = Weak<Inner>;
    type Error = DbError;

    fn downgrade(&self) -> Weak<Inner> {
        Arc::downgrade(&self.inner)
    }

    fn upgrade(weak: &Weak<Inner>) -> Option<Db> {
        weak.upgrade().map(|inner| Db { inner })
    }

    fn app_id(&self) -> String {
        Db::app_id(self)
    }

    fn server_url(&self) -> Option<String> {
        Db::server_url(self)
    }

    fn sync_when(&self) -> SyncWhen {
        self.inner.sync_when
    }

    fn sync_limits(&self) -> SyncLimits {
        self.inner.sync_limits
    }

    fn auth_state(&self) -> AuthState {
        self.get_auth_state()
    }

    fn is_logged_out(&self) -> bool {
        Db::is_logged_out(self)
    }

    fn wake(&self) -> Arc<Notify> {
        Arc::clone(&self.inner.sync.wake)
    }

    fn client_id(&self) -> Result<String, DbError> {
        Db::client_id(self)
    }

    fn renew_client_id(&self, old: &str) -> Result<String, DbError> {
        Db::renew_client_id(self, old)
    }

    fn current_credential(&self) -> Result<Credential, DbError> {
        Db::current_credential(self)
    }

    fn report_server_accepted(&self) -> Result<(), DbError> {
        Db::report_server_accepted(self)
    }

    fn refresh_after_rejection(
        &self,
        failure: AuthFailure,
    ) -> impl Future<Output = Result<bool, DbError>> + Send {
        let db = self.clone();
        async move { Ok(db.report_server_rejection(failure).await? == RefreshOutcome::Refreshed) }
    }

    fn pending_outbox(&self, limit: u32) -> Result<Vec<OutboxEntry>, DbError> {
        Db::pending_outbox(self, limit)
    }

    fn ack_outbox(&self, seqs: Vec<i64>) -> Result<u64, DbError> {
        Db::ack_outbox(self, seqs)
    }

    fn remove_local_copy(&self, table: &str, id: &str) -> Result<bool, DbError> {
        Db::remove_local_copy(self, table, id)
    }

    fn sync_cursor(&self, sync_url: &str) -> Result<u64, DbError> {
        Db::sync_cursor(self, sync_url)
    }

    fn reset_sync_cursor(&self, sync_url: &str) -> Result<(), DbError> {
        Db::reset_sync_cursor(self, sync_url)
    }

    fn apply_remote_changes(
        &self,
        sync_url: &str,
        changes: &[WireChange],
        cursor: u64,
    ) -> Result<AppliedChanges, DbError> {
        Db::apply_remote_changes(self, sync_url, changes, cursor)
    }

    fn update_sync_status(&self, change: impl FnOnce(&mut SyncStatus)) {
        Db::update_sync_status(self, change)
    }

    fn refresh_pending(&self) {
        let pending = self.pending_count().unwrap_or(0);
        Db::update_sync_status(self, |s| s.pending = pending);
    }
}
