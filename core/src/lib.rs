//! # localfirst-core
//!
//! Everything localfirst does, without any FFI: the account [`secret`], the
//! [`identity`] derived from it, self-signed [`token`]s, 24-word recovery
//! [`phrase`]s, and an injected [`clock`]. Every module reports failures through
//! its own error enum implementing [`error::ErrorCode`], whose codes are stable.
//!
//! The [`db::Db`] is what an app opens: a pure [`auth`] state machine, a
//! SQLite [`local_db`] namespace with a durable outbox, and [`policy`] checks.
//!
//! **What the shells export** (Swift, Kotlin, Node, Expo) beyond the `Db`, the
//! stores and the token functions is listed in [`app`]: the storage-key choice,
//! app-id validation, the identity-proof mint rule, the Jazz secret import and the
//! sans-IO vault driver, each written once here so that no shell repeats a rule.
//!
//! ```
//! use localfirst_core::db::{AuthConfig, Db, DbConfig, DbDeps, RowValues, StorageMode};
//! use localfirst_core::secret::Secret;
//!
//! let auth = AuthConfig::LocalFirst(Secret::from_bytes([1u8; 32]));
//! let db = Db::open(DbConfig::new("my-app", StorageMode::InMemory, auth), DbDeps::default())?;
//! let row = db.insert("todos", RowValues::new().set("title", "milk"))?;
//! assert_eq!(db.get("todos", &row.id())?, Some(row));
//! db.logout()?;
//! # Ok::<(), localfirst_core::db::DbError>(())
//! ```
//!
//! ```
//! use localfirst_core::{identity::Identity, secret::Secret, token};
//!
//! let secret = Secret::from_bytes([0u8; 32]);
//! let identity = Identity::from_secret(&secret);
//! assert_eq!(identity.user_id().to_string(), "412a3d72-132d-5e55-bad2-d3bad0eb5ea5");
//!
//! let jwt = token::mint(&identity, token::Issuer::LocalFirst, "my-app", 1_700_000_000, 3600)?;
//! let clock = localfirst_core::clock::FixedClock::new(1_700_000_100);
//! let verified = token::verify(&jwt, &token::VerifyOptions::new("my-app"), &clock)?;
//! assert_eq!(verified.user_id, identity.user_id());
//! # Ok::<(), token::TokenError>(())
//! ```
//!
//! Wire compatibility: ids, public keys, tokens and phrases match Jazz's
//! local-first auth byte for byte (see `tests/data/identity.json`).

#![forbid(unsafe_code)]

pub mod app;
pub mod auth;
pub mod clock;
pub mod db;
pub mod error;
pub mod identity;
pub mod json;
pub mod local_db;
pub mod operation;
pub mod phrase;
pub mod policy;
pub mod recovery;
pub mod secret;
pub mod secret_store;
pub mod session;
pub mod sync;
pub mod token;

pub use error::{Code, ErrorCode};
