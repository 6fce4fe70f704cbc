//! The `Db`: what an app opens with an auth config, reads and writes rows
//! through, listens to, and logs out of.
//!
//! ```
//! use localfirst_core::db::{AuthConfig, Db, DbConfig, DbDeps, RowValues, StorageMode};
//! use localfirst_core::secret::Secret;
//! use localfirst_core::local_db::{Filter, Query};
//!
//! let secret = Secret::from_bytes([7; 32]); // apps get it from a secret store
//! let config = DbConfig::new("my-app", StorageMode::InMemory, AuthConfig::LocalFirst(secret));
//! let db = Db::open(config, DbDeps::default())?;
//!
//! let row = db.insert("todos", RowValues::from_json_str(r#"{"title": "milk", "done": false}"#)?)?;
//! assert_eq!(row.created_by(), db.user_id());
//! let open = db.query(&Query::table("todos").filter(Filter::all().eq("done", false)))?;
//! assert_eq!(open.len(), 1);
//! assert_eq!(open[0], row);
//! db.logout()?;
//! # Ok::<(), localfirst_core::db::DbError>(())
//! ```
//!
//! # Auth
//!
//! The config's [`AuthConfig`] holds exactly one credential — a local-first
//! secret, a JWT or a cookie session (external) — or none (anonymous: a random
//! ephemeral identity that can only read), so a conflicting config cannot be
//! built. The principal is fixed for the life of the `Db` (see [`crate::auth`]);
//! [`Db::get_auth_state`] and [`Db::on_auth_changed`] expose the state.
//! Listeners ([`AuthStateListener`], [`RowsListener`]) are always called with
//! no lock held, in order, once per real change. An expired JWT is refreshed
//! through the [`JwtRefresher`] by [`Db::report_server_rejection`], an `async`
//! call that never parks the caller's thread.
//!
//! # Data
//!
//! Rows live in the namespace's SQLite database ([`crate::local_db`]) and cross
//! the API as owned [`Row`]s (with a JSON form); writes take [`RowValues`].
//! Writes are refused for anonymous sessions before anything else
//! ([`DbError::AnonymousWriteDenied`]), then checked against the policy set if
//! one is configured. Queries and [`Db::get`] silently leave out rows the read
//! policy does not grant. Subscriptions re-run their query after every commit
//! to their table (by any `Db` of the namespace in this process) and call the
//! listener only when the result changed.
//!
//! # Lifecycle
//!
//! [`Db::logout`] stops subscriptions and listeners and closes the database;
//! [`Db::logout_and_wipe`] also deletes the namespace's files.
//! [`Db::delete_client_storage`] deletes them without logging out. None of
//! them touches any secret store.

mod config;
mod data;
mod delivery;
mod discard;
mod error;
mod facade;
mod inner;
mod refresh;
mod row;
mod subscription;
#[cfg(feature = "sync")]
mod sync_host;
mod sync_seams;

use std::sync::{Mutex, MutexGuard};

/// What applying one frame of remote changes did (defined with the sync module).
pub use crate::sync::AppliedChanges;
pub use config::{
    validate_app_id, AuthConfig, DbConfig, DbDeps, StorageMode, DEFAULT_JWT_REFRESH_TIMEOUT,
    DEFAULT_SESSION_TOKEN_TTL, MAX_APP_ID_BYTES,
};
pub use discard::{AccountDiscardMigrator, DiscardedAccount, MigrationError};
pub use error::DbError;
pub use facade::Db;
pub use refresh::{JwtRefresher, RefreshError, RefreshFuture, RefreshOutcome};
pub use row::{query_from_json, Row, RowValues};
pub use subscription::{AuthStateListener, RowsListener, Subscription};
pub use sync_seams::META_CURSOR_PREFIX;

/// Metadata key under which the namespace remembers its local-first user id.
pub const META_LOCAL_FIRST_USER: &str = "local_first_user_id";

/// Longest lifetime of an identity proof, in seconds (the mint rule's limit, see
/// [`crate::token::identity_proof`]).
pub use crate::token::MAX_IDENTITY_PROOF_TTL_SECONDS;

pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // Poisoning only means a listener-free critical section panicked; the
    // bookkeeping it guards stays consistent.
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}
