//! # localfirst-server
//!
//! The sync server of localfirst: clients connect over WebSocket
//! (`/sync/<app-id>`), authenticate once per socket, push their outbox and
//! pull or subscribe to the changes they may read. The wire format is
//! `docs/PROTOCOL.md`.
//!
//! ```no_run
//! use localfirst_server::{serve, ServerConfig};
//!
//! # async fn run() -> Result<(), localfirst_server::ServerError> {
//! let mut config = ServerConfig::new("my-app"); // 127.0.0.1, free port, in memory
//! config.allow_local_first_auth = true;
//! let server = serve(config).await?;
//! println!("ws://{}/sync/my-app", server.local_addr());
//! server.shutdown().await?; // drains sockets, closes storage
//! # Ok(()) }
//! ```
//!
//! The parts:
//!
//! - [`auth`]: session resolution in its fixed order (backend impersonation,
//!   self-signed bearer token, external bearer token, none) into a
//!   [`Session`](localfirst_core::session::Session) or a structured rejection:
//!   the `localfirst-auth` crate, re-exported (the Node addon uses the same crate).
//! - [`store`]: the [`ServerStore`] trait (rows, a global change log with a
//!   monotonic cursor, idempotency records, change notifications) and its SQLite
//!   backend. Nothing lives only in one process, so a shared database can back
//!   several replicas.
//! - [`protocol`]: the frames, both directions.
//! - Writes go through the same [`PolicySet`](localfirst_core::policy::PolicySet)
//!   engine as the client (anonymous writes are refused first); reads are
//!   filtered per session.
//! - Time for token validity and system columns comes from the injected
//!   [`Clock`](localfirst_core::clock::Clock) in [`ServerConfig::clock`].
//!
//! Tokens and secrets are never logged; logs go through `tracing`.

#![forbid(unsafe_code)]

mod apply;
pub mod config;
mod connection;
mod http;
mod outbound;
mod pages;
pub mod protocol;
mod server;
mod slots;
pub mod store;

pub use apply::MAX_CLOCK_AHEAD_SECS;
pub use auth::{SharedSecret, SharedSecretTooShort, MIN_SHARED_SECRET_LEN};
pub use config::{Limits, ServerConfig, ServerError};
/// Session resolution (the `localfirst-auth` crate): the resolver, external tokens,
/// shared secrets.
pub use localfirst_auth as auth;
pub use server::{serve, RunningServer, StopSignal, ADMIN_SECRET_HEADER};
pub use store::{ServerStore, SqliteStore};
