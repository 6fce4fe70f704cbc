//! The listener of a [`PostgresStore`](super::PostgresStore): one dedicated
//! connection that `LISTEN`s on the store's channel and forwards notified
//! cursors to the local subscribers, reconnecting with capped backoff.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use tokio_postgres::{AsyncMessage, NoTls};

use super::{db, latest, Shared};
use crate::store::StoreError;

/// The `application_name` of the listener connections on `channel` (shows in
/// `pg_stat_activity`).
pub fn listener_name(channel: &str) -> String {
    format!("localfirst-listener {channel}")
}

/// First wait before reconnecting a dropped listener.
const MIN_BACKOFF: Duration = Duration::from_millis(100);

/// Keeps one `LISTEN` connection alive and forwards notified cursors. `ready`
/// hears the outcome of the first attempt.
pub(super) async fn listen(
    shared: Arc<Shared>,
    mut ready: Option<tokio::sync::oneshot::Sender<Result<(), StoreError>>>,
) {
    let mut backoff = MIN_BACKOFF;
    while !shared.closed.load(Ordering::Acquire) {
        match listen_once(&shared, &mut ready).await {
            Ok(()) => backoff = MIN_BACKOFF,
            Err(error) => {
                if let Some(ready) = ready.take() {
                    let _ = ready.send(Err(error));
                    return;
                }
                tracing::warn!(%error, "PostgreSQL listener failed; reconnecting");
            }
        }
        if shared.closed.load(Ordering::Acquire) {
            return;
        }
        tokio::time::sleep(backoff).await;
        backoff = backoff.saturating_mul(2).min(shared.max_backoff);
    }
}

/// One listener connection: connects, `LISTEN`s, catches up, then forwards
/// notifications until the connection ends.
async fn listen_once(
    shared: &Shared,
    ready: &mut Option<tokio::sync::oneshot::Sender<Result<(), StoreError>>>,
) -> Result<(), StoreError> {
    let mut config = shared.config.clone();
    config.application_name(listener_name(&shared.channel));
    let (client, mut connection) = config.connect(NoTls).await.map_err(db)?;
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let driver = tokio::spawn(async move {
        loop {
            match std::future::poll_fn(|cx| connection.poll_message(cx)).await {
                Some(Ok(AsyncMessage::Notification(n))) => {
                    if tx.send(n.payload().to_owned()).is_err() {
                        return;
                    }
                }
                Some(Ok(_)) => {}
                Some(Err(error)) => {
                    tracing::warn!(%error, "PostgreSQL listener connection failed");
                    return;
                }
                None => return,
            }
        }
    });
    let setup = async {
        client
            .batch_execute(&format!("LISTEN {}", quote_ident(&shared.channel)))
            .await
            .map_err(db)?;
        // Anything committed while no listener ran: announce the latest cursor.
        latest(&client).await
    };
    let caught_up = match setup.await {
        Ok(cursor) => cursor,
        Err(error) => {
            driver.abort();
            return Err(error);
        }
    };
    shared.announce(caught_up);
    if let Some(ready) = ready.take() {
        let _ = ready.send(Ok(()));
    }
    while let Some(payload) = rx.recv().await {
        match payload.parse::<u64>() {
            Ok(cursor) => shared.announce(cursor),
            Err(_) => tracing::warn!("ignoring a malformed change notification"),
        }
    }
    drop(client);
    driver.abort();
    Ok(())
}

fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}
