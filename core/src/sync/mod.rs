//! Sync with a `localfirst-server` (`docs/SYNC.md`, wire format in
//! `docs/PROTOCOL.md`).
//!
//! - [`protocol`]: the frames, both directions, and the names of the credential
//!   header and cookie (always compiled; the server uses the same definitions).
//! - The engine (cargo feature `sync`, on by default), behind `Db::start_sync`,
//!   `Db::stop_sync`, `Db::sync_once`, plus `Db::sync_status` and
//!   `Db::on_sync_status` (always present; `Disabled` without the feature). It
//!   runs on the `Db`'s runtime, never blocks the caller on the network, and
//!   drives the database through one narrow seam, `SyncHost` (outbox, cursor and
//!   remote changes, credential and client id, status, wake-ups), which the `Db`
//!   implements: this module names nothing of `db`.

mod digest;
#[cfg(feature = "sync")]
mod engine;
#[cfg(feature = "sync")]
mod exchange;
#[cfg(feature = "sync")]
mod host;
pub mod protocol;

#[cfg(feature = "sync")]
pub(crate) use engine::{once, run};
#[cfg(feature = "sync")]
pub(crate) use host::{SyncError, SyncHost};

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// The credential to present to the sync server.
#[derive(Clone, PartialEq, Eq)]
pub enum Credential {
    /// `Authorization: Bearer <token>` (an external JWT or a self-signed token).
    Bearer(String),
    /// The cookie `localfirst-token=<token>`.
    Cookie(String),
    /// Nothing to send: a cookie session, whose HttpOnly cookie is attached by
    /// the platform's HTTP stack and is out of the core's reach.
    None,
}

impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Credential::Bearer(_) => f.write_str("Bearer(<redacted>)"),
            Credential::Cookie(_) => f.write_str("Cookie(<redacted>)"),
            Credential::None => f.write_str("None"),
        }
    }
}

/// What the sync engine is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum SyncState {
    /// Not running (never started, stopped, logged out, or `sync_when` /
    /// missing server URL keeps the data local).
    Disabled,
    /// Opening the socket and handshaking.
    Connecting,
    /// Connected and subscribed to live changes.
    Connected,
    /// The last attempt failed; retrying after a backoff.
    Offline,
    /// The server refused the credential; waiting for a new token
    /// (`update_auth_token`) or a new `Db`.
    Paused,
}

/// One entry the server refused for good (dropped from the outbox).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SyncRejection {
    /// The outbox sequence number.
    pub seq: i64,
    /// The table.
    pub table: String,
    /// The row id.
    pub id: String,
    /// The server's stable code (`policy-denied`, `row-exists`, ...).
    pub code: String,
    /// The server's explanation.
    pub message: String,
}

/// One change from the server this client could not store (a table or column
/// name it does not accept, a table whose name differs only in letter case
/// from a local one, a row that does not decode, a row the server could not
/// send). It was skipped: the cursor moved past it and everything else synced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SkippedChange {
    /// The change's position in the server's log.
    pub cursor: u64,
    /// The table.
    pub table: String,
    /// The row id.
    pub id: String,
    /// Why, as a stable code (`invalid-name`, `table-name-clash`, `invalid-row`,
    /// `row-too-large`).
    pub code: String,
    /// Explanation.
    pub message: String,
}

/// What applying one frame of remote changes did (`Db::apply_remote_changes`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AppliedChanges {
    /// Changes stored (puts and deletes).
    pub applied: u64,
    /// Changes this client cannot store, skipped (in frame order).
    pub skipped: Vec<SkippedChange>,
}

/// A snapshot of the sync engine.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SyncStatus {
    /// What the engine is doing.
    pub state: SyncState,
    /// Outbox entries of this principal not yet acknowledged.
    pub pending: u64,
    /// The persisted server cursor.
    pub cursor: u64,
    /// The last failure: stable code and message.
    pub last_error: Option<(String, String)>,
    /// Entries the server refused since the engine started (most recent last,
    /// at most [`MAX_KEPT_REJECTIONS`]).
    pub last_rejections: Vec<SyncRejection>,
    /// Changes from the server this client could not store and skipped since
    /// the engine started (most recent last, at most [`MAX_KEPT_REJECTIONS`]).
    pub skipped_changes: Vec<SkippedChange>,
}

/// How many rejections [`SyncStatus::last_rejections`] keeps (and how many
/// skipped changes [`SyncStatus::skipped_changes`] keeps).
pub const MAX_KEPT_REJECTIONS: usize = 100;

impl Default for SyncStatus {
    fn default() -> SyncStatus {
        SyncStatus {
            state: SyncState::Disabled,
            pending: 0,
            cursor: 0,
            last_error: None,
            last_rejections: Vec::new(),
            skipped_changes: Vec::new(),
        }
    }
}

/// What one `Db::sync_once` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SyncReport {
    /// Entries sent (resends included).
    pub pushed: u64,
    /// Entries the server acknowledged.
    pub acknowledged: u64,
    /// Entries the server refused (dropped from the outbox).
    pub rejected: u64,
    /// Changes applied locally.
    pub pulled: u64,
    /// Changes from the server that could not be stored and were skipped
    /// (listed in [`SyncStatus::skipped_changes`]).
    pub skipped: u64,
    /// The persisted cursor afterwards.
    pub cursor: u64,
}

/// Receives sync status snapshots (like
/// `AuthStateListener`): once at once, then
/// after every change, in order, with no lock held.
pub trait SyncStatusListener: Send + Sync {
    /// The status changed.
    fn on_sync_status(&self, status: SyncStatus);
}

impl<F: Fn(SyncStatus) + Send + Sync> SyncStatusListener for F {
    fn on_sync_status(&self, status: SyncStatus) {
        self(status)
    }
}

/// Bounds of one `Db::sync_once` run (`DbConfig::sync_limits`), so that no
/// server can keep a one-shot sync running forever.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SyncLimits {
    /// Longest time the whole run may take, reconnects included; beyond it the
    /// run fails with `sync-network` (nothing is lost, the next run goes on).
    pub run_timeout: Duration,
    /// Most `pull` requests the run may send; one more fails it with
    /// `sync-protocol` ([`Code::TooManyPulls`](crate::error::Code::TooManyPulls)).
    pub max_pulls: u32,
}

impl Default for SyncLimits {
    /// 10 minutes and 100,000 pulls (100 million changes at the server's
    /// default page of 1,000).
    fn default() -> SyncLimits {
        SyncLimits {
            run_timeout: Duration::from_secs(600),
            max_pulls: 100_000,
        }
    }
}

/// The largest cursor a client accepts from a server: 2^53 - 1, the largest
/// integer every platform's JSON reads exactly. A server sending more breaks
/// the protocol ([`Code::CursorOutOfRange`](crate::error::Code::CursorOutOfRange)).
pub const MAX_CURSOR: u64 = (1 << 53) - 1;

/// Reconnect delays: `base × 2^min(n, max_exponent)` plus up to `jitter` of
/// that, capped at `cap`, where `n` counts failed attempts in a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// First delay.
    pub base: Duration,
    /// Largest exponent.
    pub max_exponent: u32,
    /// Largest delay.
    pub cap: Duration,
    /// Added randomness, as a share of the delay in percent (0..=100).
    pub jitter_percent: u32,
}

impl Default for Backoff {
    fn default() -> Backoff {
        Backoff {
            base: Duration::from_millis(300),
            max_exponent: 5,
            cap: Duration::from_secs(10),
            jitter_percent: 30,
        }
    }
}

impl Backoff {
    /// The delay before attempt `failures + 1`, with `random` in `0..=u32::MAX`
    /// choosing the jitter.
    pub fn delay(&self, failures: u32, random: u32) -> Duration {
        let factor = 1u32 << failures.min(self.max_exponent).min(20);
        let raw = self.base.saturating_mul(factor);
        let spread = raw.saturating_mul(self.jitter_percent.min(100)) / 100;
        let jitter = spread.mul_f64(f64::from(random) / f64::from(u32::MAX));
        raw.saturating_add(jitter).min(self.cap)
    }
}

/// Turns a configured server URL into the sync socket URL: a base URL
/// (`ws://host:port`, with or without a trailing `/`) gets `/sync/<app-id>`;
/// a URL with a path is used as given. `http(s)://` is read as `ws(s)://`.
pub fn sync_url(server_url: &str, app_id: &str) -> String {
    let trimmed = server_url.trim();
    let url = if let Some(rest) = trimmed.strip_prefix("http://") {
        format!("ws://{rest}")
    } else if let Some(rest) = trimmed.strip_prefix("https://") {
        format!("wss://{rest}")
    } else {
        trimmed.to_owned()
    };
    let after_scheme = url.split_once("://").map_or(url.as_str(), |(_, r)| r);
    let has_path = after_scheme
        .find('/')
        .is_some_and(|i| after_scheme.len() > i + 1);
    if has_path {
        return url;
    }
    let base = url.trim_end_matches('/');
    let encoded: String = app_id
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    format!("{base}/sync/{encoded}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sync_url_accepts_base_and_full_urls() {
        assert_eq!(
            sync_url("ws://127.0.0.1:9", "app"),
            "ws://127.0.0.1:9/sync/app"
        );
        assert_eq!(
            sync_url("ws://127.0.0.1:9/", "a b"),
            "ws://127.0.0.1:9/sync/a%20b"
        );
        assert_eq!(sync_url("http://h:1", "x"), "ws://h:1/sync/x");
        assert_eq!(sync_url("ws://h:1/sync/other", "x"), "ws://h:1/sync/other");
    }

    #[test]
    fn backoff_grows_and_caps() {
        let b = Backoff::default();
        assert_eq!(b.delay(0, 0), Duration::from_millis(300));
        assert_eq!(b.delay(2, 0), Duration::from_millis(1200));
        assert_eq!(b.delay(5, 0), Duration::from_millis(9600));
        assert_eq!(b.delay(9, 0), Duration::from_millis(9600));
        assert_eq!(b.delay(5, u32::MAX), Duration::from_secs(10));
        assert!(b.delay(1, u32::MAX) > b.delay(1, 0));
    }
}
