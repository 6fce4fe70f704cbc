//! The sync engine: one WebSocket session ([`Session`]) driven either once
//! ([`Db::sync_once`]) or by a background task with reconnects
//! ([`Db::start_sync`]). Tasks hold the `Db` weakly between steps, so no task
//! keeps a dropped `Db` alive, and the `Db` aborts its task when it goes.

use std::future::Future;
use std::sync::{Arc, Weak};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Message;

use crate::auth::AuthFailure;
use crate::db::{Db, DbError, RefreshOutcome};
use crate::error::{Code, ErrorCode as _};
use crate::local_db::OutboxOp;
use crate::session::AuthMode;

use super::exchange::{exchange, reject, InFlight, PullBudget};
use super::protocol::{
    encoded_len, ClientMessage, PushEntry, ServerMessage, WriteOp, CLOSE_AUTH_REJECTED,
    MAX_CLIENT_FRAME_BYTES, MIN_FRAME_BYTES, PROTOCOL_VERSION,
};
use super::{sync_url, Backoff, Credential, SyncRejection, SyncReport, SyncState, MAX_CURSOR};

/// Longest time to open the socket and finish the handshake.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// How many times one `sync_once` run takes a new client id before it gives up.
const MAX_RENEWALS_PER_RUN: u32 = 2;

pub(super) type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

pub(super) type Inner = crate::db::DbInner;

impl Db {
    /// Starts the background sync task on the `Db`'s runtime (no-op when it
    /// runs already). It connects with the current credential, pushes the
    /// outbox, pulls from the persisted cursor, stays subscribed to live
    /// changes, pushes new local writes promptly, and reconnects with
    /// [`Backoff`] after network failures. When `sync_when` or a missing
    /// server URL keeps the data local, the status stays
    /// [`SyncState::Disabled`]. Never blocks on the network.
    pub fn start_sync(&self) -> Result<(), DbError> {
        self.start_sync_with(Backoff::default())
    }

    /// [`start_sync`](Self::start_sync) with another reconnect backoff (tests).
    pub fn start_sync_with(&self, backoff: Backoff) -> Result<(), DbError> {
        self.inner.ensure_open()?;
        let handle = self.inner.runtime.handle()?;
        let mut state = crate::db::lock_sync(&self.inner);
        if state.task.as_ref().is_some_and(|t| !t.is_finished()) {
            return Ok(());
        }
        let weak = Arc::downgrade(&self.inner);
        state.task = Some(handle.spawn(run(weak, backoff)));
        Ok(())
    }

    /// Stops the background sync task (its socket closes). Pending writes stay
    /// in the outbox.
    pub fn stop_sync(&self) {
        self.inner.sync.stop(false);
        self.notify_status();
    }

    /// Connects, pushes everything pending (in batches of the server's
    /// `maxBatch`), pulls until caught up, waits for every acknowledgement and
    /// disconnects. Runs on the `Db`'s runtime; the returned future may be
    /// awaited on any executor. An `expired` rejection with a JWT refresher
    /// refreshes once and retries.
    pub fn sync_once(&self) -> impl Future<Output = Result<SyncReport, DbError>> + Send + 'static {
        let db = self.clone();
        let spawned = self
            .inner
            .runtime
            .handle()
            .map(|handle| handle.spawn(async move { once(db).await }));
        async move {
            match spawned {
                Ok(task) => task.await.unwrap_or_else(|e| {
                    Err(DbError::Runtime {
                        reason: e.to_string(),
                    })
                }),
                Err(e) => Err(e),
            }
        }
    }

    pub(super) fn notify_status(&self) {
        let pending = self.pending_count().unwrap_or(0);
        self.update_sync_status(|s| s.pending = pending);
    }
}

/// Why a session ended.
#[derive(Debug, Clone)]
pub(super) enum Failure {
    /// The server refused the credential.
    Auth { code: String, message: String },
    /// Network trouble; retry later.
    Net(String),
    /// An `error` frame or an unexpected answer.
    Protocol { code: String, message: String },
    /// A local failure (logged out, storage).
    Db(DbError),
    /// The `Db` is gone.
    Gone,
    /// The server showed that another device writes under this client id; a
    /// new one was taken, and the session must reconnect with it.
    ClientIdRenewed,
}

impl From<DbError> for Failure {
    fn from(e: DbError) -> Failure {
        Failure::Db(e)
    }
}

impl Failure {
    fn into_db_error(self) -> DbError {
        match self {
            Failure::Auth { code, message } => DbError::SyncAuthRejected { code, message },
            Failure::Net(reason) => DbError::SyncNetwork { reason },
            Failure::Protocol { code, message } => DbError::SyncProtocol { code, message },
            Failure::Db(e) => e,
            Failure::Gone => DbError::LoggedOut,
            Failure::ClientIdRenewed => DbError::SyncProtocol {
                code: Code::ClientIdReused.as_str().into(),
                message: "the server keeps refusing this device's client id".into(),
            },
        }
    }

    /// The code and message of [`SyncStatus::last_error`](super::SyncStatus::last_error):
    /// those of the error `sync_once` returns for the same failure, or `client-id-reused`
    /// after the engine took a new client id.
    fn code_and_message(&self) -> (String, String) {
        if let Failure::ClientIdRenewed = self {
            return (
                Code::ClientIdReused.as_str().into(),
                "took a new client id: this namespace was copied to another device".into(),
            );
        }
        let error = self.clone().into_db_error();
        (error.code().as_str().to_owned(), error.to_string())
    }
}

fn net(e: impl std::fmt::Display) -> Failure {
    Failure::Net(e.to_string())
}

/// The `Db` behind a weak reference, for one step.
pub(super) fn db(weak: &Weak<Inner>) -> Result<Db, Failure> {
    weak.upgrade()
        .map(|inner| Db { inner })
        .ok_or(Failure::Gone)
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

/// Whether sync may run for this `Db`, ignoring a refused credential.
fn gate(db: &Db) -> Result<(), DbError> {
    if db.server_url().is_none() {
        return Err(DbError::SyncUnavailable {
            reason: "no server URL is configured".into(),
        });
    }
    let mut state = db.get_auth_state();
    state.error = None;
    if !crate::auth::should_sync(db.inner.sync_when, &state) {
        return Err(DbError::SyncUnavailable {
            reason: format!(
                "sync_when {:?} keeps {} data local",
                db.inner.sync_when,
                state.auth_mode.as_str()
            ),
        });
    }
    Ok(())
}

async fn connect(weak: &Weak<Inner>) -> Result<Session, Failure> {
    let (url, request, client_id, can_push) = {
        let db = db(weak)?;
        let server = db.server_url().unwrap_or_default();
        let url = sync_url(&server, &db.app_id());
        let mut request = url.as_str().into_client_request().map_err(net)?;
        let header = |text: String| HeaderValue::from_str(&text).map_err(net);
        match db.current_credential()? {
            Credential::Bearer(token) => {
                let value = header(format!("Bearer {token}"))?;
                request.headers_mut().insert("authorization", value);
            }
            Credential::Cookie(token) => {
                let value = header(format!("localfirst-token={token}"))?;
                request.headers_mut().insert("cookie", value);
            }
            Credential::None => {}
        }
        let can_push = db.get_auth_state().auth_mode != AuthMode::Anonymous;
        (url, request, db.client_id()?, can_push)
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
                } => return Ok::<_, Failure>((session, limits, cursor)),
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
pub(super) fn unexpected(frame: ServerMessage) -> Result<(), Failure> {
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

pub(super) async fn send(ws: &mut Ws, message: &ClientMessage) -> Result<(), Failure> {
    let text = serde_json::to_string(message).map_err(|e| Failure::Protocol {
        code: "unserialisable".into(),
        message: e.to_string(),
    })?;
    ws.send(Message::text(text)).await.map_err(net)
}

/// The next server frame (frames of unknown types are skipped).
pub(super) async fn next_frame(ws: &mut Ws) -> Result<ServerMessage, Failure> {
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
pub(super) async fn push_next(
    weak: &Weak<Inner>,
    session: &mut Session,
    in_flight: &mut Option<InFlight>,
    report: &mut SyncReport,
) -> Result<bool, Failure> {
    if !session.can_push || in_flight.is_some() {
        return Ok(false);
    }
    let empty_frame = encoded_len(&ClientMessage::Push {
        entries: Vec::new(),
    });
    let (batch, entries) = loop {
        let db = db(weak)?;
        let limit = u32::try_from(session.push_read).unwrap_or(u32::MAX);
        let pending = db.pending_outbox(limit)?;
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
                reject(&db, report, e.op, rejection)?;
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

/// What to do after the server refused the credential.
async fn handle_auth(weak: &Weak<Inner>, code: &str) -> Result<RefreshOutcome, Failure> {
    let db = db(weak)?;
    let failure = AuthFailure::from_server_code(code);
    Ok(db.report_server_rejection(failure).await?)
}

async fn once(db: Db) -> Result<SyncReport, DbError> {
    gate(&db)?;
    if db.get_auth_state().error.is_some() {
        return Err(DbError::SyncUnavailable {
            reason: "the server refuses the credential; sync is paused until a new token".into(),
        });
    }
    let limits = db.inner.sync_limits;
    match tokio::time::timeout(limits.run_timeout, once_bounded(&db)).await {
        Ok(result) => result,
        Err(_) => {
            let failure = Failure::Net(format!(
                "the sync run took longer than its limit of {:?} (SyncLimits::run_timeout)",
                limits.run_timeout
            ));
            let (code, message) = failure.code_and_message();
            db.update_sync_status(|s| s.last_error = Some((code, message)));
            Err(failure.into_db_error())
        }
    }
}

/// The sessions of one `sync_once` run: one, plus one retry after a refreshed
/// token, plus one per client id renewal (at most [`MAX_RENEWALS_PER_RUN`]).
async fn once_bounded(db: &Db) -> Result<SyncReport, DbError> {
    let weak = Arc::downgrade(&db.inner);
    let mut report = SyncReport::default();
    let mut budget = PullBudget(Some(db.inner.sync_limits.max_pulls));
    let mut refreshed = false;
    let mut renewals = 0;
    loop {
        let result = async {
            let mut session = connect(&weak).await?;
            db.report_server_accepted()?;
            let outcome = exchange(&weak, &mut session, false, &mut report, &mut budget).await;
            let _ = session.ws.close(None).await;
            outcome
        }
        .await;
        let failure = match result {
            Ok(()) => {
                report.cursor = db.sync_cursor(&sync_url(
                    &db.server_url().unwrap_or_default(),
                    &db.app_id(),
                ))?;
                db.notify_status();
                return Ok(report);
            }
            Err(Failure::Auth { code, message }) => {
                let outcome = handle_auth(&weak, &code)
                    .await
                    .map_err(Failure::into_db_error)?;
                if outcome != RefreshOutcome::Refreshed || refreshed {
                    return Err(DbError::SyncAuthRejected { code, message });
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
        db.update_sync_status(|s| s.last_error = Some((code, message)));
        return Err(failure.into_db_error());
    }
}

/// The background task: connect, exchange live, reconnect with backoff; pause
/// while the credential is refused; end when the `Db` goes or sync is disabled.
async fn run(weak: Weak<Inner>, backoff: Backoff) {
    let mut failures: u32 = 0;
    loop {
        let Ok(db_now) = db(&weak) else { return };
        if gate(&db_now).is_err() || db_now.is_logged_out() {
            db_now.update_sync_status(|s| s.state = SyncState::Disabled);
            return;
        }
        if db_now.get_auth_state().error.is_some() {
            db_now.update_sync_status(|s| s.state = SyncState::Paused);
            let wake = Arc::clone(&db_now.inner.sync.wake);
            drop(db_now);
            wake.notified().await;
            continue;
        }
        db_now.update_sync_status(|s| s.state = SyncState::Connecting);
        drop(db_now);
        let mut report = SyncReport::default();
        let result = async {
            let mut session = connect(&weak).await?;
            {
                let db = db(&weak)?;
                db.report_server_accepted()?;
                db.update_sync_status(|s| {
                    s.state = SyncState::Connected;
                    s.last_error = None;
                });
            }
            failures = 0;
            // A live session has no pull budget; it only stops on failure.
            exchange(
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
            Err(Failure::Gone | Failure::Db(DbError::LoggedOut)) => return,
            Err(f) => f,
        };
        let (code, message) = failure.code_and_message();
        if let Ok(db) = db(&weak) {
            db.update_sync_status(|s| s.last_error = Some((code, message)));
        }
        if let Failure::Auth { code, .. } = &failure {
            match handle_auth(&weak, code).await {
                // A fresh token: reconnect at once with it.
                Ok(RefreshOutcome::Refreshed) => continue,
                // Otherwise `error` is set: the loop pauses until the auth state changes.
                Ok(_) => continue,
                Err(_) => return,
            }
        }
        let Ok(db_now) = db(&weak) else { return };
        db_now.update_sync_status(|s| s.state = SyncState::Offline);
        drop(db_now);
        let mut random = [0u8; 4];
        let _ = getrandom::getrandom(&mut random);
        let delay = backoff.delay(failures, u32::from_le_bytes(random));
        failures = failures.saturating_add(1);
        tokio::time::sleep(delay).await;
    }
}
