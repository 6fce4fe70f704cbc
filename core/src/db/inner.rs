//! The state behind a `Db` handle and the operations its parts share.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::auth::{AuthEvent, AuthMachine, AuthState, SyncWhen};
use crate::clock::Clock;
use crate::identity::Identity;
use crate::local_db::{self, ChangeSink, LocalStore, Query};
use crate::policy::{Operation, PolicySet};
use crate::session::{AuthMode, Session};

use super::delivery::Delivery;
use super::refresh::{JwtRefresher, RefreshRuntime};
use super::subscription::DataSub;
use super::{lock, DbError, META_LOCAL_FIRST_USER};

/// The auth machine and the auth listeners, under one lock.
pub(crate) struct AuthCore {
    pub(crate) machine: AuthMachine,
    pub(crate) listeners: Vec<(u64, Arc<Delivery<AuthState>>)>,
}

/// The last self-signed token minted.
pub(crate) struct Minted {
    pub(crate) token: String,
    pub(crate) issued_at: u64,
}

/// Everything a `Db` handle shares.
pub(crate) struct Inner {
    pub(crate) app_id: String,
    pub(crate) server_url: Option<String>,
    pub(crate) sync_when: SyncWhen,
    #[cfg_attr(not(feature = "sync"), allow(dead_code))]
    pub(crate) sync_limits: crate::sync::SyncLimits,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) policies: Option<PolicySet>,
    pub(crate) token_ttl: u64,
    pub(crate) identity: Option<Identity>,
    pub(crate) store: LocalStore,
    pub(crate) auth: Mutex<AuthCore>,
    pub(crate) minted: Mutex<Option<Minted>>,
    pub(crate) subs: Mutex<Vec<Arc<DataSub>>>,
    pub(crate) logged_out: AtomicBool,
    pub(crate) jwt_refresher: Option<Arc<dyn JwtRefresher>>,
    pub(crate) refresh_timeout: Duration,
    /// Set while a refresher's future runs; cleared by the task running it.
    pub(crate) refresh_in_flight: Arc<AtomicBool>,
    pub(crate) runtime: RefreshRuntime,
    pub(crate) next_id: AtomicU64,
    /// The sync engine's status, task and wake-up.
    pub(crate) sync: super::sync_seams::SyncSlot,
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
        self.sync.wake.notify_one();
    }

    fn storage_reset(&self) {
        let subs: Vec<Arc<DataSub>> = lock(&self.subs).clone();
        for sub in subs {
            self.refresh_sub(&sub);
        }
    }
}

impl Inner {
    pub(crate) fn ensure_open(&self) -> Result<(), DbError> {
        if self.logged_out.load(Ordering::SeqCst) {
            Err(DbError::LoggedOut)
        } else {
            Ok(())
        }
    }

    pub(crate) fn state(&self) -> AuthState {
        lock(&self.auth).machine.state().clone()
    }

    pub(crate) fn session(&self) -> Session {
        let state = self.state();
        let mode = state.auth_mode;
        state.session.unwrap_or_else(|| Session::new("", mode))
    }

    pub(crate) fn can_read(&self, table: &str, session: &Session, row: &local_db::Row) -> bool {
        match &self.policies {
            Some(policies) => policies.allows(table, Operation::Read, session, Some(row), None),
            None => true,
        }
    }

    pub(crate) fn visible_query(&self, query: &Query) -> Result<Vec<local_db::Row>, DbError> {
        let Some(policies) = &self.policies else {
            return Ok(self.store.query(query)?);
        };
        let session = self.session();
        let unlimited = Query {
            limit: None,
            ..query.clone()
        };
        let mut rows: Vec<local_db::Row> = self
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
    pub(crate) fn refresh_sub(&self, sub: &DataSub) {
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
        sub.queue(&mut last, rows);
        drop(last);
        sub.delivery.drain();
    }

    pub(crate) fn apply_auth(&self, event: AuthEvent) -> Result<bool, DbError> {
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
            self.sync.wake.notify_one();
            for listener in targets {
                listener.drain();
            }
        }
        Ok(changed)
    }

    /// Applies a token returned by the JWT refresher. Returns whether it
    /// refreshed anything: the token the `Db` already holds is not a refresh
    /// (and leaves `error` set).
    pub(crate) fn apply_refreshed_jwt(&self, fresh: String) -> Result<bool, DbError> {
        self.ensure_open()?;
        if lock(&self.auth).machine.jwt() == Some(fresh.as_str()) {
            return Ok(false);
        }
        self.apply_auth(AuthEvent::JwtUpdated(Some(fresh)))?;
        Ok(true)
    }

    pub(crate) fn record_local_first_user(&self) -> Result<(), DbError> {
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

    pub(crate) fn stop_listeners(&self) {
        self.sync.stop(true);
        let subs: Vec<Arc<DataSub>> = std::mem::take(&mut *lock(&self.subs));
        for sub in subs {
            sub.delivery.stop();
        }
        let listeners = std::mem::take(&mut lock(&self.auth).listeners);
        for (_, listener) in listeners {
            listener.stop();
        }
    }
}

/// Refuses any write of an anonymous session, before any policy.
pub(crate) fn deny_anonymous(
    session: &Session,
    table: &str,
    operation: Operation,
) -> Result<(), DbError> {
    if session.auth_mode == AuthMode::Anonymous {
        return Err(DbError::AnonymousWriteDenied {
            table: table.to_owned(),
            operation,
        });
    }
    Ok(())
}
