//! The seam between the sync engine and the database it syncs: everything the
//! engine needs from the `Db`, and nothing else. The `Db` implements it
//! (`db/sync_host.rs`); the engine is generic over it, so `sync/` names nothing of
//! `db/` and the two folders depend in one direction only (`db` → `sync`).

use std::future::Future;
use std::sync::Arc;

use tokio::sync::Notify;

use crate::auth::{AuthFailure, AuthState, SyncWhen};
use crate::error::ErrorCode;
use crate::local_db::OutboxEntry;

use super::protocol::WireChange;
use super::{AppliedChanges, Credential, SyncLimits, SyncStatus};

/// What the sync engine drives: one namespace with its outbox, cursor,
/// credential and status slot.
pub(crate) trait SyncHost: Clone + Send + Sync + 'static {
    /// A handle that does not keep the host alive (background tasks hold it
    /// between steps, so a dropped `Db` is not kept running).
    type Weak: Send + Sync + 'static;
    /// The host's errors; the engine's own failures become one through `From`.
    type Error: ErrorCode + std::fmt::Display + From<SyncError> + Send + 'static;

    /// A weak handle to this host.
    fn downgrade(&self) -> Self::Weak;
    /// The host behind `weak`, unless it is gone.
    fn upgrade(weak: &Self::Weak) -> Option<Self>;

    /// The app id (the socket path names it).
    fn app_id(&self) -> String;
    /// The configured server URL, if any.
    fn server_url(&self) -> Option<String>;
    /// When the app wants its data synced.
    fn sync_when(&self) -> SyncWhen;
    /// Bounds of a one-shot run.
    fn sync_limits(&self) -> SyncLimits;
    /// The current auth state (mode, session, last server rejection).
    fn auth_state(&self) -> AuthState;
    /// Whether the host was logged out (the engine stops).
    fn is_logged_out(&self) -> bool;
    /// Notified by local writes and auth changes: a live session pushes.
    fn wake(&self) -> Arc<Notify>;

    /// The namespace's sync client id.
    fn client_id(&self) -> Result<String, Self::Error>;
    /// Replaces the client id `old` after the server showed another device uses it.
    fn renew_client_id(&self, old: &str) -> Result<String, Self::Error>;
    /// The credential to present now.
    fn current_credential(&self) -> Result<Credential, Self::Error>;
    /// The server accepted the credential.
    fn report_server_accepted(&self) -> Result<(), Self::Error>;
    /// The server refused the credential; resolves to whether a refresh brought
    /// a new one.
    fn refresh_after_rejection(
        &self,
        failure: AuthFailure,
    ) -> impl Future<Output = Result<bool, Self::Error>> + Send;

    /// Up to `limit` pending outbox entries of this principal, oldest first.
    fn pending_outbox(&self, limit: u32) -> Result<Vec<OutboxEntry>, Self::Error>;
    /// Drops acknowledged (or refused) entries from the outbox.
    fn ack_outbox(&self, seqs: Vec<i64>) -> Result<u64, Self::Error>;
    /// Removes a row locally without an outbox entry (a refused insert).
    fn remove_local_copy(&self, table: &str, id: &str) -> Result<bool, Self::Error>;

    /// The persisted server cursor for `sync_url`.
    fn sync_cursor(&self, sync_url: &str) -> Result<u64, Self::Error>;
    /// Forgets the persisted cursor for `sync_url`.
    fn reset_sync_cursor(&self, sync_url: &str) -> Result<(), Self::Error>;
    /// Applies a page of remote changes and moves the cursor, in one transaction.
    fn apply_remote_changes(
        &self,
        sync_url: &str,
        changes: &[WireChange],
        cursor: u64,
    ) -> Result<AppliedChanges, Self::Error>;

    /// Changes the engine's status (listeners are told when it changed).
    fn update_sync_status(&self, change: impl FnOnce(&mut SyncStatus));
    /// Recounts the pending outbox into the status.
    fn refresh_pending(&self);
}

/// The engine's own failures, as the host receives them (a `Db` turns each into
/// the `DbError` variant of the same name).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum SyncError {
    /// Sync may not run (no server URL, `sync_when`, a refused credential).
    Unavailable { reason: String },
    /// The server refused the credential.
    AuthRejected { code: String, message: String },
    /// Network trouble.
    Network { reason: String },
    /// The server broke the protocol, or sent an `error` frame.
    Protocol { code: String, message: String },
    /// The host went away (logged out or dropped) during the run.
    Gone,
}
