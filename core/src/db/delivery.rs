//! Ordered delivery to one listener, never concurrently and never while a lock
//! is held.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use super::lock;

/// Delivers items to one listener in push order, never concurrently, and never
/// while any lock is held. A listener may call back into the `Db`: a nested
/// change is queued and delivered after the current call returns.
pub(crate) struct Delivery<T> {
    slot: Mutex<Slot<T>>,
    listener: Box<dyn Fn(T) + Send + Sync>,
}

impl<T> Delivery<T> {
    /// A live delivery to `listener`.
    pub(crate) fn new(listener: Box<dyn Fn(T) + Send + Sync>) -> Arc<Delivery<T>> {
        Arc::new(Delivery {
            slot: Mutex::new(Slot {
                queue: VecDeque::new(),
                draining: false,
                active: true,
            }),
            listener,
        })
    }

    /// Queues `item` (dropped once stopped). Call [`drain`](Self::drain) after
    /// releasing every lock.
    pub(crate) fn push(&self, item: T) {
        let mut slot = lock(&self.slot);
        if slot.active {
            slot.queue.push_back(item);
        }
    }

    /// Whether the delivery was not stopped.
    pub(crate) fn is_active(&self) -> bool {
        lock(&self.slot).active
    }

    /// Stops the delivery: nothing queued or pushed later is delivered.
    pub(crate) fn stop(&self) {
        let mut slot = lock(&self.slot);
        slot.active = false;
        slot.queue.clear();
    }

    /// Delivers the queued items, unless another call is already doing so.
    pub(crate) fn drain(&self) {
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
            (self.listener)(item);
        }
    }
}

struct Slot<T> {
    queue: VecDeque<T>,
    draining: bool,
    active: bool,
}

/// Clears the `draining` flag when a listener panics, so later items still
/// get delivered.
struct DrainPanicGuard<'a, T>(&'a Delivery<T>);

impl<T> Drop for DrainPanicGuard<'_, T> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            lock(&self.0.slot).draining = false;
        }
    }
}
