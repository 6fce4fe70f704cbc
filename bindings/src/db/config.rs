//! What a `Db` is opened with: [`DbConfig`], [`AuthConfig`], [`StorageMode`],
//! [`SyncWhen`], and the [`CookieSession`] an app mirrors.

use std::sync::Arc;

use localfirst_core::auth::{CookieSession as CoreCookieSession, SyncWhen as CoreSyncWhen};
use localfirst_core::db::{
    self as core_db, AuthConfig as CoreAuthConfig, DbConfig as CoreDbConfig,
    StorageMode as CoreStorage,
};
use localfirst_core::policy::PolicySet;

use super::callbacks::{JwtRefresher, RefresherAdapter};
use super::discard::{AccountDiscardMigrator, MigratorAdapter};
use crate::error::LocalFirstError;
use crate::identity::AuthSecret;

/// Where the `Db` keeps its rows.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
pub enum StorageMode {
    /// In memory, private to this `Db` (tests, previews).
    InMemory,
    /// On disk, under `<path>/<encoded app id>/`.
    DataDir {
        /// A filesystem directory.
        path: String,
    },
}

/// Who the `Db` acts as: exactly one credential, or none.
#[derive(Debug, uniffi::Enum)]
pub enum AuthConfig {
    /// A random ephemeral identity that can only read.
    Anonymous,
    /// Local-first auth with the identity secret (from a secret store).
    LocalFirst {
        /// The account secret.
        secret: Arc<AuthSecret>,
    },
    /// External auth with a bearer JWT.
    Jwt {
        /// The JWT.
        token: String,
    },
    /// External auth with an HttpOnly cookie the app mirrors.
    CookieSession {
        /// Whose session it is and, for sync, the cookie's value.
        session: Arc<CookieSession>,
    },
}

/// When sync may run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum SyncWhen {
    /// For every auth mode.
    Always,
    /// Only for external (signed-up) sessions.
    SignedUp,
    /// Never: the data stays local.
    Never,
}

/// A cookie session mirrored into the `Db`: the user id the app's backend
/// vouches for and, for sync, the cookie's value (a JWT the server verifies)
/// that the app's HTTP stack received. Without a cookie value the `Db` works
/// locally but has no sync credential. The value is kept in Rust, wiped on
/// drop and never printed.
#[derive(Debug, Clone, uniffi::Object)]
pub struct CookieSession {
    inner: CoreCookieSession,
}

#[uniffi::export]
impl CookieSession {
    /// A session of `user_id` (the `sub` the server will see), without a cookie value.
    #[uniffi::constructor]
    pub fn new(user_id: String) -> Arc<CookieSession> {
        Arc::new(CookieSession {
            inner: CoreCookieSession::new(user_id),
        })
    }

    /// The same session carrying the cookie's value for the sync connection.
    pub fn with_cookie(&self, value: String) -> Arc<CookieSession> {
        Arc::new(CookieSession {
            inner: self.inner.clone().with_cookie(value),
        })
    }

    /// The user id.
    pub fn user_id(&self) -> String {
        self.inner.user_id.clone()
    }

    /// Whether the session carries a cookie value.
    pub fn has_cookie(&self) -> bool {
        self.inner.cookie().is_some()
    }
}

impl CookieSession {
    /// The core's session.
    pub(crate) fn core(&self) -> CoreCookieSession {
        self.inner.clone()
    }
}

/// Everything a `Db` is opened with.
#[derive(uniffi::Record)]
pub struct DbConfig {
    /// The application id: the storage namespace and the audience of self-signed tokens.
    pub app_id: String,
    /// Where rows are stored.
    pub storage: StorageMode,
    /// Who the `Db` acts as.
    pub auth: AuthConfig,
    /// The sync server (`ws://host:port`, or a full sync URL).
    #[uniffi(default = None)]
    pub server_url: Option<String>,
    /// When sync may run.
    pub sync_when: SyncWhen,
    /// The policy set as JSON (docs/POLICIES.md); without one local access is permissive.
    #[uniffi(default = None)]
    pub policies_json: Option<String>,
    /// Source of a fresh JWT after an `expired` rejection.
    #[uniffi(default = None)]
    pub jwt_refresher: Option<Arc<dyn JwtRefresher>>,
    /// Called when an external account replaces the namespace's local-first
    /// identity, before that identity's rows are discarded.
    #[uniffi(default = None)]
    pub account_discard_migrator: Option<Arc<dyn AccountDiscardMigrator>>,
}

/// The core's config for `config`.
pub(crate) fn core_config(config: DbConfig) -> Result<CoreDbConfig, LocalFirstError> {
    let storage = match config.storage {
        StorageMode::InMemory => CoreStorage::InMemory,
        StorageMode::DataDir { path } => CoreStorage::DataDir(path),
    };
    let auth = match config.auth {
        AuthConfig::Anonymous => CoreAuthConfig::Anonymous,
        AuthConfig::LocalFirst { secret } => CoreAuthConfig::LocalFirst(secret.secret().clone()),
        AuthConfig::Jwt { token } => CoreAuthConfig::Jwt(token),
        AuthConfig::CookieSession { session } => CoreAuthConfig::CookieSession(session.core()),
    };
    let mut core =
        CoreDbConfig::new(config.app_id, storage, auth).with_sync_when(match config.sync_when {
            SyncWhen::Always => CoreSyncWhen::Always,
            SyncWhen::SignedUp => CoreSyncWhen::SignedUp,
            SyncWhen::Never => CoreSyncWhen::Never,
        });
    if let Some(url) = config.server_url {
        core = core.with_server_url(url);
    }
    if let Some(json) = config.policies_json {
        let policies = PolicySet::from_json(&json)
            .map_err(|e| LocalFirstError::from(core_db::DbError::from(e)))?;
        core = core.with_policies(policies);
    }
    if let Some(refresher) = config.jwt_refresher {
        core = core.with_jwt_refresher(Arc::new(RefresherAdapter(refresher)));
    }
    if let Some(migrator) = config.account_discard_migrator {
        core = core.with_account_discard_migrator(Arc::new(MigratorAdapter(migrator)));
    }
    Ok(core)
}
