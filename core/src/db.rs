//! The `Db`: what an app opens with an auth config, reads and writes rows
//! through, listens to, and logs out of.
//!
//! ```
//! use localfirst_core::db::{Db, DbConfig, DbDeps, StorageMode};
//! use localfirst_core::secret::Secret;
//! use localfirst_core::local_db::{Filter, Query};
//! use serde_json::json;
//!
//! let secret = Secret::from_bytes([7; 32]); // apps get it from a secret store
//! let config = DbConfig::new("my-app", StorageMode::InMemory).with_secret(secret);
//! let db = Db::open(config, DbDeps::default())?;
//!
//! let row = db.insert("todos", json!({"title": "milk", "done": false}).as_object().cloned().unwrap_or_default())?;
//! assert_eq!(row["$createdBy"], db.user_id().as_str());
//! let open = db.query(&Query::table("todos").filter(Filter::all().eq("done", false)))?;
//! assert_eq!(open.len(), 1);
//! db.logout(false)?;
//! # Ok::<(), localfirst_core::db::DbError>(())
//! ```
//!
//! # Auth
//!
//! The config holds at most one credential: `secret` (local-first), `jwt_token`
//! or `cookie_session` (external); none means anonymous (a random ephemeral
//! identity that can only read). The principal is fixed for the life of the `Db`
//! (see [`crate::auth`]); [`Db::get_auth_state`] and [`Db::on_auth_changed`]
//! expose the state. Listeners are always called with no lock held, in order,
//! once per real change.
//!
//! # Data
//!
//! Rows live in the namespace's SQLite database ([`crate::local_db`]). Writes are
//! refused for anonymous sessions before anything else
//! ([`DbError::AnonymousWriteDenied`]), then checked against the policy set if
//! one is configured. Queries and [`Db::get`] silently leave out rows the read
//! policy does not grant. Subscriptions re-run their query after every commit
//! to their table (by any `Db` of the namespace in this process) and call the
//! listener only when the result changed.
//!
//! # Lifecycle
//!
//! [`Db::logout`] stops subscriptions and listeners and closes the database;
//! with `wipe_data` it deletes the namespace's files. [`Db::delete_client_storage`]
//! deletes them without logging out. Neither touches any secret store.

use std::collections::{BTreeSet, VecDeque};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::Duration;

use crate::auth::{
    AuthError, AuthEvent, AuthFailure, AuthMachine, AuthState, CookieSession, PrincipalChangeKind,
    SyncWhen,
};
use crate::clock::{Clock, SystemClock};
use crate::error::{Code, ErrorCode};
use crate::identity::Identity;
use crate::local_db::{
    apply_patch, build_insert_row, namespace_dir, ActorSnapshot, ChangeSink, LocalStore,
    OutboxEntry, Query, Row, StorageError, StoreLocation,
};
use crate::policy::{Operation, PolicyError, PolicySet};
use crate::secret::Secret;
use crate::session::{AuthMode, Session};
use crate::token::{self, Issuer, TokenError};

/// Metadata key under which the namespace remembers its local-first user id.
pub const META_LOCAL_FIRST_USER: &str = "local_first_user_id";

/// Default lifetime of the self-signed session tokens a `Db` mints, in seconds.
pub const DEFAULT_SESSION_TOKEN_TTL: u64 = token::DEFAULT_TTL_SECONDS;

/// Default time a caller of [`Db::report_server_rejection`] waits for the
/// `on_jwt_expired` provider.
pub const DEFAULT_JWT_REFRESH_TIMEOUT: Duration = Duration::from_secs(30);

/// Longest lifetime of an identity proof, in seconds: what
/// [`token::verify_local_first_identity_proof`] accepts
/// ([`token::DEFAULT_PROOF_MAX_TTL_SECONDS`]).
pub const MAX_IDENTITY_PROOF_TTL_SECONDS: u64 = token::DEFAULT_PROOF_MAX_TTL_SECONDS;

/// A credential field of [`DbConfig`], as named by [`DbError::ConflictingAuth`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum CredentialField {
    /// `secret` (local-first).
    Secret,
    /// `jwt_token` (external).
    JwtToken,
    /// `cookie_session` (external).
    CookieSession,
}

impl CredentialField {
    /// The field's name, e.g. `jwt_token`.
    pub fn as_str(self) -> &'static str {
        match self {
            CredentialField::Secret => "secret",
            CredentialField::JwtToken => "jwt_token",
            CredentialField::CookieSession => "cookie_session",
        }
    }
}

/// The credential fields a config gave together, printed `secret and jwt_token`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CredentialClash(pub Vec<CredentialField>);

impl std::fmt::Display for CredentialClash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, field) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(" and ")?;
            }
            f.write_str(field.as_str())?;
        }
        Ok(())
    }
}

/// Why a `Db` operation failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum DbError {
    /// More than one credential in the config.
    #[error("conflicting auth config: {clash} were both given; pass at most one of secret, jwt_token, cookie_session")]
    ConflictingAuth {
        /// The clashing fields, in config order.
        clash: CredentialClash,
    },
    /// Any other invalid config value.
    #[error("invalid config: {reason}")]
    Config {
        /// What is wrong.
        reason: String,
    },
    /// An invalid argument to a call.
    #[error("invalid argument: {reason}")]
    InvalidArgument {
        /// What is wrong.
        reason: String,
    },
    /// Anonymous sessions cannot write; checked before any policy.
    #[error("anonymous sessions cannot {operation} rows (table {table:?}); sign in or use local-first auth")]
    AnonymousWriteDenied {
        /// The table.
        table: String,
        /// The refused operation.
        operation: Operation,
    },
    /// The call would change the principal of a live `Db`. Recreate the `Db`.
    #[error("the principal of a Db is fixed ({current} -> {}): {detail}; recreate the Db with the new auth config", requested.as_deref().unwrap_or("<none>"))]
    PrincipalChange {
        /// The current user id.
        current: String,
        /// The requested user id (`None` for a sign-out).
        requested: Option<String>,
        /// What kind of change was refused.
        detail: PrincipalChangeKind,
    },
    /// Another auth failure (undecodable token, empty cookie session).
    #[error(transparent)]
    Auth(AuthError),
    /// The policy set does not grant the operation.
    #[error("policy denies {operation} on table {table:?}")]
    PolicyDenied {
        /// The table.
        table: String,
        /// The operation.
        operation: Operation,
    },
    /// The policy set could not be loaded.
    #[error(transparent)]
    Policy(PolicyError),
    /// No such row.
    #[error("no row {id:?} in table {table:?}")]
    NotFound {
        /// The table.
        table: String,
        /// The id.
        id: String,
    },
    /// The namespace's storage was deleted; the operation was not applied and a
    /// fresh database is open now.
    #[error("the local storage was reset (deleted by this or another Db); the operation was not applied")]
    StorageReset,
    /// The `Db` was logged out; create a new one.
    #[error("this Db was logged out; create a new Db")]
    LoggedOut,
    /// A storage failure.
    #[error(transparent)]
    Storage(StorageError),
    /// A token could not be minted.
    #[error(transparent)]
    Token(TokenError),
    /// The `on_anonymous_account_discarded` hook failed; nothing was discarded.
    #[error("migrating the discarded local-first account failed: {reason}")]
    MigrationFailed {
        /// The hook's message.
        reason: String,
    },
    /// The system random number generator failed (anonymous identity).
    #[error("the system random number generator failed")]
    Rng,
}

impl ErrorCode for DbError {
    fn code(&self) -> Code {
        match self {
            DbError::ConflictingAuth { .. } => Code::ConflictingAuthConfig,
            DbError::Config { .. } => Code::InvalidConfig,
            DbError::InvalidArgument { .. } => Code::InvalidArgument,
            DbError::AnonymousWriteDenied { .. } => Code::AnonymousWriteDenied,
            DbError::PrincipalChange { .. } => Code::PrincipalChange,
            DbError::Auth(e) => e.code(),
            DbError::PolicyDenied { .. } => Code::PolicyDenied,
            DbError::Policy(e) => e.code(),
            DbError::NotFound { .. } => Code::NotFound,
            DbError::StorageReset => Code::StorageReset,
            DbError::LoggedOut => Code::LoggedOut,
            DbError::Storage(e) => e.code(),
            DbError::Token(e) => e.code(),
            DbError::MigrationFailed { .. } => Code::MigrationFailed,
            DbError::Rng => Code::RngFailure,
        }
    }
}

impl From<StorageError> for DbError {
    fn from(error: StorageError) -> DbError {
        match error {
            StorageError::NotFound { table, id } => DbError::NotFound { table, id },
            StorageError::Reset => DbError::StorageReset,
            StorageError::Closed => DbError::LoggedOut,
            other => DbError::Storage(other),
        }
    }
}

impl From<AuthError> for DbError {
    fn from(error: AuthError) -> DbError {
        match error {
            AuthError::PrincipalChange {
                current,
                requested,
                detail,
            } => DbError::PrincipalChange {
                current,
                requested,
                detail,
            },
            other => DbError::Auth(other),
        }
    }
}

impl From<PolicyError> for DbError {
    fn from(error: PolicyError) -> DbError {
        match error {
            PolicyError::Denied { table, operation } => DbError::PolicyDenied { table, operation },
            other => DbError::Policy(other),
        }
    }
}

impl From<TokenError> for DbError {
    fn from(error: TokenError) -> DbError {
        DbError::Token(error)
    }
}

/// Where the `Db` keeps its rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StorageMode {
    /// On disk, under `<dir>/<encoded app id>/`.
    DataDir(PathBuf),
    /// In memory, private to this `Db` (tests, previews).
    InMemory,
}

/// Called when the server rejects the JWT as expired; returns a fresh JWT for
/// the same user, or `None` if there is none.
pub type JwtProvider = Arc<dyn Fn() -> Option<String> + Send + Sync>;

/// Called when an external account replaces the namespace's local-first
/// identity; may copy the old identity's rows (through [`DiscardedAccount::db`])
/// before they are discarded. An `Err` aborts the open and discards nothing.
///
/// "Another account" is judged from the JWT's `sub`, which the client cannot
/// verify: a planted login (login-CSRF) looks the same. Ask the user before
/// copying anything, and return `Err` when they decline. The hook may run again
/// on a later open for rows the old identity wrote while it ran.
pub type AccountDiscardHook =
    Arc<dyn Fn(&DiscardedAccount<'_>) -> Result<(), String> + Send + Sync>;

/// Everything a `Db` is opened with.
#[derive(Clone)]
pub struct DbConfig {
    /// The application id: names the storage namespace and is the audience of
    /// self-signed tokens.
    pub app_id: String,
    /// The sync server (unused until sync lands; gates [`Db::should_sync`]).
    pub server_url: Option<String>,
    /// Local-first auth: the identity secret (from a secret store).
    pub secret: Option<Secret>,
    /// External auth with a bearer JWT.
    pub jwt_token: Option<String>,
    /// External auth with an HttpOnly cookie, mirrored as a session.
    pub cookie_session: Option<CookieSession>,
    /// Where rows are stored.
    pub storage: StorageMode,
    /// When sync may run.
    pub sync_when: SyncWhen,
    /// Provider of a fresh JWT after an `expired` rejection.
    pub on_jwt_expired: Option<JwtProvider>,
    /// How long a caller of [`Db::report_server_rejection`] waits for the
    /// provider (a later token is still applied when it arrives).
    pub jwt_refresh_timeout: Duration,
    /// Permissions; without a set, local access is permissive.
    pub policies: Option<PolicySet>,
    /// Lifetime of minted self-signed tokens (1..=3600 s).
    pub token_ttl_seconds: u64,
    /// Migration hook when an external account replaces the local-first identity.
    pub on_anonymous_account_discarded: Option<AccountDiscardHook>,
}

impl std::fmt::Debug for DbConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DbConfig")
            .field("app_id", &self.app_id)
            .field("server_url", &self.server_url)
            .field("secret", &self.secret)
            .field("jwt_token", &self.jwt_token.as_ref().map(|_| "<redacted>"))
            .field("cookie_session", &self.cookie_session)
            .field("storage", &self.storage)
            .field("sync_when", &self.sync_when)
            .field("on_jwt_expired", &self.on_jwt_expired.is_some())
            .field("policies", &self.policies.is_some())
            .field("token_ttl_seconds", &self.token_ttl_seconds)
            .finish()
    }
}

impl DbConfig {
    /// An anonymous config for `app_id` with the given storage; add a credential
    /// with [`with_secret`](Self::with_secret), [`with_jwt_token`](Self::with_jwt_token)
    /// or [`with_cookie_session`](Self::with_cookie_session).
    pub fn new(app_id: impl Into<String>, storage: StorageMode) -> DbConfig {
        DbConfig {
            app_id: app_id.into(),
            server_url: None,
            secret: None,
            jwt_token: None,
            cookie_session: None,
            storage,
            sync_when: SyncWhen::default(),
            on_jwt_expired: None,
            jwt_refresh_timeout: DEFAULT_JWT_REFRESH_TIMEOUT,
            policies: None,
            token_ttl_seconds: DEFAULT_SESSION_TOKEN_TTL,
            on_anonymous_account_discarded: None,
        }
    }

    /// Local-first auth with `secret`.
    pub fn with_secret(mut self, secret: Secret) -> DbConfig {
        self.secret = Some(secret);
        self
    }

    /// External auth with a bearer JWT.
    pub fn with_jwt_token(mut self, jwt: impl Into<String>) -> DbConfig {
        self.jwt_token = Some(jwt.into());
        self
    }

    /// External auth with a cookie session.
    pub fn with_cookie_session(mut self, session: CookieSession) -> DbConfig {
        self.cookie_session = Some(session);
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

    /// Sets the fresh-JWT provider called after an `expired` rejection.
    pub fn on_jwt_expired(
        mut self,
        provider: impl Fn() -> Option<String> + Send + Sync + 'static,
    ) -> DbConfig {
        self.on_jwt_expired = Some(Arc::new(provider));
        self
    }

    /// Sets how long a caller waits for the JWT provider.
    pub fn with_jwt_refresh_timeout(mut self, timeout: Duration) -> DbConfig {
        self.jwt_refresh_timeout = timeout;
        self
    }

    /// Sets the migration hook for a discarded local-first identity (see
    /// [`AccountDiscardHook`]: confirm with the user before migrating).
    pub fn on_anonymous_account_discarded(
        mut self,
        hook: impl Fn(&DiscardedAccount<'_>) -> Result<(), String> + Send + Sync + 'static,
    ) -> DbConfig {
        self.on_anonymous_account_discarded = Some(Arc::new(hook));
        self
    }

    /// The auth mode the config selects, or the clash if it names several credentials.
    pub fn auth_mode(&self) -> Result<AuthMode, DbError> {
        let given: Vec<CredentialField> = [
            (CredentialField::Secret, self.secret.is_some()),
            (CredentialField::JwtToken, self.jwt_token.is_some()),
            (
                CredentialField::CookieSession,
                self.cookie_session.is_some(),
            ),
        ]
        .into_iter()
        .filter_map(|(field, set)| set.then_some(field))
        .collect();
        match given.as_slice() {
            [] => Ok(AuthMode::Anonymous),
            [CredentialField::Secret] => Ok(AuthMode::LocalFirst),
            [_] => Ok(AuthMode::External),
            several => Err(DbError::ConflictingAuth {
                clash: CredentialClash(several.to_vec()),
            }),
        }
    }
}

/// What a `Db` needs from its environment.
#[derive(Clone)]
pub struct DbDeps {
    /// The source of time for stamps and tokens.
    pub clock: Arc<dyn Clock>,
}

impl Default for DbDeps {
    fn default() -> DbDeps {
        DbDeps {
            clock: Arc::new(SystemClock),
        }
    }
}

impl DbDeps {
    /// Dependencies with an injected clock.
    pub fn with_clock(clock: Arc<dyn Clock>) -> DbDeps {
        DbDeps { clock }
    }
}

impl std::fmt::Debug for DbDeps {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DbDeps").finish_non_exhaustive()
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // Poisoning only means a listener-free critical section panicked; the
    // bookkeeping it guards stays consistent.
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}

// ---------------------------------------------------------------------------
// Ordered, lock-free-call delivery to one listener

struct Slot<T> {
    queue: VecDeque<T>,
    draining: bool,
    active: bool,
}

/// Delivers items to one listener in push order, never concurrently, and never
/// while any lock is held. A listener may call back into the `Db`: a nested
/// change is queued and delivered after the current call returns.
struct Delivery<T> {
    slot: Mutex<Slot<T>>,
    listener: Box<dyn Fn(&T) + Send + Sync>,
}

struct DrainPanicGuard<'a, T>(&'a Delivery<T>);

impl<T> Drop for DrainPanicGuard<'_, T> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            lock(&self.0.slot).draining = false;
        }
    }
}

impl<T> Delivery<T> {
    fn new(listener: Box<dyn Fn(&T) + Send + Sync>) -> Arc<Delivery<T>> {
        Arc::new(Delivery {
            slot: Mutex::new(Slot {
                queue: VecDeque::new(),
                draining: false,
                active: true,
            }),
            listener,
        })
    }

    fn push(&self, item: T) {
        let mut slot = lock(&self.slot);
        if slot.active {
            slot.queue.push_back(item);
        }
    }

    fn is_active(&self) -> bool {
        lock(&self.slot).active
    }

    fn stop(&self) {
        let mut slot = lock(&self.slot);
        slot.active = false;
        slot.queue.clear();
    }

    fn drain(&self) {
        {
            let mut slot = lock(&self.slot);
            if slot.draining {
                return;
            }
            slot.draining = true;
        }
        let _guard = DrainPanicGuard(self);
        loop {
            let item = {
                let mut slot = lock(&self.slot);
                match (slot.active, slot.queue.pop_front()) {
                    (true, Some(item)) => item,
                    _ => {
                        slot.queue.clear();
                        slot.draining = false;
                        return;
                    }
                }
            };
            (self.listener)(&item);
        }
    }
}

/// A live listener registration. Dropping it (or calling [`cancel`](Self::cancel))
/// unsubscribes; no call starts after that.
#[must_use = "dropping a Subscription unsubscribes at once"]
pub struct Subscription {
    cancel: Option<Box<dyn FnOnce() + Send + Sync>>,
}

impl Subscription {
    fn new(cancel: impl FnOnce() + Send + Sync + 'static) -> Subscription {
        Subscription {
            cancel: Some(Box::new(cancel)),
        }
    }

    /// Unsubscribes now.
    pub fn cancel(mut self) {
        if let Some(cancel) = self.cancel.take() {
            cancel();
        }
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        if let Some(cancel) = self.cancel.take() {
            cancel();
        }
    }
}

impl std::fmt::Debug for Subscription {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Subscription")
            .field("active", &self.cancel.is_some())
            .finish()
    }
}

// ---------------------------------------------------------------------------
// The Db

struct DataSub {
    id: u64,
    query: Query,
    last: Mutex<Option<Vec<Row>>>,
    delivery: Arc<Delivery<Vec<Row>>>,
}

struct AuthCore {
    machine: AuthMachine,
    listeners: Vec<(u64, Arc<Delivery<AuthState>>)>,
}

struct Minted {
    token: String,
    issued_at: u64,
}

struct Inner {
    app_id: String,
    server_url: Option<String>,
    sync_when: SyncWhen,
    clock: Arc<dyn Clock>,
    policies: Option<PolicySet>,
    token_ttl: u64,
    identity: Option<Identity>,
    store: LocalStore,
    auth: Mutex<AuthCore>,
    minted: Mutex<Option<Minted>>,
    subs: Mutex<Vec<Arc<DataSub>>>,
    logged_out: AtomicBool,
    on_jwt_expired: Option<JwtProvider>,
    refresh_timeout: Duration,
    /// Set while an `on_jwt_expired` call runs; cleared by the thread running it.
    refresh_in_flight: Arc<AtomicBool>,
    next_id: AtomicU64,
}

/// A client database bound to one principal and one storage namespace.
///
/// `Db` is `Send + Sync`; share it with an `Arc`. Every method is safe to call
/// from any thread and from inside listeners.
pub struct Db {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Db")
            .field("app_id", &self.inner.app_id)
            .field("auth", &self.get_auth_state())
            .field("store", &self.inner.store)
            .finish()
    }
}

/// Read access to a local-first identity that an external account is replacing,
/// handed to the `on_anonymous_account_discarded` hook.
///
/// The rows are a snapshot taken (in one transaction) just before the hook runs;
/// exactly these rows, where still unchanged, are discarded after the hook
/// returns `Ok`.
pub struct DiscardedAccount<'a> {
    db: &'a Db,
    snapshot: ActorSnapshot,
}

impl DiscardedAccount<'_> {
    /// The discarded identity's user id.
    pub fn user_id(&self) -> &str {
        self.snapshot.actor()
    }

    /// The tables that existed in the namespace when the snapshot was taken.
    pub fn tables(&self) -> Result<Vec<String>, DbError> {
        Ok(self.snapshot.tables().to_vec())
    }

    /// The rows of `table` created by the discarded identity, as of the
    /// snapshot (no read policy applies: they are this device's own rows).
    pub fn rows(&self, table: &str) -> Result<Vec<Row>, DbError> {
        Ok(self.snapshot.rows(table)?)
    }

    /// The new `Db` (acting as the external user), to write migrated rows with.
    pub fn db(&self) -> &Db {
        self.db
    }
}

impl ChangeSink for Inner {
    fn tables_changed(&self, tables: &BTreeSet<String>) {
        let subs: Vec<Arc<DataSub>> = lock(&self.subs)
            .iter()
            .filter(|s| tables.contains(&s.query.table))
            .cloned()
            .collect();
        for sub in subs {
            self.refresh_sub(&sub);
        }
    }

    fn storage_reset(&self) {
        let subs: Vec<Arc<DataSub>> = lock(&self.subs).clone();
        for sub in subs {
            self.refresh_sub(&sub);
        }
    }
}

impl Inner {
    fn ensure_open(&self) -> Result<(), DbError> {
        if self.logged_out.load(Ordering::SeqCst) {
            Err(DbError::LoggedOut)
        } else {
            Ok(())
        }
    }

    fn state(&self) -> AuthState {
        lock(&self.auth).machine.state().clone()
    }

    fn session(&self) -> Session {
        let state = self.state();
        let mode = state.auth_mode;
        state.session.unwrap_or_else(|| Session::new("", mode))
    }

    fn can_read(&self, table: &str, session: &Session, row: &Row) -> bool {
        match &self.policies {
            Some(policies) => policies.allows(table, Operation::Read, session, Some(row), None),
            None => true,
        }
    }

    fn visible_query(&self, query: &Query) -> Result<Vec<Row>, DbError> {
        let Some(policies) = &self.policies else {
            return Ok(self.store.query(query)?);
        };
        let session = self.session();
        let unlimited = Query {
            limit: None,
            ..query.clone()
        };
        let mut rows: Vec<Row> = self
            .store
            .query(&unlimited)?
            .into_iter()
            .filter(|row| policies.allows(&query.table, Operation::Read, &session, Some(row), None))
            .collect();
        if let Some(limit) = query.limit {
            rows.truncate(limit);
        }
        Ok(rows)
    }

    /// Re-runs a subscription's query and delivers the result if it changed.
    fn refresh_sub(&self, sub: &DataSub) {
        let mut last = lock(&sub.last);
        if !sub.delivery.is_active() || self.logged_out.load(Ordering::SeqCst) {
            return;
        }
        let rows = match self.visible_query(&sub.query) {
            Ok(rows) => rows,
            Err(DbError::StorageReset) => {
                // The store reopened a fresh database; show it, and let the next
                // caller learn about the reset.
                let fresh = self.visible_query(&sub.query);
                self.store.mark_reset_unreported();
                match fresh {
                    Ok(rows) => rows,
                    Err(_) => return,
                }
            }
            Err(_) => return,
        };
        if last.as_ref() == Some(&rows) {
            return;
        }
        *last = Some(rows.clone());
        sub.delivery.push(rows);
        drop(last);
        sub.delivery.drain();
    }

    fn apply_auth(&self, event: AuthEvent) -> Result<bool, DbError> {
        let (changed, targets) = {
            let mut auth = lock(&self.auth);
            let transition = auth.machine.apply(event)?;
            if transition.changed {
                for (_, listener) in &auth.listeners {
                    listener.push(transition.state.clone());
                }
            }
            let targets: Vec<_> = auth.listeners.iter().map(|(_, l)| Arc::clone(l)).collect();
            (transition.changed, targets)
        };
        if changed {
            for listener in targets {
                listener.drain();
            }
        }
        Ok(changed)
    }

    /// Applies a token returned by the `on_jwt_expired` provider. Returns whether
    /// it refreshed anything: the token the `Db` already holds is not a refresh
    /// (and leaves `error` set).
    fn apply_refreshed_jwt(&self, fresh: String) -> Result<bool, DbError> {
        self.ensure_open()?;
        if lock(&self.auth).machine.jwt() == Some(fresh.as_str()) {
            return Ok(false);
        }
        self.apply_auth(AuthEvent::JwtUpdated(Some(fresh)))?;
        Ok(true)
    }

    fn record_local_first_user(&self) -> Result<(), DbError> {
        if let Some(identity) = &self.identity {
            if self.state().auth_mode == AuthMode::LocalFirst {
                let id = identity.user_id().to_string();
                if self.store.meta(META_LOCAL_FIRST_USER)?.as_deref() != Some(id.as_str()) {
                    self.store.set_meta(META_LOCAL_FIRST_USER, Some(&id))?;
                }
            }
        }
        Ok(())
    }
}

fn deny_anonymous(session: &Session, table: &str, operation: Operation) -> Result<(), DbError> {
    if session.auth_mode == AuthMode::Anonymous {
        return Err(DbError::AnonymousWriteDenied {
            table: table.to_owned(),
            operation,
        });
    }
    Ok(())
}

impl Db {
    /// Opens a `Db`: validates the config, sets up the auth state, opens (or
    /// creates) the namespace's database, and runs the account-discard flow when
    /// an external account replaces the namespace's local-first identity.
    pub fn open(config: DbConfig, deps: DbDeps) -> Result<Db, DbError> {
        let mode = config.auth_mode()?;
        if config.app_id.trim().is_empty() {
            return Err(DbError::Config {
                reason: "app_id must not be empty".into(),
            });
        }
        if config.app_id.len() > 200 {
            return Err(DbError::Config {
                reason: "app_id must be at most 200 bytes".into(),
            });
        }
        if config.token_ttl_seconds == 0
            || config.token_ttl_seconds > token::DEFAULT_MAX_TTL_SECONDS
        {
            return Err(DbError::Config {
                reason: format!(
                    "token_ttl_seconds must be between 1 and {}",
                    token::DEFAULT_MAX_TTL_SECONDS
                ),
            });
        }
        let DbConfig {
            app_id,
            server_url,
            secret,
            jwt_token,
            cookie_session,
            storage,
            sync_when,
            on_jwt_expired,
            jwt_refresh_timeout,
            policies,
            token_ttl_seconds,
            on_anonymous_account_discarded,
        } = config;
        let (machine, identity) = match mode {
            AuthMode::LocalFirst => {
                let Some(secret) = secret else {
                    return Err(DbError::Config {
                        reason: "local-first mode needs a secret".into(),
                    });
                };
                let identity = Identity::from_secret(&secret);
                (
                    AuthMachine::local_first(identity.user_id().to_string()),
                    Some(identity),
                )
            }
            AuthMode::Anonymous => {
                let seed = Secret::generate().map_err(|_| DbError::Rng)?;
                let identity = Identity::from_secret(&seed);
                (
                    AuthMachine::anonymous(identity.user_id().to_string()),
                    Some(identity),
                )
            }
            AuthMode::External => match (jwt_token, cookie_session) {
                (Some(jwt), _) => (AuthMachine::external_jwt(&jwt)?, None),
                (None, Some(cookie)) => (AuthMachine::external_cookie(cookie)?, None),
                (None, None) => {
                    return Err(DbError::Config {
                        reason: "external mode needs a jwt_token or cookie_session".into(),
                    })
                }
            },
        };
        let location = match storage {
            StorageMode::DataDir(dir) => StoreLocation::Directory(namespace_dir(&dir, &app_id)),
            StorageMode::InMemory => StoreLocation::Memory,
        };
        let store = LocalStore::open(location)?;
        let inner = Arc::new(Inner {
            app_id,
            server_url,
            sync_when,
            clock: deps.clock,
            policies,
            token_ttl: token_ttl_seconds,
            identity,
            store,
            auth: Mutex::new(AuthCore {
                machine,
                listeners: Vec::new(),
            }),
            minted: Mutex::new(None),
            subs: Mutex::new(Vec::new()),
            logged_out: AtomicBool::new(false),
            on_jwt_expired,
            refresh_timeout: jwt_refresh_timeout,
            refresh_in_flight: Arc::new(AtomicBool::new(false)),
            next_id: AtomicU64::new(1),
        });
        let sink: Weak<dyn ChangeSink> = Arc::downgrade(&inner) as Weak<Inner>;
        inner.store.register_sink(sink);
        let db = Db { inner };
        db.inner.record_local_first_user()?;
        db.discard_replaced_identity(on_anonymous_account_discarded)?;
        Ok(db)
    }

    /// When opened with an external account whose user id differs from the
    /// namespace's local-first identity: let the hook migrate, then discard that
    /// identity's rows and pending outbox entries. Without a hook nothing is
    /// discarded (the rows stay, owned by the old id, and sync never sends
    /// another principal's outbox entries).
    ///
    /// The hook sees a snapshot of the old identity's rows, and only those rows
    /// — where still unchanged — are discarded, in one write transaction with
    /// the marker update. Rows another `Db` wrote (or changed) as the old
    /// identity meanwhile stay, and so does the marker, so the hook runs again
    /// on the next open and sees just those rows.
    fn discard_replaced_identity(&self, hook: Option<AccountDiscardHook>) -> Result<(), DbError> {
        let session = self.inner.session();
        if session.auth_mode != AuthMode::External {
            return Ok(());
        }
        let Some(previous) = self.inner.store.meta(META_LOCAL_FIRST_USER)? else {
            return Ok(());
        };
        if previous == session.user_id {
            // Proof-based upgrade: same user id, same rows.
            return Ok(());
        }
        let Some(hook) = hook else {
            return Ok(());
        };
        let account = DiscardedAccount {
            db: self,
            snapshot: self.inner.store.snapshot_actor(&previous)?,
        };
        hook(&account).map_err(|reason| DbError::MigrationFailed { reason })?;
        self.inner.store.write(|w| -> Result<(), DbError> {
            let outcome = w.discard_snapshot(&account.snapshot)?;
            // Clear the marker only if nothing of the old identity is left and
            // no other local-first identity took its place meanwhile.
            if outcome.remaining == 0
                && w.meta(META_LOCAL_FIRST_USER)?.as_deref() == Some(previous.as_str())
            {
                w.set_meta(META_LOCAL_FIRST_USER, None)?;
            }
            Ok(())
        })
    }

    /// The application id.
    pub fn app_id(&self) -> &str {
        &self.inner.app_id
    }

    /// The configured sync server, if any.
    pub fn server_url(&self) -> Option<&str> {
        self.inner.server_url.as_deref()
    }

    /// The database file, for on-disk storage.
    pub fn database_path(&self) -> Option<PathBuf> {
        self.inner.store.database_path()
    }

    /// The current auth snapshot.
    pub fn get_auth_state(&self) -> AuthState {
        self.inner.state()
    }

    /// The current (or last known) session.
    pub fn session(&self) -> Session {
        self.inner.session()
    }

    /// The user id of the session.
    pub fn user_id(&self) -> String {
        self.inner.session().user_id
    }

    /// Calls `listener` at once with the current state, then after every real
    /// change. Dropping the returned handle unsubscribes.
    pub fn on_auth_changed(
        &self,
        listener: impl Fn(&AuthState) + Send + Sync + 'static,
    ) -> Subscription {
        let id = self.inner.next_id.fetch_add(1, Ordering::Relaxed);
        let delivery = Delivery::new(Box::new(listener));
        {
            let mut auth = lock(&self.inner.auth);
            delivery.push(auth.machine.state().clone());
            // After logout the listener gets the final state once and nothing more.
            if !self.inner.logged_out.load(Ordering::SeqCst) {
                auth.listeners.push((id, Arc::clone(&delivery)));
            }
        }
        delivery.drain();
        let weak = Arc::downgrade(&self.inner);
        Subscription::new(move || {
            delivery.stop();
            if let Some(inner) = weak.upgrade() {
                lock(&inner.auth).listeners.retain(|(i, _)| *i != id);
            }
        })
    }

    /// Replaces the bearer JWT with a fresh one for the same principal (same
    /// `sub`). Another principal, or `None` while signed in, is
    /// [`DbError::PrincipalChange`]; the same token again is a no-op.
    pub fn update_auth_token(&self, jwt: Option<String>) -> Result<(), DbError> {
        self.inner.ensure_open()?;
        self.inner
            .apply_auth(AuthEvent::JwtUpdated(jwt))
            .map(|_| ())
    }

    /// Replaces the mirrored cookie session, for the same user only.
    pub fn update_cookie_session(&self, session: Option<CookieSession>) -> Result<(), DbError> {
        self.inner.ensure_open()?;
        self.inner
            .apply_auth(AuthEvent::CookieSessionUpdated(session))
            .map(|_| ())
    }

    /// Sync seam: the server refused the credential. Sets `error` (keeping the
    /// session). For `expired` with a JWT and an `on_jwt_expired` provider, asks
    /// the provider for a fresh token and applies it. Returns whether a fresh
    /// token was applied before this call returned.
    ///
    /// One provider call at a time: while one runs, further reports return
    /// `Ok(false)` at once. The provider runs on a helper thread that holds the
    /// refresh latch until the provider has returned and its token is applied;
    /// the caller waits at most the refresh timeout. A token that arrives after
    /// the timeout is still applied (on the helper thread, which then calls the
    /// auth listeners), so a slow provider still resumes sync. A provider that
    /// never returns blocks further refreshes of this `Db` — never two calls at
    /// once — so providers should bound their own network calls.
    ///
    /// A token for another user fails with [`DbError::PrincipalChange`]; the
    /// token the `Db` already holds is not a refresh (`Ok(false)`, `error` stays).
    pub fn report_server_rejection(&self, failure: AuthFailure) -> Result<bool, DbError> {
        self.inner.ensure_open()?;
        self.inner
            .apply_auth(AuthEvent::ServerRejected { code: failure })?;
        let has_jwt = lock(&self.inner.auth).machine.jwt().is_some();
        if failure != AuthFailure::Expired || !has_jwt {
            return Ok(false);
        }
        let Some(provider) = self.inner.on_jwt_expired.clone() else {
            return Ok(false);
        };
        if self.inner.refresh_in_flight.swap(true, Ordering::SeqCst) {
            // A refresh is running; its token covers this failure too.
            return Ok(false);
        }
        /// Releases the refresh latch when dropped: after the provider returned
        /// and its token was applied, when the provider panics, or when the
        /// helper thread could not be started.
        struct Latch(Arc<AtomicBool>);
        impl Drop for Latch {
            fn drop(&mut self) {
                self.0.store(false, Ordering::SeqCst);
            }
        }
        let latch = Latch(Arc::clone(&self.inner.refresh_in_flight));
        let weak = Arc::downgrade(&self.inner);
        let (sender, receiver) = std::sync::mpsc::channel();
        let spawned = std::thread::Builder::new()
            .name("localfirst-jwt-refresh".into())
            .spawn(move || {
                let outcome = {
                    let _latch = latch;
                    match provider() {
                        // The Db may be gone by now: then there is nothing to refresh.
                        Some(fresh) => match weak.upgrade() {
                            Some(inner) => inner.apply_refreshed_jwt(fresh),
                            None => Ok(false),
                        },
                        None => Ok(false),
                    }
                };
                // The caller may have stopped waiting; that is fine.
                let _ = sender.send(outcome);
            });
        if spawned.is_err() {
            // The closure (and with it the latch) was dropped: nothing runs.
            return Ok(false);
        }
        match receiver.recv_timeout(self.inner.refresh_timeout) {
            Ok(outcome) => outcome,
            // Timed out (the helper keeps the latch until the provider returns),
            // or the provider panicked (the latch was released while unwinding).
            Err(_) => Ok(false),
        }
    }

    /// Sync seam: the server accepted the credential again; clears `error`.
    pub fn report_server_accepted(&self) -> Result<(), DbError> {
        self.inner.ensure_open()?;
        self.inner.apply_auth(AuthEvent::ServerAccepted).map(|_| ())
    }

    /// Whether sync may run now: a server is configured, `sync_when` allows the
    /// auth mode, and the credential is not currently refused.
    pub fn should_sync(&self) -> bool {
        !self.inner.logged_out.load(Ordering::SeqCst)
            && self.inner.server_url.is_some()
            && crate::auth::should_sync(self.inner.sync_when, &self.inner.state())
    }

    /// The token to present to the server: the JWT (external), `None` for cookie
    /// sessions, or a self-signed token that is re-minted once 80 % of its
    /// lifetime has passed by the injected clock.
    pub fn current_token(&self) -> Result<Option<String>, DbError> {
        self.inner.ensure_open()?;
        let (mode, jwt) = {
            let auth = lock(&self.inner.auth);
            (
                auth.machine.state().auth_mode,
                auth.machine.jwt().map(str::to_owned),
            )
        };
        if mode == AuthMode::External {
            return Ok(jwt);
        }
        let Some(identity) = &self.inner.identity else {
            return Ok(None);
        };
        let issuer = if mode == AuthMode::LocalFirst {
            Issuer::LocalFirst
        } else {
            Issuer::Anonymous
        };
        let now = self.inner.clock.now_unix();
        let mut minted = lock(&self.inner.minted);
        if let Some(current) = minted.as_ref() {
            if !crate::auth::remint_due(current.issued_at, self.inner.token_ttl, now) {
                return Ok(Some(current.token.clone()));
            }
        }
        let token = token::mint(
            identity,
            issuer,
            &self.inner.app_id,
            now,
            self.inner.token_ttl,
        )?;
        *minted = Some(Minted {
            token: token.clone(),
            issued_at: now,
        });
        Ok(Some(token))
    }

    /// A short-lived proof of the local-first identity for an app backend
    /// (`audience` defaults to the app id); `None` unless this `Db` is local-first.
    /// `ttl_seconds` must be 1..=[`MAX_IDENTITY_PROOF_TTL_SECONDS`] (600): a
    /// longer proof would be refused by verifiers anyway, and a leaked proof
    /// should not stay usable for long. The default in the spec is 60 s
    /// (`token::DEFAULT_PROOF_TTL_SECONDS`).
    pub fn get_local_first_identity_proof(
        &self,
        ttl_seconds: u64,
        audience: Option<&str>,
    ) -> Result<Option<String>, DbError> {
        self.inner.ensure_open()?;
        if self.inner.state().auth_mode != AuthMode::LocalFirst {
            return Ok(None);
        }
        let Some(identity) = &self.inner.identity else {
            return Ok(None);
        };
        if ttl_seconds == 0 || ttl_seconds > MAX_IDENTITY_PROOF_TTL_SECONDS {
            return Err(DbError::InvalidArgument {
                reason: format!(
                    "ttl_seconds of an identity proof must be between 1 and {MAX_IDENTITY_PROOF_TTL_SECONDS}"
                ),
            });
        }
        let audience = audience.unwrap_or(&self.inner.app_id);
        Ok(Some(token::mint_now(
            identity,
            Issuer::LocalFirst,
            audience,
            ttl_seconds,
            self.inner.clock.as_ref(),
        )?))
    }

    fn check_write(
        &self,
        table: &str,
        operation: Operation,
        session: &Session,
        old: Option<&Row>,
        new: Option<&Row>,
    ) -> Result<(), DbError> {
        if let Some(policies) = &self.inner.policies {
            policies.check(table, operation, session, old, new)?;
        }
        Ok(())
    }

    /// Inserts a row. `values` holds the user's columns and optionally a string
    /// `id` (a UUIDv4 is generated otherwise). Returns the stored row, with the
    /// system columns stamped from the session and the clock.
    pub fn insert(&self, table: &str, values: Row) -> Result<Row, DbError> {
        let mut rows = self.insert_many(table, vec![values])?;
        rows.pop().ok_or_else(|| DbError::InvalidArgument {
            reason: "nothing was inserted".into(),
        })
    }

    /// Inserts several rows in one transaction: all or none.
    pub fn insert_many(&self, table: &str, rows: Vec<Row>) -> Result<Vec<Row>, DbError> {
        self.inner.ensure_open()?;
        let session = self.inner.session();
        deny_anonymous(&session, table, Operation::Insert)?;
        let now = self.inner.clock.now_unix();
        let built = rows
            .into_iter()
            .map(|values| build_insert_row(values, &session.user_id, now))
            .collect::<Result<Vec<_>, _>>()?;
        for row in &built {
            self.check_write(table, Operation::Insert, &session, None, Some(row))?;
        }
        self.inner
            .store
            .write(|w| -> Result<(), DbError> { Ok(w.insert_rows(table, &built)?) })?;
        Ok(built)
    }

    /// Patches row `id`: each key of `patch` replaces that column. Returns the
    /// updated row. The update policy sees the row before and after.
    pub fn update(&self, table: &str, id: &str, patch: Row) -> Result<Row, DbError> {
        self.inner.ensure_open()?;
        let session = self.inner.session();
        deny_anonymous(&session, table, Operation::Update)?;
        let now = self.inner.clock.now_unix();
        self.inner.store.write(|w| -> Result<Row, DbError> {
            let old = w.get(table, id)?.ok_or_else(|| DbError::NotFound {
                table: table.to_owned(),
                id: id.to_owned(),
            })?;
            let new = apply_patch(&old, &patch, &session.user_id, now)?;
            self.check_write(table, Operation::Update, &session, Some(&old), Some(&new))?;
            w.update_row(table, &new, &patch)?;
            Ok(new)
        })
    }

    /// Deletes row `id`; returns the deleted row.
    pub fn delete(&self, table: &str, id: &str) -> Result<Row, DbError> {
        self.inner.ensure_open()?;
        let session = self.inner.session();
        deny_anonymous(&session, table, Operation::Delete)?;
        let now = self.inner.clock.now_unix();
        self.inner.store.write(|w| -> Result<Row, DbError> {
            let old = w.get(table, id)?.ok_or_else(|| DbError::NotFound {
                table: table.to_owned(),
                id: id.to_owned(),
            })?;
            self.check_write(table, Operation::Delete, &session, Some(&old), None)?;
            w.delete_row(table, id, &session.user_id, now)?;
            Ok(old)
        })
    }

    /// Row `id` of `table`, or `None` if absent or not readable under the policy set.
    pub fn get(&self, table: &str, id: &str) -> Result<Option<Row>, DbError> {
        self.inner.ensure_open()?;
        let row = self.inner.store.get(table, id)?;
        let session = self.inner.session();
        Ok(row.filter(|row| self.inner.can_read(table, &session, row)))
    }

    /// Rows matching `query`, leaving out rows the read policy does not grant.
    pub fn query(&self, query: &Query) -> Result<Vec<Row>, DbError> {
        self.inner.ensure_open()?;
        self.inner.visible_query(query)
    }

    /// Calls `listener` at once with the rows of `query`, then after every
    /// committed change (by any `Db` of this namespace in this process) that
    /// changes the result. Changes from other processes are picked up by
    /// [`Db::refresh`]. Dropping the returned handle unsubscribes.
    pub fn subscribe(
        &self,
        query: Query,
        listener: impl Fn(&[Row]) + Send + Sync + 'static,
    ) -> Result<Subscription, DbError> {
        self.inner.ensure_open()?;
        query.validate()?;
        let id = self.inner.next_id.fetch_add(1, Ordering::Relaxed);
        let sub = Arc::new(DataSub {
            id,
            query,
            last: Mutex::new(None),
            delivery: Delivery::new(Box::new(move |rows: &Vec<Row>| listener(rows))),
        });
        lock(&self.inner.subs).push(Arc::clone(&sub));
        let remove = move |inner: &Inner| lock(&inner.subs).retain(|s| s.id != id);
        {
            let mut last = lock(&sub.last);
            let rows = match self.inner.visible_query(&sub.query) {
                Ok(rows) => rows,
                Err(error) => {
                    drop(last);
                    remove(&self.inner);
                    return Err(error);
                }
            };
            if last.is_none() {
                *last = Some(rows.clone());
                sub.delivery.push(rows);
            }
        }
        sub.delivery.drain();
        let weak = Arc::downgrade(&self.inner);
        let delivery = Arc::clone(&sub.delivery);
        Ok(Subscription::new(move || {
            delivery.stop();
            if let Some(inner) = weak.upgrade() {
                remove(&inner);
            }
        }))
    }

    /// Picks up changes committed by other processes: if the database changed
    /// since the last call, every subscription re-runs. Returns whether it changed.
    pub fn refresh(&self) -> Result<bool, DbError> {
        self.inner.ensure_open()?;
        let changed = self.inner.store.poll_external_changes()?;
        if changed {
            self.inner.storage_reset_or_refresh();
        }
        Ok(changed)
    }

    /// Creates an index on `column` of `table` so filters on it stay fast.
    pub fn create_index(&self, table: &str, column: &str) -> Result<(), DbError> {
        self.inner.ensure_open()?;
        Ok(self.inner.store.create_index(table, column)?)
    }

    /// Sync seam: this principal's pending outbox entries, oldest first.
    pub fn pending_outbox(&self, limit: usize) -> Result<Vec<OutboxEntry>, DbError> {
        self.inner.ensure_open()?;
        let user = self.user_id();
        Ok(self.inner.store.outbox_pending(Some(&user), limit)?)
    }

    /// Sync seam: removes this principal's entries the server accepted; returns
    /// how many were removed. Sequence numbers of other principals' entries are
    /// ignored (they are not this session's to acknowledge).
    pub fn ack_outbox(&self, seqs: &[i64]) -> Result<usize, DbError> {
        self.inner.ensure_open()?;
        let user = self.user_id();
        Ok(self.inner.store.outbox_ack(&user, seqs)?)
    }

    /// Number of outbox entries (all principals).
    pub fn outbox_len(&self) -> Result<u64, DbError> {
        self.inner.ensure_open()?;
        Ok(self.inner.store.outbox_len()?)
    }

    /// Whether [`Db::logout`] was called.
    pub fn is_logged_out(&self) -> bool {
        self.inner.logged_out.load(Ordering::SeqCst)
    }

    fn stop_listeners(&self) {
        let subs: Vec<Arc<DataSub>> = std::mem::take(&mut *lock(&self.inner.subs));
        for sub in subs {
            sub.delivery.stop();
        }
        let listeners = std::mem::take(&mut lock(&self.inner.auth).listeners);
        for (_, listener) in listeners {
            listener.stop();
        }
    }

    /// Shuts the `Db` down: stops subscriptions, auth listeners and background
    /// work, then — with `wipe_data` — deletes this namespace's database files
    /// (other `Db`s of the namespace see a storage reset), and closes the
    /// database. Never touches any secret store. Afterwards every call returns
    /// [`DbError::LoggedOut`]. If the wipe fails, `logout(true)` may be retried.
    pub fn logout(&self, wipe_data: bool) -> Result<(), DbError> {
        let was_logged_out = self.inner.logged_out.swap(true, Ordering::SeqCst);
        self.stop_listeners();
        if wipe_data {
            return match self.inner.store.delete_storage(false) {
                Err(StorageError::Closed) => Err(DbError::LoggedOut),
                other => Ok(other?),
            };
        }
        if was_logged_out {
            return Err(DbError::LoggedOut);
        }
        self.inner.store.close();
        Ok(())
    }

    /// Deletes this namespace's database without logging out. Subscriptions see
    /// the (now empty) results; other `Db`s of the namespace report
    /// [`DbError::StorageReset`] once and continue on the fresh database. Never
    /// touches any secret store.
    pub fn delete_client_storage(&self) -> Result<(), DbError> {
        self.inner.ensure_open()?;
        self.inner.store.delete_storage(true)?;
        self.inner.record_local_first_user()?;
        Ok(())
    }
}

impl Inner {
    fn storage_reset_or_refresh(&self) {
        ChangeSink::storage_reset(self);
    }
}
