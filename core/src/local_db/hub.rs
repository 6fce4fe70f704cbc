//! The change hub: in-process registry of the stores of each namespace.

use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, Weak};

// ---------------------------------------------------------------------------
// Namespace hub (in-process coordination)

/// Receives change notifications for a namespace (implemented by the client).
pub(crate) trait ChangeSink: Send + Sync {
    /// Rows of these tables were committed (by any store of the namespace in this process).
    fn tables_changed(&self, tables: &BTreeSet<String>);
    /// The namespace's storage was deleted.
    fn storage_reset(&self);
}

/// Shared state of every store of one namespace in this process.
pub(super) struct Hub {
    pub(super) generation: AtomicU64,
    pub(super) sinks: Mutex<Vec<(u64, Weak<dyn ChangeSink>)>>,
}

pub(super) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // A poisoned lock means a thread panicked while holding it; the data it
    // guards (plain bookkeeping) is still consistent, so carry on.
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}

impl Hub {
    pub(super) fn live_sinks(&self) -> Vec<Arc<dyn ChangeSink>> {
        let mut sinks = lock(&self.sinks);
        sinks.retain(|(_, s)| s.strong_count() > 0);
        sinks.iter().filter_map(|(_, s)| s.upgrade()).collect()
    }

    pub(super) fn notify_changed(&self, tables: &BTreeSet<String>) {
        for sink in self.live_sinks() {
            sink.tables_changed(tables);
        }
    }

    pub(super) fn notify_reset(&self) {
        for sink in self.live_sinks() {
            sink.storage_reset();
        }
    }
}

pub(super) fn registry() -> &'static Mutex<HashMap<String, Weak<Hub>>> {
    static REGISTRY: OnceLock<Mutex<HashMap<String, Weak<Hub>>>> = OnceLock::new();
    REGISTRY.get_or_init(|| Mutex::new(HashMap::new()))
}

pub(super) fn hub_for(key: &str) -> Arc<Hub> {
    let mut map = lock(registry());
    map.retain(|_, hub| hub.strong_count() > 0);
    if let Some(hub) = map.get(key).and_then(Weak::upgrade) {
        return hub;
    }
    let hub = Arc::new(Hub {
        generation: AtomicU64::new(0),
        sinks: Mutex::new(Vec::new()),
    });
    map.insert(key.to_owned(), Arc::downgrade(&hub));
    hub
}

/// The hub of `key` if a store of that namespace is alive in this process.
pub(super) fn existing_hub(key: &str) -> Option<Arc<Hub>> {
    lock(registry()).get(key).and_then(Weak::upgrade)
}

pub(super) static NEXT_ID: AtomicU64 = AtomicU64::new(1);
