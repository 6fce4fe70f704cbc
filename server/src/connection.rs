//! One sync socket: handshake, push, pull, live changes, limits.
//!
//! The socket is split: this task reads frames and decides, a writer task owns
//! the sink and drains a bounded queue. A full queue drops the socket as a slow
//! consumer, so one stuck client never blocks the server.

use std::sync::Arc;

use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket};
use futures_util::{SinkExt as _, StreamExt as _};
use localfirst_core::session::AuthMode;
use tokio::sync::{broadcast, mpsc, watch};

use crate::apply;
use crate::auth::{AuthRejection, Resolved};
use crate::protocol::{
    codes, parse_client_frame, ClientMessage, ServerMessage, WireLimits, WireSession,
    CLOSE_AUTH_REJECTED, CLOSE_PROTOCOL_ERROR, PROTOCOL_VERSION,
};
use crate::server::AppState;
use crate::slots::SocketSlots;
use crate::store::{PushEntry, Writer};

/// Longest accepted client id.
const MAX_CLIENT_ID: usize = 128;

/// The socket has to close (already told the client why, or the peer is gone).
struct Closed;

struct Conn {
    out: mpsc::Sender<Message>,
    state: Arc<AppState>,
    resolved: Resolved,
    client_id: Option<String>,
    cursor: u64,
    live: bool,
}

impl Conn {
    fn send(&self, message: &ServerMessage) -> Result<(), Closed> {
        self.send_raw(Message::Text(Utf8Bytes::from(message.to_text())))
    }

    fn send_raw(&self, message: Message) -> Result<(), Closed> {
        match self.out.try_send(message) {
            Ok(()) => Ok(()),
            Err(mpsc::error::TrySendError::Full(_)) => {
                tracing::warn!(
                    user = %self.resolved.session.user_id,
                    "send queue full: dropping slow consumer"
                );
                Err(Closed)
            }
            Err(mpsc::error::TrySendError::Closed(_)) => Err(Closed),
        }
    }

    fn error(&self, code: &str, message: impl Into<String>) -> Result<(), Closed> {
        self.send(&ServerMessage::error(code, message))
    }

    /// Sends an error frame, then closes.
    fn fatal(&self, code: &str, message: impl Into<String>) -> Closed {
        let _ = self.error(code, message);
        let _ = self.send_raw(close(CLOSE_PROTOCOL_ERROR, code));
        Closed
    }
}

fn close(code: u16, reason: &str) -> Message {
    Message::Close(Some(CloseFrame {
        code,
        reason: Utf8Bytes::from(reason),
    }))
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
    let (mut sink, mut stream) = socket.split();
    let (out, mut queue) = mpsc::channel::<Message>(state.limits.send_queue.max(4));
    let writer = tokio::spawn(async move {
        while let Some(message) = queue.recv().await {
            let is_close = matches!(message, Message::Close(_));
            if sink.send(message).await.is_err() || is_close {
                break;
            }
        }
        let _ = sink.close().await;
    });

    match auth {
        Err(rejection) => {
            tracing::info!(code = %rejection.failure, reason = %rejection.message, "credential rejected");
            let frame = ServerMessage::AuthRejected {
                code: rejection.failure.as_str().to_owned(),
                message: rejection.message,
            };
            let _ = out.try_send(Message::Text(Utf8Bytes::from(frame.to_text())));
            let _ = out.try_send(close(CLOSE_AUTH_REJECTED, rejection.failure.as_str()));
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
    let _ = writer.await;
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
                        codes::FRAME_TOO_LARGE
                    } else {
                        codes::MALFORMED_FRAME
                    };
                    return Err(conn.fatal(code, format!("unreadable frame: {text}")));
                }
                Some(Ok(message)) => handle_frame(conn, message).await?,
            },
            received = notify.recv(), if notify_open && conn.live => match received {
                Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => forward_live(conn).await?,
                Err(broadcast::error::RecvError::Closed) => notify_open = false,
            },
            _ = tokio::time::sleep_until(deadline), if handshaking => {
                return Err(conn.fatal(codes::HANDSHAKE_TIMEOUT, "no hello within the handshake timeout"));
            }
            _ = shutdown.changed() => {
                let _ = conn.error(codes::SHUTTING_DOWN, "the server is shutting down");
                let _ = conn.send_raw(close(1001, codes::SHUTTING_DOWN));
                return Ok(());
            }
        }
    }
}

async fn handle_frame(conn: &mut Conn, message: Message) -> Result<(), Closed> {
    let text = match message {
        Message::Text(text) => text,
        Message::Binary(_) => {
            return conn.error(codes::UNSUPPORTED_FRAME, "binary frames are not used");
        }
        // Pings are answered by the WebSocket layer.
        Message::Ping(_) | Message::Pong(_) | Message::Close(_) => return Ok(()),
    };
    let max = conn.state.limits.max_frame_bytes;
    if text.len() > max {
        return conn.error(
            codes::FRAME_TOO_LARGE,
            format!("frame of {} bytes exceeds the {max}-byte limit", text.len()),
        );
    }
    let parsed = match parse_client_frame(text.as_str()) {
        Ok(parsed) => parsed,
        Err(e) => return conn.error(e.code, e.message),
    };
    check_expiry(conn)?;
    match parsed {
        ClientMessage::Hello { version, client_id } => hello(conn, version, client_id).await,
        _ if conn.client_id.is_none() => conn.error(codes::HELLO_REQUIRED, "send hello first"),
        ClientMessage::Push { entries } => push(conn, entries).await,
        ClientMessage::Pull {
            cursor,
            limit,
            live,
        } => pull(conn, cursor, limit, live.unwrap_or(true)).await,
        ClientMessage::Ping => conn.send(&ServerMessage::Pong),
    }
}

async fn hello(conn: &mut Conn, version: u32, client_id: String) -> Result<(), Closed> {
    // A repeated hello is a client bug, answered with an error; only the first one
    // negotiates the version (and may end the socket).
    if conn.client_id.is_some() {
        return conn.error(codes::MALFORMED_FRAME, "hello was already received");
    }
    if version != PROTOCOL_VERSION {
        return Err(conn.fatal(
            codes::UNSUPPORTED_VERSION,
            format!("protocol version {version} is not supported; supported: [{PROTOCOL_VERSION}]"),
        ));
    }
    let valid = !client_id.is_empty()
        && client_id.len() <= MAX_CLIENT_ID
        && client_id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_.:-".contains(&b));
    if !valid {
        return conn.error(
            codes::INVALID_CLIENT_ID,
            "clientId must be 1-128 characters of [A-Za-z0-9_.:-]",
        );
    }
    let cursor = match conn.state.store.latest_cursor().await {
        Ok(cursor) => cursor,
        Err(e) => return Err(conn.fatal(codes::STORAGE, e.to_string())),
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
        },
    })
}

async fn push(conn: &mut Conn, entries: Vec<PushEntry>) -> Result<(), Closed> {
    let max = conn.state.limits.max_batch;
    if entries.len() > max {
        return conn.error(
            codes::BATCH_TOO_LARGE,
            format!(
                "{} entries exceed the {max}-entry batch limit",
                entries.len()
            ),
        );
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
    );
    let result = match conn.state.store.push(&writer, entries, decide).await {
        Ok(result) => result,
        Err(e) => {
            tracing::error!(error = %e, "push failed in storage");
            return conn.error(codes::STORAGE, "storage failed; retry later");
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
                })?;
            }
            _ => seqs.push(seq),
        }
    }
    conn.send(&ServerMessage::Ack {
        seqs,
        cursor: result.cursor,
    })
}

async fn pull(
    conn: &mut Conn,
    cursor: u64,
    limit: Option<usize>,
    live: bool,
) -> Result<(), Closed> {
    let max = conn.state.limits.max_pull;
    let limit = limit.unwrap_or(max).clamp(1, max);
    let page = match conn.state.store.changes_since(cursor, limit).await {
        Ok(page) => page,
        Err(e) => {
            tracing::error!(error = %e, "pull failed in storage");
            return conn.error(codes::STORAGE, "storage failed; retry later");
        }
    };
    conn.cursor = page.cursor;
    conn.live = live;
    let changes = page
        .changes
        .iter()
        .filter_map(|c| apply::visible(c, &conn.resolved.session, conn.state.policies.as_deref()))
        .collect();
    conn.send(&ServerMessage::Changes {
        changes,
        cursor: page.cursor,
        more: page.more,
        live: false,
    })
}

/// Closes the socket with `auth-rejected` `expired` once its token's `exp` has passed.
fn check_expiry(conn: &Conn) -> Result<(), Closed> {
    match conn.resolved.expires_at {
        Some(exp) if conn.state.resolver.now() >= exp => {
            let frame = ServerMessage::AuthRejected {
                code: "expired".to_owned(),
                message: "the token expired".to_owned(),
            };
            let _ = conn.send(&frame);
            let _ = conn.send_raw(close(CLOSE_AUTH_REJECTED, "expired"));
            Err(Closed)
        }
        _ => Ok(()),
    }
}

/// Sends every visible change after the socket's cursor (none once the token expired).
async fn forward_live(conn: &mut Conn) -> Result<(), Closed> {
    check_expiry(conn)?;
    loop {
        let max = conn.state.limits.max_pull;
        let page = match conn.state.store.changes_since(conn.cursor, max).await {
            Ok(page) => page,
            Err(e) => {
                tracing::error!(error = %e, "live read failed in storage");
                return conn.error(codes::STORAGE, "storage failed; pull again later");
            }
        };
        if page.cursor == conn.cursor {
            return Ok(());
        }
        conn.cursor = page.cursor;
        let changes: Vec<_> = page
            .changes
            .iter()
            .filter_map(|c| {
                apply::visible(c, &conn.resolved.session, conn.state.policies.as_deref())
            })
            .collect();
        if !changes.is_empty() {
            conn.send(&ServerMessage::Changes {
                changes,
                cursor: page.cursor,
                more: page.more,
                live: true,
            })?;
        }
        if !page.more {
            return Ok(());
        }
    }
}
