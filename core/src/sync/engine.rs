//! The sync engine: one WebSocket session ([`Session`]) driven either once
//! ([`once`], behind `Db::sync_once`) or by a background task with reconnects
//! ([`run`], behind `Db::start_sync`). It drives the database through the
//! [`SyncHost`] seam only. Tasks hold the host weakly between steps, so no task
//! keeps a dropped `Db` alive, and the `Db` aborts its task when it goes.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Message;

use crate::auth::AuthFailure;
use crate::error::Code;
use crate::local_db::OutboxOp;
use crate::session::AuthMode;

use super::exchange::{exchange, reject, InFlight, PullBudget};
use super::host::{SyncError, SyncHost};
use super::protocol::{
    encoded_len, ClientMessage, PushEntry, ServerMessage, WriteOp, AUTHORIZATION_HEADER,
    BEARER_PREFIX, CLOSE_AUTH_REJECTED, COOKIE_HEADER, MAX_CLIENT_FRAME_BYTES, MIN_FRAME_BYTES,
    PROTOCOL_VERSION, TOKEN_COOKIE,
};
use super::{sync_url, Backoff, Credential, SyncRejection, SyncReport, SyncState, MAX_CURSOR};

/// Longest time to open the socket and finish the handshake.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// How many times one `sync_once` run takes a new client id before it gives up.
const MAX_RENEWALS_PER_RUN: u32 = 2;

pub(super) type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Why a session ended; `E` is the host's error.
#[derive(Debug)]
pub(super) enum Failure<E> {
    /// The server refused the credential.
    Auth { code: String, message: String },
    /// Network trouble; retry later.
    Net(String),
    /// An `error` frame or an unexpected answer.
    Protocol { code: String, message: String },
    /// A local failure (logged out, storage).
    Host(E),
    /// The host is gone.
    Gone,
    /// The server showed that another device writes under this client id; a
    /// new one was taken, and the session must reconnect with it.
    ClientIdRenewed,
}

impl<E> From<E> for Failure<E> {
    fn from(e: E) -> Failure<E> {
        Failure::Host(e)
    }
}

impl<E: crate::error::ErrorCode + std::fmt::Display + From<SyncError>> Failure<E> {
    /// The host's error for this failure.
    fn into_error(self) -> E {
        match self {
            Failure::Auth { code, message } => SyncError::AuthRejected { code, message }.into(),
            Failure::Net(reason) => SyncError::Network { reason }.into(),
            Failure::Protocol { code, message } => SyncError::Protocol { code, message }.into(),
            Failure::Host(e) => e,
            Failure::Gone => SyncError::Gone.into(),
            Failure::ClientIdRenewed => SyncError::Protocol {
                code: Code::ClientIdReused.as_str().into(),
                message: "the server keeps refusing this device's client id".into(),
            }
            .into(),
        }
    }

    /// The code and message of [`SyncStatus::last_error`](super::SyncStatus::last_error):
    /// those of the error `sync_once` returns for the same failure, or `client-id-reused`
    /// after the engine took a new client id.
    fn code_and_message(&self) -> (String, String) {
        let sync = match self {
            Failure::Host(e) => return (e.code().as_str().to_owned(), e.to_string()),
            Failure::ClientIdRenewed => {
                return (
                    Code::ClientIdReused.as_str().into(),
                    "took a new client id: this namespace was copied to another device".into(),
                )
            }
            Failure::Auth { code, message } => SyncError::AuthRejected {
                code: code.clone(),
                message: message.clone(),
            },
            Failure::Net(reason) => SyncError::Network {
                reason: reason.clone(),
            },
            Failure::Protocol { code, message } => SyncError::Protocol {
                code: code.clone(),
                message: message.clone(),
            },
            Failure::Gone => SyncError::Gone,
        };
        let error = E::from(sync);
        (error.code().as_str().to_owned(), error.to_string())
    }
}

fn net<E>(e: impl std::fmt::Display) -> Failure<E> {
    Failure::Net(e.to_string())
}

/// The host behind a weak reference, for one step.
pub(super) fn host<H: SyncHost>(weak: &H::Weak) -> Result<H, Failure<H::Error>> {
    H::upgrade(weak).ok_or(Failure::Gone)
}

/// Recounts the pending outbox into the status.
pub(super) fn notify_status<H: SyncHost>(host: &H) {
    host.refresh_pending();
}

/// One open, handshaken socket.
pub(super) struct Session {
    pub(super) ws: Ws,
    pub(super) url: String,
    /// The client id sent in `hello`.
    pub(super) client_id: String,
    pub(super) max_batch: usize,
    /// The largest frame the server accepts (and sends).
    pub(super) max_frame_bytes: usize,
    /// How many outbox entries the next batch reads: `max_batch`, or about
    /// twice what fitted into the last frame when big rows cut it short (so
    /// an outbox of big rows is not read a thousand entries at a time).
    pub(super) push_read: usize,
    pub(super) can_push: bool,
    /// The server's latest cursor as told in `welcome`.
    pub(super) announced: u64,
}

/// Whether sync may run for this host, ignoring a refused credential.
fn gate<H: SyncHost>(host: &H) -> Result<(), SyncError> {
    if host.server_url().is_none() {
        return Err(SyncError::Unavailable {
            reason: "no server URL is configured".into(),
        });
    }
    let mut state = host.auth_state();
    state.error = None;
    let when = host.sync_when();
    if !crate::auth::should_sync(when, &state) {
        return Err(SyncError::Unavailable {
            reason: format!(
                "sync_when {when:?} keeps {} data local",
                state.auth_mode.as_str()
            ),
        });
    }
    Ok(())
}

async fn connect<H: SyncHost>(weak: &H::Weak) -> Result<Session, Failure<H::Error>> {
    let (url, request, client_id, can_push) = {
        let host = host::<H>(weak)?;
        let server = host.server_url().unwrap_or_default();
        let url = sync_url(&server, &host.app_id());
        let mut request = url.as_str().into_client_request().map_err(net)?;
        let header = |text: String| HeaderValue::from_str(&text).map_err(net);
        match host.current_credential()? {
            Credential::Bearer(token) => {
                let value = header(format!("{BEARER_PREFIX}{token}"))?;
                request.headers_mut().insert(AUTHORIZATION_HEADER, value);
            }
            Credential::Cookie(token) => {
                let value = header(format!("{TOKEN_COOKIE}={token}"))?;
                request.headers_mut().insert(COOKIE_HEADER, value);
            }
            Credential::None => {}
        }
        let can_push = host.auth_state().auth_mode != AuthMode::Anonymous;
        (url, request, host.client_id()?, can_push)
    };
    // Frames above what the protocol lets a server send end the socket.
    let frames = WebSocketConfig::default()
        .max_message_size(Some(MAX_CLIENT_FRAME_BYTES))
        .max_frame_size(Some(MAX_CLIENT_FRAME_BYTES));
    let opened = tokio::time::timeout(
        CONNECT_TIMEOUT,
        tokio_tungstenite::connect_async_with_config(request, Some(frames), false),
    )
    .await
    .map_err(|_| Failure::Net("connecting timed out".into()))?;
    let (mut ws, _) = opened.map_err(net)?;
    send(
        &mut ws,
        &ClientMessage::Hello {
            version: PROTOCOL_VERSION,
            client_id: client_id.clone(),
        },
    )
    .await?;
    let welcome = tokio::time::timeout(CONNECT_TIMEOUT, async {
        loop {
            match next_frame(&mut ws).await? {
                ServerMessage::Welcome {
                    session,
                    limits,
                    cursor,
                    ..
                } => return Ok::<_, Failure<H::Error>>((session, limits, cursor)),
                other => unexpected(other)?,
            }
        }
    })
    .await
    .map_err(|_| Failure::Net("no welcome within the handshake timeout".into()))??;
    let (session, limits, announced) = welcome;
    if announced > MAX_CURSOR {
        return Err(Failure::Protocol {
            code: Code::CursorOutOfRange.as_str().into(),
            message: format!("the server announced cursor {announced}, above 2^53-1"),
        });
    }
    if !(MIN_FRAME_BYTES..=MAX_CLIENT_FRAME_BYTES).contains(&limits.max_frame_bytes) {
        return Err(Failure::Protocol {
            code: Code::FrameTooLarge.as_str().into(),
            message: format!(
                "the server announces frames of up to {} bytes; this client takes {MIN_FRAME_BYTES} to {MAX_CLIENT_FRAME_BYTES}",
                limits.max_frame_bytes
            ),
        });
    }
    Ok(Session {
        ws,
        url,
        client_id,
        max_batch: limits.max_batch.clamp(1, 10_000),
        max_frame_bytes: limits.max_frame_bytes,
        push_read: limits.max_batch.clamp(1, 10_000),
        can_push: can_push && session.auth_mode != AuthMode::Anonymous,
        announced,
    })
}

/// Turns frames that end a session into failures; others are ignored. A
/// server that cut the client off as a slow consumer, or is shutting down, is
/// a network condition: retry later.
pub(super) fn unexpected<E>(frame: ServerMessage) -> Result<(), Failure<E>> {
    match frame {
        ServerMessage::AuthRejected { code, message } => Err(Failure::Auth { code, message }),
        ServerMessage::Error { code, message }
            if code == Code::SlowConsumer || code == Code::ShuttingDown =>
        {
            Err(Failure::Net(format!(
                "the server closed the socket ({code}): {message}"
            )))
        }
        ServerMessage::Error { code, message } => Err(Failure::Protocol { code, message }),
        _ => Ok(()),
    }
}

pub(super) async fn send<E>(ws: &mut Ws, message: &ClientMessage) -> Result<(), Failure<E>> {
    let text = serde_json::to_string(message).map_err(|e| Failure::Protocol {
        code: "unserialisable".into(),
        message: e.to_string(),
    })?;
    ws.send(Message::text(text)).await.map_err(net)
}

/// The next server frame (frames of unknown types are skipped).
pub(super) async fn next_frame<E>(ws: &mut Ws) -> Result<ServerMessage, Failure<E>> {
    loop {
        match ws.next().await {
            None => return Err(Failure::Net("the server closed the connection".into())),
            Some(Err(e)) => return Err(net(e)),
            Some(Ok(Message::Text(text))) => {
                if let Ok(frame) = serde_json::from_str::<ServerMessage>(text.as_str()) {
                    return Ok(frame);
                }
            }
            Some(Ok(Message::Close(frame))) => {
                return Err(match frame {
                    Some(f) if u16::from(f.code) == CLOSE_AUTH_REJECTED => Failure::Auth {
                        code: f.reason.to_string(),
                        message: "the server refused the credential".into(),
                    },
                    Some(f) => {
                        Failure::Net(format!("closed by the server: {} {}", f.code, f.reason))
                    }
                    None => Failure::Net("closed by the server".into()),
                })
            }
            Some(Ok(_)) => {}
        }
    }
}

/// Sends the next outbox batch when none is in flight; returns whether one went.
/// A batch holds at most `maxBatch` entries and fits into one frame of
/// `maxFrameBytes`; an entry too large for any frame can never be accepted, so
/// it is dropped at once as rejected `row-too-large` (never stalling the rest,
/// never part of the batch in flight).
pub(super) async fn push_next<H: SyncHost>(
    weak: &H::Weak,
    session: &mut Session,
    in_flight: &mut Option<InFlight>,
    report: &mut SyncReport,
) -> Result<bool, Failure<H::Error>> {
    if !session.can_push || in_flight.is_some() {
        return Ok(false);
    }
    let empty_frame = encoded_len(&ClientMessage::Push {
        entries: Vec::new(),
    });
    let (batch, entries) = loop {
        let host = host::<H>(weak)?;
        let limit = u32::try_from(session.push_read).unwrap_or(u32::MAX);
        let pending = host.pending_outbox(limit)?;
        if pending.is_empty() {
            return Ok(false);
        }
        let read = pending.len();
        let mut batch = InFlight::new();
        let mut entries = Vec::new();
        let mut size = empty_frame;
        for e in pending {
            let entry = PushEntry {
                seq: e.seq,
                table: e.table,
                op: match e.op {
                    OutboxOp::Insert => WriteOp::Insert,
                    OutboxOp::Update => WriteOp::Update,
                    OutboxOp::Delete => WriteOp::Delete,
                },
                id: e.row_id,
                payload: e.payload.and_then(|p| match p {
                    serde_json::Value::Object(map) => Some(map),
                    _ => None,
                }),
                at: Some(e.at),
            };
            // One more entry and its separating comma.
            let grown = size.saturating_add(encoded_len(&entry)).saturating_add(1);
            if grown > session.max_frame_bytes {
                if !entries.is_empty() {
                    break;
                }
                let rejection = SyncRejection {
                    seq: entry.seq,
                    table: entry.table,
                    id: entry.id,
                    code: Code::RowTooLarge.as_str().to_owned(),
                    message: format!(
                        "the entry does not fit into a frame of {} bytes (the server's maxFrameBytes)",
                        session.max_frame_bytes
                    ),
                };
                reject(&host, report, e.op, rejection)?;
                continue;
            }
            size = grown;
            batch.insert(entry.seq, (entry.table.clone(), entry.id.clone(), e.op));
            entries.push(entry);
        }
        if !entries.is_empty() {
            let cut = entries.len() < read;
            session.push_read = if cut {
                entries.len().saturating_mul(2)
            } else {
                session.push_read.saturating_mul(2)
            }
            .clamp(1, session.max_batch);
            break (batch, entries);
        }
    };
    report.pushed += u64::try_from(entries.len()).unwrap_or(0);
    send(&mut session.ws, &ClientMessage::Push { entries }).await?;
    *in_flight = Some(batch);
    Ok(true)
}

/// What to do after the server refused the credential: whether a refresh
/// brought a new one.
async fn handle_auth<H: SyncHost>(weak: &H::Weak, code: &str) -> Result<bool, Failure<H::Error>> {
    let host = host::<H>(weak)?;
    let failure = AuthFailure::from_server_code(code);
    Ok(host.refresh_after_rejection(failure).await?)
}

/// One run: connect, push everything pending, pull until caught up, wait for
/// every acknowledgement, disconnect (`Db::sync_once`).
pub(crate) async fn once<H: SyncHost>(host: H) -> Result<SyncReport, H::Error> {
    gate(&host)?;
    if host.auth_state().error.is_some() {
        return Err(SyncError::Unavailable {
            reason: "the server refuses the credential; sync is paused until a new token".into(),
        }
        .into());
    }
    let limits = host.sync_limits();
    match tokio::time::timeout(limits.run_timeout, once_bounded(&host)).await {
        Ok(result) => result,
        Err(_) => {
            let failure = Failure::<H::Error>::Net(format!(
                "the sync run took longer than its limit of {:?} (SyncLimits::run_timeout)",
                limits.run_timeout
            ));
            let (code, message) = failure.code_and_message();
            host.update_sync_status(|s| s.last_error = Some((code, message)));
            Err(failure.into_error())
        }
    }
}

/// The sessions of one `sync_once` run: one, plus one retry after a refreshed
/// token, plus one per client id renewal (at most [`MAX_RENEWALS_PER_RUN`]).
async fn once_bounded<H: SyncHost>(host: &H) -> Result<SyncReport, H::Error> {
    let weak = host.downgrade();
    let mut report = SyncReport::default();
    let mut budget = PullBudget(Some(host.sync_limits().max_pulls));
    let mut refreshed = false;
    let mut renewals = 0;
    loop {
        let result = async {
            let mut session = connect::<H>(&weak).await?;
            host.report_server_accepted()?;
            let outcome = exchange::<H>(&weak, &mut session, false, &mut report, &mut budget).await;
            let _ = session.ws.close(None).await;
            outcome
        }
        .await;
        let failure = match result {
            Ok(()) => {
                report.cursor = host.sync_cursor(&sync_url(
                    &host.server_url().unwrap_or_default(),
                    &host.app_id(),
                ))?;
                notify_status(host);
                return Ok(report);
            }
            Err(Failure::Auth { code, message }) => {
                let new_token = handle_auth::<H>(&weak, &code)
                    .await
                    .map_err(Failure::into_error)?;
                if !new_token || refreshed {
                    return Err(SyncError::AuthRejected { code, message }.into());
                }
                refreshed = true;
                continue;
            }
            Err(Failure::ClientIdRenewed) if renewals < MAX_RENEWALS_PER_RUN => {
                renewals += 1;
                continue;
            }
            Err(other) => other,
        };
        let (code, message) = failure.code_and_message();
        host.update_sync_status(|s| s.last_error = Some((code, message)));
        return Err(failure.into_error());
    }
}

/// The background task: connect, exchange live, reconnect with backoff; pause
/// while the credential is refused; end when the host goes or sync is disabled
/// (`Db::start_sync`).
pub(crate) async fn run<H: SyncHost>(weak: H::Weak, backoff: Backoff) {
    let mut failures: u32 = 0;
    loop {
        let Ok(now) = host::<H>(&weak) else { return };
        if gate(&now).is_err() || now.is_logged_out() {
            now.update_sync_status(|s| s.state = SyncState::Disabled);
            return;
        }
        if now.auth_state().error.is_some() {
            now.update_sync_status(|s| s.state = SyncState::Paused);
            let wake = now.wake();
            drop(now);
            wake.notified().await;
            continue;
        }
        now.update_sync_status(|s| s.state = SyncState::Connecting);
        drop(now);
        let mut report = SyncReport::default();
        let result = async {
            let mut session = connect::<H>(&weak).await?;
            {
                let host = host::<H>(&weak)?;
                host.report_server_accepted()?;
                host.update_sync_status(|s| {
                    s.state = SyncState::Connected;
                    s.last_error = None;
                });
            }
            failures = 0;
            // A live session has no pull budget; it only stops on failure.
            exchange::<H>(
                &weak,
                &mut session,
                true,
                &mut report,
                &mut PullBudget(None),
            )
            .await
        }
        .await;
        let failure = match result {
            Ok(()) => continue,
            Err(Failure::Gone) => return,
            // A local failure after a logout (the host refuses every call): stop.
            Err(Failure::Host(_)) if H::upgrade(&weak).is_none_or(|h| h.is_logged_out()) => return,
            Err(f) => f,
        };
        let (code, message) = failure.code_and_message();
        if let Ok(host) = host::<H>(&weak) {
            host.update_sync_status(|s| s.last_error = Some((code, message)));
        }
        if let Failure::Auth { code, .. } = &failure {
            match handle_auth::<H>(&weak, code).await {
                // A fresh token: reconnect at once with it. Otherwise `error` is
                // set: the loop pauses until the auth state changes.
                Ok(_) => continue,
                Err(_) => return,
            }
        }
        let Ok(now) = host::<H>(&weak) else { return };
        now.update_sync_status(|s| s.state = SyncState::Offline);
        drop(now);
        let mut random = [0u8; 4];
        let _ = getrandom::getrandom(&mut random);
        let delay = backoff.delay(failures, u32::from_le_bytes(random));
        failures = failures.saturating_add(1);
        tokio::time::sleep(delay).await;
    }
}
