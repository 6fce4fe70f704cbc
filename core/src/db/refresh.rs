//! JWT refresh: the [`JwtRefresher`] trait, what a report of a server rejection
//! led to ([`RefreshOutcome`]), and the single-flight machinery behind
//! [`Db::report_server_rejection`](super::Db::report_server_rejection).
//!
//! The refresher's future runs as a task on a tokio runtime (the one given in
//! [`DbDeps::runtime`](super::DbDeps::runtime), or a one-thread runtime the `Db`
//! starts the first time it needs it). Callers await a future; no caller's
//! thread is ever parked waiting for the refresher.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::runtime::{Handle, Runtime};
use tokio::task::JoinHandle;

use crate::auth::AuthFailure;

use super::inner::Inner;
use super::{lock, DbError};

/// The future a [`JwtRefresher`] returns: a fresh JWT for the same user,
/// `None` when there is none, or the refresher's error.
pub type RefreshFuture =
    Pin<Box<dyn Future<Output = Result<Option<String>, RefreshError>> + Send + 'static>>;

/// Supplies a fresh JWT after the server rejected the current one as expired.
///
/// The future may do network I/O; it should bound its own time (a future that
/// never completes blocks further refreshes of this `Db`). A closure returning
/// such a future (`Fn() -> impl Future<...> + Send + Sync`) is a refresher too.
pub trait JwtRefresher: Send + Sync {
    /// Starts a refresh.
    fn refresh(&self) -> RefreshFuture;
}

impl<F, Fut> JwtRefresher for F
where
    F: Fn() -> Fut + Send + Sync,
    Fut: Future<Output = Result<Option<String>, RefreshError>> + Send + 'static,
{
    fn refresh(&self) -> RefreshFuture {
        Box::pin(self())
    }
}

/// A [`JwtRefresher`] failed (network, provider refused, ...).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("refreshing the JWT failed: {reason}")]
pub struct RefreshError {
    /// The refresher's message.
    pub reason: String,
}

impl RefreshError {
    /// A refresh failure with `reason`.
    pub fn new(reason: impl Into<String>) -> RefreshError {
        RefreshError {
            reason: reason.into(),
        }
    }
}

/// What [`Db::report_server_rejection`](super::Db::report_server_rejection) led to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RefreshOutcome {
    /// A fresh JWT was applied before the call returned.
    Refreshed,
    /// Nothing to refresh: the failure is not `expired`, the credential is not a
    /// JWT, or no refresher is configured.
    NoRefresher,
    /// Another refresh is running; its result covers this rejection too.
    InFlight,
    /// The refresher returned an error, `None`, the token the `Db` already
    /// holds, or panicked.
    Failed,
    /// The refresher did not finish within the refresh timeout. Its token is
    /// still applied when it arrives.
    TimedOut,
}

/// The runtime refreshes run on: a given handle, or a runtime of the `Db`'s own
/// started on first use and shut down (without blocking) with the `Db`.
pub(crate) struct RefreshRuntime {
    given: Option<Handle>,
    own: Mutex<Option<Runtime>>,
}

impl RefreshRuntime {
    pub(crate) fn new(given: Option<Handle>) -> RefreshRuntime {
        RefreshRuntime {
            given,
            own: Mutex::new(None),
        }
    }

    pub(crate) fn handle(&self) -> Result<Handle, DbError> {
        if let Some(handle) = &self.given {
            return Ok(handle.clone());
        }
        let mut own = lock(&self.own);
        if let Some(runtime) = own.as_ref() {
            return Ok(runtime.handle().clone());
        }
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("localfirst-db")
            .enable_all()
            .build()
            .map_err(|e| DbError::Runtime {
                reason: e.to_string(),
            })?;
        let handle = runtime.handle().clone();
        *own = Some(runtime);
        Ok(handle)
    }
}

impl Drop for RefreshRuntime {
    fn drop(&mut self) {
        let own = self.own.get_mut().map(Option::take);
        if let Ok(Some(runtime)) = own {
            // Never blocks, so dropping a `Db` inside async code is fine.
            runtime.shutdown_background();
        }
    }
}

/// A rejection report after its synchronous part.
pub(crate) enum Pending {
    /// Decided at once.
    Done(RefreshOutcome),
    /// Waiting (on the runtime) for the refresh task, bounded by the timeout.
    Waiting(JoinHandle<Result<RefreshOutcome, DbError>>),
}

impl Pending {
    /// The outcome, once known.
    pub(crate) async fn outcome(self) -> Result<RefreshOutcome, DbError> {
        match self {
            Pending::Done(outcome) => Ok(outcome),
            // The waiter only fails when the runtime shut down under it.
            Pending::Waiting(waiter) => waiter.await.unwrap_or(Ok(RefreshOutcome::Failed)),
        }
    }
}

/// Releases the refresh latch when dropped: after the refresher's future
/// completed and its token was applied, when it panicked, or when its task was
/// dropped unrun.
struct Latch(Arc<AtomicBool>);

impl Drop for Latch {
    fn drop(&mut self) {
        self.0.store(false, Ordering::SeqCst);
    }
}

/// Records the rejection and, when it calls for one, starts the single refresh.
pub(crate) fn start(inner: &Arc<Inner>, failure: AuthFailure) -> Result<Pending, DbError> {
    inner.ensure_open()?;
    inner.apply_auth(crate::auth::AuthEvent::ServerRejected { code: failure })?;
    let has_jwt = lock(&inner.auth).machine.jwt().is_some();
    if failure != AuthFailure::Expired || !has_jwt {
        return Ok(Pending::Done(RefreshOutcome::NoRefresher));
    }
    let Some(refresher) = inner.jwt_refresher.clone() else {
        return Ok(Pending::Done(RefreshOutcome::NoRefresher));
    };
    let handle = inner.runtime.handle()?;
    if inner.refresh_in_flight.swap(true, Ordering::SeqCst) {
        return Ok(Pending::Done(RefreshOutcome::InFlight));
    }
    let latch = Latch(Arc::clone(&inner.refresh_in_flight));
    let weak = Arc::downgrade(inner);
    let (report, result) = tokio::sync::oneshot::channel();
    handle.spawn(async move {
        let latch = latch;
        // Called inside the task, so a panicking refresher only ends the task
        // (releasing the latch while unwinding).
        let fresh = refresher.refresh().await;
        let outcome = match fresh {
            // The Db may be gone by now: then there is nothing to refresh.
            Ok(Some(token)) => match weak.upgrade() {
                Some(inner) => inner.apply_refreshed_jwt(token).map(|applied| {
                    if applied {
                        RefreshOutcome::Refreshed
                    } else {
                        RefreshOutcome::Failed
                    }
                }),
                None => Ok(RefreshOutcome::Failed),
            },
            Ok(None) | Err(_) => Ok(RefreshOutcome::Failed),
        };
        drop(latch);
        // The caller may have stopped waiting; that is fine.
        let _ = report.send(outcome);
    });
    let timeout = inner.refresh_timeout;
    Ok(Pending::Waiting(handle.spawn(wait(result, timeout))))
}

async fn wait(
    result: tokio::sync::oneshot::Receiver<Result<RefreshOutcome, DbError>>,
    timeout: Duration,
) -> Result<RefreshOutcome, DbError> {
    match tokio::time::timeout(timeout, result).await {
        Ok(Ok(outcome)) => outcome,
        // The refresh task ended without reporting: the refresher panicked.
        Ok(Err(_)) => Ok(RefreshOutcome::Failed),
        Err(_) => Ok(RefreshOutcome::TimedOut),
    }
}
