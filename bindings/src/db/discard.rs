//! Account discard: the app's [`AccountDiscardMigrator`] and the
//! [`DiscardedAccount`] snapshot it is handed.

use std::sync::Arc;

use localfirst_core::db::{self as core_db, MigrationError};

use super::types::{rows, Row};
use super::Db;
use crate::error::LocalFirstError;

/// Called (synchronously, inside `Db.open`) when an external account whose
/// user id differs from the namespace's local-first identity opens the
/// namespace: copy what should survive of the old identity's rows through
/// `account.db()`, then return, and exactly the snapshot's rows are discarded.
///
/// The new account's user id comes from a JWT the client cannot verify (a
/// planted login looks the same): ask the user first, and throw (any error)
/// when they decline. Then `Db.open` fails with code `migration-failed` and
/// nothing is discarded; the migrator runs again on the next open.
#[uniffi::export(foreign)]
pub trait AccountDiscardMigrator: Send + Sync {
    /// Migrates what should survive of `account`.
    fn migrate(&self, account: Arc<DiscardedAccount>) -> Result<(), LocalFirstError>;
}

/// The local-first identity an external account is replacing: a snapshot of
/// its rows and the new `Db` to write migrated rows with.
#[derive(Debug, uniffi::Object)]
pub struct DiscardedAccount {
    inner: core_db::DiscardedAccount,
}

#[uniffi::export]
impl DiscardedAccount {
    /// The discarded identity's user id.
    pub fn user_id(&self) -> String {
        self.inner.user_id()
    }

    /// The tables of the namespace when the snapshot was taken.
    pub fn tables(&self) -> Vec<String> {
        self.inner.tables()
    }

    /// The rows of `table` the discarded identity created, as of the snapshot
    /// (no read policy applies: they are this device's own rows).
    pub fn rows(&self, table: String) -> Result<Vec<Row>, LocalFirstError> {
        Ok(rows(self.inner.rows(&table)?))
    }

    /// The new `Db` (acting as the external user), to write migrated rows with.
    pub fn db(&self) -> Arc<Db> {
        Db::wrap(self.inner.db())
    }
}

/// A foreign [`AccountDiscardMigrator`] as the core's: any error it throws
/// (a `LocalFirstError` or another exception) declines the migration.
pub(crate) struct MigratorAdapter(pub(crate) Arc<dyn AccountDiscardMigrator>);

impl core_db::AccountDiscardMigrator for MigratorAdapter {
    fn migrate(&self, account: core_db::DiscardedAccount) -> Result<(), MigrationError> {
        self.0
            .migrate(Arc::new(DiscardedAccount { inner: account }))
            .map_err(|error| MigrationError::new(error.to_string()))
    }
}
