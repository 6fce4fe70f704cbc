//! The HTTP/1 side of the server: accepts TCP connections, counts them per client
//! address, closes those whose request headers do not arrive in time, serves the
//! router (with WebSocket upgrades) and closes idle connections at shutdown.
//!
//! `axum::serve` takes no connection settings, so this is the hyper connection loop it
//! would run, with [`Limits::header_read_timeout`] and
//! [`Limits::max_connections_per_address`] added.

use std::convert::Infallible;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::http::{Request, StatusCode};
use axum::response::{IntoResponse as _, Response};
use axum::{Json, Router};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use localfirst_core::Code;
use serde_json::json;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinSet;
use tower::ServiceExt as _;

use crate::config::Limits;
use crate::slots::{Slot, SlotCounts};

/// The client-address slot of one TCP connection, put in each of its requests'
/// extensions: a sync socket upgraded from it keeps a clone, so the address stays
/// counted until both the connection and the socket are gone.
#[derive(Clone)]
pub(crate) struct ConnectionSlot(pub(crate) Arc<Slot<IpAddr>>);

/// Pause after a failed `accept` (out of file descriptors, say), so the loop does not spin.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// Serves `router` on `listener` until `stop` turns true, then closes idle connections
/// and waits for the ones in the middle of a request.
pub(crate) async fn serve(
    listener: TcpListener,
    router: Router,
    limits: Limits,
    addresses: Arc<SlotCounts<IpAddr>>,
    stop: watch::Receiver<bool>,
) -> std::io::Result<()> {
    let mut connections = JoinSet::new();
    let stopping = stopped(stop.clone());
    tokio::pin!(stopping);
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    let slot = addresses.try_acquire(peer.ip(), limits.max_connections_per_address);
                    let task = connection(stream, slot, router.clone(), limits, stop.clone());
                    connections.spawn(task);
                }
                Err(error) => {
                    tracing::warn!(%error, "accepting a connection failed");
                    tokio::time::sleep(ACCEPT_BACKOFF).await;
                }
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
            () = &mut stopping => break,
        }
    }
    drop(listener);
    while connections.join_next().await.is_some() {}
    Ok(())
}

/// One TCP connection: the router when its address has a slot, else one
/// `too-many-connections` answer.
async fn connection(
    stream: TcpStream,
    slot: Option<Slot<IpAddr>>,
    router: Router,
    limits: Limits,
    stop: watch::Receiver<bool>,
) {
    let io = TokioIo::new(stream);
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout);
    let Some(slot) = slot else {
        tracing::debug!("too many connections from one address: refused");
        builder.keep_alive(false);
        let refuse = service_fn(|_: Request<Incoming>| async {
            Ok::<_, Infallible>(too_many_connections(
                "too many connections from this address",
            ))
        });
        // The client may be gone already; nothing to do about it.
        let _ = builder.serve_connection(io, refuse).await;
        return;
    };
    let slot = ConnectionSlot(Arc::new(slot));
    let service = service_fn(move |mut request: Request<Incoming>| {
        request.extensions_mut().insert(slot.clone());
        router.clone().oneshot(request)
    });
    let conn = builder.serve_connection(io, service).with_upgrades();
    tokio::pin!(conn);
    tokio::select! {
        // A failed connection (a header timeout, a reset) only ends this connection.
        _ = conn.as_mut() => {}
        () = stopped(stop) => {
            conn.as_mut().graceful_shutdown();
            let _ = conn.await;
        }
    }
}

/// Completes when `stop` turns true (or its sender is gone).
async fn stopped(mut stop: watch::Receiver<bool>) {
    let _ = stop.wait_for(|stop| *stop).await;
}

/// HTTP 429 with `{"code":"too-many-connections","message":...}`.
pub(crate) fn too_many_connections(message: &str) -> Response {
    let body = json!({"code": Code::TooManyConnections.as_str(), "message": message});
    (StatusCode::TOO_MANY_REQUESTS, Json(body)).into_response()
}
