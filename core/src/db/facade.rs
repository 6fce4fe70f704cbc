//! The [`Db`] handle: opening, auth, tokens and lifecycle. Row operations are
//! in `data.rs`.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};

use crate::auth::{AuthEvent, AuthFailure, AuthMachine, AuthState, CookieSession};
use crate::identity::Identity;
use crate::local_db::{namespace_dir, ChangeSink, LocalStore, StorageError, StoreLocation};
use crate::secret::Secret;
use crate::session::{AuthMode, Session};
use crate::token::{self, Issuer};

use super::config::{validate_app_id, AuthConfig, DbConfig, DbDeps, StorageMode};
use super::delivery::Delivery;
use super::inner::{AuthCore, Inner, Minted};
use super::refresh::{self, RefreshOutcome, RefreshRuntime};
use super::subscription::{AuthStateListener, Subscription};
use super::{discard, lock, DbError};

/// A client database bound to one principal and one storage namespace.
///
/// `Db` is `Send + Sync`, and a cheap handle: clones share one database, one
/// auth state and one set of listeners. Every method is safe to call from any
/// thread and from inside listeners.
#[derive(Clone)]
pub struct Db {
    pub(crate) inner: Arc<Inner>,
}

impl Db {
    /// Opens a `Db`: validates the config, sets up the auth state, opens (or
    /// creates) the namespace's database, and runs the account-discard flow when
    /// an external account replaces the namespace's local-first identity.
    pub fn open(config: DbConfig, deps: DbDeps) -> Result<Db, DbError> {
        validate(&config)?;
        let DbConfig {
            app_id,
            storage,
            auth,
            server_url,
            sync_when,
            jwt_refresher,
            jwt_refresh_timeout,
            policies,
            token_ttl_seconds,
            account_discard_migrator,
            sync_limits,
        } = config;
        let (machine, identity) = match auth {
            AuthConfig::LocalFirst(secret) => {
                let identity = Identity::from_secret(&secret);
                (
                    AuthMachine::local_first(identity.user_id().to_string()),
                    Some(identity),
                )
            }
            AuthConfig::Anonymous => {
                let seed = Secret::generate().map_err(|_| DbError::Rng)?;
                let identity = Identity::from_secret(&seed);
                (
                    AuthMachine::anonymous(identity.user_id().to_string()),
                    Some(identity),
                )
            }
            AuthConfig::Jwt(jwt) => (AuthMachine::external_jwt(&jwt)?, None),
            AuthConfig::CookieSession(cookie) => (AuthMachine::external_cookie(cookie)?, None),
        };
        let location = match storage {
            StorageMode::DataDir(dir) => {
                StoreLocation::Directory(namespace_dir(std::path::Path::new(&dir), &app_id))
            }
            StorageMode::InMemory => StoreLocation::Memory,
        };
        let store = LocalStore::open(location)?;
        let inner = Arc::new(Inner {
            app_id,
            server_url,
            sync_when,
            sync_limits,
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
            jwt_refresher,
            refresh_timeout: jwt_refresh_timeout,
            refresh_in_flight: Arc::new(AtomicBool::new(false)),
            runtime: RefreshRuntime::new(deps.runtime),
            next_id: AtomicU64::new(1),
            sync: Default::default(),
        });
        let sink: Weak<dyn ChangeSink> = Arc::downgrade(&inner) as Weak<Inner>;
        inner.store.register_sink(sink);
        let db = Db { inner };
        db.inner.record_local_first_user()?;
        discard::discard_replaced_identity(&db, account_discard_migrator)?;
        Ok(db)
    }

    /// The application id.
    pub fn app_id(&self) -> String {
        self.inner.app_id.clone()
    }

    /// The configured sync server, if any.
    pub fn server_url(&self) -> Option<String> {
        self.inner.server_url.clone()
    }

    /// The database file, for on-disk storage (lossily converted where the
    /// path is not valid UTF-8).
    pub fn database_path(&self) -> Option<String> {
        self.inner
            .store
            .database_path()
            .map(|path| path.to_string_lossy().into_owned())
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
    /// change. Cancelling or dropping the returned handle unsubscribes.
    pub fn on_auth_changed(&self, listener: Arc<dyn AuthStateListener>) -> Subscription {
        let id = self.inner.next_id.fetch_add(1, Ordering::Relaxed);
        let delivery = Delivery::new(Box::new(move |state| listener.on_auth_changed(state)));
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
    /// `sub`). Another principal is [`DbError::PrincipalChange`]; the same
    /// token again is a no-op.
    pub fn update_auth_token(&self, jwt: String) -> Result<(), DbError> {
        self.inner.ensure_open()?;
        self.inner
            .apply_auth(AuthEvent::JwtUpdated(Some(jwt)))
            .map(|_| ())
    }

    /// Signing out of the JWT while the `Db` lives: always
    /// [`DbError::PrincipalChange`] (the principal of a `Db` is fixed; log out
    /// and open a new `Db` instead).
    pub fn clear_auth_token(&self) -> Result<(), DbError> {
        self.inner.ensure_open()?;
        self.inner
            .apply_auth(AuthEvent::JwtUpdated(None))
            .map(|_| ())
    }

    /// Replaces the mirrored cookie session, for the same user only.
    pub fn update_cookie_session(&self, session: CookieSession) -> Result<(), DbError> {
        self.inner.ensure_open()?;
        self.inner
            .apply_auth(AuthEvent::CookieSessionUpdated(Some(session)))
            .map(|_| ())
    }

    /// Signing out of the cookie session while the `Db` lives: always
    /// [`DbError::PrincipalChange`], like [`clear_auth_token`](Self::clear_auth_token).
    pub fn clear_cookie_session(&self) -> Result<(), DbError> {
        self.inner.ensure_open()?;
        self.inner
            .apply_auth(AuthEvent::CookieSessionUpdated(None))
            .map(|_| ())
    }

    /// Sync seam: the server refused the credential. Sets `error` (keeping the
    /// session). For `expired` with a JWT and a [`JwtRefresher`](super::JwtRefresher),
    /// asks the refresher for a fresh token and applies it.
    ///
    /// One refresh at a time: while one runs, further reports return
    /// [`RefreshOutcome::InFlight`] at once. The refresher's future runs as a
    /// task that holds the refresh latch until the future has completed and its
    /// token is applied; the caller waits at most the refresh timeout
    /// ([`RefreshOutcome::TimedOut`]) without parking its thread. A token that
    /// arrives after the timeout is still applied (the task then calls the auth
    /// listeners), so a slow refresher still resumes sync. A refresher that
    /// fails, returns `None` or panics releases the latch
    /// ([`RefreshOutcome::Failed`]).
    ///
    /// A token for another user fails with [`DbError::PrincipalChange`]; the
    /// token the `Db` already holds is not a refresh (`Failed`, `error` stays).
    pub async fn report_server_rejection(
        &self,
        failure: AuthFailure,
    ) -> Result<RefreshOutcome, DbError> {
        refresh::start(&self.inner, failure)?.outcome().await
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
    /// The same mint rule as [`token::identity_proof`]: `ttl_seconds` is 1 to
    /// [`token::MAX_IDENTITY_PROOF_TTL_SECONDS`] (600; `invalid-ttl` otherwise, since a
    /// longer proof would be refused by the default verifier, and a leaked proof
    /// should not stay usable for long) and a given audience is not blank
    /// (`invalid-argument`). Use `token::DEFAULT_PROOF_TTL_SECONDS` (60 s) unless
    /// you need longer.
    pub fn get_local_first_identity_proof(
        &self,
        ttl_seconds: u64,
        audience: Option<String>,
    ) -> Result<Option<String>, DbError> {
        self.inner.ensure_open()?;
        if self.inner.state().auth_mode != AuthMode::LocalFirst {
            return Ok(None);
        }
        let Some(identity) = &self.inner.identity else {
            return Ok(None);
        };
        let audience = audience.unwrap_or_else(|| self.inner.app_id.clone());
        Ok(Some(token::mint_identity_proof(
            identity,
            ttl_seconds,
            &audience,
            self.inner.clock.as_ref(),
        )?))
    }

    /// Whether [`Db::logout`] (or [`Db::logout_and_wipe`]) was called.
    pub fn is_logged_out(&self) -> bool {
        self.inner.logged_out.load(Ordering::SeqCst)
    }

    /// Shuts the `Db` down: stops subscriptions, auth listeners and background
    /// work, and closes the database. Never touches any secret store.
    /// Afterwards every call returns [`DbError::LoggedOut`] (a second
    /// `logout` too).
    pub fn logout(&self) -> Result<(), DbError> {
        let was_logged_out = self.inner.logged_out.swap(true, Ordering::SeqCst);
        self.inner.stop_listeners();
        if was_logged_out {
            return Err(DbError::LoggedOut);
        }
        self.inner.store.close();
        Ok(())
    }

    /// Like [`logout`](Self::logout), and deletes this namespace's database
    /// files first (other `Db`s of the namespace see a storage reset). Never
    /// touches any secret store. If the wipe fails it may be retried.
    pub fn logout_and_wipe(&self) -> Result<(), DbError> {
        self.inner.logged_out.store(true, Ordering::SeqCst);
        self.inner.stop_listeners();
        match self.inner.store.delete_storage(false) {
            Err(StorageError::Closed) => Err(DbError::LoggedOut),
            other => Ok(other?),
        }
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

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Db")
            .field("app_id", &self.inner.app_id)
            .field("auth", &self.get_auth_state())
            .field("store", &self.inner.store)
            .finish()
    }
}

fn validate(config: &DbConfig) -> Result<(), DbError> {
    validate_app_id(config.app_id.clone())?;
    if config.token_ttl_seconds == 0 || config.token_ttl_seconds > token::DEFAULT_MAX_TTL_SECONDS {
        return Err(DbError::Config {
            reason: format!(
                "token_ttl_seconds must be between 1 and {}",
                token::DEFAULT_MAX_TTL_SECONDS
            ),
        });
    }
    Ok(())
}
