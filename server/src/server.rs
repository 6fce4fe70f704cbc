//! The server's routes, its connection limits, start and graceful shutdown.

use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{Extension, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use localfirst_core::error::Code;
use localfirst_core::policy::PolicySet;
use serde_json::json;
use tokio::sync::{watch, Semaphore};
use tokio::task::JoinHandle;

use crate::auth::external::ExternalVerifier;
use crate::auth::{SessionResolver, SharedSecret};
use crate::config::{Limits, ServerConfig, ServerError};
use crate::connection;
use crate::http::{self, ConnectionSlot};
use crate::slots::{SlotCounts, SocketSlots};
use crate::store::{PostgresStore, ServerStore, SqliteStore};

/// Header carrying the admin secret for `/admin/*`.
pub const ADMIN_SECRET_HEADER: &str = "x-admin-secret";

/// Shared by every request and socket of one server.
pub(crate) struct AppState {
    pub(crate) app_id: String,
    pub(crate) store: Arc<dyn ServerStore>,
    pub(crate) resolver: SessionResolver,
    pub(crate) policies: Option<Arc<PolicySet>>,
    pub(crate) limits: Limits,
    pub(crate) admin_secret: Option<SharedSecret>,
    pub(crate) slots: Arc<Semaphore>,
    pub(crate) users: Arc<SlotCounts<String>>,
    pub(crate) shutdown: watch::Receiver<bool>,
    /// Sockets cut off so far because their client read nothing for
    /// [`Limits::slow_consumer_timeout`].
    pub(crate) slow_consumers: Arc<AtomicU64>,
}

/// A server accepting connections; stop it with [`RunningServer::shutdown`].
pub struct RunningServer {
    addr: SocketAddr,
    state: Arc<AppState>,
    stop: watch::Sender<bool>,
    task: JoinHandle<std::io::Result<()>>,
}

impl std::fmt::Debug for RunningServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunningServer")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

/// Checks the configuration, opens storage, binds, and starts serving in the
/// background. Refused (before anything is opened): an empty app id, limits that
/// [`Limits::check`] refuses (a frame limit outside what clients accept, a connection
/// limit of 0, a zero header-read timeout), external keys without an expected issuer
/// and audience (unless a check is skipped explicitly), an unusable key source. Secrets
/// cannot be short: [`SharedSecret::new`] refuses them.
pub async fn serve(config: ServerConfig) -> Result<RunningServer, ServerError> {
    if config.app_id.trim().is_empty() {
        return Err(ServerError::Config("the app id is empty".into()));
    }
    config.limits.check()?;
    let external = config
        .external
        .clone()
        .map(|external| ExternalVerifier::new(external, Arc::clone(&config.clock)))
        .transpose()?;
    let store = open_store(&config).await?;
    let resolver = SessionResolver::new(
        &config.app_id,
        config.allow_local_first_auth,
        config.backend_secret.clone(),
        external,
        Arc::clone(&config.clock),
    );
    let addr = SocketAddr::new(config.bind, config.port);
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|source| ServerError::Bind {
            addr: addr.to_string(),
            source,
        })?;
    let local = listener.local_addr()?;
    let (stop, shutdown) = watch::channel(false);
    let state = Arc::new(AppState {
        app_id: config.app_id.clone(),
        store,
        resolver,
        policies: config.policies.map(Arc::new),
        limits: config.limits,
        admin_secret: config.admin_secret,
        slots: Arc::new(Semaphore::new(config.limits.max_connections)),
        users: SlotCounts::new(),
        shutdown: shutdown.clone(),
        slow_consumers: Arc::new(AtomicU64::new(0)),
    });
    let router = Router::new()
        .route("/health", get(health))
        .route("/sync/{app_id}", get(sync))
        .route("/admin/stats", get(stats))
        .with_state(Arc::clone(&state));
    let addresses: Arc<SlotCounts<IpAddr>> = SlotCounts::new();
    let task = tokio::spawn(http::serve(
        listener,
        router,
        config.limits,
        addresses,
        shutdown,
    ));
    tracing::info!(addr = %local, app_id = %config.app_id, "sync server listening");
    Ok(RunningServer {
        addr: local,
        state,
        stop,
        task,
    })
}

async fn open_store(config: &ServerConfig) -> Result<Arc<dyn ServerStore>, ServerError> {
    if let Some(store) = &config.store {
        return Ok(Arc::clone(store));
    }
    if let Some(url) = &config.database_url {
        return Ok(Arc::new(PostgresStore::open(url).await?));
    }
    match (&config.data_dir, config.in_memory) {
        (Some(dir), _) => Ok(Arc::new(SqliteStore::open_dir(dir)?)),
        (None, true) => Ok(Arc::new(SqliteStore::open_in_memory()?)),
        (None, false) => Err(ServerError::Config(
            "no storage: give a data directory or in-memory storage".into(),
        )),
    }
}

impl RunningServer {
    /// The bound address (with the real port when 0 was asked for).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// How many sync sockets are open.
    pub fn connections(&self) -> usize {
        open_connections(&self.state)
    }

    /// How many sockets were cut off so far because their client read none of
    /// its answers for [`Limits::slow_consumer_timeout`] (also in `/admin/stats`
    /// as `slowConsumers`).
    pub fn slow_consumers(&self) -> u64 {
        self.state.slow_consumers.load(Ordering::Relaxed)
    }

    /// Stops accepting, tells every socket to close (`shutting-down`), waits for
    /// them up to the shutdown grace period, then closes storage.
    pub async fn shutdown(self) -> Result<(), ServerError> {
        let _ = self.stop.send(true);
        let limits = self.state.limits;
        let all = u32::try_from(limits.max_connections).unwrap_or(u32::MAX);
        let drained = tokio::time::timeout(
            limits.shutdown_grace,
            Arc::clone(&self.state.slots).acquire_many_owned(all),
        )
        .await;
        if drained.is_err() {
            tracing::warn!(
                open = open_connections(&self.state),
                "shutdown grace elapsed with sockets still open"
            );
        }
        let served = tokio::time::timeout(limits.shutdown_grace, self.task).await;
        self.state.store.close().await?;
        tracing::info!("sync server stopped");
        match served {
            Ok(Ok(Ok(()))) | Err(_) => Ok(()),
            Ok(Ok(Err(e))) => Err(ServerError::Io(e)),
            Ok(Err(e)) => Err(ServerError::Io(std::io::Error::other(e.to_string()))),
        }
    }

    /// Serves until SIGTERM or Ctrl-C, then shuts down gracefully. Signals are
    /// listened for from this call on; to keep one that arrives earlier (right
    /// after the server announced itself), make a [`StopSignal`] first and use
    /// [`run_until`](Self::run_until).
    pub async fn run_until_signal(self) -> Result<(), ServerError> {
        self.run_until(StopSignal::listen()).await
    }

    /// Serves until `stop` hears SIGTERM or Ctrl-C, then shuts down gracefully.
    pub async fn run_until(self, stop: StopSignal) -> Result<(), ServerError> {
        stop.received().await;
        tracing::info!("stop signal received");
        self.shutdown().await
    }
}

/// SIGTERM and Ctrl-C, listened for from the moment it is made: a signal that
/// arrives before anything waits for it is kept for [`StopSignal::received`],
/// instead of ending the process by the signal's default action (with no
/// graceful stop). Make it before telling anyone the server is up.
pub struct StopSignal {
    #[cfg(unix)]
    term: Option<tokio::signal::unix::Signal>,
    #[cfg(unix)]
    interrupt: Option<tokio::signal::unix::Signal>,
}

impl std::fmt::Debug for StopSignal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StopSignal").finish_non_exhaustive()
    }
}

impl StopSignal {
    /// Starts listening. Needs a tokio runtime with IO enabled; where the
    /// signals cannot be registered (no runtime, no signal support),
    /// [`received`](Self::received) waits for Ctrl-C only, from when it is
    /// awaited.
    pub fn listen() -> StopSignal {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            let runtime = tokio::runtime::Handle::try_current().is_ok();
            let register = |kind: SignalKind| if runtime { signal(kind).ok() } else { None };
            StopSignal {
                term: register(SignalKind::terminate()),
                interrupt: register(SignalKind::interrupt()),
            }
        }
        #[cfg(not(unix))]
        StopSignal {}
    }

    /// Waits for the first SIGTERM or Ctrl-C since [`listen`](Self::listen).
    pub async fn received(self) {
        #[cfg(unix)]
        if let (Some(mut term), Some(mut interrupt)) = (self.term, self.interrupt) {
            tokio::select! {
                _ = term.recv() => {}
                _ = interrupt.recv() => {}
            }
            return;
        }
        let _ = tokio::signal::ctrl_c().await;
    }
}

fn open_connections(state: &AppState) -> usize {
    state
        .limits
        .max_connections
        .saturating_sub(state.slots.available_permits())
}

async fn health(State(state): State<Arc<AppState>>) -> Json<serde_json::Value> {
    Json(json!({"ok": true, "appId": state.app_id}))
}

fn problem(status: StatusCode, code: Code, message: &str) -> Response {
    (
        status,
        Json(json!({"code": code.as_str(), "message": message})),
    )
        .into_response()
}

async fn sync(
    State(state): State<Arc<AppState>>,
    Path(app_id): Path<String>,
    Extension(address): Extension<ConnectionSlot>,
    headers: HeaderMap,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Response {
    if app_id != state.app_id {
        return problem(
            StatusCode::NOT_FOUND,
            Code::UnknownApp,
            "no such app on this server",
        );
    }
    let upgrade = match upgrade {
        Ok(upgrade) => upgrade,
        Err(rejection) => return rejection.into_response(),
    };
    if *state.shutdown.borrow() {
        return problem(
            StatusCode::SERVICE_UNAVAILABLE,
            Code::ShuttingDown,
            "the server is shutting down",
        );
    }
    let Ok(permit) = Arc::clone(&state.slots).try_acquire_owned() else {
        return problem(
            StatusCode::SERVICE_UNAVAILABLE,
            Code::ServerBusy,
            "too many connections; retry later",
        );
    };
    let auth = state.resolver.resolve(&headers).await;
    let user = match &auth {
        Ok(resolved) => {
            let user_id = resolved.session.user_id.clone();
            let limit = state.limits.max_connections_per_user;
            let Some(slot) = state.users.try_acquire(user_id, limit) else {
                tracing::info!(user = %resolved.session.user_id, "too many sockets for one user: refused");
                return http::too_many_connections("too many connections for this user");
            };
            Some(slot)
        }
        Err(_) => None,
    };
    let slots = SocketSlots {
        _process: permit,
        _user: user,
        _address: address.0,
    };
    // The WebSocket layer cuts off frames far above the limit; frames between
    // the limit and this cap get an `error` frame and the socket stays open.
    let hard_cap = state
        .limits
        .max_frame_bytes
        .saturating_mul(4)
        .max(64 * 1024);
    let shutdown = state.shutdown.clone();
    upgrade
        .max_message_size(hard_cap)
        .max_frame_size(hard_cap)
        .read_buffer_size(state.limits.socket_buffer_bytes)
        .write_buffer_size(state.limits.socket_buffer_bytes)
        .on_upgrade(move |socket| connection::run(socket, state, auth, slots, shutdown))
}

async fn stats(State(state): State<Arc<AppState>>, headers: HeaderMap) -> Response {
    let Some(secret) = &state.admin_secret else {
        return problem(
            StatusCode::NOT_FOUND,
            Code::NotFound,
            "no admin secret configured",
        );
    };
    let given = headers.get(ADMIN_SECRET_HEADER).map(|v| v.as_bytes());
    if !secret.matches(given) {
        return problem(
            StatusCode::UNAUTHORIZED,
            Code::Invalid,
            "missing or wrong admin secret",
        );
    }
    let cursor = match state.store.latest_cursor().await {
        Ok(cursor) => cursor,
        Err(_) => {
            return problem(
                StatusCode::SERVICE_UNAVAILABLE,
                Code::Storage,
                "storage failed",
            )
        }
    };
    Json(json!({
        "connections": open_connections(&state),
        "cursor": cursor,
        "slowConsumers": state.slow_consumers.load(Ordering::Relaxed),
    }))
    .into_response()
}
