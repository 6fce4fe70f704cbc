//! Wire messages of sync protocol version 1 (`docs/PROTOCOL.md`), both
//! directions: the one definition the server and the client engine share.
//! Serde only; always compiled.

use serde::{Deserialize, Serialize};

use crate::error::Code;
use crate::policy::Row;
use crate::session::AuthMode;

/// The protocol version this crate speaks.
pub const PROTOCOL_VERSION: u32 = 1;

/// The largest text frame a client accepts, in bytes (16 MiB). A server never
/// announces a `maxFrameBytes` above it, and the client engine refuses one
/// that does.
pub const MAX_CLIENT_FRAME_BYTES: usize = 16 * 1024 * 1024;

/// The smallest `maxFrameBytes` a server may announce (16 KiB): servers
/// refuse to start below it, and the client engine refuses a server announcing
/// less (it would have to drop every entry larger than that).
pub const MIN_FRAME_BYTES: usize = 16 * 1024;

/// Room a frame carrying one row needs beyond the row's own JSON: the frame's
/// and the entry's or change's fields, the table name (at most 64 bytes) and
/// the row id (at most 256 bytes, 512 escaped). A row of
/// `maxFrameBytes - ROW_FRAME_OVERHEAD` bytes fits into a `push` entry and a
/// `changes` frame of `maxFrameBytes`.
pub const ROW_FRAME_OVERHEAD: usize = 4 * 1024;

/// Close code sent after an `auth-rejected` frame (the reason is the code).
pub const CLOSE_AUTH_REJECTED: u16 = 4001;
/// Close code sent after a fatal protocol `error` frame (the reason is the code).
pub const CLOSE_PROTOCOL_ERROR: u16 = 4002;
/// Close code sent to a client that did not read its answers for too long
/// (after an `error` frame `slow-consumer`; the reason is `slow-consumer`).
pub const CLOSE_SLOW_CONSUMER: u16 = 4003;

/// The header a client presents a bearer credential in, on the WebSocket upgrade:
/// `Authorization: Bearer <token>` (an external JWT or a self-signed token).
pub const AUTHORIZATION_HEADER: &str = "authorization";
/// What precedes the token in [`AUTHORIZATION_HEADER`].
pub const BEARER_PREFIX: &str = "Bearer ";
/// The header carrying cookies.
pub const COOKIE_HEADER: &str = "cookie";
/// The cookie carrying a token when no `Authorization` header is sent:
/// `Cookie: localfirst-token=<token>`.
pub const TOKEN_COOKIE: &str = "localfirst-token";

/// Frames a client sends.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum ClientMessage {
    /// First frame: protocol version and persistent client id.
    Hello {
        /// Protocol version.
        version: u32,
        /// Persistent client id (per namespace).
        #[serde(rename = "clientId")]
        client_id: String,
    },
    /// A batch of outbox entries.
    Push {
        /// The entries, in outbox order.
        entries: Vec<PushEntry>,
    },
    /// Changes after `cursor`.
    Pull {
        /// The last cursor the client has seen (0 = from the start).
        cursor: u64,
        /// At most this many changes (capped by the server).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        limit: Option<usize>,
        /// Subscribe to live changes afterwards (default true).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        live: Option<bool>,
    },
    /// Keep-alive; answered with `pong`.
    Ping,
}

/// The session as told to the client in `welcome`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WireSession {
    /// The user id.
    pub user_id: String,
    /// The auth mode.
    pub auth_mode: AuthMode,
}

/// Limits announced in `welcome`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WireLimits {
    /// Largest text frame either side sends, in bytes (at most
    /// [`MAX_CLIENT_FRAME_BYTES`]).
    pub max_frame_bytes: usize,
    /// Most entries per push.
    pub max_batch: usize,
    /// Most changes per `changes` frame.
    pub max_pull: usize,
    /// Largest row the server stores, in bytes of its JSON (system columns
    /// included); writes making a larger row are rejected `row-too-large`.
    /// Absent from servers older than this field.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_row_bytes: Option<usize>,
}

/// One change as sent to a client.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WireChange {
    /// Position in the global log.
    pub cursor: u64,
    /// The table.
    pub table: String,
    /// The row id.
    pub id: String,
    /// Put or delete.
    pub op: ChangeOp,
    /// The whole row for a put.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub row: Option<Row>,
    /// Why a put carries no row (`row-too-large`: a stored row too large for
    /// any frame); the client skips the change and reports it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub omitted: Option<String>,
}

/// Frames the server sends.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum ServerMessage {
    /// Answer to `hello`.
    Welcome {
        /// Protocol version.
        version: u32,
        /// Who the socket acts as.
        session: WireSession,
        /// The latest cursor.
        cursor: u64,
        /// Limits.
        limits: WireLimits,
    },
    /// Entries applied (now or earlier).
    Ack {
        /// Their sequence numbers.
        seqs: Vec<i64>,
        /// The latest cursor after the batch.
        cursor: u64,
    },
    /// One entry refused for good.
    Rejected {
        /// Its sequence number.
        seq: i64,
        /// A catalogue code ([`Code`]); text on the wire, so a code a newer
        /// server sends still arrives.
        code: String,
        /// Explanation.
        message: String,
    },
    /// Changes visible to this session.
    Changes {
        /// The changes.
        changes: Vec<WireChange>,
        /// Position seen up to.
        cursor: u64,
        /// More changes follow.
        more: bool,
        /// Pushed by a subscription rather than answering a pull.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        live: bool,
    },
    /// A frame could not be processed.
    Error {
        /// A catalogue code ([`Code`]); text on the wire, like a rejection's.
        code: String,
        /// Explanation.
        message: String,
    },
    /// The credential was refused; the socket closes.
    AuthRejected {
        /// `expired`, `missing`, `invalid` or `disabled`.
        code: String,
        /// Explanation.
        message: String,
    },
    /// Answer to `ping`.
    Pong,
}

impl ServerMessage {
    /// An `error` frame.
    pub fn error(code: Code, message: impl Into<String>) -> ServerMessage {
        ServerMessage::Error {
            code: code.as_str().to_owned(),
            message: message.into(),
        }
    }

    /// The frame as JSON text.
    pub fn to_text(&self) -> String {
        // Serialising these plain types cannot fail; fall back to a fixed error frame.
        serde_json::to_string(self).unwrap_or_else(|_| {
            r#"{"type":"error","code":"internal","message":"unserialisable frame"}"#.to_owned()
        })
    }
}

/// What a client asks to do to one row (one outbox entry).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WriteOp {
    /// Create a row from the payload's user columns.
    Insert,
    /// Patch a row with the payload.
    Update,
    /// Remove a row.
    Delete,
}

/// One entry of a pushed batch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PushEntry {
    /// The client's outbox sequence number (the idempotency key with the client id).
    pub seq: i64,
    /// The table.
    pub table: String,
    /// What to do.
    pub op: WriteOp,
    /// The row id.
    pub id: String,
    /// Insert: user columns; update: the patch; delete: none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payload: Option<Row>,
    /// When the writer made the change (Unix seconds, its clock): the row's
    /// `$createdAt`/`$updatedAt`. The server keeps it, bounded against clock
    /// skew; without it the server stamps its own time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<u64>,
}

/// Whether a change put or removed a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChangeOp {
    /// The row now has the value in [`WireChange::row`].
    Put,
    /// The row was deleted.
    Delete,
}

/// The length in bytes of `value`'s JSON text (as [`serde_json::to_string`]
/// writes it), counted without building the text: how both sides measure
/// frames against `maxFrameBytes` and rows against `maxRowBytes`. A value that
/// cannot be serialised counts as `usize::MAX`.
pub fn encoded_len<T: Serialize + ?Sized>(value: &T) -> usize {
    struct Count(usize);
    impl std::io::Write for Count {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0 = self.0.saturating_add(bytes.len());
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut count = Count(0);
    match serde_json::to_writer(&mut count, value) {
        Ok(()) => count.0,
        Err(_) => usize::MAX,
    }
}
