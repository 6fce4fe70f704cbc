//! What a `Db` is opened with: [`DbConfig`] (with its [`AuthConfig`] and
//! [`StorageMode`]) and the environment in [`DbDeps`].

use std::sync::Arc;
use std::time::Duration;

use crate::auth::{CookieSession, SyncWhen};
use crate::clock::{Clock, SystemClock};
use crate::policy::PolicySet;
use crate::secret::Secret;
use crate::session::AuthMode;
use crate::sync::SyncLimits;
use crate::token;

use super::discard::AccountDiscardMigrator;
use super::refresh::JwtRefresher;
use super::DbError;

/// Default lifetime of the self-signed session tokens a `Db` mints, in seconds.
pub const DEFAULT_SESSION_TOKEN_TTL: u64 = token::DEFAULT_TTL_SECONDS;

/// Default time a caller of [`Db::report_server_rejection`](super::Db::report_server_rejection)
/// waits for the [`JwtRefresher`].
pub const DEFAULT_JWT_REFRESH_TIMEOUT: Duration = Duration::from_secs(30);

/// Longest app id, in bytes (UTF-8).
pub const MAX_APP_ID_BYTES: usize = 200;

/// Whether `app_id` may name an app: 1 to [`MAX_APP_ID_BYTES`] bytes and not
/// blank (whitespace only), else [`DbError::Config`] (`invalid-config`).
///
/// [`Db::open`](super::Db::open) applies it first; a tool that takes the app id
/// from outside (the CLI's `--app-id`) calls it before touching any store, so a
/// refused id never creates an identity. Any other string is accepted as given
/// (no trimming): the namespace directory encodes every byte.
pub fn validate_app_id(app_id: String) -> Result<(), DbError> {
    if app_id.trim().is_empty() {
        return Err(DbError::Config {
            reason: "app_id must not be blank".into(),
        });
    }
    if app_id.len() > MAX_APP_ID_BYTES {
        return Err(DbError::Config {
            reason: format!("app_id must be at most {MAX_APP_ID_BYTES} bytes"),
        });
    }
    Ok(())
}

/// Who the `Db` acts as: exactly one credential, or none.
#[derive(Clone)]
pub enum AuthConfig {
    /// No credential: a random ephemeral identity that can only read.
    Anonymous,
    /// Local-first auth with the identity secret (from a secret store).
    LocalFirst(Secret),
    /// External auth with a bearer JWT.
    Jwt(String),
    /// External auth with an HttpOnly cookie, mirrored as a session.
    CookieSession(CookieSession),
}

impl AuthConfig {
    /// The auth mode this credential selects.
    pub fn auth_mode(&self) -> AuthMode {
        match self {
            AuthConfig::Anonymous => AuthMode::Anonymous,
            AuthConfig::LocalFirst(_) => AuthMode::LocalFirst,
            AuthConfig::Jwt(_) | AuthConfig::CookieSession(_) => AuthMode::External,
        }
    }
}

impl std::fmt::Debug for AuthConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AuthConfig::Anonymous => f.write_str("Anonymous"),
            AuthConfig::LocalFirst(secret) => f.debug_tuple("LocalFirst").field(secret).finish(),
            AuthConfig::Jwt(_) => f.debug_tuple("Jwt").field(&"<redacted>").finish(),
            AuthConfig::CookieSession(session) => {
                f.debug_tuple("CookieSession").field(session).finish()
            }
        }
    }
}

/// Where the `Db` keeps its rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StorageMode {
    /// On disk, under `<dir>/<encoded app id>/` (`dir` is a filesystem path).
    DataDir(String),
    /// In memory, private to this `Db` (tests, previews).
    InMemory,
}

/// Everything a `Db` is opened with.
#[derive(Clone)]
pub struct DbConfig {
    /// The application id: names the storage namespace and is the audience of
    /// self-signed tokens.
    pub app_id: String,
    /// Where rows are stored.
    pub storage: StorageMode,
    /// Who the `Db` acts as.
    pub auth: AuthConfig,
    /// The sync server: a base URL (`ws://host:port`) or a full sync URL
    /// (see [`crate::sync::sync_url`]); gates [`Db::should_sync`](super::Db::should_sync).
    pub server_url: Option<String>,
    /// When sync may run.
    pub sync_when: SyncWhen,
    /// Source of a fresh JWT after an `expired` rejection.
    pub jwt_refresher: Option<Arc<dyn JwtRefresher>>,
    /// How long a caller of [`Db::report_server_rejection`](super::Db::report_server_rejection)
    /// waits for the refresher (a later token is still applied when it arrives).
    pub jwt_refresh_timeout: Duration,
    /// Permissions; without a set, local access is permissive.
    pub policies: Option<PolicySet>,
    /// Lifetime of minted self-signed tokens (1..=3600 s).
    pub token_ttl_seconds: u64,
    /// Migration step when an external account replaces the local-first identity.
    pub account_discard_migrator: Option<Arc<dyn AccountDiscardMigrator>>,
    /// Bounds of one `sync_once` run (total time, number of pulls).
    pub sync_limits: SyncLimits,
}

impl std::fmt::Debug for DbConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DbConfig")
            .field("app_id", &self.app_id)
            .field("storage", &self.storage)
            .field("auth", &self.auth)
            .field("server_url", &self.server_url)
            .field("sync_when", &self.sync_when)
            .field("jwt_refresher", &self.jwt_refresher.is_some())
            .field("jwt_refresh_timeout", &self.jwt_refresh_timeout)
            .field("policies", &self.policies.is_some())
            .field("token_ttl_seconds", &self.token_ttl_seconds)
            .field(
                "account_discard_migrator",
                &self.account_discard_migrator.is_some(),
            )
            .field("sync_limits", &self.sync_limits)
            .finish()
    }
}

impl DbConfig {
    /// A config for `app_id` with the given storage and credential; everything
    /// else takes its default.
    pub fn new(app_id: impl Into<String>, storage: StorageMode, auth: AuthConfig) -> DbConfig {
        DbConfig {
            app_id: app_id.into(),
            storage,
            auth,
            server_url: None,
            sync_when: SyncWhen::default(),
            jwt_refresher: None,
            jwt_refresh_timeout: DEFAULT_JWT_REFRESH_TIMEOUT,
            policies: None,
            token_ttl_seconds: DEFAULT_SESSION_TOKEN_TTL,
            account_discard_migrator: None,
            sync_limits: SyncLimits::default(),
        }
    }

    /// Replaces the credential.
    pub fn with_auth(mut self, auth: AuthConfig) -> DbConfig {
        self.auth = auth;
        self
    }

    /// Sets the sync server URL.
    pub fn with_server_url(mut self, url: impl Into<String>) -> DbConfig {
        self.server_url = Some(url.into());
        self
    }

    /// Sets the sync gate.
    pub fn with_sync_when(mut self, when: SyncWhen) -> DbConfig {
        self.sync_when = when;
        self
    }

    /// Enforces `policies` on every operation.
    pub fn with_policies(mut self, policies: PolicySet) -> DbConfig {
        self.policies = Some(policies);
        self
    }

    /// Sets the lifetime of minted self-signed tokens.
    pub fn with_token_ttl(mut self, seconds: u64) -> DbConfig {
        self.token_ttl_seconds = seconds;
        self
    }

    /// Sets the source of a fresh JWT after an `expired` rejection.
    pub fn with_jwt_refresher(mut self, refresher: Arc<dyn JwtRefresher>) -> DbConfig {
        self.jwt_refresher = Some(refresher);
        self
    }

    /// Sets how long a caller waits for the JWT refresher.
    pub fn with_jwt_refresh_timeout(mut self, timeout: Duration) -> DbConfig {
        self.jwt_refresh_timeout = timeout;
        self
    }

    /// Sets the migration step for a discarded local-first identity (see
    /// [`AccountDiscardMigrator`]: confirm with the user before migrating).
    pub fn with_account_discard_migrator(
        mut self,
        migrator: Arc<dyn AccountDiscardMigrator>,
    ) -> DbConfig {
        self.account_discard_migrator = Some(migrator);
        self
    }

    /// Sets the bounds of one `sync_once` run.
    pub fn with_sync_limits(mut self, limits: SyncLimits) -> DbConfig {
        self.sync_limits = limits;
        self
    }

    /// The auth mode the config selects.
    pub fn auth_mode(&self) -> AuthMode {
        self.auth.auth_mode()
    }
}

/// What a `Db` needs from its environment.
#[derive(Clone)]
pub struct DbDeps {
    /// The source of time for stamps and tokens.
    pub clock: Arc<dyn Clock>,
    /// The runtime JWT refreshes run on. Without one the `Db` starts a small
    /// runtime of its own (one worker thread) the first time it needs it.
    pub runtime: Option<tokio::runtime::Handle>,
}

impl Default for DbDeps {
    fn default() -> DbDeps {
        DbDeps {
            clock: Arc::new(SystemClock),
            runtime: None,
        }
    }
}

impl DbDeps {
    /// Dependencies with an injected clock.
    pub fn with_clock(clock: Arc<dyn Clock>) -> DbDeps {
        DbDeps {
            clock,
            runtime: None,
        }
    }

    /// Runs JWT refreshes on `runtime` instead of a runtime of the `Db`'s own.
    pub fn with_runtime(mut self, runtime: tokio::runtime::Handle) -> DbDeps {
        self.runtime = Some(runtime);
        self
    }
}

impl std::fmt::Debug for DbDeps {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DbDeps")
            .field("runtime", &self.runtime.is_some())
            .finish_non_exhaustive()
    }
}
