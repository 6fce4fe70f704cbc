//! The sending half of a sync socket: a bounded queue of frames that a writer
//! task drains into the WebSocket.
//!
//! - Backpressure: while the queue is full, [`Outbound::send`] waits for room,
//!   so the socket's reader takes no further frame from the client; a client
//!   that reads slowly is served at its own pace.
//! - A client that reads nothing for [`Limits::slow_consumer_timeout`] is cut
//!   off: the writer drops what is still queued, sends an `error` frame
//!   `slow-consumer` and closes with [`CLOSE_SLOW_CONSUMER`] (reason
//!   `slow-consumer`). A shutdown while waiting does the same with
//!   `shutting-down` and close code 1001.
//! - [`Writer::finish`] lets the last frames go out while it reads and drops
//!   whatever the client still sends, so unread input never turns the close
//!   into a connection reset (TCP RST) that would swallow those frames.
//!
//! [`Limits::slow_consumer_timeout`]: crate::config::Limits::slow_consumer_timeout

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket};
use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt as _, StreamExt as _};
use tokio::sync::{mpsc, watch, Notify};
use tokio::task::JoinHandle;

use localfirst_core::error::Code;

use crate::protocol::{ServerMessage, CLOSE_SLOW_CONSUMER};

/// Longest time the last frames of a socket (and the client's closing
/// handshake) may take once the server decided to close it.
pub(crate) const CLOSE_GRACE: Duration = Duration::from_secs(10);

/// How long a socket whose last frames are written waits for more input of
/// the client before it closes.
const QUIET: Duration = Duration::from_millis(200);

/// WebSocket close code of a server going away (RFC 6455).
const CLOSE_GOING_AWAY: u16 = 1001;

/// The queue could not take the frame: the socket is closing.
pub(crate) struct Gone;

/// Why the writer has to stop sending queued frames.
struct CutOff {
    why: OnceLock<(u16, Code, String)>,
    notify: Notify,
}

/// Queues frames for one socket (cheap to clone).
#[derive(Clone)]
pub(crate) struct Outbound {
    queue: mpsc::Sender<Message>,
    cut: Arc<CutOff>,
    patience: Duration,
    shutdown: watch::Receiver<bool>,
    /// The server's count of sockets cut off as slow consumers.
    slow_consumers: Arc<AtomicU64>,
}

/// The writer task of one socket.
pub(crate) struct Writer {
    task: JoinHandle<()>,
}

/// Starts the writer of `sink` with a queue of `capacity` frames; a full queue
/// waits at most `patience` for room. A socket cut off as a slow consumer
/// adds one to `slow_consumers`.
pub(crate) fn start(
    sink: SplitSink<WebSocket, Message>,
    capacity: usize,
    patience: Duration,
    shutdown: watch::Receiver<bool>,
    slow_consumers: Arc<AtomicU64>,
) -> (Outbound, Writer) {
    let (queue, receiver) = mpsc::channel(capacity.max(4));
    let cut = Arc::new(CutOff {
        why: OnceLock::new(),
        notify: Notify::new(),
    });
    let task = tokio::spawn(write(sink, receiver, Arc::clone(&cut)));
    let outbound = Outbound {
        queue,
        cut,
        patience,
        shutdown,
        slow_consumers,
    };
    (outbound, Writer { task })
}

/// A close frame with `code` and `reason`.
pub(crate) fn close(code: u16, reason: &str) -> Message {
    Message::Close(Some(CloseFrame {
        code,
        reason: Utf8Bytes::from(reason),
    }))
}

impl Outbound {
    /// Queues `message`, waiting while the queue is full. Cuts the socket off
    /// when the client reads nothing for the patience, or the server shuts
    /// down meanwhile.
    pub(crate) async fn send(&self, message: Message) -> Result<(), Gone> {
        let message = match self.queue.try_send(message) {
            Ok(()) => return Ok(()),
            Err(mpsc::error::TrySendError::Closed(_)) => return Err(Gone),
            Err(mpsc::error::TrySendError::Full(message)) => message,
        };
        let mut shutdown = self.shutdown.clone();
        tokio::select! {
            sent = self.queue.send(message) => sent.map_err(|_| Gone),
            _ = tokio::time::sleep(self.patience) => {
                tracing::warn!(
                    seconds = self.patience.as_secs_f64(),
                    "a client read nothing for too long: cutting it off"
                );
                let message = format!(
                    "the client read none of its answers for {} s",
                    self.patience.as_secs_f64()
                );
                if self.cut_off(CLOSE_SLOW_CONSUMER, Code::SlowConsumer, message) {
                    self.slow_consumers.fetch_add(1, Ordering::Relaxed);
                }
                Err(Gone)
            }
            _ = shutdown.wait_for(|stop| *stop) => {
                let message = "the server is shutting down".to_owned();
                self.cut_off(CLOSE_GOING_AWAY, Code::ShuttingDown, message);
                Err(Gone)
            }
        }
    }

    /// Queues `message` if there is room, without waiting (the last frames).
    pub(crate) fn try_send(&self, message: Message) {
        let _ = self.queue.try_send(message);
    }

    /// Stops the writer with `why`; false when it was stopped already.
    fn cut_off(&self, close_code: u16, code: Code, message: String) -> bool {
        let first = self.cut.why.set((close_code, code, message)).is_ok();
        self.cut.notify.notify_one();
        first
    }
}

/// Drains the queue into the sink until the queue ends, a close frame went,
/// the client is gone, or the socket is cut off.
async fn write(
    mut sink: SplitSink<WebSocket, Message>,
    mut queue: mpsc::Receiver<Message>,
    cut: Arc<CutOff>,
) {
    loop {
        let message = tokio::select! {
            biased;
            _ = cut.notify.notified() => break,
            message = queue.recv() => match message {
                Some(message) => message,
                None => break,
            },
        };
        let is_close = matches!(message, Message::Close(_));
        // A send cut short stays in the sink's slot and goes out first below.
        let sent = tokio::select! {
            biased;
            _ = cut.notify.notified() => break,
            sent = sink.send(message) => sent.is_ok(),
        };
        if !sent || is_close {
            let _ = tokio::time::timeout(CLOSE_GRACE, sink.close()).await;
            return;
        }
    }
    let last = async {
        if let Some((close_code, code, message)) = cut.why.get() {
            let frame = ServerMessage::error(*code, message.clone()).to_text();
            sink.send(Message::Text(Utf8Bytes::from(frame))).await?;
            sink.send(close(*close_code, code.as_str())).await?;
        }
        sink.close().await
    };
    let _ = tokio::time::timeout(CLOSE_GRACE, last).await;
}

impl Writer {
    /// Lets the writer send what is left while reading and dropping the
    /// client's frames, until both are done: the writer has ended and the
    /// client has closed, or sent nothing for [`QUIET`] after that; at most
    /// [`CLOSE_GRACE`]. Call once every [`Outbound`] handle is gone.
    pub(crate) async fn finish(self, stream: &mut SplitStream<WebSocket>) {
        let Writer { mut task } = self;
        let deadline = tokio::time::Instant::now() + CLOSE_GRACE;
        let mut written = false;
        let mut input_open = true;
        while !written || input_open {
            tokio::select! {
                _ = &mut task, if !written => written = true,
                next = stream.next(), if input_open => {
                    input_open = matches!(next, Some(Ok(ref m)) if !matches!(m, Message::Close(_)));
                }
                // All is written and nothing arrives: no input is left unread.
                _ = tokio::time::sleep(QUIET), if written => break,
                _ = tokio::time::sleep_until(deadline) => break,
            }
        }
        task.abort();
    }
}
