//! Listener traits and the [`Subscription`] handle that keeps a listener
//! registered.

use std::sync::{Arc, Mutex};

use crate::auth::AuthState;
use crate::local_db::{self, Query};

use super::delivery::Delivery;
use super::row::Row;

/// Receives the auth state: once at registration, then after every real change.
///
/// Called with no lock held, in order, never concurrently for one registration.
/// A closure `Fn(AuthState) + Send + Sync` is a listener too.
pub trait AuthStateListener: Send + Sync {
    /// The state now.
    fn on_auth_changed(&self, state: AuthState);
}

impl<F: Fn(AuthState) + Send + Sync> AuthStateListener for F {
    fn on_auth_changed(&self, state: AuthState) {
        self(state)
    }
}

/// Receives the rows of a subscribed query: once at subscription, then
/// whenever the result changed.
///
/// Called with no lock held, in order, never concurrently for one subscription.
/// A closure `Fn(Vec<Row>) + Send + Sync` is a listener too.
pub trait RowsListener: Send + Sync {
    /// The query's rows now.
    fn on_rows_changed(&self, rows: Vec<Row>);
}

impl<F: Fn(Vec<Row>) + Send + Sync> RowsListener for F {
    fn on_rows_changed(&self, rows: Vec<Row>) {
        self(rows)
    }
}

/// A live listener registration. [`cancel`](Self::cancel) (any number of
/// times) or dropping it unsubscribes; no call starts after that.
#[must_use = "dropping a Subscription unsubscribes at once"]
pub struct Subscription {
    cancel: Mutex<Option<Box<dyn FnOnce() + Send>>>,
}

impl Subscription {
    /// Unsubscribes now; later calls do nothing.
    pub fn cancel(&self) {
        let cancel = super::lock(&self.cancel).take();
        if let Some(cancel) = cancel {
            cancel();
        }
    }

    /// Whether the subscription is still live (not cancelled).
    pub fn is_active(&self) -> bool {
        super::lock(&self.cancel).is_some()
    }

    pub(crate) fn new(cancel: impl FnOnce() + Send + 'static) -> Subscription {
        Subscription {
            cancel: Mutex::new(Some(Box::new(cancel))),
        }
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        self.cancel();
    }
}

impl std::fmt::Debug for Subscription {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Subscription")
            .field("active", &self.is_active())
            .finish()
    }
}

/// One data subscription: its query, the last result delivered, and the
/// delivery to its listener.
pub(crate) struct DataSub {
    pub(crate) id: u64,
    pub(crate) query: Query,
    pub(crate) last: Mutex<Option<Vec<local_db::Row>>>,
    pub(crate) delivery: Arc<Delivery<Vec<Row>>>,
}

impl DataSub {
    /// Records `rows` as the last result and queues them for the listener;
    /// the caller drains after releasing `last`.
    pub(crate) fn queue(&self, last: &mut Option<Vec<local_db::Row>>, rows: Vec<local_db::Row>) {
        let owned = rows.iter().cloned().map(Row::from_stored).collect();
        *last = Some(rows);
        self.delivery.push(owned);
    }
}
