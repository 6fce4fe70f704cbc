//! One sync socket: handshake, push, pull, live changes, limits.
//!
//! The socket is split: this task reads frames and decides, a writer task owns
//! the sink and drains a bounded queue (`crate::outbound`). While the queue is
//! full this task reads nothing more from the client (backpressure); a client
//! that reads nothing for the slow-consumer timeout is cut off with a reason,
//! so one stuck client never blocks the server.

use std::sync::Arc;

use axum::extract::ws::{Message, Utf8Bytes, WebSocket};
use futures_util::StreamExt as _;
use localfirst_core::error::Code;
use localfirst_core::session::AuthMode;
use tokio::sync::{broadcast, watch};

use crate::apply;
use crate::auth::{AuthRejection, Resolved};
use crate::outbound::{self, close, Outbound};
use crate::pages;
use crate::protocol::{
    parse_client_frame, ClientMessage, ServerMessage, WireLimits, WireSession, CLOSE_AUTH_REJECTED,
    CLOSE_PROTOCOL_ERROR, PROTOCOL_VERSION,
};
use crate::server::AppState;
use crate::slots::SocketSlots;
use crate::store::{PushEntry, Writer};

/// Longest accepted client id.
const MAX_CLIENT_ID: usize = 128;

/// The socket has to close (already told the client why, or the peer is gone).
struct Closed;

struct Conn {
    out: Outbound,
    state: Arc<AppState>,
    resolved: Resolved,
    client_id: Option<String>,
    cursor: u64,
    live: bool,
}

impl Conn {
    /// Queues a frame, waiting while the send queue is full (see `outbound`).
    async fn send(&self, message: &ServerMessage) -> Result<(), Closed> {
        self.send_raw(Message::Text(Utf8Bytes::from(message.to_text())))
            .await
    }

    async fn send_raw(&self, message: Message) -> Result<(), Closed> {
        self.out.send(message).await.map_err(|_| Closed)
    }

    async fn error(&self, code: Code, message: impl Into<String>) -> Result<(), Closed> {
        self.send(&ServerMessage::error(code, message)).await
    }

    /// Sends an error frame, then closes.
    async fn fatal(&self, code: Code, message: impl Into<String>) -> Closed {
        let _ = self.error(code, message).await;
        let _ = self
            .send_raw(close(CLOSE_PROTOCOL_ERROR, code.as_str()))
            .await;
        Closed
    }
}

/// Runs one socket to its end. `permit` holds its connection slots, released on return.
pub(crate) async fn run(
    socket: WebSocket,
    state: Arc<AppState>,
    auth: Result<Resolved, AuthRejection>,
    permit: SocketSlots,
    mut shutdown: watch::Receiver<bool>,
) {
    let _permit = permit;
    let (sink, mut stream) = socket.split();
    let (out, writer) = outbound::start(
        sink,
        state.limits.send_queue,
        state.limits.slow_consumer_timeout,
        shutdown.clone(),
        Arc::clone(&state.slow_consumers),
    );

    match auth {
        Err(rejection) => {
            tracing::info!(code = %rejection.failure, reason = %rejection.message, "credential rejected");
            let frame = ServerMessage::AuthRejected {
                code: rejection.failure.as_str().to_owned(),
                message: rejection.message,
            };
            out.try_send(Message::Text(Utf8Bytes::from(frame.to_text())));
            out.try_send(close(CLOSE_AUTH_REJECTED, rejection.failure.as_str()));
            drop(out);
        }
        Ok(resolved) => {
            tracing::debug!(
                user = %resolved.session.user_id,
                mode = %resolved.session.auth_mode,
                "socket authenticated"
            );
            let mut notify = state.store.subscribe();
            let mut conn = Conn {
                out,
                state: Arc::clone(&state),
                resolved,
                client_id: None,
                cursor: 0,
                live: false,
            };
            let _ = serve_socket(&mut conn, &mut stream, &mut notify, &mut shutdown).await;
            drop(conn);
        }
    }
    // The writer ends once the queue is drained and every sender is gone.
    writer.finish(&mut stream).await;
}

async fn serve_socket(
    conn: &mut Conn,
    stream: &mut futures_util::stream::SplitStream<WebSocket>,
    notify: &mut broadcast::Receiver<u64>,
    shutdown: &mut watch::Receiver<bool>,
) -> Result<(), Closed> {
    let deadline = tokio::time::Instant::now() + conn.state.limits.handshake_timeout;
    let mut notify_open = true;
    loop {
        let handshaking = conn.client_id.is_none();
        tokio::select! {
            frame = stream.next() => match frame {
                None | Some(Ok(Message::Close(_))) => return Ok(()),
                Some(Err(e)) => {
                    // The WebSocket layer gave up on the stream (a frame far above the
                    // limit, or a protocol violation): say why, then close.
                    let text = e.to_string();
                    let code = if text.contains("too long") || text.contains("limit") {
                        Code::FrameTooLarge
                    } else {
                        Code::MalformedFrame
                    };
                    return Err(conn.fatal(code, format!("unreadable frame: {text}")).await);
                }
                Some(Ok(message)) => handle_frame(conn, message).await?,
            },
            received = notify.recv(), if notify_open && conn.live => match received {
                Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => forward_live(conn).await?,
                Err(broadcast::error::RecvError::Closed) => notify_open = false,
            },
            _ = tokio::time::sleep_until(deadline), if handshaking => {
                return Err(conn.fatal(Code::HandshakeTimeout, "no hello within the handshake timeout").await);
            }
            _ = shutdown.changed() => {
                let _ = conn.error(Code::ShuttingDown, "the server is shutting down").await;
                let _ = conn.send_raw(close(1001, Code::ShuttingDown.as_str())).await;
                return Ok(());
            }
        }
    }
}

async fn handle_frame(conn: &mut Conn, message: Message) -> Result<(), Closed> {
    let text = match message {
        Message::Text(text) => text,
        Message::Binary(_) => {
            return conn
                .error(Code::UnsupportedFrame, "binary frames are not used")
                .await;
        }
        // Pings are answered by the WebSocket layer.
        Message::Ping(_) | Message::Pong(_) | Message::Close(_) => return Ok(()),
    };
    let max = conn.state.limits.max_frame_bytes;
    if text.len() > max {
        return conn
            .error(
                Code::FrameTooLarge,
                format!("frame of {} bytes exceeds the {max}-byte limit", text.len()),
            )
            .await;
    }
    let parsed = match parse_client_frame(text.as_str()) {
        Ok(parsed) => parsed,
        Err(e) => return conn.error(e.code, e.message).await,
    };
    check_expiry(conn).await?;
    match parsed {
        ClientMessage::Hello { version, client_id } => hello(conn, version, client_id).await,
        _ if conn.client_id.is_none() => conn.error(Code::HelloRequired, "send hello first").await,
        ClientMessage::Push { entries } => push(conn, entries).await,
        ClientMessage::Pull {
            cursor,
            limit,
            live,
        } => pull(conn, cursor, limit, live.unwrap_or(true)).await,
        ClientMessage::Ping => conn.send(&ServerMessage::Pong).await,
    }
}

async fn hello(conn: &mut Conn, version: u32, client_id: String) -> Result<(), Closed> {
    // A repeated hello is a client bug, answered with an error; only the first one
    // negotiates the version (and may end the socket).
    if conn.client_id.is_some() {
        return conn
            .error(Code::MalformedFrame, "hello was already received")
            .await;
    }
    if version != PROTOCOL_VERSION {
        return Err(conn
            .fatal(
                Code::UnsupportedVersion,
                format!(
                    "protocol version {version} is not supported; supported: [{PROTOCOL_VERSION}]"
                ),
            )
            .await);
    }
    let valid = !client_id.is_empty()
        && client_id.len() <= MAX_CLIENT_ID
        && client_id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_.:-".contains(&b));
    if !valid {
        return conn
            .error(
                Code::InvalidClientId,
                "clientId must be 1-128 characters of [A-Za-z0-9_.:-]",
            )
            .await;
    }
    let cursor = match conn.state.store.latest_cursor().await {
        Ok(cursor) => cursor,
        Err(e) => return Err(conn.fatal(Code::Storage, e.to_string()).await),
    };
    conn.client_id = Some(client_id);
    let limits = conn.state.limits;
    conn.send(&ServerMessage::Welcome {
        version: PROTOCOL_VERSION,
        session: WireSession {
            user_id: conn.resolved.session.user_id.clone(),
            auth_mode: conn.resolved.session.auth_mode,
        },
        cursor,
        limits: WireLimits {
            max_frame_bytes: limits.max_frame_bytes,
            max_batch: limits.max_batch,
            max_pull: limits.max_pull,
            max_row_bytes: Some(limits.max_row_bytes()),
        },
    })
    .await
}

async fn push(conn: &mut Conn, entries: Vec<PushEntry>) -> Result<(), Closed> {
    let max = conn.state.limits.max_batch;
    if entries.len() > max {
        return conn
            .error(
                Code::BatchTooLarge,
                format!(
                    "{} entries exceed the {max}-entry batch limit",
                    entries.len()
                ),
            )
            .await;
    }
    let writer = Writer {
        user_id: conn.resolved.session.user_id.clone(),
        client_id: conn.client_id.clone().unwrap_or_default(),
    };
    let now = conn.state.resolver.now();
    let decide = apply::decider(
        conn.resolved.session.clone(),
        conn.state.policies.clone(),
        now,
        conn.state.limits.max_row_bytes(),
    );
    let result = match conn.state.store.push(&writer, entries, decide).await {
        Ok(result) => result,
        Err(e) => {
            tracing::error!(error = %e, "push failed in storage");
            return conn
                .error(Code::Storage, "storage failed; retry later")
                .await;
        }
    };
    let mut seqs = Vec::with_capacity(result.outcomes.len());
    for (seq, outcome) in result.outcomes {
        match outcome {
            crate::store::Outcome::Rejected(rejection) => {
                if conn.resolved.session.auth_mode != AuthMode::Anonymous {
                    tracing::info!(seq, code = %rejection.code, "entry rejected");
                }
                conn.send(&ServerMessage::Rejected {
                    seq,
                    code: rejection.code,
                    message: rejection.message,
                })
                .await?;
            }
            _ => seqs.push(seq),
        }
    }
    conn.send(&ServerMessage::Ack {
        seqs,
        cursor: result.cursor,
    })
    .await
}

async fn pull(
    conn: &mut Conn,
    cursor: u64,
    limit: Option<usize>,
    live: bool,
) -> Result<(), Closed> {
    let max = conn.state.limits.max_pull;
    let limit = limit.unwrap_or(max).clamp(1, max);
    let read = conn.state.limits.max_page_read_bytes();
    let page = match conn.state.store.changes_within(cursor, limit, read).await {
        Ok(page) => page,
        Err(e) => {
            tracing::error!(error = %e, "pull failed in storage");
            return conn
                .error(Code::Storage, "storage failed; retry later")
                .await;
        }
    };
    // One frame answers a pull; what does not fit into it is pulled next.
    let part = pages::next_part(
        &page.changes,
        0,
        cursor,
        &conn.resolved.session,
        conn.state.policies.as_deref(),
        conn.state.limits.max_frame_bytes,
    );
    let whole = part.next == page.changes.len();
    conn.cursor = if whole { page.cursor } else { part.cursor };
    conn.live = live;
    conn.send(&ServerMessage::Changes {
        changes: part.changes,
        cursor: conn.cursor,
        more: page.more || !whole,
        live: false,
    })
    .await
}

/// Closes the socket with `auth-rejected` `expired` once its token's `exp` has passed.
async fn check_expiry(conn: &Conn) -> Result<(), Closed> {
    match conn.resolved.expires_at {
        Some(exp) if conn.state.resolver.now() >= exp => {
            let frame = ServerMessage::AuthRejected {
                code: "expired".to_owned(),
                message: "the token expired".to_owned(),
            };
            let _ = conn.send(&frame).await;
            let _ = conn.send_raw(close(CLOSE_AUTH_REJECTED, "expired")).await;
            Err(Closed)
        }
        _ => Ok(()),
    }
}

/// Sends every visible change after the socket's cursor (none once the token expired).
async fn forward_live(conn: &mut Conn) -> Result<(), Closed> {
    check_expiry(conn).await?;
    loop {
        let max = conn.state.limits.max_pull;
        let read = conn.state.limits.max_page_read_bytes();
        let page = match conn
            .state
            .store
            .changes_within(conn.cursor, max, read)
            .await
        {
            Ok(page) => page,
            Err(e) => {
                tracing::error!(error = %e, "live read failed in storage");
                return conn
                    .error(Code::Storage, "storage failed; pull again later")
                    .await;
            }
        };
        if page.cursor == conn.cursor {
            return Ok(());
        }
        let mut start = 0;
        while start < page.changes.len() {
            let part = pages::next_part(
                &page.changes,
                start,
                conn.cursor,
                &conn.resolved.session,
                conn.state.policies.as_deref(),
                conn.state.limits.max_frame_bytes,
            );
            start = part.next;
            conn.cursor = part.cursor;
            if !part.changes.is_empty() {
                conn.send(&ServerMessage::Changes {
                    changes: part.changes,
                    cursor: part.cursor,
                    more: page.more || start < page.changes.len(),
                    live: true,
                })
                .await?;
            }
        }
        conn.cursor = page.cursor;
        if !page.more {
            return Ok(());
        }
    }
}
