//! The `Db`'s side of sync: client id, credential, cursor, applying remote
//! changes, and the engine's status slot. The engine itself is `crate::sync`
//! (feature `sync`), which reaches these through its `SyncHost` seam
//! (`sync_host.rs`).

use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};

use tokio::sync::Notify;
use tokio::task::JoinHandle;

use crate::error::{Code, ErrorCode as _};
use crate::local_db::StorageError;
use crate::sync::protocol::{ChangeOp, WireChange};
use crate::sync::{
    AppliedChanges, Credential, SkippedChange, SyncStatus, SyncStatusListener, MAX_CURSOR,
    MAX_KEPT_REJECTIONS,
};

use super::delivery::Delivery;
use super::subscription::Subscription;
use super::{lock, Db, DbError};

/// Prefix of the metadata key holding the server cursor, followed by the sync URL.
pub const META_CURSOR_PREFIX: &str = "sync_cursor:";

/// Whether a failure to store a remote change is about the change itself (it
/// can never be stored here) rather than the storage.
fn is_unstorable(error: &StorageError) -> bool {
    matches!(
        error,
        StorageError::InvalidName { .. }
            | StorageError::InvalidRow { .. }
            | StorageError::TableNameClash { .. }
    )
}

/// A put that carries no row: the server left it out (`omitted`, e.g.
/// `row-too-large`) or sent a malformed change (`invalid-row`).
fn missing_row(change: &WireChange) -> SkippedChange {
    let (code, message) = match &change.omitted {
        Some(code) => (
            code.clone(),
            "the server could not send this row".to_owned(),
        ),
        None => (
            Code::InvalidRow.as_str().to_owned(),
            "a put without a row".to_owned(),
        ),
    };
    SkippedChange {
        cursor: change.cursor,
        table: change.table.clone(),
        id: change.id.clone(),
        code,
        message,
    }
}

impl Db {
    /// The namespace's persistent sync client id (random, created on first use,
    /// kept across restarts; a wiped namespace gets a new one).
    pub fn client_id(&self) -> Result<String, DbError> {
        self.inner.ensure_open()?;
        Ok(self.inner.store.client_id()?)
    }

    /// Replaces the client id `old` with a new random one, after the server
    /// showed that another device writes under `old` (a copied data
    /// directory). Pending writes stay in the outbox and go out under the new
    /// id. When the namespace already holds another id (another handle renewed
    /// it first), that one is kept and returned.
    #[cfg_attr(not(feature = "sync"), allow(dead_code))]
    pub(crate) fn renew_client_id(&self, old: &str) -> Result<String, DbError> {
        self.inner.ensure_open()?;
        Ok(self.inner.store.renew_client_id(old)?)
    }

    /// The credential to present to the sync server: the JWT as a bearer token
    /// (external), the cookie's value for a cookie session that carries one
    /// ([`CookieSession::with_cookie`](crate::auth::CookieSession::with_cookie);
    /// [`Credential::None`] otherwise), or a self-signed bearer token re-minted at
    /// 80 % of its lifetime (see [`Db::current_token`]).
    pub fn current_credential(&self) -> Result<Credential, DbError> {
        let cookie = {
            let auth = lock(&self.inner.auth);
            auth.machine
                .cookie_session()
                .map(|session| session.cookie().map(str::to_owned))
        };
        if let Some(cookie) = cookie {
            self.inner.ensure_open()?;
            return Ok(cookie.map_or(Credential::None, Credential::Cookie));
        }
        Ok(match self.current_token()? {
            Some(token) => Credential::Bearer(token),
            None => Credential::None,
        })
    }

    /// The persisted server cursor for `sync_url` (0 when never synced). The
    /// cursor is kept per sync URL, so pointing a namespace at another server
    /// starts from 0 there.
    pub fn sync_cursor(&self, sync_url: &str) -> Result<u64, DbError> {
        self.inner.ensure_open()?;
        let key = format!("{META_CURSOR_PREFIX}{sync_url}");
        Ok(self
            .inner
            .store
            .meta(&key)?
            .and_then(|v| v.parse().ok())
            .unwrap_or(0))
    }

    /// Applies changes from the server in ONE transaction, without outbox
    /// entries, and moves the persisted cursor for `sync_url` to `cursor` (never
    /// backwards). A `put` replaces the local row (system columns included), a
    /// `delete` removes it. Subscriptions are notified once.
    ///
    /// A change this client cannot store (a table or column name it does not
    /// accept, a table clashing in letter case with a local one, a row that
    /// does not decode, a put without a row) is skipped and listed in the
    /// result; the others are applied and the cursor still moves past it, so
    /// one such change never stops sync. Storage failures (busy, I/O) fail the
    /// whole frame and change nothing. A cursor above [`MAX_CURSOR`] (2^53 - 1) is refused with
    /// `invalid-argument` and nothing is applied.
    pub fn apply_remote_changes(
        &self,
        sync_url: &str,
        changes: &[WireChange],
        cursor: u64,
    ) -> Result<AppliedChanges, DbError> {
        self.inner.ensure_open()?;
        if cursor > MAX_CURSOR {
            return Err(DbError::InvalidArgument {
                reason: format!("cursor {cursor} is above 2^53-1"),
            });
        }
        let key = format!("{META_CURSOR_PREFIX}{sync_url}");
        self.inner
            .store
            .write(|w| -> Result<AppliedChanges, DbError> {
                let mut done = AppliedChanges::default();
                for change in changes {
                    let stored = match (change.op, &change.row) {
                        (ChangeOp::Put, Some(row)) => w.put_remote(&change.table, &change.id, row),
                        (ChangeOp::Put, None) => {
                            done.skipped.push(missing_row(change));
                            continue;
                        }
                        (ChangeOp::Delete, _) => {
                            w.delete_remote(&change.table, &change.id).map(drop)
                        }
                    };
                    match stored {
                        Ok(()) => done.applied += 1,
                        Err(e) if is_unstorable(&e) => done.skipped.push(SkippedChange {
                            cursor: change.cursor,
                            table: change.table.clone(),
                            id: change.id.clone(),
                            code: e.code().as_str().to_owned(),
                            message: e.to_string(),
                        }),
                        Err(e) => return Err(e.into()),
                    }
                }
                let stored: u64 = w.meta(&key)?.and_then(|v| v.parse().ok()).unwrap_or(0);
                if cursor > stored {
                    w.set_meta(&key, Some(&cursor.to_string()))?;
                }
                Ok(done)
            })
    }

    /// Forgets the persisted cursor for `sync_url` (the next pull starts from
    /// 0): for a stored cursor beyond what the server now announces as its
    /// latest, which only an earlier version or a server that lost data leaves.
    #[cfg_attr(not(feature = "sync"), allow(dead_code))]
    pub(crate) fn reset_sync_cursor(&self, sync_url: &str) -> Result<(), DbError> {
        self.inner.ensure_open()?;
        let key = format!("{META_CURSOR_PREFIX}{sync_url}");
        Ok(self.inner.store.set_meta(&key, None)?)
    }

    /// Removes a row locally without an outbox entry (rolling back an insert
    /// the server refused). Returns whether a row went.
    #[cfg_attr(not(feature = "sync"), allow(dead_code))]
    pub(crate) fn remove_local_copy(&self, table: &str, id: &str) -> Result<bool, DbError> {
        self.inner.ensure_open()?;
        Ok(self.inner.store.write(|w| w.delete_remote(table, id))?)
    }

    /// The sync engine's current status.
    pub fn sync_status(&self) -> SyncStatus {
        let mut status = lock(&self.inner.sync.state).status.clone();
        if !self.inner.logged_out.load(Ordering::SeqCst) {
            if let Ok(pending) = self.pending_count() {
                status.pending = pending;
            }
        }
        status
    }

    /// Calls `listener` at once with the status, then after every change.
    /// Cancelling or dropping the returned handle unsubscribes.
    pub fn on_sync_status(&self, listener: Arc<dyn SyncStatusListener>) -> Subscription {
        let id = self.inner.next_id.fetch_add(1, Ordering::Relaxed);
        let delivery = Delivery::new(Box::new(move |s| listener.on_sync_status(s)));
        {
            let mut state = lock(&self.inner.sync.state);
            delivery.push(state.status.clone());
            if !self.inner.logged_out.load(Ordering::SeqCst) {
                state.listeners.push((id, Arc::clone(&delivery)));
            }
        }
        delivery.drain();
        let weak = Arc::downgrade(&self.inner);
        Subscription::new(move || {
            delivery.stop();
            if let Some(inner) = weak.upgrade() {
                lock(&inner.sync.state).listeners.retain(|(i, _)| *i != id);
            }
        })
    }

    /// This principal's pending outbox entries.
    pub(crate) fn pending_count(&self) -> Result<u64, DbError> {
        let user = self.user_id();
        Ok(self.inner.store.outbox_len_of(&user)?)
    }

    /// Updates the status with `f` and tells the listeners when it changed.
    #[cfg_attr(not(feature = "sync"), allow(dead_code))]
    pub(crate) fn update_sync_status(&self, f: impl FnOnce(&mut SyncStatus)) {
        let targets = {
            let mut state = lock(&self.inner.sync.state);
            let before = state.status.clone();
            f(&mut state.status);
            keep_last(&mut state.status.last_rejections);
            keep_last(&mut state.status.skipped_changes);
            if state.status == before {
                return;
            }
            let status = state.status.clone();
            for (_, l) in &state.listeners {
                l.push(status.clone());
            }
            state
                .listeners
                .iter()
                .map(|(_, l)| Arc::clone(l))
                .collect::<Vec<_>>()
        };
        for l in targets {
            l.drain();
        }
    }
}

/// Drops the oldest items beyond [`MAX_KEPT_REJECTIONS`].
fn keep_last<T>(items: &mut Vec<T>) {
    if items.len() > MAX_KEPT_REJECTIONS {
        let extra = items.len() - MAX_KEPT_REJECTIONS;
        items.drain(..extra);
    }
}

/// The engine's bookkeeping inside the `Db`.
#[derive(Default)]
pub(crate) struct SyncSlot {
    pub(crate) state: Mutex<SlotState>,
    /// Woken by local writes and auth changes.
    pub(crate) wake: Arc<Notify>,
}

/// Status, the background task and the status listeners.
#[derive(Default)]
pub(crate) struct SlotState {
    pub(crate) status: SyncStatus,
    pub(crate) task: Option<JoinHandle<()>>,
    pub(crate) listeners: Vec<(u64, Arc<Delivery<SyncStatus>>)>,
}

impl SyncSlot {
    /// Stops the background task (if any) and the status listeners.
    pub(crate) fn stop(&self, listeners_too: bool) {
        let (task, listeners) = {
            let mut state = lock(&self.state);
            state.status.state = crate::sync::SyncState::Disabled;
            let listeners = if listeners_too {
                std::mem::take(&mut state.listeners)
            } else {
                Vec::new()
            };
            (state.task.take(), listeners)
        };
        if let Some(task) = task {
            task.abort();
        }
        for (_, l) in listeners {
            l.stop();
        }
    }
}

impl Drop for SyncSlot {
    fn drop(&mut self) {
        if let Ok(state) = self.state.get_mut() {
            if let Some(task) = state.task.take() {
                task.abort();
            }
        }
    }
}
