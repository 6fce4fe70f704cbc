//! One session's exchange: pull from the cursor, push the outbox one batch at
//! a time, apply the answers. Nothing the server says is taken on trust:
//! acknowledgements and rejections count only for entries sent in the batch in
//! flight on this socket, cursors are bounded and must move forward, and a
//! one-shot run has a budget of pulls.

use std::collections::HashMap;
use std::time::Duration;

use crate::local_db::OutboxOp;

use super::engine::{
    host, next_frame, notify_status, push_next, send, unexpected, Failure, Session,
};
use super::host::SyncHost;
use super::protocol::{ClientMessage, ServerMessage, WireChange};
use super::{SyncRejection, SyncReport, MAX_CURSOR};
use crate::error::Code;

/// Longest silence of the server while `sync_once` waits for an answer.
pub const ONCE_IDLE_TIMEOUT: Duration = Duration::from_secs(30);
/// Keep-alive interval of a live session.
const PING_INTERVAL: Duration = Duration::from_secs(30);

/// Pulls a one-shot run may still send (`None`: unbounded, the live task).
#[derive(Debug, Clone, Copy)]
pub(super) struct PullBudget(pub(super) Option<u32>);

impl PullBudget {
    /// Spends one pull, or fails once none is left.
    fn spend<E>(&mut self) -> Result<(), Failure<E>> {
        match &mut self.0 {
            None => Ok(()),
            Some(0) => Err(violated(
                Code::TooManyPulls,
                "the sync run reached its limit of pulls (SyncLimits::max_pulls)".into(),
            )),
            Some(left) => {
                *left -= 1;
                Ok(())
            }
        }
    }
}

/// The batch waiting for its `ack`: what was sent on this socket.
pub(super) struct InFlight {
    /// seq → (table, id, op) of every sent entry not answered yet.
    entries: HashMap<i64, (String, String, OutboxOp)>,
    /// The server refused an entry with `client-id-reused`: this namespace was
    /// copied to another device that wrote under the same client id.
    client_id_reused: bool,
}

impl InFlight {
    /// An empty batch.
    pub(super) fn new() -> InFlight {
        InFlight {
            entries: HashMap::new(),
            client_id_reused: false,
        }
    }

    /// Records a sent entry.
    pub(super) fn insert(&mut self, seq: i64, entry: (String, String, OutboxOp)) {
        self.entries.insert(seq, entry);
    }
}

/// Where the session stands in the server's log.
struct Position {
    /// The cursor the outstanding `pull` asked from (one at a time).
    pulling: Option<u64>,
    /// The cursor pull answers reached on this socket.
    reached: u64,
    /// The highest cursor the server announced as its latest (`welcome`, an
    /// `ack`, a live `changes` frame): no cursor beyond it is persisted.
    announced: u64,
    /// The server cursor after our own acknowledged pushes: a one-shot sync
    /// pulls up to it, so it ends with the server's copy of its own writes.
    wanted: u64,
    caught_up: bool,
}

fn violated<E>(code: Code, message: String) -> Failure<E> {
    Failure::Protocol {
        code: code.as_str().to_owned(),
        message,
    }
}

/// Fails unless `cursor` is one a client may store.
fn check_cursor<E>(cursor: u64, what: &str) -> Result<u64, Failure<E>> {
    if cursor > MAX_CURSOR {
        return Err(violated(
            Code::CursorOutOfRange,
            format!("the server sent {what} cursor {cursor}, above 2^53-1"),
        ));
    }
    Ok(cursor)
}

/// Sends a `pull` from `cursor`, spending the budget.
async fn pull<E>(
    session: &mut Session,
    position: &mut Position,
    budget: &mut PullBudget,
    cursor: u64,
    live: bool,
) -> Result<(), Failure<E>> {
    budget.spend()?;
    let message = ClientMessage::Pull {
        cursor,
        limit: None,
        live: Some(live),
    };
    send(&mut session.ws, &message).await?;
    position.pulling = Some(cursor);
    Ok(())
}

/// Drives one session: pull from the cursor, push the outbox, apply answers.
/// `live`: stay subscribed until failure; otherwise return once caught up
/// with nothing pending and nothing in flight. Ends with
/// [`Failure::ClientIdRenewed`] when the server showed that another device
/// writes under this client id (the caller reconnects with the new id).
pub(super) async fn exchange<H: SyncHost>(
    weak: &H::Weak,
    session: &mut Session,
    live: bool,
    report: &mut SyncReport,
    budget: &mut PullBudget,
) -> Result<(), Failure<H::Error>> {
    let (cursor, wake) = {
        let host = host::<H>(weak)?;
        let mut cursor = host.sync_cursor(&session.url)?;
        if cursor > session.announced {
            // Not a cursor of this server's log (stored by an earlier version,
            // or the server lost data since): pull everything again.
            host.reset_sync_cursor(&session.url)?;
            cursor = 0;
        }
        (cursor, host.wake())
    };
    report.cursor = cursor;
    let mut position = Position {
        pulling: None,
        reached: cursor,
        announced: session.announced,
        wanted: 0,
        caught_up: false,
    };
    pull(session, &mut position, budget, cursor, live).await?;
    // A one-shot sync gives up when the server goes silent; a live session
    // only hears from the server when something changes (it pings instead).
    let idle = if live {
        Duration::MAX
    } else {
        ONCE_IDLE_TIMEOUT
    };
    let mut in_flight: Option<InFlight> = None;
    push_next::<H>(weak, session, &mut in_flight, report).await?;
    loop {
        if !live && position.caught_up && in_flight.is_none() {
            return Ok(());
        }
        let frame = tokio::select! {
            frame = tokio::time::timeout(idle, next_frame(&mut session.ws)) => {
                frame.map_err(|_| Failure::Net("the server stopped answering".into()))??
            }
            _ = wake.notified(), if live => {
                push_next::<H>(weak, session, &mut in_flight, report).await?;
                notify_status(&host::<H>(weak)?);
                continue;
            }
            _ = tokio::time::sleep(PING_INTERVAL), if live => {
                send(&mut session.ws, &ClientMessage::Ping).await?;
                continue;
            }
        };
        match frame {
            ServerMessage::Changes {
                changes,
                cursor,
                more,
                live: pushed_live,
            } => {
                let cursor = check_cursor(cursor, "a page")?;
                if pushed_live {
                    // A live frame tells of changes just committed: it announces its cursor.
                    position.announced = position.announced.max(cursor);
                    apply::<H>(weak, session, report, &changes, cursor)?;
                    continue;
                }
                let Some(asked) = position.pulling.take() else {
                    return Err(violated(
                        Code::UnexpectedChanges,
                        "a changes frame answered no pull".into(),
                    ));
                };
                if cursor < asked {
                    return Err(violated(
                        Code::CursorOutOfRange,
                        format!("a pull from {asked} was answered with cursor {cursor}"),
                    ));
                }
                let follow = more || (!live && cursor < position.wanted);
                if follow && cursor == asked {
                    return Err(violated(
                        Code::CursorNotAdvancing,
                        format!(
                            "a pull from {asked} was answered with more to come but no progress"
                        ),
                    ));
                }
                // Never persist beyond what the server announced as its latest: a
                // later run pulls from there again instead of skipping changes.
                apply::<H>(
                    weak,
                    session,
                    report,
                    &changes,
                    cursor.min(position.announced),
                )?;
                position.reached = cursor;
                if follow {
                    pull(session, &mut position, budget, cursor, live).await?;
                } else {
                    position.caught_up = true;
                }
            }
            ServerMessage::Ack { seqs, cursor } => {
                let cursor = check_cursor(cursor, "an ack")?;
                let Some(mut batch) = in_flight.take() else {
                    return Err(violated(
                        Code::UnexpectedAck,
                        "an ack arrived with no batch in flight".into(),
                    ));
                };
                let (sent, unsent): (Vec<i64>, Vec<i64>) = seqs
                    .into_iter()
                    .partition(|seq| batch.entries.remove(seq).is_some());
                report.acknowledged += u64::try_from(sent.len()).unwrap_or(0);
                let acknowledging = host::<H>(weak)?;
                acknowledging.ack_outbox(sent)?;
                notify_status(&acknowledging);
                if !unsent.is_empty() || !batch.entries.is_empty() {
                    return Err(violated(
                        Code::UnexpectedAck,
                        format!(
                            "the ack names {} entries not in flight and leaves {} sent entries unanswered",
                            unsent.len(),
                            batch.entries.len()
                        ),
                    ));
                }
                if batch.client_id_reused {
                    host::<H>(weak)?.renew_client_id(&session.client_id)?;
                    return Err(Failure::ClientIdRenewed);
                }
                position.announced = position.announced.max(cursor);
                position.wanted = position.wanted.max(cursor);
                if !live && position.caught_up && cursor > position.reached {
                    position.caught_up = false;
                    let from = position.reached;
                    pull(session, &mut position, budget, from, false).await?;
                }
                push_next::<H>(weak, session, &mut in_flight, report).await?;
            }
            ServerMessage::Rejected { seq, code, message } => {
                let known = in_flight
                    .as_mut()
                    .and_then(|batch| batch.entries.remove(&seq).map(|e| (batch, e)));
                let Some((batch, (table, id, op))) = known else {
                    return Err(violated(
                        Code::UnexpectedRejection,
                        format!("a rejection of entry {seq}, which is not in flight"),
                    ));
                };
                if code == Code::ClientIdReused {
                    // Not this entry's fault: it stays in the outbox and goes
                    // again under a new client id once the batch is answered.
                    batch.client_id_reused = true;
                    continue;
                }
                let rejection = SyncRejection {
                    seq,
                    table,
                    id,
                    code,
                    message,
                };
                reject(&host::<H>(weak)?, report, op, rejection)?;
            }
            other => unexpected(other)?,
        }
    }
}

/// Applies a page and persists `persist` as the cursor (never backwards).
fn apply<H: SyncHost>(
    weak: &H::Weak,
    session: &Session,
    report: &mut SyncReport,
    changes: &[WireChange],
    persist: u64,
) -> Result<(), Failure<H::Error>> {
    let host = host::<H>(weak)?;
    let done = host.apply_remote_changes(&session.url, changes, persist)?;
    report.pulled += done.applied;
    report.skipped += u64::try_from(done.skipped.len()).unwrap_or(0);
    report.cursor = report.cursor.max(persist);
    let now = report.cursor;
    host.update_sync_status(|s| {
        s.cursor = now;
        s.skipped_changes.extend(done.skipped);
    });
    Ok(())
}

/// Drops a refused entry from the outbox, rolls a refused insert back, and
/// records the rejection in the status: for a rejection from the server, and
/// for an entry too large for any frame, refused before it is sent.
pub(super) fn reject<H: SyncHost>(
    host: &H,
    report: &mut SyncReport,
    op: OutboxOp,
    rejection: SyncRejection,
) -> Result<(), Failure<H::Error>> {
    report.rejected += 1;
    host.ack_outbox(vec![rejection.seq])?;
    // The insert never reached the server: the local copy goes too (unless
    // the server has its own row under that id).
    if op == OutboxOp::Insert && rejection.code != Code::RowExists {
        host.remove_local_copy(&rejection.table, &rejection.id)?;
    }
    host.update_sync_status(|s| s.last_rejections.push(rejection));
    Ok(())
}
