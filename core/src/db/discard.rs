//! Account discard: when an external account replaces the namespace's
//! local-first identity, an [`AccountDiscardMigrator`] may copy that identity's
//! rows before they are discarded.

use std::sync::Arc;

use crate::local_db::ActorSnapshot;
use crate::session::AuthMode;

use super::row::Row;
use super::{Db, DbError, META_LOCAL_FIRST_USER};

/// Called when an external account replaces the namespace's local-first
/// identity; may copy the old identity's rows (through
/// [`DiscardedAccount::db`]) before they are discarded. An `Err` aborts the
/// open and discards nothing.
///
/// "Another account" is judged from the JWT's `sub`, which the client cannot
/// verify: a planted login (login-CSRF) looks the same. Ask the user before
/// copying anything, and return `Err` when they decline. The migrator may run
/// again on a later open for rows the old identity wrote while it ran.
///
/// A closure `Fn(DiscardedAccount) -> Result<(), MigrationError> + Send + Sync`
/// is a migrator too.
pub trait AccountDiscardMigrator: Send + Sync {
    /// Migrates what should survive of `account`.
    fn migrate(&self, account: DiscardedAccount) -> Result<(), MigrationError>;
}

impl<F> AccountDiscardMigrator for F
where
    F: Fn(DiscardedAccount) -> Result<(), MigrationError> + Send + Sync,
{
    fn migrate(&self, account: DiscardedAccount) -> Result<(), MigrationError> {
        self(account)
    }
}

/// An [`AccountDiscardMigrator`] failed or the user declined; nothing is discarded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{reason}")]
pub struct MigrationError {
    /// The migrator's message.
    pub reason: String,
}

impl MigrationError {
    /// A migration failure with `reason`.
    pub fn new(reason: impl Into<String>) -> MigrationError {
        MigrationError {
            reason: reason.into(),
        }
    }
}

impl From<String> for MigrationError {
    fn from(reason: String) -> MigrationError {
        MigrationError { reason }
    }
}

impl From<&str> for MigrationError {
    fn from(reason: &str) -> MigrationError {
        MigrationError::new(reason)
    }
}

/// A local-first identity that an external account is replacing, handed to the
/// [`AccountDiscardMigrator`]. Owned: it holds a snapshot of the identity's
/// rows and a handle to the new `Db`.
///
/// The rows are a snapshot taken (in one transaction) just before the migrator
/// runs; exactly these rows, where still unchanged, are discarded after it
/// returns `Ok`.
#[derive(Debug, Clone)]
pub struct DiscardedAccount {
    snapshot: Arc<ActorSnapshot>,
    db: Db,
}

impl DiscardedAccount {
    /// The discarded identity's user id.
    pub fn user_id(&self) -> String {
        self.snapshot.actor().to_owned()
    }

    /// The tables that existed in the namespace when the snapshot was taken.
    pub fn tables(&self) -> Vec<String> {
        self.snapshot.tables().to_vec()
    }

    /// The rows of `table` created by the discarded identity, as of the
    /// snapshot (no read policy applies: they are this device's own rows).
    pub fn rows(&self, table: &str) -> Result<Vec<Row>, DbError> {
        Ok(self
            .snapshot
            .rows(table)?
            .into_iter()
            .map(Row::from_stored)
            .collect())
    }

    /// The new `Db` (acting as the external user), to write migrated rows with.
    pub fn db(&self) -> Db {
        self.db.clone()
    }
}

/// When opened with an external account whose user id differs from the
/// namespace's local-first identity: let the migrator migrate, then discard that
/// identity's rows and pending outbox entries. Without a migrator nothing is
/// discarded (the rows stay, owned by the old id, and sync never sends another
/// principal's outbox entries).
///
/// The migrator sees a snapshot of the old identity's rows, and only those rows
/// — where still unchanged — are discarded, in one write transaction with the
/// marker update. Rows another `Db` wrote (or changed) as the old identity
/// meanwhile stay, and so does the marker, so the migrator runs again on the
/// next open and sees just those rows.
pub(crate) fn discard_replaced_identity(
    db: &Db,
    migrator: Option<Arc<dyn AccountDiscardMigrator>>,
) -> Result<(), DbError> {
    let inner = &db.inner;
    let session = inner.session();
    if session.auth_mode != AuthMode::External {
        return Ok(());
    }
    let Some(previous) = inner.store.meta(META_LOCAL_FIRST_USER)? else {
        return Ok(());
    };
    if previous == session.user_id {
        // Proof-based upgrade: same user id, same rows.
        return Ok(());
    }
    let Some(migrator) = migrator else {
        return Ok(());
    };
    let snapshot = Arc::new(inner.store.snapshot_actor(&previous)?);
    let account = DiscardedAccount {
        snapshot: Arc::clone(&snapshot),
        db: db.clone(),
    };
    migrator
        .migrate(account)
        .map_err(|e| DbError::MigrationFailed { reason: e.reason })?;
    inner.store.write(|w| -> Result<(), DbError> {
        let outcome = w.discard_snapshot(&snapshot)?;
        // Clear the marker only if nothing of the old identity is left and no
        // other local-first identity took its place meanwhile.
        if outcome.remaining == 0
            && w.meta(META_LOCAL_FIRST_USER)?.as_deref() == Some(previous.as_str())
        {
            w.set_meta(META_LOCAL_FIRST_USER, None)?;
        }
        Ok(())
    })
}
