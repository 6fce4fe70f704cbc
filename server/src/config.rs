//! Server configuration and start-up errors.

use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use localfirst_core::clock::{Clock, SystemClock};
use localfirst_core::policy::{PolicyError, PolicySet};
use localfirst_core::{Code, ErrorCode};

use crate::auth::external::{ExternalAuthConfig, ExternalAuthError};
use crate::auth::SharedSecret;
use crate::protocol::{MAX_CLIENT_FRAME_BYTES, MIN_FRAME_BYTES, ROW_FRAME_OVERHEAD};
use crate::store::{ServerStore, StoreError};

/// Everything [`serve`](crate::serve) needs.
#[derive(Clone)]
pub struct ServerConfig {
    /// The app id: the WebSocket path (`/sync/<app_id>`) and the self-signed audience.
    pub app_id: String,
    /// Address to bind (default `127.0.0.1`).
    pub bind: IpAddr,
    /// Port (0 = a free port; read it back from [`RunningServer::local_addr`](crate::RunningServer::local_addr)).
    pub port: u16,
    /// Directory of the SQLite database (`server.sqlite3`); takes precedence over `in_memory`.
    pub data_dir: Option<PathBuf>,
    /// Keep data in memory only (SQLite in-memory); ignored when `data_dir` is set.
    pub in_memory: bool,
    /// A PostgreSQL URL (`postgres://...`): when set, the PostgreSQL store is
    /// used and `data_dir` / `in_memory` are ignored.
    pub database_url: Option<String>,
    /// Accept `urn:jazz:local-first` tokens (else they are refused with `disabled`).
    pub allow_local_first_auth: bool,
    /// External tokens: their keys and the issuer(s) and audience(s) they must name
    /// (none: external tokens are `disabled`).
    pub external: Option<ExternalAuthConfig>,
    /// Secret enabling backend impersonation (`X-Jazz-Backend-Secret`); at least
    /// [`MIN_SHARED_SECRET_LEN`](crate::auth::MIN_SHARED_SECRET_LEN) bytes by construction.
    pub backend_secret: Option<SharedSecret>,
    /// Secret for `/admin/*` (`X-Admin-Secret`); none disables those routes.
    pub admin_secret: Option<SharedSecret>,
    /// The policy set enforced on writes and reads; none allows everything but anonymous writes.
    pub policies: Option<PolicySet>,
    /// Limits.
    pub limits: Limits,
    /// The clock for token validity and system columns.
    pub clock: Arc<dyn Clock>,
    /// A ready store to use instead of opening one from the fields above.
    pub store: Option<Arc<dyn ServerStore>>,
}

impl std::fmt::Debug for ServerConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerConfig")
            .field("app_id", &self.app_id)
            .field("bind", &self.bind)
            .field("port", &self.port)
            .field("data_dir", &self.data_dir)
            .field("in_memory", &self.in_memory)
            .field("database_url", &self.database_url.as_ref().map(|_| "<set>"))
            .field("allow_local_first_auth", &self.allow_local_first_auth)
            .field("external", &self.external)
            .field("backend_secret", &self.backend_secret.is_some())
            .field("admin_secret", &self.admin_secret.is_some())
            .field("policies", &self.policies.is_some())
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

impl ServerConfig {
    /// Defaults for `app_id`: 127.0.0.1, a free port, in memory, no auth path
    /// but anonymous tokens, system clock, default limits.
    pub fn new(app_id: impl Into<String>) -> ServerConfig {
        ServerConfig {
            app_id: app_id.into(),
            bind: IpAddr::V4(Ipv4Addr::LOCALHOST),
            port: 0,
            data_dir: None,
            in_memory: true,
            database_url: None,
            allow_local_first_auth: false,
            external: None,
            backend_secret: None,
            admin_secret: None,
            policies: None,
            limits: Limits::default(),
            clock: Arc::new(SystemClock),
            store: None,
        }
    }
}

/// Resource limits of one server process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest text frame either side sends, in bytes: a bigger client frame gets
    /// `frame-too-large`, and the server's own frames stay within it (`changes`
    /// pages are cut by size). Rows are limited to [`Limits::max_row_bytes`].
    /// From [`MIN_FRAME_BYTES`] to [`MAX_CLIENT_FRAME_BYTES`].
    pub max_frame_bytes: usize,
    /// Most entries per push.
    pub max_batch: usize,
    /// Most changes per `changes` frame.
    pub max_pull: usize,
    /// Time allowed between the upgrade and `hello`.
    pub handshake_timeout: Duration,
    /// Most sockets open at once (then HTTP 503 `server-busy`).
    pub max_connections: usize,
    /// Most sync sockets one user id may hold open (then HTTP 429 `too-many-connections`).
    pub max_connections_per_user: usize,
    /// Most TCP connections (HTTP requests and sync sockets) one client address may hold
    /// open (then HTTP 429 `too-many-connections`). Behind a reverse proxy every client
    /// has the proxy's address: raise it there.
    pub max_connections_per_address: usize,
    /// Time a client has to send a request's headers (then the connection is closed);
    /// idle keep-alive connections get the same time for their next request.
    pub header_read_timeout: Duration,
    /// Frames queued per socket. While the queue is full the server reads no
    /// further frames of that client (backpressure).
    pub send_queue: usize,
    /// How long a full send queue may stay full: a client that reads nothing
    /// for this long is cut off (`error` `slow-consumer`, close code 4003).
    pub slow_consumer_timeout: Duration,
    /// Time allowed to drain sockets at shutdown.
    pub shutdown_grace: Duration,
    /// Initial read buffer and write batching threshold of each socket, in bytes
    /// (buffers grow for larger frames; small values keep idle sockets cheap).
    pub socket_buffer_bytes: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_frame_bytes: 1024 * 1024,
            max_batch: 1000,
            max_pull: 1000,
            handshake_timeout: Duration::from_secs(10),
            max_connections: 10_000,
            max_connections_per_user: 64,
            max_connections_per_address: 256,
            header_read_timeout: Duration::from_secs(10),
            send_queue: 256,
            slow_consumer_timeout: Duration::from_secs(30),
            shutdown_grace: Duration::from_secs(10),
            socket_buffer_bytes: 8 * 1024,
        }
    }
}

impl Limits {
    /// The largest row the server stores, in bytes of its JSON (system columns
    /// included): `max_frame_bytes` less [`ROW_FRAME_OVERHEAD`], so every stored
    /// row fits into one `changes` frame and into a `push` that carries it.
    pub fn max_row_bytes(&self) -> usize {
        self.max_frame_bytes.saturating_sub(ROW_FRAME_OVERHEAD)
    }

    /// How much stored text (rows before and after each change) one page of
    /// the log reads at most, besides its first change: two frames' worth, so a
    /// page fills at least one `changes` frame and never holds the whole log.
    pub fn max_page_read_bytes(&self) -> usize {
        self.max_frame_bytes.saturating_mul(2)
    }

    /// Checks that the frame limit is from [`MIN_FRAME_BYTES`] to what every
    /// client accepts ([`MAX_CLIENT_FRAME_BYTES`]), and refuses limits that would
    /// lock every client out or never time out: a connection limit of 0, or a zero
    /// header-read timeout. [`serve`](crate::serve) refuses to start otherwise.
    pub fn check(&self) -> Result<(), ServerError> {
        if !(MIN_FRAME_BYTES..=MAX_CLIENT_FRAME_BYTES).contains(&self.max_frame_bytes) {
            return Err(ServerError::Config(format!(
                "max_frame_bytes is {}; it must be from {MIN_FRAME_BYTES} to {MAX_CLIENT_FRAME_BYTES} (what clients accept)",
                self.max_frame_bytes
            )));
        }
        let counts = [
            ("max_connections", self.max_connections),
            ("max_connections_per_user", self.max_connections_per_user),
            (
                "max_connections_per_address",
                self.max_connections_per_address,
            ),
        ];
        if let Some((name, _)) = counts.iter().find(|(_, value)| *value == 0) {
            return Err(ServerError::Config(format!("{name} must be at least 1")));
        }
        if self.header_read_timeout.is_zero() {
            return Err(ServerError::Config(
                "header_read_timeout must be longer than 0".into(),
            ));
        }
        Ok(())
    }
}

/// Why the server could not start or stop cleanly.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// The configuration is unusable.
    #[error("invalid server configuration: {0}")]
    Config(String),
    /// The socket could not be bound.
    #[error("cannot bind {addr}: {source}")]
    Bind {
        /// The address.
        addr: String,
        /// The OS error.
        source: std::io::Error,
    },
    /// Serving failed.
    #[error("server failed: {0}")]
    Io(#[from] std::io::Error),
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The external key source is unusable.
    #[error(transparent)]
    External(#[from] ExternalAuthError),
    /// The policy set is unusable.
    #[error(transparent)]
    Policies(#[from] PolicyError),
}

impl ErrorCode for ServerError {
    fn code(&self) -> Code {
        match self {
            ServerError::Config(_) => Code::ServerConfig,
            ServerError::Bind { .. } => Code::ServerBind,
            ServerError::Io(_) => Code::ServerIo,
            ServerError::Store(e) => e.code(),
            // Keys that are fine but no expected issuer or audience: a configuration error.
            ServerError::External(e) if e.code() == Code::InvalidConfig => Code::ServerConfig,
            ServerError::External(_) => Code::ServerExternalKeys,
            ServerError::Policies(e) => e.code(),
        }
    }
}
