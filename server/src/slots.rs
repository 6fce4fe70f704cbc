//! Connection counts per key (a user id, a client address), taken as slots that give
//! themselves back when dropped, and what one sync socket holds while it is open.

use std::collections::HashMap;
use std::hash::Hash;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::OwnedSemaphorePermit;

/// Open connections per key.
pub(crate) struct SlotCounts<K: Eq + Hash> {
    counts: Mutex<HashMap<K, usize>>,
}

/// One counted connection of `key`; dropping it gives the slot back.
pub(crate) struct Slot<K: Eq + Hash> {
    counts: Arc<SlotCounts<K>>,
    key: K,
}

/// What a sync socket holds while it is open: its share of the process-wide limit, of
/// its user's limit (none when the credential was refused), and of its client
/// address's limit (shared with the HTTP connection it was upgraded from).
pub(crate) struct SocketSlots {
    /// The process-wide connection permit.
    pub(crate) _process: OwnedSemaphorePermit,
    /// The user's slot.
    pub(crate) _user: Option<Slot<String>>,
    /// The client address's slot.
    pub(crate) _address: Arc<Slot<IpAddr>>,
}

impl<K: Eq + Hash + Clone> SlotCounts<K> {
    /// No connection counted yet.
    pub(crate) fn new() -> Arc<SlotCounts<K>> {
        Arc::new(SlotCounts {
            counts: Mutex::new(HashMap::new()),
        })
    }

    /// A slot for `key` if it holds fewer than `max`, else `None`.
    pub(crate) fn try_acquire(self: &Arc<Self>, key: K, max: usize) -> Option<Slot<K>> {
        let mut counts = self.lock();
        let count = counts.entry(key.clone()).or_insert(0);
        if *count >= max {
            return None;
        }
        *count += 1;
        Some(Slot {
            counts: Arc::clone(self),
            key,
        })
    }

    /// The connections `key` holds now.
    #[cfg(test)]
    fn count(&self, key: &K) -> usize {
        self.lock().get(key).copied().unwrap_or(0)
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<K, usize>> {
        self.counts
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl<K: Eq + Hash> Drop for Slot<K> {
    fn drop(&mut self) {
        let mut counts = self
            .counts
            .counts
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(count) = counts.get_mut(&self.key) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                counts.remove(&self.key);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_count_per_key_and_come_back_when_dropped() {
        let counts = SlotCounts::new();
        let a1 = counts.try_acquire("a", 2).unwrap();
        let a2 = counts.try_acquire("a", 2).unwrap();
        assert!(counts.try_acquire("a", 2).is_none(), "a is full");
        let b = counts.try_acquire("b", 2).unwrap();
        assert_eq!((counts.count(&"a"), counts.count(&"b")), (2, 1));
        drop(a1);
        let a3 = counts.try_acquire("a", 2).unwrap();
        drop((a2, a3, b));
        assert!(counts.lock().is_empty(), "no key left behind");
    }
}
